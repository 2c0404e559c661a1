"""A class's submissions, read from a folder and put in the form nbgrader grades (`make grade`).

A submission is a notebook directly in the folder (named after the file) or a subfolder
(named after it) with one or more notebooks anywhere inside. Nothing but the notebooks is
ever used: modules or data handed in beside them never reach the grading.

Each notebook is matched to an assignment by the exercises it holds: the student copy of
`make assignments`, or a plain notebook of the repository answered in place (from Binder,
Colab or the hub), which has the same exercise cells. Before grading, every grading cell is
replaced by the course's own, placed right after its exercise's cell, so that a grading cell
a student edited, moved or deleted counts for nothing; an exercise whose cell is gone gets
a blank one (and no point).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from tools import exercise_cells as ex
from tools import nbio


@dataclass
class Submission:
    name: str
    notebooks: list[Path]
    notes: list[str] = field(default_factory=list)
    # assignment id -> the notebook graded for it, normalised
    graded: dict[str, nbformat.NotebookNode] = field(default_factory=dict)


def collect(folder: Path) -> list[Submission]:
    """The submissions in ``folder``, sorted by name."""
    if not folder.is_dir():
        raise ValueError(f"SUBMISSIONS={folder}: no such folder")
    found: dict[str, Submission] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_file() and path.suffix == ".ipynb":
            name, notebooks = path.stem, [path]
        elif path.is_dir():
            name = path.name
            notebooks = sorted(
                p
                for p in path.rglob("*.ipynb")
                if not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            continue
        if name in found:
            name = f"{name} ({path.name})"
        found[name] = Submission(name, notebooks)
    if not found:
        raise ValueError(f"SUBMISSIONS={folder}: no notebook (*.ipynb) and no folder in it")
    return list(found.values())


def exercises_in(nb: nbformat.NotebookNode) -> list[str]:
    """The exercises a notebook holds, by its cells' nbgrader names or check() calls."""
    found = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        ids = [ex.exercise_of(grade_id)] if ex.exercise_of(grade_id) else []
        if cell.cell_type == "code":
            ids += ex.exercise_ids(cell.source)
        found += [i for i in ids if i not in found]
    return found


def match(submission: Submission, assignments: list[dict[str, Any]], root: Path) -> None:
    """Read the submission's notebooks and keep, per assignment, the one to grade."""
    for path in submission.notebooks:
        shown = path.relative_to(root).as_posix()
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as error:  # a file that is not a notebook: say so, grade the rest
            submission.notes.append(f"{shown}: not a readable notebook ({type(error).__name__})")
            continue
        held = set(exercises_in(nb))
        best = max(assignments, key=lambda a: len(held & set(a["exercises"])))
        if not held & set(best["exercises"]):
            submission.notes.append(f"{shown}: holds none of the exercises; not graded")
        elif best["id"] in submission.graded:
            submission.notes.append(f"{shown}: a second notebook for {best['id']}; not graded")
        else:
            submission.graded[best["id"]] = normalise(nb, best)


def _is_grading_cell(cell: Any) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return bool(meta.get("grade")) and not meta.get("solution")


def _exercise_of_cell(cell: Any, exercises: list[str]) -> list[str]:
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
    ids = [ex.exercise_of(grade_id)] if grade_id.startswith("answer_") else []
    if cell.cell_type == "code":
        ids += ex.exercise_ids(cell.source)
    return [i for i in dict.fromkeys(ids) if i in exercises]


def normalise(nb: nbformat.NotebookNode, assignment: dict[str, Any]) -> nbformat.NotebookNode:
    """The notebook with the course's grading cells after its exercises' cells (a new object)."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    exercises = assignment["exercises"]
    cells, placed = [], set()
    for cell in nb.cells:
        if _is_grading_cell(cell):
            continue  # the course's own take its place below
        cell.get("metadata", {}).pop("nbgrader", None)
        ids = [i for i in _exercise_of_cell(cell, exercises) if i not in placed]
        if cell.cell_type != "code" or not ids:
            cells.append(cell)
            continue
        # A cell holding several exercises answers the last one: `answer` is overwritten.
        cell.metadata.update(ex.nbgrader_metadata(ex.answer_id(ids[-1]), solution=True, test=False))
        cells.append(cell)
        cells += [_grading_cell(i) for i in ids]
        placed |= set(ids)
    for exercise in exercises:
        if exercise not in placed:  # its cell was deleted: a blank one, which scores nothing
            blank = nbformat.v4.new_code_cell(f'answer = None\ncheck("{exercise}", answer)')
            blank.metadata.update(
                ex.nbgrader_metadata(ex.answer_id(exercise), solution=True, test=False)
            )
            cells += [blank, _grading_cell(exercise)]
    nb.cells = cells
    for cell in nb.cells:
        cell.setdefault("id", nbformat.v4.new_code_cell().id)
    nb.metadata["kernelspec"] = dict(nbio.KERNELSPEC)  # grade in this environment's kernel
    nb.nbformat, nb.nbformat_minor = 4, 5
    return nb


def _grading_cell(exercise: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(
        ex.test_source(exercise),
        metadata=ex.nbgrader_metadata(ex.test_id(exercise), solution=False, test=True),
    )


def student_id(name: str, taken: set[str]) -> str:
    """A name nbgrader takes as a student id (letters, digits, _ and -), unique."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_") or "submission"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    taken.add(candidate)
    return candidate
