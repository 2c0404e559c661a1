"""Build a class's assignments from the notebooks with nbgrader (`make assignments`).

    python -m tools.assignments [--debug]

For every notebook of notebooks/contents.toml that ends with exercises, writes to
_build/assignments/:
  student/NN_name.ipynb   the student copy: exercises blank (``answer = None``), no worked
                          answer, no grading code, outputs cleared (nbgrader generate_assignment)
  solution/NN_name.ipynb  its filled-in twin, grading cells shown (nbgrader generate_solution)
  nbgrader/               nbgrader's course folder: nbgrader_config.py, source/ (the
                          instructor's version of each notebook), release/, and gradebook.db,
                          which holds the grading cells; `make grade` and nbgrader itself grade
                          against it
  assignments.json        which notebook holds which exercises (read by tools/grading.py)
The worked answers come from the solutions notebook, and every grading cell calls ``grade``
of lenet_extras.exercises (tools/exercise_cells.py). The folder is replaced in one step: a
failure leaves the previous build whole.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

import nbformat

from tools import exercise_cells as ex
from tools import navigation, nbio
from tools.cli import ToolError
from tools.contents import CONTENTS

OUT = nbio.REPO / "_build" / "assignments"
CONFIG = """\
# nbgrader's settings for the Lecture 28 assignments, written by `make assignments`
# (python -m tools.assignments). Run nbgrader from this folder: nbgrader autograde NN_name
from nbgrader.preprocessors import ClearMarkScheme, IncludeHeaderFooter, LockCells

c = get_config()  # noqa: F821 (nbgrader provides it)
c.CourseDirectory.course_id = "lecture28"
# The student copy keeps the line a learner knows from the notebooks.
c.ClearSolutions.code_stub = {"python": "answer = None"}
# The filled-in twin keeps the notebook's stored outputs instead of running it again.
c.GenerateSolution.preprocessors = [IncludeHeaderFooter, LockCells, ClearMarkScheme]
# Seconds a cell may run while grading; a cell that runs longer is interrupted and fails.
c.Execute.timeout = 300
"""
NOTE = (
    "**For a class.** Each exercise at the end of this copy is graded: replace `answer = None`"
    " with your answer, run every cell from the top, save, and hand in this file."
)


def nbgrader(*args: str, cwd: Path, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run nbgrader from this environment (it calls alembic, so that must be on the PATH)."""
    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _header(contents: dict[str, Any], entry: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"# {navigation.label(entry)}",
            "",
            '*Lecture 28, "LeNet Definition", of Deep Learning for Visual Computing'
            f" (IIT Kharagpur). Video time: {entry['lecture']}.*",
            "",
            NOTE,
        ]
    )


def _without_links_to(text: str, files: set[str]) -> str:
    """Markdown without the sentences that link to notebooks a student copy does not come with."""
    for name in files:
        link = rf"\[[^\]]*\]\({re.escape(name)}(?:#[^)]*)?\)"
        text = re.sub(rf"(?:(?<=[.!?])[ \t\n]+|^)[^.!?\n]*(?:\n[^.!?\n]*)*?{link}\.?", "", text)
        text = re.sub(rf"\[([^\]]*)\]\({re.escape(name)}(?:#[^)]*)?\)", r"\1", text)
    return text


def source_notebook(
    path: Path, contents: dict[str, Any], answers: dict[str, str], handed_out: set[str]
) -> nbformat.NotebookNode:
    """The instructor's version of a notebook, in nbgrader's form."""
    entry = next(e for e in contents["notebooks"] if e["file"] == path.name)
    nb = nbio.read(path)
    others = {e["file"] for e in contents["notebooks"]} - handed_out
    cells = []
    for cell in nb.cells:
        nav = navigation.NAV_TAG in cell.metadata.get("tags", [])
        if nav and cell.source.startswith(navigation.FOOTER):
            continue  # its links lead to the repository's README and other notebooks
        if nav and cell.source.startswith(navigation.HEADER):
            cell = nbformat.v4.new_markdown_cell(_header(contents, entry), id="assignment-header")
        elif cell.cell_type == "markdown":
            cell.source = _without_links_to(cell.source, others)
        ids = ex.exercise_ids(cell.source) if cell.cell_type == "code" else []
        if not ids:
            cells.append(cell)
            continue
        if len(ids) > 1:
            raise ValueError(f"notebooks/{path.name}: one cell checks {ids}; one exercise a cell")
        (exercise,) = ids
        if exercise not in answers:
            raise ValueError(
                f"no worked answer to exercise {exercise} (notebooks/{path.name}): the solutions"
                f' notebook needs a check("{exercise}", ...) line'
            )
        where = f"notebooks/{path.name}, exercise {exercise}"
        cell.source = ex.solution_source(cell.source, answers[exercise], where)
        cell.metadata = ex.nbgrader_metadata(ex.answer_id(exercise), solution=True, test=False)
        cell.outputs, cell.execution_count = [], None
        test = nbformat.v4.new_code_cell(
            ex.test_source(exercise),
            id=ex.test_id(exercise).replace("_", "-"),
            metadata=ex.nbgrader_metadata(ex.test_id(exercise), solution=False, test=True),
        )
        cells += [cell, test]
    nb.cells = cells
    nb.metadata = nbformat.from_dict({"kernelspec": dict(nbio.KERNELSPEC)})
    nbformat.validate(nb)
    return nb


def build(root: Path = nbio.REPO, out: Path = OUT) -> list[dict[str, Any]]:
    """Write the assignments to ``out`` (replaced whole at the end); return what it holds."""
    contents = navigation.load_contents(root)
    exercise_files = ex.exercise_notebooks(contents, root)
    if not exercise_files:
        raise ValueError(f"{CONTENTS}: no notebook has exercises")
    answers = ex.worked_answers(contents, root)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".assignments-", dir=out.parent))
    try:
        course = work / "nbgrader"
        (course / "source").mkdir(parents=True)
        (course / "nbgrader_config.py").write_text(CONFIG, encoding="utf-8")
        assignments = []
        for file, exercises in exercise_files.items():
            stem = Path(file).stem
            nb = source_notebook(root / "notebooks" / file, contents, answers, set(exercise_files))
            (course / "source" / stem).mkdir()
            nbformat.write(nb, course / "source" / stem / file)
            points = ex.POINTS * len(exercises)
            assignments.append(
                {"id": stem, "notebook": file, "exercises": exercises, "points": points}
            )
        for step in ("generate_assignment", "generate_solution"):
            done = nbgrader(step, "*", "--force", cwd=course)
            if done.returncode != 0:
                lines = [line for line in done.stdout.splitlines() if "ERROR" in line]
                raise RuntimeError(f"nbgrader {step} failed: {' '.join(lines[-3:]) or done.stdout}")
        for kind, folder in (("student", "release"), ("solution", "solution")):
            (work / kind).mkdir()
            for a in assignments:
                shutil.copy(course / folder / a["id"] / a["notebook"], work / kind / a["notebook"])
        manifest = {"repository": contents["repository"], "release": contents["release"]}
        manifest["assignments"] = assignments
        text = json.dumps(manifest, indent=1, ensure_ascii=False) + "\n"
        (work / "assignments.json").write_text(text, encoding="utf-8")
        old = out.with_name(work.name + "-old")
        if out.exists():
            out.rename(old)
        work.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return assignments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    args = parser.parse_args(argv)
    try:
        assignments = build()
    except (OSError, ValueError, RuntimeError, subprocess.SubprocessError, ToolError) as error:
        if args.debug:
            traceback.print_exc()
        print(f"make assignments: {error}", file=sys.stderr)
        return 1
    where = OUT.relative_to(nbio.REPO)
    for a in assignments:
        print(f"{a['notebook']}: {len(a['exercises'])} exercises, {a['points']} points")
    print(f"wrote {where}/student/, {where}/solution/ and nbgrader's course in {where}/nbgrader/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
