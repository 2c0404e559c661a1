"""The self-checking exercises: right, wrong and empty answers, with truths from PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import lenet_helpers as lh
from tools import nbio

IDS = sorted(lh.EXERCISES)


def wrong_answer(truth):
    if isinstance(truth, bool):
        return not truth
    if isinstance(truth, str):
        return truth + "x"
    if isinstance(truth, tuple):
        return (*truth[:-1], truth[-1] + 1)
    return truth + 1


@pytest.mark.parametrize("exercise", IDS)
def test_right_answer_is_correct(exercise):
    truth = lh.EXERCISES[exercise].truth()
    verdict = lh.grade(exercise, truth)
    assert verdict.status == "correct", verdict.message
    assert verdict.message.startswith(f"{exercise}: correct")


@pytest.mark.parametrize("exercise", IDS)
def test_wrong_answer_gets_a_hint(exercise):
    task = lh.EXERCISES[exercise]
    verdict = lh.grade(exercise, wrong_answer(task.truth()))
    assert verdict.status == "wrong"
    assert "not quite" in verdict.message and task.hint in verdict.message


@pytest.mark.parametrize("exercise", IDS)
@pytest.mark.parametrize("empty", [None, "", "   ", ...])
def test_empty_answer_is_not_answered_yet(exercise, empty):
    verdict = lh.grade(exercise, empty)
    assert verdict.status == "unanswered"
    assert "not answered yet" in verdict.message
    assert lh.EXERCISES[exercise].question in verdict.message


@pytest.mark.parametrize("answer", ["abc", [1, 2], {"a": 1}, object(), float("nan")])
def test_unreadable_answers_are_wrong_not_errors(answer):
    for exercise in IDS:
        assert lh.grade(exercise, answer).status in {"wrong", "correct"}


def test_answers_in_other_natural_forms_are_accepted():
    assert lh.grade("03.1", np.int64(24)).status == "correct"
    assert lh.grade("03.1", torch.tensor(24)).status == "correct"
    assert lh.grade("03.1", "24").status == "correct"
    assert lh.grade("03.1", 24.0).status == "correct"
    assert lh.grade("03.3", torch.Size([7, 10])).status == "correct"
    assert lh.grade("03.3", [7, 10]).status == "correct"
    assert lh.grade("01.1", "False").status == "correct"
    assert lh.grade("05.3", " FC1 ").status == "correct"
    assert lh.grade("01.2", torch.tensor(8.0)).status == "correct"


def test_check_prints_the_verdict(capsys):
    lh.check("04.2", None)
    lh.check("04.2", 48_000)
    lh.check("04.2", 48_120)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[1].split(".")[0].strip() for line in lines] == [
        "not answered yet",
        "correct, 48000",
        "not quite (48120)",
    ]


def test_unknown_exercise_names_the_known_ones():
    with pytest.raises(KeyError, match="no exercise '09.9'; the exercises are 01.1"):
        lh.grade("09.9", 1)


def test_truths_come_from_pytorch_not_constants():
    """Change what PyTorch reports and the truth follows: the checks hold no stored numbers."""
    original = torch.nn.Module.parameters

    def one_parameter_fewer(self, recurse=True):
        params = list(original(self, recurse))
        return iter(params[:-1])

    torch.nn.Module.parameters = one_parameter_fewer
    try:
        assert lh.EXERCISES["04.1"].truth() == (6 * 25 + 1) * 32 - 32  # the bias is gone
    finally:
        torch.nn.Module.parameters = original


def test_every_notebook_checks_its_own_exercises_and_leaves_them_empty():
    for path in sorted(nbio.NOTEBOOKS.glob("0*.ipynb")):
        nb = nbio.read(path)
        calls = re.findall(r'check\("(\d\d\.\d)", answer\)', "\n".join(c.source for c in nb.cells))
        number = path.name[:2]
        expected = sorted(e for e in lh.EXERCISES if e.startswith(number + "."))
        assert sorted(calls) == expected, path.name
        assert 2 <= len(calls) <= 4, path.name
        for cell in nb.cells:
            if cell.cell_type == "code" and "check(" in cell.source and "answer = " in cell.source:
                assert "answer = None" in cell.source, (
                    f"{path.name}: a stored exercise has an answer"
                )


def test_solutions_notebook_answers_every_exercise():
    nb = nbio.read(nbio.NOTEBOOKS / "solutions.ipynb")
    calls = re.findall(r'check\(\s*"(\d\d\.\d)"', "\n".join(c.source for c in nb.cells))
    assert sorted(calls) == IDS
