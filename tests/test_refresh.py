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
