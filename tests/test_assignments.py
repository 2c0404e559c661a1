"""The instructors' edition: assignments built by nbgrader from the notebooks, graded by nbgrader.

The fast tests check the pieces in this process (the worked answers, the grading cell, how a
submission is read). One module-scoped run builds every assignment (`make assignments`) and
grades a folder of submissions (`make grade`) in nbgrader's own kernels: every filled-in twin,
every blank student copy, a plain notebook answered in place, and submissions that crash, loop
forever, ignore interrupts and tamper with the checking.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from lenet_extras.exercises import EXERCISES, grade
from tools import assignments, exercise_cells, grading, navigation, nbio, submissions

CONTENTS = navigation.load_contents()
NOTEBOOKS = exercise_cells.exercise_notebooks(CONTENTS)
ANSWERS = exercise_cells.worked_answers(CONTENTS)
CELL_TIMEOUT, TIME_LIMIT = 20, 90  # seconds: short, for the submissions that never end
# The notebooks the misbehaving submissions use, found by their exercises, not their numbers:
FIRST, SECOND = list(NOTEBOOKS)[:2]  # graded in this order
LOOPED = next(f for f, ids in NOTEBOOKS.items() if len(ids) >= 3)
TAMPERED = next(f for f, ids in NOTEBOOKS.items() if len(ids) >= 4)


# --- the pieces --------------------------------------------------------------------------


def test_every_exercise_is_in_one_notebook_and_has_a_worked_answer():
    in_notebooks = [e for ids in NOTEBOOKS.values() for e in ids]
    assert sorted(in_notebooks) == sorted(EXERCISES)
    assert sorted(ANSWERS) == sorted(EXERCISES)


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_each_worked_answer_runs_and_is_right_by_the_notebooks_own_checking(exercise):
    namespace: dict = {}
    exec(ANSWERS[exercise], namespace)  # noqa: S102 (our own solutions notebook's code)
    verdict = grade(exercise, namespace["answer"])
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize("exercise", sorted(EXERCISES))
def test_a_worked_answer_takes_only_the_statements_it_needs(exercise):
    """Every statement before ``answer = ...`` binds a name that a later one reads."""
    import ast

    *before, last = ast.parse(ANSWERS[exercise]).body
    assert ast.unparse(last).startswith("answer = ")
    for index, statement in enumerate(before):
        later = ast.Module(body=[*before[index + 1 :], last], type_ignores=[])
        read = {n.id for n in ast.walk(later) if isinstance(n, ast.Name)}
        bound = exercise_cells._defined(statement)
        assert bound & read, f"{exercise}: {ast.unparse(statement)!r} is not needed"
    assert len(before) == len({ast.unparse(s) for s in before}), f"{exercise}: a repeat"


def run_grading_cell(exercise: str, code: str, before: str, cwd: Path) -> str:
    """Run the grading cell in a fresh interpreter, after ``before`` (what a submission did)
    and ``code`` (its answer)."""
    script = "\n".join([before, code, exercise_cells.test_source(exercise)])
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )
    return "pass" if done.returncode == 0 else done.stderr.strip().splitlines()[-1]


NUMBER = next(e for e, task in EXERCISES.items() if task["kind"] == "number")
TAMPERING = f"""
import lenet_extras.exercises as exercises, sys, types
class Verdict: status, message = "correct", "correct"
exercises.grade = lambda *args, **kwargs: Verdict()
def grade(*args, **kwargs): return Verdict()
def check(*args): print("{NUMBER}: correct.")
sys.modules["lenet_extras.exercises"] = types.SimpleNamespace(grade=grade)
"""


def test_the_grading_cell_uses_the_courses_checking_whatever_the_submission_did(tmp_path):
    fake = tmp_path / "lenet_extras"  # a module of the same name beside the notebook
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "exercises.py").write_text("def grade(*a):\n    raise SystemExit(0)\n")
    assert run_grading_cell(NUMBER, ANSWERS[NUMBER], "", tmp_path) == "pass"
    wrong = run_grading_cell(NUMBER, "answer = -1.5", TAMPERING, tmp_path)
    assert wrong.startswith(f"AssertionError: {NUMBER}: not quite (-1.5)")
    blank = run_grading_cell(NUMBER, "answer = None", TAMPERING, tmp_path)
    assert blank.startswith(f"AssertionError: {NUMBER}: not answered yet")


def notebook_with(cells: list[str]) -> nbformat.NotebookNode:
    return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in cells])


def test_a_submission_gets_the_courses_grading_cells_right_after_its_answers():
    a = {"id": "02_architecture", "exercises": ["02.1", "02.2", "02.3"]}
    stray = nbformat.v4.new_code_cell(
        "pass  # a grading cell, edited and moved to the top",
        metadata=exercise_cells.nbgrader_metadata("test_02_2", solution=False, test=True),
    )
    nb = notebook_with(["x = 1", 'answer = 8\ncheck("02.1", answer)', 'check("02.2", answer)'])
    nb.cells.insert(0, stray)
    nb.metadata["kernelspec"] = {"name": "a-kernel-the-grader-lacks", "display_name": "?"}
    graded = submissions.normalise(nb, a)
    names = [c.metadata.get("nbgrader", {}).get("grade_id") for c in graded.cells]
    assert names == [None, "answer_02_1", "test_02_1", "answer_02_2", "test_02_2"] + [
        "answer_02_3",  # deleted by the student: a blank cell, which scores nothing
        "test_02_3",
    ]
    assert graded.cells[-2].source.startswith("answer = None")
    assert graded.cells[2].source == exercise_cells.test_source("02.1")
    assert graded.metadata["kernelspec"]["name"] == "python3"
    assert "pass  # a grading cell" not in [c.source for c in graded.cells]


def test_submissions_are_notebooks_or_folders_and_names_become_safe_ids(tmp_path):
    (tmp_path / "Ana Lima.ipynb").write_text("{}")
    (tmp_path / "bo").mkdir()
    (tmp_path / "bo" / "work").mkdir()
    (tmp_path / "bo" / "work" / "02.ipynb").write_text("{}")
    (tmp_path / "bo" / ".ipynb_checkpoints").mkdir()
    (tmp_path / "bo" / ".ipynb_checkpoints" / "02-checkpoint.ipynb").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a submission")
    found = submissions.collect(tmp_path)
    assert [(s.name, [p.name for p in s.notebooks]) for s in found] == [
        ("Ana Lima", ["Ana Lima.ipynb"]),
        ("bo", ["02.ipynb"]),
    ]
    taken: set[str] = set()
    assert [submissions.student_id(n, taken) for n in ("Ana Lima", "Ana-Lima?", "Ana Lima")] == [
        "Ana_Lima",
        "Ana-Lima",
        "Ana_Lima_2",
    ]


def test_a_folder_without_notebooks_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match=r"SUBMISSIONS=.*: no notebook"):
        submissions.collect(tmp_path)
    with pytest.raises(ValueError, match=r"SUBMISSIONS=.*missing.*: no such folder"):
        submissions.collect(tmp_path / "missing")
    assert grading.main([str(tmp_path)]) == 1


# --- make assignments and make grade, once ------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("build") / "assignments"
    assignments.build(nbio.REPO, out)
    return out


def test_student_copies_are_blank_and_their_twins_filled_in(built):
    manifest = json.loads((built / "assignments.json").read_text())
    assert [a["notebook"] for a in manifest["assignments"]] == list(NOTEBOOKS)
    for a in manifest["assignments"]:
        student = nbformat.read(built / "student" / a["notebook"], as_version=4)
        twin = nbformat.read(built / "solution" / a["notebook"], as_version=4)
        student_code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
        twin_code = "\n".join(c.source for c in twin.cells if c.cell_type == "code")
        student_text = "\n".join(c.source for c in student.cells)
        assert student_code.count("answer = None") == len(a["exercises"])
        assert "BEGIN SOLUTION" not in student_code and "_grade(" not in student_code
        assert "solutions.ipynb" not in student_text and "../README.md" not in student_text
        assert all(not c.get("outputs") for c in student.cells)
        for exercise in a["exercises"]:
            assert ANSWERS[exercise].splitlines()[-1] in twin_code
            assert f"_grade({exercise!r}, answer)" in twin_code
        assert (built / "nbgrader" / "release" / a["id"] / a["notebook"]).exists()
    assert (built / "nbgrader" / "gradebook.db").exists()


def answered(nb: nbformat.NotebookNode, replace: dict[str, str]) -> nbformat.NotebookNode:
    """The notebook with the cell of each named exercise given new code."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    for cell in nb.cells:
        ids = exercise_cells.exercise_ids(cell.source) if cell.cell_type == "code" else []
        if ids and ids[0] in replace:
            cell.source = replace[ids[0]]
    return nb


def twin(built: Path, file: str) -> nbformat.NotebookNode:
    return nbformat.read(built / "solution" / file, as_version=4)


class Grading:
    """`make grade`'s command on a folder, started now; ``result()`` waits for it."""

    def __init__(self, folder: Path, built: Path, work: Path, *limits: str) -> None:
        self.work, self.gradebook = work, work / "gradebook.csv"
        command = [
            sys.executable, "-m", "tools.grading", str(folder), "--assignments", str(built),
            "--work", str(work / "nbgrader"), "--gradebook", str(self.gradebook), *limits,
        ]  # fmt: skip
        # One thread per kernel: three gradings share the machine's cores.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            command,
            cwd=nbio.REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def result(self) -> tuple[list[str], dict[str, dict[str, str]], Path]:
        """(printed lines, gradebook rows by submission, nbgrader's folder)."""
        stdout, stderr = self.process.communicate()
        assert self.process.returncode == 0, stderr
        with self.gradebook.open(newline="") as f:
            rows = {row["submission"]: row for row in csv.DictReader(f)}
        return stdout.splitlines(), rows, self.work


def a_class(built: Path, tmp_path_factory) -> list[Grading]:
    """Every twin, every blank copy, a plain notebook answered in place, and tampering, graded
    in two halves at once (each with every notebook in it, so each counts out of them all)."""
    halves = [tmp_path_factory.mktemp("submissions"), tmp_path_factory.mktemp("submissions")]
    for folder, name, kind in ((halves[0], "twin", "solution"), (halves[1], "blank", "student")):
        (folder / name).mkdir()
        for file in NOTEBOOKS:
            (folder / name / file).write_bytes((built / kind / file).read_bytes())
    folder = halves[0]
    # answered in place in the repository's own notebook, as on Binder, Colab or the hub
    plain = nbio.read(nbio.NOTEBOOKS / FIRST)
    for cell in plain.cells:
        for exercise in exercise_cells.exercise_ids(cell.source):
            cell.source = exercise_cells.BLANK.sub(ANSWERS[exercise], cell.source)
    nbformat.write(plain, folder / "plain.ipynb")
    # wrong answers with the checking bent, grading cells edited or deleted, and a helper
    # module of its own beside the notebook
    a, _, c, _ = NOTEBOOKS[TAMPERED][:4]
    nb = answered(
        twin(built, TAMPERED),
        {
            a: f"answer = -1.5\n{TAMPERING}\ncheck({a!r}, answer)",
            c: "answer = -1\nprint('correct')",
        },
    )
    tests = [i for i, cell in enumerate(nb.cells) if "BEGIN HIDDEN TESTS" in cell.source]
    nb.cells[tests[3]].source = "pass"
    del nb.cells[tests[1]]
    folder = halves[1]
    (folder / "tamper" / "lenet_extras").mkdir(parents=True)
    (folder / "tamper" / "lenet_extras" / "__init__.py").write_text("")
    fake = "class V:\n    status = 'correct'\n\ndef grade(*a, **k):\n    return V()\n"
    (folder / "tamper" / "lenet_extras" / "exercises.py").write_text(fake)
    nbformat.write(nb, folder / "tamper" / TAMPERED)
    # no limit is tested here: room for notebook 06's training on a busy machine
    return [
        Grading(half, built, tmp_path_factory.mktemp("grading"), "--cell-timeout", "900")
        for half in halves
    ]


def never_ending_ones(built: Path, tmp_path_factory) -> Grading:
    """Submissions that crash, loop, and take too long, graded with short limits."""
    folder = tmp_path_factory.mktemp("never-ending")
    # a lesson cell that raises, and an exercise cell that loops before it answers
    loops = answered(twin(built, LOOPED), {NOTEBOOKS[LOOPED][1]: "while True:\n    pass"})
    loops.cells.insert(2, nbformat.v4.new_code_cell("1 / 0"))
    nbformat.write(loops, folder / "loops.ipynb")
    # the first notebook right, then one whose cells each end in time, but not all of them
    (folder / "stuck").mkdir()
    nbformat.write(twin(built, FIRST), folder / "stuck" / FIRST)
    stuck = twin(built, SECOND)
    nap = f"import time\ntime.sleep({CELL_TIMEOUT * 3 // 4})"
    stuck.cells[1:1] = [nbformat.v4.new_code_cell(nap) for _ in range(TIME_LIMIT // 10)]
    nbformat.write(stuck, folder / "stuck" / SECOND)
    limits = ["--cell-timeout", str(CELL_TIMEOUT), "--time-limit", str(TIME_LIMIT)]
    return Grading(folder, built, tmp_path_factory.mktemp("grading"), *limits)


@pytest.fixture(scope="module")
def gradings(built, tmp_path_factory):
    """All gradings at once, on two cores: the never-ending ones mostly wait."""
    never_ending = never_ending_ones(built, tmp_path_factory)
    halves = [half.result() for half in a_class(built, tmp_path_factory)]
    lines = sorted(line for half in halves for line in half[0])
    rows = {name: row for half in halves for name, row in half[1].items()}
    return (lines, rows, halves[0][2]), never_ending.result()


@pytest.fixture(scope="module")
def graded(gradings):
    return gradings[0]


@pytest.fixture(scope="module")
def never_ending(gradings):
    return gradings[1]


def test_one_line_per_submission_out_of_every_handed_in_exercise(graded, never_ending):
    total = len(EXERCISES)
    assert graded[0] == [
        f"blank: 0 / {total}",
        f"plain: {len(NOTEBOOKS[FIRST])} / {total}",
        f"tamper: 2 / {total}",
        f"twin: {total} / {total}",
    ]
    out_of = sum(len(NOTEBOOKS[f]) for f in {LOOPED, FIRST, SECOND})  # what anyone handed in
    assert never_ending[0] == [
        f"loops: {len(NOTEBOOKS[LOOPED]) - 1} / {out_of}",
        f"stuck: {len(NOTEBOOKS[FIRST])} / {out_of}",
    ]


def test_the_gradebook_has_a_column_per_exercise_and_the_total(graded):
    rows = graded[1]
    exercises = [e for ids in NOTEBOOKS.values() for e in ids]
    assert list(rows["twin"]) == ["submission", *exercises, "total", "out_of", "notes"]
    assert all(rows["twin"][e] == "1" for e in exercises)
    assert all(rows["blank"][e] == "0" for e in exercises)
    assert rows["twin"]["notes"] == "" and rows["blank"]["total"] == "0"
    assert rows["plain"]["notes"].count("not handed in") == len(NOTEBOOKS) - 1


def test_tampering_loses_only_what_it_broke(graded):
    exercises = NOTEBOOKS[TAMPERED][:4]
    assert [graded[1]["tamper"][e] for e in exercises] == ["0", "1", "0", "1"]


def test_crashing_and_never_ending_cells_lose_only_their_exercises(never_ending):
    rows = never_ending[1]
    assert [rows["loops"][e] for e in NOTEBOOKS[LOOPED][:3]] == ["1", "0", "1"]
    stem = Path(LOOPED).stem
    assert f"{stem}: 1 cell(s) stopped after {CELL_TIMEOUT} s" in rows["loops"]["notes"]
    assert all(rows["stuck"][e] == "1" for e in NOTEBOOKS[FIRST])
    assert all(rows["stuck"][e] == "0" for e in NOTEBOOKS[SECOND])
    assert f"{Path(SECOND).stem}: not graded, stopped at the time limit" in rows["stuck"]["notes"]


def test_nothing_of_a_stopped_submission_keeps_running(never_ending):
    import psutil

    work = str(never_ending[2])
    left = [p for p in psutil.process_iter(["cwd"]) if (p.info["cwd"] or "").startswith(work)]
    assert not left, f"still running after grading: {[p.cmdline() for p in left]}"


def test_grading_needs_the_assignments_first(tmp_path):
    (tmp_path / "a.ipynb").write_text(nbformat.writes(notebook_with(["1"])))
    missing = tmp_path / "nothing-built"
    code = grading.main([str(tmp_path), "--assignments", str(missing), "--work", str(tmp_path)])
    assert code == 1


def test_make_grade_asks_for_the_folder_before_doing_anything():
    done = subprocess.run(
        ["make", "grade"], cwd=nbio.REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode != 0
    assert "make grade SUBMISSIONS=" in done.stderr
