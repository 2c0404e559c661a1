"""Navigation written by the tool from one table; and the Colab cell, on Colab and elsewhere."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tools import layers, navigation, nbio
from tools.cli import ToolError

REPO = nbio.REPO


def test_notebooks_and_readme_are_what_the_tool_writes():
    stale = navigation.planned_changes()
    assert not stale, f"run `make nav`: out of date: {[str(p.relative_to(REPO)) for p in stale]}"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the parts of the repository the tool reads and writes."""
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    shutil.copy(REPO / navigation.CONTENTS_NOTEBOOK, tmp_path / navigation.CONTENTS_NOTEBOOK)
    shutil.copy(REPO / "CITATION.cff", tmp_path / "CITATION.cff")
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def links(root: Path, notebook: str) -> list[str]:
    footer = nbio.read(root / "notebooks" / notebook).cells[-1].source
    licences = navigation.licence_line(navigation.load_contents(root))  # tests/test_licences.py
    return re.findall(r"\]\(([^)]+)\)", footer.replace(licences, ""))


def test_running_the_tool_twice_changes_nothing(checkout):
    assert navigation.write_navigation(checkout) == []  # the repository is up to date
    before = snapshot(checkout)
    assert navigation.write_navigation(checkout) == []
    assert snapshot(checkout) == before


def test_a_renamed_notebook_needs_only_the_table(checkout):
    table = checkout / "notebooks" / "contents.toml"
    (checkout / "notebooks" / "03_feed_forward.ipynb").rename(
        checkout / "notebooks" / "03_forward.ipynb"
    )
    table.write_text(table.read_text().replace('"03_feed_forward.ipynb"', '"03_forward.ipynb"'))
    changed = {p.name for p in navigation.write_navigation(checkout)}
    assert changed == {
        "02_architecture.ipynb",
        "03_forward.ipynb",
        "04_trainable_parameters.ipynb",
        "README.md",
        navigation.CONTENTS_NOTEBOOK,
    }
    assert "03_forward.ipynb" in links(checkout, "02_architecture.ipynb")
    assert "03_forward.ipynb" in links(checkout, "04_trainable_parameters.ipynb")
    readme = (checkout / "README.md").read_text()
    assert "notebooks/03_forward.ipynb" in readme and "03_feed_forward" not in readme
    assert navigation.write_navigation(checkout) == []


def test_an_added_notebook_gets_header_colab_cell_and_footer(checkout):
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Something new.")])
    nbio.write(checkout / "notebooks" / "07_extra.ipynb", nb)
    with pytest.raises(ToolError, match="notebooks missing from the table: 07_extra.ipynb"):
        navigation.planned_changes(checkout)
    table = checkout / "notebooks" / "contents.toml"
    table.write_text(
        table.read_text()
        + '\n[[notebooks]]\nfile = "07_extra.ipynb"\ntitle = "Extra"\nlecture = "none"\n'
    )
    navigation.write_navigation(checkout)
    cells = nbio.read(checkout / "notebooks" / "07_extra.ipynb").cells
    assert cells[0].source.splitlines()[1] == "# 07 · Extra"
    assert cells[1].source == "Something new."
    assert cells[2].cell_type == "code" and "google.colab" in cells[2].source
    assert links(checkout, "solutions.ipynb")[-1] == "07_extra.ipynb"
    assert "notebooks/07_extra.ipynb" in (checkout / "README.md").read_text()
    contents = nbio.read(checkout / navigation.CONTENTS_NOTEBOOK).cells[0].source
    assert "](notebooks/07_extra.ipynb)" in contents


def test_the_cells_the_tool_writes_and_only_they_carry_the_nav_tag():
    # The static site leaves out exactly the cells with this tag (site/companion.py).
    for path in sorted(nbio.NOTEBOOKS.glob("*.ipynb")):
        nb = nbio.read(path)
        tagged = [c.id for c in nb.cells if navigation.NAV_TAG in c.metadata.get("tags", [])]
        assert tagged == ["nav-header", "nav-colab", "nav-footer"], path.name


def test_every_footer_link_points_at_a_file():
    for path in sorted(nbio.NOTEBOOKS.glob("*.ipynb")):
        for target in links(REPO, path.name):
            assert (nbio.NOTEBOOKS / target.split("#")[0]).exists(), (
                f"{path.name} links to {target}"
            )


def test_the_contents_notebook_is_written_from_the_table_and_up_to_date(checkout):
    path = checkout / navigation.CONTENTS_NOTEBOOK
    path.unlink()
    assert path in navigation.planned_changes(checkout)
    navigation.write_navigation(checkout)
    assert path.read_bytes() == (REPO / navigation.CONTENTS_NOTEBOOK).read_bytes()


def test_repository_address_lives_in_one_place():
    """Every badge and the Colab cell take the address from contents.toml."""
    address = navigation.load_contents()["repository"]
    texts = [(REPO / "README.md").read_text(), (REPO / navigation.CONTENTS_NOTEBOOK).read_text()]
    texts += [p.read_text() for p in nbio.NOTEBOOKS.glob("*.ipynb")]
    mentions = sum(t.count(address) for t in texts)
    assert mentions > 3 * len(texts)
    for text in texts:
        for url in re.findall(
            r"https://(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github)/([^/]+/[^/]+)/",
            text,
        ):
            assert url == address


# --- the Colab set-up cell ---------------------------------------------------------------


def colab_cells() -> dict[str, nbio.nbformat.NotebookNode]:
    return {
        path.name: next(c for c in nbio.read(path).cells if c.cell_type == "code")
        for path in sorted(nbio.NOTEBOOKS.glob("*.ipynb"))
    }


def colab_cell() -> str:
    """The Colab cell of a notebook that needs nothing Colab lacks (most of them)."""
    sources = {cell.source for cell in colab_cells().values()}
    common = navigation.colab_source(navigation.load_contents())
    assert common in sources, "no notebook carries the plain Colab cell"
    return common


def test_colab_cell_is_collapsed_short_and_for_learners():
    for cell in colab_cells().values():
        assert navigation.COLAB_TAG in cell.metadata["tags"]
        assert cell.metadata["jupyter"] == {"source_hidden": True}  # JupyterLab
        assert cell.metadata["cellView"] == "form"  # Colab shows the form's title only
        lines = cell.source.splitlines()
        assert lines[0].startswith("# @title ")
        code = [line for line in lines[1:] if line.strip()]
        assert len(code) <= 19 and all(len(line) <= 88 for line in lines), lines
        for word in ("tools/", "navigation", "test", "CI", "maintain", "contents.toml"):
            assert word not in cell.source, f"the Colab cell talks about {word!r}"


def test_colab_cell_installs_what_colab_lacks_only_where_a_notebook_imports_it():
    pins = layers.lock_pins()
    for name, cell in colab_cells().items():
        nb = nbio.read(nbio.NOTEBOOKS / name)
        code = "\n".join(c.source for c in nb.cells[1:] if c.cell_type == "code")
        installs = [line.strip() for line in cell.source.splitlines() if "!pip install" in line]
        if "import torchinfo" in code or "from torchinfo" in code:
            assert installs == [f"!pip install -qq torchinfo=={pins['torchinfo']}"], name
            assert "with torchinfo" in cell.source.splitlines()[0]
        else:
            assert installs == [] and cell.source == colab_cell(), name
    assert "torch" not in navigation.COLAB_LACKS  # Colab's own torch must stay


def test_colab_cell_clones_the_release_of_the_table():
    contents = navigation.load_contents()
    assert f"-b {contents['release']} " in colab_cell()
    assert f"https://github.com/{contents['repository']}" in colab_cell()


def as_python(source: str) -> str:
    """The cell as IPython runs it (its `!` line becomes a call of get_ipython().system)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def test_colab_cell_does_nothing_elsewhere(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("the Colab cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before = list(sys.path)
    for source in {cell.source for cell in colab_cells().values()}:
        exec(as_python(source), {"get_ipython": no_subprocess})
    assert sys.path == path_before


# A first cell that makes this kernel's Python one without the companion's package, as a
# Jupyter elsewhere would be: its folder off sys.path, its editable-install finder removed.
HIDE_HELPERS = f"""
import sys
sys.path[:] = [p for p in sys.path if p not in ("", ".", {str(REPO)!r})]
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
sys.path_importer_cache.clear()
"""


def test_without_the_helper_module_the_cell_stops_with_one_sentence(tmp_path):
    """In a real kernel, as JupyterLab and Colab run it: the error shows the sentence alone
    (no traceback), names where to get the companion, and a run of all cells stops there."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(HIDE_HELPERS),
            nbformat.v4.new_code_cell(colab_cell()),
            nbformat.v4.new_code_cell("from lenet_helpers import LeNet"),
        ]
    )
    client = NotebookClient(
        nb,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    with pytest.raises(CellExecutionError):
        client.execute()
    (error,) = nb.cells[1].outputs
    contents = navigation.load_contents()
    archive = f"https://github.com/{contents['repository']}/archive/refs/tags/"
    assert error.output_type == "error" and error.ename == "HelpersMissing"
    (line,) = error.traceback  # what Jupyter shows: this line, and nothing else
    assert line == error.evalue and "\n" not in line and "Traceback" not in line
    assert f"{archive}{contents['release']}.zip" in line
    assert "python -m pip install -r requirements.txt" in line
    assert nb.cells[2].outputs == [] and nb.cells[2].execution_count is None  # not run


def run_on_fake_colab(tmp_path: Path, git_body: str, runs: int = 1, cell: str = "") -> list:
    """Run the cell in a real IPython shell, with a stand-in google.colab module, git and
    pip (which only logs its arguments)."""
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    git = bin_dir / "git"
    git.write_text(
        f"#!{sys.executable}\nimport pathlib, sys\n"
        f"with open({str(tmp_path / 'git-calls')!r}, 'a') as log:\n"
        "    log.write(' '.join(sys.argv[1:]) + '\\n')\n" + textwrap.dedent(git_body)
    )
    git.chmod(0o755)
    pip = bin_dir / "pip"
    pip.write_text(
        f"#!{sys.executable}\nimport sys\n"
        f"with open({str(tmp_path / 'pip-calls')!r}, 'a') as log:\n"
        "    log.write(' '.join(sys.argv[1:]) + '\\n')\n"
    )
    pip.chmod(0o755)
    content = tmp_path / "content"  # Colab's working directory is /content
    content.mkdir(exist_ok=True)
    (tmp_path / "cell.py").write_text(cell or colab_cell())
    script = tmp_path / "run_cell.py"
    script.write_text(
        "import google.colab\n"  # Colab's kernel has imported it before any cell runs
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        f"shell.run_cell(open({str(tmp_path / 'cell.py')!r}).read()).raise_error()\n"
        "import lenet_helpers\n"  # from the clone, or this checkout's own if the clone failed
        "if hasattr(lenet_helpers, 'FROM_CLONE'):\n"
        "    print('IMPORTED', lenet_helpers.FROM_CLONE, lenet_helpers.__file__)\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(fake),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    return [
        subprocess.run(
            [sys.executable, str(script)],
            cwd=content,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        for _ in range(runs)
    ]


def test_colab_cell_on_colab_clones_once_and_makes_the_helpers_importable(tmp_path):
    contents = navigation.load_contents()
    name = contents["repository"].split("/")[1]
    clone = """\
        target = pathlib.Path(sys.argv[-1].rstrip("/").split("/")[-1])
        target.mkdir()
        (target / "lenet_helpers.py").write_text("FROM_CLONE = True\\n")
        """
    for result in run_on_fake_colab(tmp_path, clone, runs=2):  # the second finds the clone
        assert result.returncode == 0, result.stderr
        expected = f"IMPORTED True {tmp_path / 'content' / name / 'lenet_helpers.py'}"
        assert result.stdout.strip() == expected, result.stdout
    calls = (tmp_path / "git-calls").read_text().splitlines()
    url = f"https://github.com/{contents['repository']}"
    assert calls == [f"clone -q --depth 1 -b {contents['release']} {url}"]


def test_colab_cell_shows_why_a_clone_failed_in_one_line(tmp_path):
    reason = "fatal: unable to access 'https://github.com/x/y/': Could not resolve host: github.com"
    fail = f"""\
        print("Cloning into 'y'...", file=sys.stderr)
        print({reason!r}, file=sys.stderr)
        sys.exit(128)
        """
    (result,) = run_on_fake_colab(tmp_path, fail)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == reason, result.stdout
    assert "Traceback" not in result.stderr and "CalledProcessError" not in result.stderr


def test_colab_cell_installs_quietly_on_colab(tmp_path):
    (source,) = {c.source for c in colab_cells().values() if "!pip install" in c.source}
    clone = """\
        target = pathlib.Path(sys.argv[-1].rstrip("/").split("/")[-1])
        target.mkdir()
        (target / "lenet_helpers.py").write_text("FROM_CLONE = True\\n")
        """
    for result in run_on_fake_colab(tmp_path, clone, runs=2, cell=source):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("IMPORTED True"), result.stdout  # and nothing else
    pin = f"torchinfo=={layers.lock_pins()['torchinfo']}"
    assert (tmp_path / "pip-calls").read_text().splitlines() == [f"install -qq {pin}"] * 2
