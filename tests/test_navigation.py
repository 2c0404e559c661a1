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

from tools import navigation, nbio

REPO = nbio.REPO


def test_notebooks_and_readme_are_what_the_tool_writes():
    stale = navigation.planned_changes()
    assert not stale, f"run `make nav`: out of date: {[str(p.relative_to(REPO)) for p in stale]}"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the parts of the repository the tool reads and writes."""
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    shutil.copy(REPO / "README.md", tmp_path / "README.md")
    return tmp_path


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def links(root: Path, notebook: str) -> list[str]:
    footer = nbio.read(root / "notebooks" / notebook).cells[-1].source
    return re.findall(r"\]\(([^)]+)\)", footer)


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
    with pytest.raises(ValueError, match="missing from notebooks/contents.toml: 07_extra.ipynb"):
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


def test_repository_address_lives_in_one_place():
    """Every badge and the Colab cell take the address from contents.toml."""
    address = navigation.load_contents()["repository"]
    texts = [(REPO / "README.md").read_text()] + [
        p.read_text() for p in nbio.NOTEBOOKS.glob("*.ipynb")
    ]
    mentions = sum(t.count(address) for t in texts)
    assert mentions > 3 * len(texts)
    for text in texts:
        for url in re.findall(
            r"https://(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github)/([^/]+/[^/]+)/",
            text,
        ):
            assert url == address


# --- the Colab set-up cell ---------------------------------------------------------------


def colab_cell() -> str:
    sources = set()
    for path in nbio.NOTEBOOKS.glob("*.ipynb"):
        first_code = next(c for c in nbio.read(path).cells if c.cell_type == "code")
        sources.add(first_code.source)
    assert len(sources) == 1, "every notebook must carry the same Colab cell"
    (source,) = sources
    assert source.startswith(navigation.COLAB)
    return source


def test_colab_cell_does_nothing_elsewhere(monkeypatch):
    def no_subprocess(*args, **kwargs):
        raise AssertionError("the Colab cell ran a command outside Colab")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    path_before = list(sys.path)
    exec(colab_cell(), {})
    assert sys.path == path_before


def test_colab_cell_on_colab_clones_once_and_makes_the_helpers_importable(tmp_path):
    """Simulate Colab offline: a stand-in google.colab module and a stand-in git."""
    fake = tmp_path / "fake"
    (fake / "google" / "colab").mkdir(parents=True)
    (fake / "google" / "__init__.py").write_text("")
    (fake / "google" / "colab" / "__init__.py").write_text("")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    git = bin_dir / "git"
    git.write_text(
        textwrap.dedent(
            f"""\
            #!{sys.executable}
            import pathlib, sys
            with open({str(tmp_path / "git-calls")!r}, "a") as log:
                log.write(" ".join(sys.argv[1:]) + "\\n")
            target = pathlib.Path(sys.argv[-1])
            target.mkdir()
            (target / "lenet_helpers.py").write_text("FROM_CLONE = True\\n")
            """
        )
    )
    git.chmod(0o755)
    content = tmp_path / "content"  # Colab's working directory is /content
    content.mkdir()
    script = tmp_path / "run_cell.py"
    script.write_text(
        "import google.colab\n"  # Colab's kernel has imported it before any cell runs
        f"exec(compile(open({str(tmp_path / 'cell.py')!r}).read(), 'cell', 'exec'))\n"
        "import lenet_helpers\n"
        "print(lenet_helpers.FROM_CLONE, lenet_helpers.__file__)\n"
    )
    (tmp_path / "cell.py").write_text(colab_cell())
    env = {
        **os.environ,
        "PYTHONPATH": str(fake),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
    }
    for _ in range(2):  # the second run finds the clone and does not fetch again
        result = subprocess.run(
            [sys.executable, str(script)],
            cwd=content,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        name = navigation.load_contents()["repository"].split("/")[1]
        assert result.stdout.strip() == f"True {content / name / 'lenet_helpers.py'}"
    address = navigation.load_contents()["repository"]
    calls = (tmp_path / "git-calls").read_text().splitlines()
    assert calls == [f"clone --depth 1 https://github.com/{address}.git {content / name}"]
