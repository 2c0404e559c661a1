"""The Makefile: learners get the learners' layer, CI the lock; the interpreter and a broken
.venv are handled with one clear line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import nbio

REPO = nbio.REPO
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The Makefile beside empty requirement files, and no .venv."""
    shutil.copy(REPO / "Makefile", tmp_path)
    for name in ("requirements.txt", "requirements-lock.txt", "pyproject.toml"):
        (tmp_path / name).write_text("")
    return tmp_path


def installs(project: Path, target: str) -> list[str]:
    commands = make(project, "-n", f"PYTHON={sys.executable}", target).stdout.splitlines()
    return [line for line in commands if "pip install" in line]


def test_lab_installs_the_learners_layer_and_test_the_lock(project):
    assert installs(project, "lab") == [
        ".venv/bin/python -m pip install --quiet --no-input -r requirements.txt"
    ]
    assert installs(project, "test") == [
        ".venv/bin/python -m pip install --quiet --no-input -r requirements-lock.txt"
    ]


def test_without_a_suitable_python_make_says_which_versions_work(project):
    result = make(project, "CANDIDATES=no-such-python", "lab")
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert "no Python 3.11, 3.12 or 3.13 found" in line and "PYTHON=" in line


def test_an_unsuitable_python_is_refused(project):
    fake = project / "python-3.10"
    fake.write_text("#!/bin/sh\nexit 1\n")  # fails the version check as 3.10 would
    fake.chmod(0o755)
    result = make(project, f"PYTHON={fake}", "lab")
    assert result.returncode != 0 and "is not Python 3.11, 3.12 or 3.13" in result.stderr


def test_a_venv_without_pip_is_removed_with_a_hint(project):
    """As on Debian without python3-venv: `python -m venv` leaves a .venv with no pip."""
    (project / ".venv" / "bin").mkdir(parents=True)  # a half-made .venv from before
    fake = project / "python-without-venv"
    venv_without_pip = f'exec {sys.executable} -m venv --without-pip "$3"'
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ] && [ "$2" = "venv" ]; then {venv_without_pip}; fi\n'
        f'exec {sys.executable} "$@"\n'
    )
    fake.chmod(0o755)
    result = make(project, f"PYTHON={fake}", "lab")
    assert result.returncode != 0
    assert "sudo apt install python3-venv" in result.stderr
    assert not (project / ".venv").exists()  # the next make starts afresh


def test_a_half_made_venv_is_made_again(project):
    (project / ".venv" / "bin").mkdir(parents=True)  # no python, no pip in it
    make(project, f"PYTHON={sys.executable}", "lab")  # fails later: the files list nothing
    pip = subprocess.run(
        [project / ".venv" / "bin" / "python", "-m", "pip", "--version"], check=False
    )
    assert pip.returncode == 0


def fake_python(path: Path, reports: str | None = None) -> Path:
    """A stand-in interpreter: this one, but when asked which Python it is (the Makefile's
    probe of version and base prefix) it answers ``reports``, as another installation would."""
    probe = (
        "" if reports is None else f'case "$2" in *base_prefix*) echo "{reports}"; exit 0;; esac\n'
    )
    path.write_text(f'#!/bin/sh\n{probe}exec {sys.executable} "$@"\n')
    path.chmod(0o755)
    return path


def venv_commands(project: Path, *args: str) -> list[str]:
    result = make(project, "-n", *args, "lab")
    return [line for line in (result.stdout + result.stderr).splitlines() if "venv" in line]


def test_an_explicit_python_other_than_the_venvs_is_said_and_the_venv_made_again(project):
    (project / ".venv" / "bin").mkdir(parents=True)
    fake_python(project / ".venv" / "bin" / "python")  # a working .venv of this Python
    same = venv_commands(project, f"PYTHON={sys.executable}")
    assert any('if [ -n "" ]' in line for line in same)  # the same Python: kept
    assert not any("making .venv again" in line for line in same)
    other = fake_python(project / "python3.12", reports="3.12.9 from /opt/python3.12")
    lines = venv_commands(project, f"PYTHON={other}")
    said = [line for line in lines if "making .venv again" in line]
    assert len(said) == 1 and f"but PYTHON={other} is Python 3.12.9 from /opt/python3.12" in said[0]
    assert any('if [ -n "yes" ]; then rm -rf .venv' in line for line in lines)
    # Without PYTHON, make picks an interpreter itself and keeps whichever .venv there is.
    kept = venv_commands(project, f"CANDIDATES={other}")
    assert any('if [ -n "" ]' in line for line in kept)


def test_lab_checks_the_notebooks_imports_before_starting_jupyterlab(project):
    commands = make(project, "-n", f"PYTHON={sys.executable}", "lab").stdout.splitlines()
    check = commands.index(".venv/bin/python -m tools.imports")
    assert commands[check + 1].startswith(".venv/bin/jupyter lab notebooks/01_imports.ipynb")


def test_the_import_check_names_the_notebook_and_the_module_in_one_line(tmp_path, capsys):
    import nbformat

    from tools import cli, imports

    path = tmp_path / "needs.ipynb"
    cells = [nbformat.v4.new_code_cell("!pip list\nimport torch\nfrom no_such_module import x")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    assert imports.imported_modules(cells[0].source) == ["torch", "no_such_module"]
    assert cli.run(imports.main, [str(path)]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"imports: {path} imports no_such_module, which {sys.executable}")
    assert "(ModuleNotFoundError: No module named 'no_such_module')" in line
    assert cli.run(imports.main, [str(REPO / "notebooks" / "01_imports.ipynb")]) == 0
