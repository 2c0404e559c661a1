"""The re-run check (tools/rerun.py) finds each kind of cell that cannot run again, and names it."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tools import rerun


def notebook(tmp_path: Path, *sources: str, tags: dict[int, list[str]] | None = None) -> Path:
    cells = [nbformat.v4.new_markdown_cell("# A notebook")]
    for i, source in enumerate(sources):
        cell = nbformat.v4.new_code_cell(source)
        cell.metadata["tags"] = (tags or {}).get(i, [])
        cells.append(cell)
    path = tmp_path / "nb.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=cells), path)
    return path


def found(failures: list[rerun.Failure]) -> set[tuple[int, str]]:
    return {(f.cell, f.pattern) for f in failures}


@pytest.fixture(scope="module")
def failures(tmp_path_factory) -> list[rerun.Failure]:
    """One notebook with cells that break each pattern, checked once (kernels are slow)."""
    path = notebook(
        tmp_path_factory.mktemp("rerun"),
        "if 'finished' in globals():\n    raise RuntimeError('ran before in this kernel')",  # 1
        "images = [28]",  # 2
        "images = images + [32]\nassert len(images) == 2, 'padded twice'",  # 3: changes its input
        "table = 'sizes'",  # 4
        "assert table == 'sizes', 'a later cell rebinds table'",  # 5
        "table = 'counts'",  # 6: rebinds a name an earlier cell reads
        "raise ValueError('shown on purpose')",  # 7: expected, tagged
        "finished = True",  # 8
        "print('the last cell')",  # 9
        tags={6: ["raises-exception"]},
    )
    return rerun.check(path)


def test_a_cell_that_changes_its_own_input_fails_twice_in_a_row(failures):
    assert (3, "twice in a row") in found(failures)
    (failure,) = [f for f in failures if f.cell == 3 and f.pattern == "twice in a row"]
    assert str(failure) == (
        "nb.ipynb, cell 3 (images = images + [32]): fails twice in a row: "
        "AssertionError: padded twice"
    )


def test_a_cell_that_depends_on_a_later_one_fails_whole_twice(failures):
    assert (1, "whole twice") in found(failures)


def test_a_cell_whose_name_a_later_cell_rebinds_fails_backwards(failures):
    assert (5, "backwards") in found(failures)


def test_only_those_fail_and_an_expected_error_is_not_a_failure(failures):
    assert found(failures) == {
        (1, "whole twice"),
        (1, "backwards"),
        (3, "twice in a row"),
        (3, "backwards"),
        (5, "backwards"),
    }


def test_the_command_names_every_failure_and_exits_1(tmp_path, capsys):
    path = notebook(tmp_path, "n = [1]", "n.append(2)\nassert len(n) == 2")
    assert rerun.main([str(path)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "nb.ipynb: 1 failing cell(s)"
    assert out[1] == "  nb.ipynb, cell 2 (n.append(2)): fails twice in a row: AssertionError"
    assert out[-1].endswith("1 notebook(s), 1 failing cell(s)")


def test_a_notebook_that_runs_again_passes(tmp_path, capsys):
    path = notebook(tmp_path, "x = [1]", "y = x + [2]\nassert len(y) == 2")
    assert rerun.main([str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "nb.ipynb: every cell ran again"


def test_a_missing_notebook_is_one_line_on_stderr(tmp_path, capsys):
    assert rerun.main([str(tmp_path / "none.ipynb")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tools.rerun: FileNotFoundError: {tmp_path / 'none.ipynb'}: no such notebook"]
