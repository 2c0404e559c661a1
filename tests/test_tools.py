"""The tools, given a broken notebook, a broken table, a full disk or Ctrl-C: every file is
left as it was or whole, the tool says in at most three lines what is wrong and where, and
exits with a non-zero status; the traceback comes only with --debug.

Where the process itself matters (a limit on file size standing in for a full disk, Ctrl-C,
the exit status a shell sees) a tool runs as a person runs it, python -m tools.<name>, in a
copy of the repository; elsewhere its main() runs here through the same wrapper (cli.run),
which saves the seconds each new Python spends importing nbformat.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tools import atomic, cli, hygiene, navigation, nbio, refresh
from tools import site as site_tool
from tools.contents import load_contents

REPO = nbio.REPO
POSIX_ONLY = pytest.mark.skipif(
    os.name != "posix", reason="limits file sizes and signals as POSIX does"
)
LINUX_ONLY = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")


def run(root: Path, *args: str, limit: int | None = None, timeout: int = 300):
    """python -m tools.<args> in ``root``; ``limit`` caps the size of any file it writes
    (bytes), as a full disk would, and a write past it fails with EFBIG."""

    def cap() -> None:
        import resource  # POSIX only, as these tests are

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write, not the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=cap if limit else None,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )


def said(result) -> list[str]:
    """What a failing tool told: its lines on stderr, checked to be few and no traceback."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result.stdout
    assert 1 <= len(lines) <= 3, result.stderr
    assert "Traceback" not in result.stderr
    return lines


def told(capsys, main, *args: str) -> list[str]:
    """The same for a tool's main() run here, through cli.run as python -m runs it."""
    status = cli.run(main, list(args))
    return said(subprocess.CompletedProcess(args, status, "", capsys.readouterr().err))


def snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The parts of the repository the tools read and write, copied."""
    for folder in ("notebooks", "tools", "site"):
        shutil.copytree(
            REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    for name in ("README.md", "CITATION.cff", "requirements-lock.txt"):  # the lock: Colab's pins
        shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def small_notebook(path: Path, *sources: str, padding: int = 0) -> Path:
    """A notebook of the given code cells, with ``padding`` bytes of prose in front."""
    cells = [nbformat.v4.new_markdown_cell("# A title\n\n" + "words " * (padding // 6))]
    cells += [nbformat.v4.new_code_cell(source) for source in sources]
    cells.append(nbformat.v4.new_markdown_cell("[on](../README.md)"))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = dict(nbio.KERNELSPEC)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


# --- atomic writes ------------------------------------------------------------------------


def test_a_write_that_fails_half_way_leaves_the_old_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "notebook.ipynb"
    path.write_text("the old text\n")
    path.chmod(0o640)
    real_fdopen = os.fdopen

    class DiskFull:
        def __init__(self, file):
            self.file = file

        def write(self, text):
            self.file.write(text[:8192])
            self.file.flush()
            raise OSError(28, "No space left on device")

        def __getattr__(self, name):
            return getattr(self.file, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.file.close()

    monkeypatch.setattr(os, "fdopen", lambda *a, **k: DiskFull(real_fdopen(*a, **k)))
    with pytest.raises(OSError, match="No space left"):
        atomic.write_text(path, "x" * 100_000)
    assert path.read_text() == "the old text\n"
    assert [p.name for p in tmp_path.iterdir()] == ["notebook.ipynb"]  # no temporary file left
    monkeypatch.undo()
    atomic.write_text(path, "the new text\n")
    assert path.read_text() == "the new text\n" and path.stat().st_mode & 0o777 == 0o640


@POSIX_ONLY
def test_navigation_on_a_full_disk_leaves_every_file_as_it_was(checkout):
    table = checkout / "notebooks" / "contents.toml"
    table.write_text(with_release(table.read_text(), "v9.9"))
    before = snapshot(checkout)
    result = run(checkout, "tools.navigation", limit=8192)
    (line,) = said(result)
    assert re.fullmatch(r"navigation: notebooks/\w+\.ipynb: File too large", line), line
    assert snapshot(checkout) == before  # nothing half-written, no temporary file left


@POSIX_ONLY
def test_refresh_on_a_full_disk_leaves_the_notebook_whole(tmp_path):
    notebook = small_notebook(tmp_path / "big.ipynb", "print(6 * 7)", padding=20_000)
    before = notebook.read_bytes()
    result = run(REPO, "tools.refresh", str(notebook), limit=8192)
    (line,) = said(result)
    assert line == f"refresh: {notebook}: File too large"
    assert notebook.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["big.ipynb"]


# --- navigation validates the whole table before writing ----------------------------------

ENTRY = '[[notebooks]]\nfile = "{file}"\ntitle = "{title}"\nlecture = "{lecture}"\n'
RELEASE_LINE = f'release = "{load_contents()["release"]}"'  # the table's, a fork's too


def with_release(text: str, release: str) -> str:
    """The table's text with another release."""
    assert RELEASE_LINE in text
    return text.replace(RELEASE_LINE, f'release = "{release}"')


LISTED = len(load_contents()["notebooks"])  # entries in today's table; the solutions come last
BROKEN_TABLES = {
    "a duplicated entry": (
        lambda t: t + "\n" + ENTRY.format(file="02_architecture.ipynb", title="Again", lecture="x"),
        rf"entry {LISTED + 1} \(02_architecture.ipynb\): file '02_architecture.ipynb' is already "
        "entry 2's",
    ),
    "a mistyped key": (
        lambda t: t.replace('title = "Imports, then and now"', 'tittle = "Imports, then and now"'),
        r"entry 1 \(01_imports.ipynb\): unknown key 'tittle'; the keys are file, title, lecture",
    ),
    "a mistyped file": (
        lambda t: t.replace(
            'file = "04_trainable_parameters.ipynb"', 'file = "04_trainable.ipynb"'
        ),
        r"entry 4 \(04_trainable.ipynb\): notebooks/04_trainable.ipynb does not exist \(and 1",
    ),
    "a number for a title": (
        lambda t: t.replace('title = "The LeNet architecture"', "title = 2"),
        r"entry 2 \(02_architecture.ipynb\): title must be one line of text, got 2",
    ),
    "a path for a file": (
        lambda t: t.replace('file = "solutions.ipynb"', 'file = "../solutions.ipynb"'),
        rf"entry {LISTED} \(../solutions.ipynb\): file must be a notebook's name in notebooks/",
    ),
    "no entries": (
        lambda t: t.split("[[notebooks]]")[0],
        r"it needs \[\[notebooks\]\] entries, each with file, title and lecture",
    ),
    "invalid TOML": (
        lambda t: t + '\n[[notebooks]\nfile = "x"\n',
        r"not valid TOML: .*\(at line \d+",
    ),
}


@pytest.mark.parametrize("broken", BROKEN_TABLES)
def test_navigation_refuses_a_broken_table_and_writes_nothing(checkout, broken):
    change, words = BROKEN_TABLES[broken]
    table = checkout / "notebooks" / "contents.toml"
    table.write_text(with_release(change(table.read_text()), "v3"))
    before = snapshot(checkout)
    with pytest.raises(cli.ToolError) as refused:
        navigation.write_navigation(checkout)
    line = str(refused.value)
    assert line.startswith("notebooks/contents.toml: ") and "\n" not in line, line
    assert re.search(words, line) and line.endswith("; nothing was written"), line
    assert snapshot(checkout) == before


def test_navigation_from_the_command_line_says_so_in_one_line_and_exits_1(checkout):
    table = checkout / "notebooks" / "contents.toml"
    table.write_text(
        table.read_text() + "\n" + ENTRY.format(file="01_imports.ipynb", title="x", lecture="y")
    )
    before = snapshot(checkout)
    result = run(checkout, "tools.navigation")
    (line,) = said(result)
    assert result.returncode == 1
    assert line == (
        f"navigation: notebooks/contents.toml: entry {LISTED + 1} (01_imports.ipynb): file "
        "'01_imports.ipynb' is already entry 1's; nothing was written"
    )
    assert snapshot(checkout) == before


def test_navigation_refuses_a_notebook_that_is_not_json_and_writes_nothing(checkout):
    broken = checkout / "notebooks" / "03_feed_forward.ipynb"
    broken.write_bytes(broken.read_bytes()[:8192])  # what a half-written file looked like
    table = checkout / "notebooks" / "contents.toml"
    table.write_text(with_release(table.read_text(), "v3"))
    before = snapshot(checkout)
    with pytest.raises(cli.ToolError) as refused:
        navigation.write_navigation(checkout)
    assert re.fullmatch(
        rf"{broken}: not valid JSON at line \d+, column \d+ \(.*\)", str(refused.value)
    ), refused.value
    assert snapshot(checkout) == before


def test_a_notebook_of_the_repository_is_named_from_its_root_with_how_to_restore_it():
    path = REPO / "notebooks" / "not-really.ipynb"
    assert cli.where(path) == "notebooks/not-really.ipynb"
    with pytest.raises(cli.ToolError, match="^notebooks/not-really.ipynb: no such notebook$"):
        nbio.read(path)


def test_hygiene_names_a_notebook_it_cannot_read_and_debug_shows_the_traceback(tmp_path, capsys):
    path = tmp_path / "half.ipynb"
    path.write_text('{"cells": [{"cell_type": "code", "source"')
    (line,) = told(capsys, hygiene.main, str(path))
    assert line.startswith(f"hygiene: {path}: not valid JSON at line 1, column ")
    with pytest.raises(nbio.NotebookError):  # --debug: the exception, with its traceback
        cli.run(hygiene.main, [str(path), "--debug"])


# --- the site build refuses what hygiene refuses ------------------------------------------


def test_the_site_is_not_built_from_a_notebook_hygiene_refuses(checkout, monkeypatch, capsys):
    path = checkout / "notebooks" / "04_trainable_parameters.ipynb"
    nb = nbio.read(path)
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.outputs)
    cell.outputs.append(
        nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[])
    )
    nbformat.write(nb, path)
    result = site_tool.build(checkout)
    assert result.returncode == 1 and "no unexpected errors" in result.stderr
    assert not (checkout / "_build").exists()  # Sphinx never started
    real = site_tool.refused
    monkeypatch.setattr(site_tool, "refused", lambda: real(checkout))  # main() reads the repo
    (line,) = told(capsys, site_tool.main)
    assert line.startswith("site: not built: 04_trainable_parameters.ipynb: no unexpected errors")
    assert "error output ValueError" in line


# --- refresh: the failing notebook and cell, --timeout, Ctrl-C ----------------------------


def test_refresh_names_the_notebook_and_the_cell_that_failed(tmp_path, capsys):
    notebook = small_notebook(tmp_path / "fails.ipynb", "x = 1", "y = 1 / 0\nz = 2")
    before = notebook.read_bytes()
    lines = told(capsys, refresh.main, str(notebook))
    assert lines[-1] == (
        f"refresh: {notebook}, cell 2 (y = 1 / 0) raised ZeroDivisionError: division by zero "
        f"({notebook} was not changed)"
    )
    assert notebook.read_bytes() == before


def test_refresh_stops_a_cell_that_runs_past_the_timeout(tmp_path, capsys):
    notebook = small_notebook(tmp_path / "slow.ipynb", "import time\ntime.sleep(30)")
    before = notebook.read_bytes()
    start = time.monotonic()
    lines = told(capsys, refresh.main, "--timeout", "2", str(notebook))
    assert lines[-1] == (
        f"refresh: {notebook}, cell 1 (import time) ran longer than 2 s and was stopped "
        f"(--timeout SECONDS allows more) ({notebook} was not changed)"
    )
    assert time.monotonic() - start < 28 and notebook.read_bytes() == before


def test_refresh_refuses_what_is_not_a_notebook_before_running_any(tmp_path, capsys):
    good = small_notebook(tmp_path / "good.ipynb", "x = 1")
    before = good.read_bytes()
    (line,) = told(capsys, refresh.main, str(good), str(tmp_path / "missing.ipynb"))
    assert (
        line == f"refresh: {tmp_path / 'missing.ipynb'}: no such notebook (nothing was refreshed)"
    )
    assert good.read_bytes() == before


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc: Linux, as the test is)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@POSIX_ONLY
@LINUX_ONLY
def test_ctrl_c_during_a_refresh_says_interrupted_and_leaves_the_notebook(tmp_path):
    notebook = small_notebook(tmp_path / "long.ipynb", "x = 1", "import time\ntime.sleep(120)")
    before = notebook.read_bytes()
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.refresh", "--report-after", "1", str(notebook)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    seen = []
    for line in process.stdout:  # wait until it says it is running the long cell
        seen.append(line)
        if "cell 2 (import time) has run for" in line:
            break
    kernel = children(process.pid)
    assert kernel, "no kernel process was found"
    os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, "".join(seen) + stderr
    assert (
        stderr.strip()
        == f"refresh: interrupted in {notebook}, cell 2 (import time); {notebook} was not changed"
    )
    assert notebook.read_bytes() == before
    deadline = time.monotonic() + 10
    while any(running(pid) for pid in kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(running(pid) for pid in kernel)  # the kernel was shut down too


def test_a_failed_site_build_leaves_the_old_site_whole(tmp_path, monkeypatch):
    """Sphinx writes page after page: a build that fails half-way must not replace the site."""
    root, out = tmp_path, tmp_path / "_build" / "site"
    (root / "notebooks").mkdir()
    out.mkdir(parents=True)
    (out / "index.html").write_text("the old site")

    def sphinx(status: int):
        write = "import pathlib, sys; pathlib.Path(sys.argv[1], 'index.html').write_text('half')"
        return lambda root, out: [sys.executable, "-c", f"{write}; sys.exit({status})", str(out)]

    monkeypatch.setattr(site_tool.archive, "build", lambda root, folder: None)  # not tested here
    monkeypatch.setattr(site_tool, "command", sphinx(1))
    assert site_tool.build(root, out).returncode == 1
    assert [p.name for p in out.parent.iterdir()] == ["site"]  # no half-built folder left
    assert (out / "index.html").read_text() == "the old site"
    monkeypatch.setattr(site_tool, "command", sphinx(0))
    assert site_tool.build(root, out).returncode == 0
    assert [p.name for p in out.parent.iterdir()] == ["site"]
    assert (out / "index.html").read_text() == "half"  # the new build, in its place


def test_refresh_and_site_name_a_notebook_that_is_not_json(tmp_path, monkeypatch, capsys):
    broken = tmp_path / "notebooks" / "half.ipynb"
    broken.parent.mkdir()
    broken.write_text('{"cells": [{"cell_type": "markdown", "sou')
    before = broken.read_bytes()
    (line,) = told(capsys, refresh.main, str(broken))
    assert line.startswith(f"refresh: {broken}: not valid JSON at line 1, column ")
    real = site_tool.refused
    monkeypatch.setattr(site_tool, "refused", lambda: real(tmp_path))
    (line,) = told(capsys, site_tool.main)
    assert line.startswith(f"site: {broken}: not valid JSON at line 1, column ")
    assert broken.read_bytes() == before and not (tmp_path / "_build").exists()
