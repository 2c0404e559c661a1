"""The exercises as the assignment tools see them: their cells, worked answers and grading cells.

An exercise cell is a code cell of a notebook that holds ``answer = None`` and
``check("NN.M", answer)``. Its worked answer is the expression the solutions notebook passes
to ``check("NN.M", ...)``, with the statements that expression needs (imports, a helper
function), so the answers are written once, in the solutions notebook. Every grading cell
calls ``grade`` of lenet_extras.exercises, the same checking the notebooks use.
Used by tools/assignments.py (`make assignments`) and tools/grading.py (`make grade`).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

from tools import nbio

CALL = re.compile(r"""\bcheck\(\s*(["'])(?P<id>\d+\.\d+)\1\s*,\s*answer\s*\)""")
BLANK = re.compile(r"^answer = None[ \t]*$", re.M)
POINTS = 1  # every exercise counts the same: right or not, no partial credit
# Modules whose fresh copy a grading cell loads, whatever a submission did to the loaded ones.
COURSE_MODULES = ("lenet_extras", "lenet_helpers")


def answer_id(exercise: str) -> str:
    """nbgrader's name for the cell where the answer to an exercise is written."""
    return "answer_" + exercise.replace(".", "_")


def test_id(exercise: str) -> str:
    """nbgrader's name for the cell that grades an exercise."""
    return "test_" + exercise.replace(".", "_")


def exercise_of(grade_id: str) -> str | None:
    match = re.fullmatch(r"(?:answer|test)_(\d+)_(\d+)", grade_id)
    return f"{match[1]}.{match[2]}" if match else None


def exercise_ids(source: str) -> list[str]:
    """The exercises a cell checks with ``check("NN.M", answer)``, in order."""
    return [m["id"] for m in CALL.finditer(source)]


def exercise_notebooks(contents: dict[str, Any], root: Path = nbio.REPO) -> dict[str, list[str]]:
    """Notebook file -> its exercises, in order, for every notebook of the table that has any."""
    from lenet_extras.exercises import EXERCISES

    found: dict[str, list[str]] = {}
    seen: dict[str, str] = {}
    for entry in contents["notebooks"]:
        nb = nbio.read(root / "notebooks" / entry["file"])
        ids = [i for c in nb.cells if c.cell_type == "code" for i in exercise_ids(c.source)]
        for exercise in ids:
            where = f"notebooks/{entry['file']}"
            if exercise not in EXERCISES:
                raise ValueError(f"{where}: check({exercise!r}, answer) names no exercise")
            if exercise in seen:
                raise ValueError(f"{where}: exercise {exercise} is also in {seen[exercise]}")
            seen[exercise] = where
        if ids:
            found[entry["file"]] = ids
    return found


def _python(source: str) -> str:
    """A cell's code as Python (IPython's ``!`` and ``%`` lines made calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _defined(node: ast.stmt) -> set[str]:
    """The global names a top-level statement binds."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    targets = {
        ast.Assign: lambda n: n.targets,
        ast.AugAssign: lambda n: [n.target],
        ast.AnnAssign: lambda n: [n.target],
    }
    if type(node) not in targets:
        return set()
    names = set()
    for target in targets[type(node)](node):
        names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used(node: ast.AST) -> set[str]:
    """The names a statement or expression reads from outside itself."""
    loads = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and type(n.ctx) is ast.Load}
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
        return loads
    local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and type(n.ctx) is ast.Store}
    local |= {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
    local |= {n.name for n in ast.walk(node) if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    return loads - local


def worked_answers(contents: dict[str, Any], root: Path = nbio.REPO) -> dict[str, str]:
    """Exercise -> the code of its worked answer, ending with ``answer = ...``.

    Taken from every ``check("NN.M", <expression>)`` of the table's notebooks whose second
    argument is not ``answer`` itself (the solutions notebook's), with every earlier statement
    that binds a name the expression needs, directly or through another such statement.
    """
    found: dict[str, str] = {}
    for entry in contents["notebooks"]:
        statements: list[tuple[ast.stmt, str]] = []  # the notebook's statements so far
        for cell in nbio.read(root / "notebooks" / entry["file"]).cells:
            if cell.cell_type != "code":
                continue
            code = _python(cell.source)
            for node in ast.parse(code).body:
                call = node.value if isinstance(node, ast.Expr) else None
                if not (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Name)
                    and call.func.id == "check"
                    and len(call.args) == 2
                    and isinstance(call.args[0], ast.Constant)
                    and not (isinstance(call.args[1], ast.Name) and call.args[1].id == "answer")
                ):
                    statements.append((node, ast.get_source_segment(code, node) or ""))
                    continue
                exercise, expression = call.args[0].value, call.args[1]
                if exercise in found:
                    raise ValueError(
                        f"notebooks/{entry['file']}: a second worked answer to {exercise}"
                    )
                found[exercise] = _with_what_it_needs(
                    statements, ast.get_source_segment(code, expression) or "", _used(expression)
                )
    return found


def _with_what_it_needs(
    statements: list[tuple[ast.stmt, str]], expression: str, names: set[str]
) -> str:
    """The statements that bind the names (and what those need in turn), then the answer."""
    needed: set[int] = set()
    todo, done = set(names), set()
    while todo:
        name = todo.pop()
        done.add(name)
        # the last statement that binds the name, and the augmented assignments after it
        for index in reversed(range(len(statements))):
            node = statements[index][0]
            if name in _defined(node):
                needed.add(index)
                todo |= _used(node) - done
                if not isinstance(node, ast.AugAssign):
                    break
    lines = []
    for index in sorted(needed):
        node, code = statements[index]
        spaced = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        lines += [code, ""] if spaced else [code]  # a blank line after a definition, as ruff has
    return "\n".join([*lines, f"answer = {expression}"])


def solution_source(source: str, code: str, where: str) -> str:
    """The exercise cell with its ``answer = None`` line replaced by the fenced worked answer."""
    if len(BLANK.findall(source)) != 1:
        raise ValueError(f"{where}: an exercise cell needs exactly one line 'answer = None'")
    fenced = f"### BEGIN SOLUTION\n{code}\n### END SOLUTION"
    return BLANK.sub(lambda _: fenced, source)


def test_source(exercise: str) -> str:
    """The grading cell: a fresh copy of the course's checking, then ``grade`` on the answer.

    Whatever the submission did before (redefined ``check`` or ``grade``, changed the loaded
    modules, put a module of the same name next to the notebook), the verdict comes from the
    course's own files. Only the fenced part is graded; students see the first line.
    """
    modules = ", ".join(repr(m) for m in COURSE_MODULES)
    return "\n".join(
        [
            "# When the notebook is graded, this cell checks the answer above.",
            "### BEGIN HIDDEN TESTS",
            "import os as _os, sys as _sys",
            '_sys.path[:] = [p for p in _sys.path if p not in ("", ".", _os.getcwd())]',
            f"for _name in [m for m in _sys.modules if m.partition('.')[0] in ({modules})]:",
            "    del _sys.modules[_name]",
            "from lenet_extras.exercises import grade as _grade",
            "",
            f"_verdict = _grade({exercise!r}, answer)",
            "assert _verdict.status == 'correct', _verdict.message",
            "### END HIDDEN TESTS",
        ]
    )


def nbgrader_metadata(grade_id: str, *, solution: bool, test: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "grade": test,
        "grade_id": grade_id,
        "locked": test,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if test:
        meta["points"] = POINTS
    return {"nbgrader": meta}
