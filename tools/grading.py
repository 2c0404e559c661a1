"""Grade a class's submissions with nbgrader, and write a gradebook (`make grade SUBMISSIONS=DIR`).

    python -m tools.grading DIR [--time-limit 1200] [--cell-timeout 300] [--debug]

Every submission in DIR (see tools/submissions.py) is graded by `nbgrader autograde`
against the course built by `make assignments`: its notebooks run top to bottom in a fresh
kernel of their own, never in this process, and each exercise is checked by the grading cell
that follows it. One line per submission, ``NAME: X / Y``, out of the points of every
assignment handed in by anyone in DIR; the gradebook, one row per submission and one column
per exercise, goes to _build/gradebook.csv. The executed notebooks, nbgrader's logs and its
database stay in _build/grading/ to read.

Time: a cell that runs longer than --cell-timeout seconds is interrupted and its exercise
fails; the rest goes on. A submission still running after --time-limit seconds is stopped
(with its kernel): notebooks graded by then keep their marks, the others score nothing.
A submission runs with your rights: see the README ("Grading runs students' code").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import nbformat

from tools import exercise_cells as ex
from tools import nbio, submissions
from tools.assignments import OUT as ASSIGNMENTS
from tools.cli import ToolError

WORK = nbio.REPO / "_build" / "grading"
GRADEBOOK = nbio.REPO / "_build" / "gradebook.csv"


def run_one(work: Path, sid: str, time_limit: float, cell_timeout: int) -> bool:
    """Autograde one student's notebooks; False if stopped at the time limit."""
    import psutil

    bin_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
    command = [sys.executable, "-m", "nbgrader", "autograde", "*", f"--student={sid}", "--force"]
    command.append(f"--Execute.timeout={cell_timeout}")
    with (work / "logs" / f"{sid}.log").open("w", encoding="utf-8") as out:
        process = subprocess.Popen(
            command, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            process.wait(timeout=time_limit)
            return True
        except subprocess.TimeoutExpired:
            # nbgrader, and the kernels it started in sessions of their own
            try:
                root = psutil.Process(process.pid)
                tree = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:  # it ended just now
                tree = []
            for p in tree:
                try:
                    p.kill()
                except psutil.NoSuchProcess:
                    pass
            psutil.wait_procs(tree, timeout=10)
            process.wait()
            return False


def scores(work: Path, sid: str, assignment: dict[str, Any]) -> dict[str, float] | None:
    """Exercise -> points, from nbgrader's database; None if the notebook was not graded."""
    from nbgrader.api import Gradebook, MissingEntry

    notebook = Path(assignment["notebook"]).stem
    with Gradebook(f"sqlite:///{work / 'gradebook.db'}") as gb:
        try:
            graded = gb.find_submission_notebook(notebook, assignment["id"], sid)
        except MissingEntry:
            return None
        grades = {g.name: g for g in graded.grades}
        if all(g.auto_score is None for g in grades.values()):
            return None
        return {e: float(grades[ex.test_id(e)].score or 0) for e in assignment["exercises"]}


def timed_out_cells(work: Path, sid: str, assignment: dict[str, Any]) -> int:
    path = work / "autograded" / sid / assignment["id"] / assignment["notebook"]
    if not path.exists():
        return 0
    nb = nbformat.read(path, as_version=4)
    return sum(
        any(o.get("ename") == "CellTimeoutError" for o in c.get("outputs", [])) for c in nb.cells
    )


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def grade(
    folder: Path,
    time_limit: float = 1200,
    cell_timeout: int = 300,
    *,
    assignments_dir: Path = ASSIGNMENTS,
    work: Path = WORK,
    gradebook: Path = GRADEBOOK,
) -> list[dict[str, Any]]:
    """Grade every submission in ``folder``; print a line each; return the gradebook's rows."""
    manifest_path = assignments_dir / "assignments.json"
    if not manifest_path.exists():
        raise ValueError(f"{manifest_path} is missing: run make assignments first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    found = submissions.collect(folder)
    for submission in found:
        submissions.match(submission, manifest["assignments"], folder)
    handed_in = {aid for s in found for aid in s.graded}
    assignments = [a for a in manifest["assignments"] if a["id"] in handed_in]
    out_of = sum(a["points"] for a in assignments)

    shutil.rmtree(work, ignore_errors=True)
    course = assignments_dir / "nbgrader"
    shutil.copytree(course / "source", work / "source")
    for name in ("nbgrader_config.py", "gradebook.db"):
        shutil.copy(course / name, work / name)
    (work / "logs").mkdir()
    taken: set[str] = set()
    rows = []
    for submission in found:
        sid = submissions.student_id(submission.name, taken)
        for aid, nb in submission.graded.items():
            target = work / "submitted" / sid / aid
            target.mkdir(parents=True)
            notebook = next(a["notebook"] for a in assignments if a["id"] == aid)
            nbformat.write(nb, target / notebook)
        finished = True
        if submission.graded:
            finished = run_one(work, sid, time_limit, cell_timeout)
        row: dict[str, Any] = {"submission": submission.name}
        for a in assignments:
            got = scores(work, sid, a) if a["id"] in submission.graded else None
            if a["id"] not in submission.graded:
                submission.notes.append(f"{a['id']}: not handed in")
            elif got is None:
                why = (
                    f"stopped at the time limit ({number(time_limit)} s)"
                    if not finished
                    else (f"the run failed, see {work / 'logs' / sid}.log")
                )
                submission.notes.append(f"{a['id']}: not graded, {why}")
            elif stopped := timed_out_cells(work, sid, a):
                submission.notes.append(
                    f"{a['id']}: {stopped} cell(s) stopped after {cell_timeout} s"
                )
            row.update({e: number((got or {}).get(e, 0)) for e in a["exercises"]})
        total = sum(float(row[e]) for a in assignments for e in a["exercises"])
        row.update(total=number(total), out_of=number(out_of), notes="; ".join(submission.notes))
        print(f"{submission.name}: {number(total)} / {number(out_of)}", flush=True)
        for note in submission.notes:
            print(f"  {submission.name}: {note}", file=sys.stderr)
        rows.append(row)
    write_gradebook(gradebook, rows, [e for a in assignments for e in a["exercises"]])
    return rows


def write_gradebook(path: Path, rows: list[dict[str, Any]], exercises: list[str]) -> None:
    """The CSV, written next to the old one, then moved over it."""
    text = io.StringIO()
    writer = csv.DictWriter(
        text, ["submission", *exercises, "total", "out_of", "notes"], lineterminator="\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text.getvalue(), encoding="utf-8")
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="the folder of submissions")
    parser.add_argument("--time-limit", type=float, default=1200, help="seconds per submission")
    parser.add_argument("--cell-timeout", type=int, default=300, help="seconds per cell")
    parser.add_argument(
        "--assignments", type=Path, default=ASSIGNMENTS, help="make assignments' folder"
    )
    parser.add_argument("--gradebook", type=Path, default=GRADEBOOK, help="the CSV to write")
    parser.add_argument("--work", type=Path, default=WORK, help="nbgrader's folder for this run")
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    args = parser.parse_args(argv)
    if args.time_limit <= 0 or args.cell_timeout <= 0:
        parser.error("--time-limit and --cell-timeout must be positive numbers of seconds")
    try:
        grade(
            args.submissions.resolve(),
            args.time_limit,
            args.cell_timeout,
            assignments_dir=args.assignments.resolve(),
            work=args.work.resolve(),
            gradebook=args.gradebook.resolve(),
        )
    except (OSError, ValueError, subprocess.SubprocessError, ToolError) as error:
        if args.debug:
            traceback.print_exc()
        print(f"make grade: {error}", file=sys.stderr)
        return 1
    print(
        f"gradebook: {args.gradebook}; executed notebooks: {args.work / 'autograded'}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
