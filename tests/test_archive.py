"""The whole companion as one zip (tools/archive.py): what it holds, and that it works.

The last test is the one an instructor would do: the zip that `make site` puts in the site is
unpacked into an empty folder, installed as the README says (a virtual environment, then
`python -m pip install -r requirements.txt`, the lock's versions as pip constraints so that the
stored outputs apply), and notebook 05 (the helper package, and the MNIST files) is run there in
a kernel of that environment: what it prints must be what is stored. The packages the lock pins
are those of this test's own environment, made visible to the new one (a .pth file), so pip
installs only what the archive itself brings, the companion's own package, from the unpacked
folder: seconds, where installing PyTorch and JupyterLab afresh takes minutes. Set
ARCHIVE_FULL_INSTALL=1 to install everything afresh from the package index instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import nbformat
import pytest

from tools import archive, layers, navigation, nbio

REPO = nbio.REPO
CONTENTS = navigation.load_contents()
TOP = archive.archive_name(CONTENTS)


def names_in(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return zf.namelist()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return archive.build(REPO, tmp_path_factory.mktemp("archive"))


def test_the_archive_holds_every_file_of_the_repository_under_one_folder(built):
    assert built.name == f"{TOP}.zip"
    names = names_in(built)
    assert names == [f"{TOP}/{name}" for name in archive.companion_files(REPO)]
    inside = {name.removeprefix(f"{TOP}/") for name in names}
    needed = {
        "README.md", "Makefile", "pyproject.toml", "requirements.txt", "requirements-lock.txt",
        "lenet_helpers.py", "lenet_extras/__init__.py", "lenet_extras/exercises.toml",
        "data/mnist/README.md", navigation.CONTENTS_NOTEBOOK,
        *(f"notebooks/{entry['file']}" for entry in CONTENTS["notebooks"]),
        *(f"data/mnist/{p.name}" for p in (REPO / "data" / "mnist").glob("*.gz")),
        *(p.name for p in REPO.glob("LICENSE*")),
        *(p.name for p in REPO.glob("CITATION.cff")),
    }  # fmt: skip
    assert needed <= inside, sorted(needed - inside)
    assert len([n for n in inside if n.startswith("data/mnist/") and n.endswith(".gz")]) == 4
    with zipfile.ZipFile(built) as zf:
        for name in ("notebooks/03_feed_forward.ipynb", "data/mnist/t10k-labels-idx1-ubyte.gz"):
            assert zf.read(f"{TOP}/{name}") == (REPO / name).read_bytes()


def test_the_same_files_give_the_same_bytes(built, tmp_path):
    again = archive.build(REPO, tmp_path)
    assert again.read_bytes() == built.read_bytes()
    assert oct(again.stat().st_mode & 0o777) == oct(0o644)  # a web server can serve it


def test_executable_files_stay_executable(built):
    with zipfile.ZipFile(built) as zf:
        modes = {i.filename.removeprefix(f"{TOP}/"): i.external_attr >> 16 for i in zf.infolist()}
    assert modes[".ci/run"] & 0o111 and modes["binder/postBuild"] & 0o111
    assert not modes["README.md"] & 0o111


def test_outside_a_checkout_the_archive_takes_what_gitignore_leaves(tmp_path):
    tracked = archive.companion_files(REPO)
    for name in tracked:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / name, tmp_path / name)
    for junk in (".venv/bin/python", "lenet_extras/__pycache__/x.pyc", "_build/site/index.html",
                 "lenet_lecture28.egg-info/PKG-INFO", "notebooks/.ipynb_checkpoints/a.ipynb",
                 ".git/HEAD", ".pytest_cache/v"):  # fmt: skip
        (tmp_path / junk).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / junk).write_text("not part of the companion")
    assert archive.tracked_files(tmp_path) is None  # not a checkout (its .git is no repository)
    assert archive.companion_files(tmp_path) == tracked


def test_a_failed_write_leaves_the_old_archive_whole(built, tmp_path, monkeypatch):
    old = archive.build(REPO, tmp_path)
    before = old.read_bytes()

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full_disk)
    with pytest.raises(OSError, match="No space left"):
        archive.build(REPO, tmp_path)
    assert old.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == [old.name]  # no half-written file left


def test_the_tool_says_what_failed_in_one_line(tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    assert archive.main([str(blocked / "inside")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tools.archive: ") and "a-file" in err[0]


def test_what_each_notebook_needs_is_read_from_its_imports():
    cells = [
        nbformat.v4.new_code_cell("import torch\nfrom lenet_helpers import LeNet"),
        nbformat.v4.new_code_cell("!ls\nfrom lenet_extras.mnist import load_mnist"),
    ]
    assert archive.notebook_needs(nbformat.v4.new_notebook(cells=cells)) == (
        ["lenet_extras.mnist", "lenet_helpers"],
        ["data/mnist/"],
    )
    for entry in CONTENTS["notebooks"]:
        modules, data = archive.notebook_needs(nbio.read(nbio.NOTEBOOKS / entry["file"]))
        assert "lenet_helpers" in modules or "lenet_extras.exercises" in modules, entry["file"]
        reads_mnist = "load_mnist(" in (nbio.NOTEBOOKS / entry["file"]).read_text()
        assert (data == ["data/mnist/"]) == reads_mnist, entry["file"]


# --- unpacked into an empty folder, installed as the README says, and run -----------------

RUN_NOTEBOOKS = ("05_shapes_and_pitfalls.ipynb",)
# Run by the new environment's Python: each notebook in a fresh kernel of that environment,
# with a last cell saying where the kernel's Python and the helper module come from.
RUNNER = """
import json, sys
import nbformat
from nbclient import NotebookClient
results = {}
for name in sys.argv[1:]:
    nb = nbformat.read(f"notebooks/{name}", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, lenet_helpers; print(sys.prefix); print(lenet_helpers.__file__)"))
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": "notebooks"}}).execute()
    results[name] = [{s: "".join(o.text for o in c.outputs if o.get("name") == s)
                      for s in ("stdout", "stderr")} for c in nb.cells if c.cell_type == "code"]
print(json.dumps(results))
"""


def readme_linux_commands() -> tuple[str, str]:
    """The README's plain commands for Linux: (make the environment, install into it)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (row,) = [line for line in readme.splitlines() if line.startswith("| Linux, macOS |")]
    venv, install = row.split("|")[2], row.split("|")[3]
    make = venv.split("`")[1]  # python3 -m venv .venv
    return make, install.split("`")[1]  # python -m pip install -r requirements.txt


def stored_streams(name: str) -> list[dict[str, str]]:
    """Per code cell, what it printed to stdout and to stderr, as stored."""
    nb = nbio.read(nbio.NOTEBOOKS / name)
    return [
        {s: "".join(o.text for o in c.outputs if o.get("name") == s) for s in ("stdout", "stderr")}
        for c in nb.cells
        if c.cell_type == "code"
    ]


def share_this_environments_packages(python: Path) -> None:
    """Put this environment's packages on the new one's path, after its own."""
    ask = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    theirs = subprocess.run([python, "-c", ask], capture_output=True, text=True, check=True)
    ours = sysconfig.get_paths()["purelib"]
    (Path(theirs.stdout.strip()) / "_shared_packages.pth").write_text(ours + "\n")


def test_the_sites_archive_installs_in_an_empty_folder_and_runs_notebooks(built_site, tmp_path):
    zip_path = built_site / f"{TOP}.zip"
    assert zip_path.exists(), "make site did not put the archive in the site"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(tmp_path)
    folder = tmp_path / TOP
    for name in archive.companion_files(REPO):  # zipfile drops the modes: restore them
        if os.access(REPO / name, os.X_OK):
            (folder / name).chmod(0o755)

    make_venv, install = readme_linux_commands()
    assert make_venv == "python3 -m venv .venv"
    assert install == "python -m pip install -r requirements.txt"
    subprocess.run([sys.executable, *make_venv.split()[1:]], cwd=folder, check=True)
    bin_dir = folder / ".venv" / "bin"
    if os.environ.get("ARCHIVE_FULL_INSTALL") != "1":
        share_this_environments_packages(bin_dir / "python")
    constraints = tmp_path / "lock-versions.txt"  # pins only: the stack of the stored outputs
    constraints.write_text("\n".join(f"{n}=={v}" for n, v in layers.lock_pins().items()))
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",  # as `source .venv/bin/activate`
        "VIRTUAL_ENV": str(folder / ".venv"),
        "PIP_CONSTRAINT": str(constraints),
        "PIP_RETRIES": "0",
        "PIP_NO_COMPILE": "1",  # no bytecode written ahead: the same install, done sooner
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    # A learner's machine has neither this repository on its path nor the tests' figure
    # checking backend (the root conftest.py sets both for the kernels the tests start).
    for name in ("PYTHONPATH", "MPLBACKEND"):
        env.pop(name, None)
    result = subprocess.run(
        ["python", *install.split()[1:], "--quiet"],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]

    ran = subprocess.run(
        ["python", "-c", RUNNER, *RUN_NOTEBOOKS],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr[-3000:]
    results = json.loads(ran.stdout.splitlines()[-1])
    for name in RUN_NOTEBOOKS:
        *cells, where = results[name]
        prefix, helpers = where["stdout"].split()
        assert Path(prefix) == folder / ".venv"
        assert Path(helpers) == folder / "lenet_helpers.py"
        assert cells == stored_streams(name), f"{name}: printed outputs differ from the stored"
