"""Read and write notebooks in one stable form, so that an unchanged notebook is byte-identical.

Every tool that writes a notebook (refresh, navigation) goes through `write`: sorted keys,
one-space indent, a final newline (the form JupyterLab itself saves), and metadata reduced to
what is the same on every machine (widget views, whose model ids change on every run, are
stored as their text and HTML only). The file is replaced atomically (tools/atomic.py), and a
notebook that cannot be read or is not valid is refused with one line naming it.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

from tools import atomic
from tools.cli import ToolError, where

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO / "notebooks"

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
# language_info as the kernel reports it, minus "version": the Python patch release
# differs between machines and would make every refresh elsewhere rewrite the file.
LANGUAGE_INFO_KEYS = (
    "codemirror_mode",
    "file_extension",
    "mimetype",
    "name",
    "nbconvert_exporter",
    "pygments_lexer",
)
# tags; mystnb: the static site's options for a cell's output (the alt text of its figures,
# checked by tools/hygiene.py); and a collapsed cell's settings, in JupyterLab ("jupyter")
# and on Colab ("cellView").
CELL_METADATA_KEYS = ("tags", "mystnb", "jupyter", "cellView")
# A widget's view names a model that lives only in the running kernel (its state is never
# stored), under a new random id on every run: stored, it could only show "model not found".
# Outputs keep the widget's other representations (text/html, text/plain) instead.
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


class NotebookError(ToolError, ValueError):
    """A notebook that cannot be read, or is not a valid notebook: one line naming it."""


def read(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``; a missing, unreadable or invalid one raises NotebookError."""
    name = where(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{name}: no such notebook") from None
    except (OSError, UnicodeDecodeError) as error:
        raise NotebookError(f"{name}: cannot be read ({error})") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        restore = f": restore it with git checkout -- {name}" if _inside(path) else ""
        raise NotebookError(
            f"{name}: not valid JSON at line {error.lineno}, column {error.colno} "
            f"({error.msg}){restore}"
        ) from None
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error={})
    except Exception as error:  # nbformat's reader: not a notebook, unknown version
        raise NotebookError(f"{name}: not a notebook ({_first_line(error)})") from None
    try:
        nbformat.validate(nb)
    except nbformat.ValidationError as error:
        raise NotebookError(f"{name}: not a valid notebook ({_first_line(error)})") from None
    return nb


def _inside(path: Path) -> bool:
    return Path(path).resolve().is_relative_to(REPO)


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def dumps(nb: nbformat.NotebookNode) -> str:
    """The notebook as nbformat writes it (sorted keys, indent 1, sources as line lists)."""
    text = nbformat.writes(nb, version=4)
    return text if text.endswith("\n") else text + "\n"


def normalise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep only the metadata that is the same on every machine (in place; also returned)."""
    info = nb.metadata.get("language_info", {})
    nb.metadata = nbformat.from_dict(
        {
            "kernelspec": dict(KERNELSPEC),
            "language_info": {"name": "python"}
            | {k: info[k] for k in LANGUAGE_INFO_KEYS if k in info},
        }
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    for cell in nb.cells:
        cell.metadata = nbformat.from_dict(
            {k: cell.metadata[k] for k in CELL_METADATA_KEYS if cell.metadata.get(k)}
        )
        if cell.cell_type == "code":
            cell.outputs = merge_streams(cell.outputs)
            for output in cell.outputs:
                output.get("metadata", {}).pop("needs_background", None)
                if len(output.get("data", {})) > 1:
                    output["data"].pop(WIDGET_VIEW, None)
    nbformat.validate(nb)
    return nb


def merge_streams(outputs: list) -> list:
    """Join consecutive stdout (or stderr) outputs into one, as JupyterLab shows them.

    How printed text is cut into pieces depends on timing (the kernel flushes now and then),
    so without this two runs of the same cell could store different, equivalent outputs.
    """
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.output_type == "stream"
            and previous is not None
            and previous.output_type == "stream"
            and previous.name == output.name
        ):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def write(path: Path, nb: nbformat.NotebookNode) -> bool:
    """Write the notebook in the stable form, atomically; return whether its bytes changed."""
    text = dumps(normalise(nb))
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if text == old:
        return False
    atomic.write_text(path, text)
    return True
