"""Notebook hygiene: every rule holds for the repository's notebooks, and catches a broken copy."""

from __future__ import annotations

import base64
import getpass
import io
import socket
from pathlib import Path

import nbformat
import pytest

from tools import hygiene, nbio

NOTEBOOKS = sorted(nbio.NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
@pytest.mark.parametrize("rule", hygiene.RULES)
def test_rule_holds_for_the_repository(rule, path):
    assert hygiene.RULES[rule](nbio.read(path), path) == []


def broken_copy(
    tmp_path: Path, breakage, source: str = "03_feed_forward.ipynb"
) -> tuple[nbformat.NotebookNode, Path]:
    """A copy of a good notebook, changed by `breakage(nb)` and written to tmp_path."""
    nb = nbio.read(nbio.NOTEBOOKS / source)
    breakage(nb)
    path = tmp_path / source
    nbformat.write(nb, path)  # plain nbformat: the stable writer would clean some breakages up
    return nbio.read(path), path


def first_code_cell_with_output(nb):
    return next(c for c in nb.cells if c.cell_type == "code" and c.outputs)


def swap_two_counts(nb):
    cells = hygiene.code_cells(nb)
    cells[2].execution_count, cells[3].execution_count = (
        cells[3].execution_count,
        cells[2].execution_count,
    )


def never_run(nb):
    hygiene.code_cells(nb)[4].execution_count = None


def add_error(nb):
    first_code_cell_with_output(nb).outputs.append(
        nbformat.v4.new_output(
            "error", ename="ValueError", evalue="boom", traceback=["ValueError: boom"]
        )
    )


def add_warning(nb):
    first_code_cell_with_output(nb).outputs.append(
        nbformat.v4.new_output(
            "stream", name="stderr", text="UserWarning: something is deprecated\n"
        )
    )


def other_kernel(nb):
    nb.metadata["kernelspec"] = {"display_name": "my-env", "language": "python", "name": "my-env"}


def home_path(nb):
    first_code_cell_with_output(nb).outputs[0]["text"] = "loaded /home/alice/lenet/data/mnist\n"


def windows_path(nb):
    first_code_cell_with_output(nb).outputs[0]["text"] = "saved to C:\\Users\\alice\\lenet\n"


def root_path_in_metadata(nb):
    nb.cells[3].metadata["tags"] = ["/root/scratch"]


def widget_state(nb):
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}


def timing_residue(nb):
    nb.cells[3].metadata["execution"] = {"iopub.execute_input": "2026-11-25T08:00:00Z"}


def machine_python_version(nb):
    nb.metadata.setdefault("language_info", {})["version"] = "3.11.7"


def oversized_figure(nb):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(20, 20), dpi=100)  # 2000×2000 pixels
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = base64.b64encode(buffer.getvalue()).decode()
    first_code_cell_with_output(nb).outputs.append(
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})
    )


def figure_without_alt_text(nb):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(2, 2), dpi=40)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    png = base64.b64encode(buffer.getvalue()).decode()
    first_code_cell_with_output(nb).outputs.append(
        nbformat.v4.new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})
    )


def inline_magic(nb):
    hygiene.code_cells(nb)[2].source = "%matplotlib inline\nimport matplotlib.pyplot as plt"


def backend_chosen(nb):
    hygiene.code_cells(nb)[2].source = "import matplotlib\nmatplotlib.use('Agg')"


def no_title(nb):
    nb.cells.pop(0)


def no_onward_link(nb):
    nb.cells.pop()


BREAKAGES = {
    "executed in order": [swap_two_counts, never_run],
    "no unexpected errors": [add_error, add_warning],
    "python3 kernel": [other_kernel],
    "no machine details": [home_path, windows_path, root_path_in_metadata],
    "no editor residue": [widget_state, timing_residue, machine_python_version],
    "within size budget": [oversized_figure],
    "title and onward link": [no_title, no_onward_link],
    "figures have alt text": [figure_without_alt_text],
    "figures are checked": [inline_magic, backend_chosen],
}
CASES = [(rule, breakage) for rule, breakages in BREAKAGES.items() for breakage in breakages]


def test_every_rule_has_a_breakage():
    assert set(BREAKAGES) == set(hygiene.RULES)


@pytest.mark.parametrize("rule, breakage", CASES, ids=[b.__name__ for _, b in CASES])
def test_rule_catches_a_broken_copy(tmp_path, rule, breakage):
    nb, path = broken_copy(tmp_path, breakage)
    assert hygiene.RULES[rule](nb, path), f"{rule} missed {breakage.__name__}"


def test_oversized_notebook_is_caught(tmp_path):
    def pad(nb):
        nb.cells.append(nbformat.v4.new_markdown_cell("x" * (hygiene.MAX_NOTEBOOK_BYTES + 1)))

    nb, path = broken_copy(tmp_path, pad)
    assert any("over the budget" in p for p in hygiene.within_size_budget(nb, path))


def test_user_and_host_names_are_caught(tmp_path, monkeypatch):
    monkeypatch.setattr(getpass, "getuser", lambda: "alice")
    monkeypatch.setattr(socket, "gethostname", lambda: "build-box-7")

    def mention(nb):
        first_code_cell_with_output(nb).outputs[0]["text"] = "alice@build-box-7:~$ ls\n"

    nb, path = broken_copy(tmp_path, mention)
    found = hygiene.no_machine_details(nb, path)
    assert any("'alice'" in p for p in found) and any("'build-box-7'" in p for p in found)


def test_a_login_name_that_is_an_ordinary_word_is_not_a_leak(monkeypatch):
    for word in ("batch", "digit", "kernel"):
        monkeypatch.setattr(getpass, "getuser", lambda word=word: word)
        for path in sorted(nbio.NOTEBOOKS.glob("*.ipynb")):
            assert hygiene.no_machine_details(nbio.read(path), path) == [], (word, path.name)


def test_a_cell_marked_as_expecting_an_error_may_show_one(tmp_path):
    def marked_error(nb):
        cell = first_code_cell_with_output(nb)
        cell.metadata["tags"] = ["raises-exception"]
        add_error(nb)

    nb, path = broken_copy(tmp_path, marked_error)
    assert hygiene.no_unexpected_errors(nb, path) == []


def test_command_line_reports_problems(tmp_path, capsys):
    _, path = broken_copy(tmp_path, add_error)
    assert hygiene.main([str(path)]) == 1
    assert "no unexpected errors" in capsys.readouterr().out
    assert hygiene.main([str(nbio.NOTEBOOKS / "01_imports.ipynb")]) == 0


@pytest.mark.parametrize("alt", [None, "", "   "], ids=["missing", "empty", "blank"])
def test_a_figure_whose_alt_text_is_missing_or_blank_is_caught(tmp_path, alt):
    def strip_alt(nb):
        cell = next(c for c in nb.cells if "mystnb" in c.metadata)
        if alt is None:
            del cell.metadata["mystnb"]
        else:
            cell.metadata["mystnb"]["image"]["alt"] = alt

    nb, path = broken_copy(tmp_path, strip_alt, source="07_training_preview.ipynb")
    assert len(hygiene.figures_have_alt_text(nb, path)) == 1
