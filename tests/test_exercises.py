"""The self-checking exercises: every right form accepted, wrong and odd ones refused, with
truths computed by PyTorch (lenet_extras.answers) rather than stored."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn as nn
from torch.autograd import Variable

from lenet_extras import answers
from lenet_extras import exercises as ex
from lenet_helpers import LeNet
from tools import nbio

IDS = sorted(ex.EXERCISES)
VALUE_IDS = [e for e in IDS if ex.EXERCISES[e]["kind"] != "code"]
CODE_IDS = [e for e in IDS if ex.EXERCISES[e]["kind"] == "code"]


def truth(exercise: str):
    return getattr(answers, "e" + exercise.replace(".", "_"))()


def wrong_answer(value):
    if isinstance(value, bool):
        return not value
    if isinstance(value, str):
        return value + "x"
    if isinstance(value, type):
        return nn.Module
    if isinstance(value, tuple):
        return (*value[:-1], value[-1] + 1)
    return value + 1


# --- right, wrong and empty answers to every exercise -----------------------------------


@pytest.mark.parametrize("exercise", VALUE_IDS)
def test_right_answer_is_correct(exercise):
    verdict = ex.grade(exercise, truth(exercise))
    assert verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"{exercise}: correct")


@pytest.mark.parametrize("exercise", VALUE_IDS)
def test_wrong_answer_gets_the_first_hint_then_both(exercise):
    hints = ex.EXERCISES[exercise]["hints"]
    first = ex.grade(exercise, wrong_answer(truth(exercise)))
    assert first.status == "wrong" and hints[0] in first.message and hints[1] not in first.message
    again = ex.grade(exercise, wrong_answer(truth(exercise)), tries=1)
    assert hints[0] in again.message and hints[1] in again.message


@pytest.mark.parametrize("exercise", IDS)
@pytest.mark.parametrize("empty", [None, "", "   ", ...])
def test_empty_answer_is_not_answered_yet(exercise, empty):
    verdict = ex.grade(exercise, empty)
    assert verdict.status == "unanswered"
    assert verdict.message == f"{exercise}: not answered yet. {ex.EXERCISES[exercise]['question']}"


@pytest.mark.parametrize("exercise", IDS)
@pytest.mark.parametrize(
    "answer", ["abc", [1, "x"], {"a": 1}, object(), float("nan"), torch.zeros(3), nn.ReLU()]
)
def test_odd_answers_are_refused_in_one_line_not_with_an_error(exercise, answer):
    verdict = ex.grade(exercise, answer)
    assert verdict.status in {"wrong", "unreadable"}
    assert "\n" not in verdict.message
    if verdict.status == "unreadable":
        assert verdict.message.endswith("This does not count as a try.")


@pytest.mark.parametrize("exercise", VALUE_IDS)
def test_an_answer_of_another_kind_is_told_how_to_write_it(exercise):
    kind = ex.EXERCISES[exercise]["kind"]
    other = {"number": "twenty", "shape": 7, "bool": "maybe", "name": nn.ReLU()}[kind]
    verdict = ex.grade(exercise, other)
    assert verdict.status == "unreadable"
    what, how = ex.READABLE[kind]
    assert f" is not {what}: {how}. This does not count as a try." in verdict.message
    hints = ex.EXERCISES[exercise]["hints"]
    assert not any(hint in verdict.message for hint in hints)  # no hint given away


# --- the forms a right answer may take ---------------------------------------------------

ACCEPTED = [
    ("03.1", 24),
    ("03.1", 24.0),
    ("03.1", np.int64(24)),
    ("03.1", np.float32(24.0)),
    ("03.1", torch.tensor(24)),
    ("03.1", torch.tensor([24.0])),
    ("03.1", "24"),
    ("03.1", " 24.0 "),
    ("04.1", "4,832"),
    ("04.1", "4 832"),
    ("04.1", "4_832"),
    ("01.2", torch.tensor(8.0)),
    ("03.3", (7, 10)),
    ("03.3", [7, 10]),
    ("03.3", torch.Size([7, 10])),
    ("03.3", torch.tensor([7, 10])),
    ("03.3", np.array([7, 10])),
    ("03.3", (7.0, 10)),
    ("03.3", "(7, 10)"),
    ("03.3", "[7, 10]"),
    ("03.3", "7, 10"),
    ("03.3", "7 x 10"),
    ("03.3", "7x10"),
    ("03.3", "7 × 10"),
    ("03.3", "torch.Size([7, 10])"),
    ("01.1", True),
    ("01.1", np.bool_(True)),
    ("01.1", torch.tensor(True)),
    ("01.1", "True"),
    ("01.1", "true"),
    ("01.1", " TRUE "),
    ("01.3", torch.Tensor),
    ("01.3", type(Variable(torch.zeros(2)))),
    ("01.3", "Tensor"),
    ("01.3", "torch.Tensor"),
    ("01.3", " torch.Tensor "),
    ("01.3", "<class 'torch.Tensor'>"),  # what print(type(...)) shows
    ("01.3", "the Tensor"),
    ("05.3", "fc1"),
    ("05.3", "FC1"),  # a layer's name in any case, as the code names it, or with a word more
    ("05.3", "net.fc1"),
    ("05.3", "self.fc1"),
    ("05.3", "the fc1 layer"),
    ("06.3", "Smallest"),
    ("06.3", "the smallest distance"),
    ("06.3", "the minimum"),  # the same answer in other words (exercises.toml: also)
    ("06.3", "nearest"),
    ("06.3", "the nearest centre"),  # the words of its own hint
    ("06.3", "smallest?"),
    ("04.1", "4,832"),
    ("05.3", "(fc1)"),  # as print(net) shows it
    ("05.3", "fc1:"),
    ("01.3", "torch.Tensor."),
]
REFUSED = [  # readable, and wrong: a try, with a hint
    ("03.1", 24.5),
    ("03.1", "25"),
    ("03.3", (7, 10, 1)),
    ("03.3", "(10, 7)"),
    ("03.3", "7 x 10 x 1"),
    ("01.1", "false"),
    ("01.3", "tensor"),
    ("01.3", "torch.tensor"),
    ("01.3", torch.tensor),
    ("01.3", "TENSOR"),
    ("05.3", "conv1"),
    ("05.3", "net.fc2"),
    ("06.3", "largest"),
    ("06.3", "smallest or largest"),  # a hedge is not an answer
    ("06.3", "maximum"),
    ("05.3", "fc1 or fc2 or fc3"),
    ("01.3", "Tensor or Variable"),
]
UNREADABLE = [  # not the kind of answer asked for: told how to write one, no try used
    ("03.1", True),
    ("03.1", "24 pixels"),
    ("03.1", [24]),
    ("03.3", (7.5, 10)),
    ("03.3", "seven by ten"),
    ("03.3", 70),
    ("01.1", 1),
    ("01.1", "yes"),
    ("05.3", LeNet().fc1),
    ("03.1", "2,4"),  # not thousands: 24 or 2.4? asked again, not guessed
    ("07.2", "0,235"),  # a decimal comma, not 235 with its thousands marked
    ("03.1", "2 4"),
    ("04.1", "48_32"),
    ("06.3", 0),
]


@pytest.mark.parametrize("exercise, answer", ACCEPTED, ids=repr)
def test_answers_in_every_reasonable_form_are_accepted(exercise, answer):
    assert ex.grade(exercise, answer).status == "correct"


@pytest.mark.parametrize("exercise, answer", REFUSED, ids=repr)
def test_near_misses_are_refused(exercise, answer):
    assert ex.grade(exercise, answer).status == "wrong"


@pytest.mark.parametrize("exercise, answer", UNREADABLE, ids=repr)
def test_answers_that_cannot_be_read_as_the_kind_asked_for_cost_no_try(exercise, answer):
    assert ex.grade(exercise, answer).status == "unreadable"


def test_check_counts_wrong_tries_but_not_unreadable_ones(capsys, monkeypatch):
    monkeypatch.setattr(ex, "_wrong_tries", {})
    for answer in ("seven by ten", "seven by ten", (7, 11)):
        ex.check("03.3", answer)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == ex.grade("03.3", (7, 11), tries=0).message  # the first hint only


# --- check, and where the truths come from ------------------------------------------------


def test_check_prints_the_verdict_and_escalates_hints(capsys, monkeypatch):
    monkeypatch.setattr(ex, "_wrong_tries", {})
    for answer in (None, 48_120, 48_120, 48_000):
        ex.check("04.2", answer)
    lines = capsys.readouterr().out.splitlines()
    expected = [ex.grade("04.2", None), ex.grade("04.2", 48_120)]
    expected += [ex.grade("04.2", 48_120, tries=1), ex.grade("04.2", 48_000)]
    assert lines == [v.message for v in expected]
    assert [v.status for v in expected] == ["unanswered", "wrong", "wrong", "correct"]


def test_unknown_exercise_names_the_known_ones():
    with pytest.raises(KeyError, match="no exercise '09.9'; the exercises are 01.1"):
        ex.grade("09.9", 1)


def test_truths_come_from_pytorch_not_constants(monkeypatch):
    """Change what PyTorch reports and the truth follows: the checks hold no stored numbers."""
    original = nn.Module.parameters

    def one_parameter_fewer(self, recurse=True):
        return iter(list(original(self, recurse))[:-1])

    monkeypatch.setattr(nn.Module, "parameters", one_parameter_fewer)
    assert answers.e04_1() == (6 * 25 + 1) * 32 - 32  # the bias is gone


def test_every_exercise_has_an_answer_function_and_two_hints():
    for exercise, task in ex.EXERCISES.items():
        assert callable(getattr(answers, "e" + exercise.replace(".", "_")))
        assert len(task["hints"]) == 2 and task["kind"] in {
            "number",
            "shape",
            "bool",
            "name",
            "code",
        }


# --- the notebooks ------------------------------------------------------------------------


def test_every_notebook_checks_its_own_exercises_and_leaves_them_empty():
    for path in sorted(nbio.NOTEBOOKS.glob("0*.ipynb")):
        nb = nbio.read(path)
        calls = re.findall(r'check\("(\d\d\.\d)", answer\)', "\n".join(c.source for c in nb.cells))
        number = path.name[:2]
        assert sorted(calls) == [e for e in IDS if e.startswith(number + ".")], path.name
        if number in {"02", "03", "04", "05", "06"}:
            assert any(e in CODE_IDS for e in calls), f"{path.name}: no exercise asks for code"
        for cell in nb.cells:
            if cell.cell_type == "code" and "check(" in cell.source and "answer = " in cell.source:
                assert "answer = None" in cell.source, (
                    f"{path.name}: a stored exercise has an answer"
                )


def test_solutions_notebook_answers_every_exercise():
    nb = nbio.read(nbio.NOTEBOOKS / "solutions.ipynb")
    calls = re.findall(r'check\(\s*"(\d\d\.\d)"', "\n".join(c.source for c in nb.cells))
    assert sorted(calls) == IDS
    outputs = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert outputs.count(": correct") == len(IDS)


def test_check_forgets_wrong_tries_once_right(capsys, monkeypatch):
    monkeypatch.setattr(ex, "_wrong_tries", {})
    for answer in (1, 48_000, 1):
        ex.check("04.2", answer)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == ex.grade("04.2", 1).message  # the first hint again, not both


@pytest.mark.parametrize("answer", ["tensor", "torch.tensor", "TENSOR"])
def test_a_class_name_in_the_wrong_case_is_wrong_and_told_why(answer):
    verdict = ex.grade("01.3", answer)
    assert verdict.status == "wrong" and "Mind the case" in verdict.message
