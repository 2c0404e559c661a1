"""The refresh command: re-executing an unchanged notebook leaves it byte-identical."""

from __future__ import annotations

import shutil

import nbformat

from tools import nbio, refresh

NOTEBOOK = "04_trainable_parameters.ipynb"  # quick to run, and has every kind of output cell


def test_refresh_of_an_unchanged_notebook_is_byte_identical(tmp_path):
    copy = tmp_path / NOTEBOOK
    shutil.copy(nbio.NOTEBOOKS / NOTEBOOK, copy)
    original = copy.read_bytes()
    assert nbio.write(copy, refresh.execute(copy)) is False
    assert copy.read_bytes() == original


def test_refresh_strips_what_differs_between_machines(tmp_path):
    copy = tmp_path / NOTEBOOK
    nb = nbio.read(nbio.NOTEBOOKS / NOTEBOOK)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb.metadata["language_info"]["version"] = "3.11.99"
    nb.cells[3].metadata["execution"] = {"iopub.execute_input": "2026-11-25T08:00:00Z"}
    nb.cells[3].metadata["collapsed"] = True
    nb.cells[3].execution_count = 42
    nbformat.write(nb, copy)
    assert nbio.write(copy, refresh.execute(copy)) is True
    assert copy.read_bytes() == (nbio.NOTEBOOKS / NOTEBOOK).read_bytes()


def test_printed_text_cut_into_pieces_is_stored_as_one_output():
    """The kernel flushes stdout when it likes; the stored form must not depend on it."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('a'); print('b')")])
    stdout, stderr = ("stdout", "a\n"), ("stderr", "w\n")
    pieces = [stdout, ("stdout", "b\n"), stderr, ("stderr", "x\n"), ("stdout", "c\n")]
    nb.cells[0].outputs = [nbformat.v4.new_output("stream", name=n, text=t) for n, t in pieces]
    merged = nbio.normalise(nb).cells[0].outputs
    assert [(o.name, o.text) for o in merged] == [
        ("stdout", "a\nb\n"),
        ("stderr", "w\nx\n"),
        ("stdout", "c\n"),
    ]


def test_widget_views_are_stored_as_their_text_and_html():
    """A widget's model id changes on every run and its state is never stored: keep the rest."""
    view = {"model_id": "6e9dae35", "version_major": 2, "version_minor": 0}
    data = {nbio.WIDGET_VIEW: view, "text/plain": "table", "text/html": "<pre>table</pre>"}
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("explorer")])
    nb.cells[0].outputs = [
        nbformat.v4.new_output("display_data", data=data),
        nbformat.v4.new_output("display_data", data={nbio.WIDGET_VIEW: view}),  # nothing else
    ]
    stored = [o.data for o in nbio.normalise(nb).cells[0].outputs]
    assert stored == [
        {"text/plain": "table", "text/html": "<pre>table</pre>"},
        {nbio.WIDGET_VIEW: view},
    ]


def test_the_stable_form_keeps_figures_alt_text():
    # A refresh (or `make nav`) must not drop what the static site and the hygiene rule read.
    nb = nbio.read(nbio.NOTEBOOKS / "07_training_preview.ipynb")
    before = [c.metadata.get("mystnb") for c in nb.cells]
    assert any(before)
    assert [c.metadata.get("mystnb") for c in nbio.normalise(nb).cells] == before
