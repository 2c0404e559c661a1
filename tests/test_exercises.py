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
from lenet_extras.lenet5 import RBFOutput
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
def test_unreadable_answers_are_wrong_not_errors(exercise, answer):
    assert ex.grade(exercise, answer).status == "wrong"


# --- the forms a right answer may take ---------------------------------------------------

ACCEPTED = [
    ("03.1", 24),
    ("03.1", 24.0),
    ("03.1", np.int64(24)),
    ("03.1", np.float32(24.0)),
    ("03.1", torch.tensor(24)),
    ("03.1", torch.tensor([24.0])),
    ("03.1", "24"),
    ("04.1", "4,832"),
    ("01.2", torch.tensor(8.0)),
    ("03.3", (7, 10)),
    ("03.3", [7, 10]),
    ("03.3", torch.Size([7, 10])),
    ("03.3", torch.tensor([7, 10])),
    ("03.3", np.array([7, 10])),
    ("03.3", (7.0, 10)),
    ("01.1", True),
    ("01.1", np.bool_(True)),
    ("01.1", torch.tensor(True)),
    ("01.1", "True"),
    ("01.3", torch.Tensor),
    ("01.3", type(Variable(torch.zeros(2)))),
    ("01.3", "Tensor"),
    ("01.3", "torch.Tensor"),
    ("01.3", " torch.Tensor "),
    ("05.3", "fc1"),
]
REFUSED = [
    ("03.1", 24.5),
    ("03.1", True),
    ("03.3", (7, 10, 1)),
    ("03.3", (7.5, 10)),
    ("03.3", "(7, 10)"),
    ("01.1", 1),
    ("01.1", "true"),
    ("01.3", "tensor"),
    ("01.3", "torch.tensor"),
    ("01.3", torch.tensor),
    ("01.3", "TENSOR"),
    ("05.3", "FC1"),
    ("05.3", "conv1"),
]


@pytest.mark.parametrize("exercise, answer", ACCEPTED, ids=repr)
def test_answers_in_every_reasonable_form_are_accepted(exercise, answer):
    assert ex.grade(exercise, answer).status == "correct"


@pytest.mark.parametrize("exercise, answer", REFUSED, ids=repr)
def test_near_misses_are_refused(exercise, answer):
    assert ex.grade(exercise, answer).status == "wrong"


# --- exercises whose answer is code -------------------------------------------------------


def lecture_sequential(relu_after_fc3: bool = False) -> nn.Sequential:
    layers = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU()]
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU()]
    layers += [nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu_after_fc3 else []))


class CountOnly(nn.Module):
    """61,706 parameters and the right output shape, but nothing computed from the input."""

    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(61706))

    def forward(self, x):
        return torch.zeros(x.shape[0], 10)


def shapes_by_hooks(model, x, remove=True):
    shapes = []
    leaves = [m for m in model.modules() if not list(m.children())]
    handles = [
        m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape))) for m in leaves
    ]
    model(x)
    for handle in handles if remove else []:
        handle.remove()
    return shapes


def shapes_on_children(model, x):
    """Hooks on the direct children only: wrong once a model nests modules."""
    shapes = []
    handles = [
        m.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape)))
        for m in model.children()
    ]
    model(x)
    for handle in handles:
        handle.remove()
    return shapes


RIGHT_CODE = {
    "02.4": lecture_sequential(),
    "03.5": lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) // stride + 1,
    "04.5": lambda model: sum(p.numel() for p in model.parameters()),
    "05.5": shapes_by_hooks,
    "05.6": LeNet(input_size=28, conv1_padding=2),
    "06.5": lambda x, centres: ((x.unsqueeze(1) - centres) ** 2).sum(-1),
}
WRONG_CODE = {
    "02.4": [lecture_sequential(relu_after_fc3=True), LeNet(), nn.Sequential(nn.ReLU())],
    "03.5": [
        lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) / stride + 1,
        lambda size, kernel, stride=1, padding=0: size - kernel + 1,
        lambda size, kernel: size - kernel + 1,
    ],
    "04.5": [
        lambda model: sum(w.size()[0] * w.size()[1] * w.size()[2] for w in model.parameters()),
        lambda model: 61706,
        lambda model: sum(p.numel() for p in model.parameters() if p.dim() > 1),
    ],
    "05.5": [
        lambda model, x: list(shapes_by_hooks(model, x, remove=False)),
        lambda model, x: shapes_on_children(model, x),
        lambda model, x: [tuple(model(x).shape)],
        lambda model, x: None,
    ],
    "05.6": [LeNet(), LeNet(input_size=28), nn.Linear(784, 10), CountOnly()],
    "06.5": [
        lambda x, centres: torch.cdist(x, centres),  # the distance, not its square
        lambda x, centres: ((x - centres[: len(x)]) ** 2).sum(-1),  # row i against centre i only
        lambda x, centres: RBFOutput()(x),  # a cheat: the layer's own centres, not the ones given
        lambda x, centres: ((x.unsqueeze(1) - centres) ** 2).sum(-1).T,
    ],
}


def test_every_code_exercise_has_cases():
    assert sorted(RIGHT_CODE) == sorted(WRONG_CODE) == CODE_IDS


@pytest.mark.parametrize("exercise", CODE_IDS)
def test_right_code_is_accepted(exercise):
    verdict = ex.grade(exercise, RIGHT_CODE[exercise])
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize("exercise", CODE_IDS)
def test_wrong_code_is_refused_with_what_went_wrong(exercise):
    for answer in WRONG_CODE[exercise]:
        verdict = ex.grade(exercise, answer)
        assert verdict.status == "wrong", answer
        assert "not yet: " in verdict.message and "Hint: " in verdict.message


def test_a_failing_function_is_reported_in_one_line():
    verdict = ex.grade("03.5", lambda *args: 1 / 0)
    assert "an error, ZeroDivisionError: division by zero" in verdict.message
    assert "\n" not in verdict.message


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


def test_a_nested_sequential_is_the_lecture_network_too():
    first = nn.Sequential(*list(lecture_sequential())[:3])
    nested = nn.Sequential(first, *list(lecture_sequential())[3:])
    assert ex.grade("02.4", nested).status == "correct"


def test_grading_leaves_the_learners_model_as_it_was():
    model = lecture_sequential()
    before = [p.detach().clone() for p in model.parameters()]
    ex.grade("02.4", model)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_an_answer_that_exits_is_reported_not_obeyed():
    import sys

    verdict = ex.grade("03.5", lambda *args: sys.exit(3))
    assert verdict.status == "wrong" and "SystemExit: 3" in verdict.message


def test_check_forgets_wrong_tries_once_right(capsys, monkeypatch):
    monkeypatch.setattr(ex, "_wrong_tries", {})
    for answer in (1, 48_000, 1):
        ex.check("04.2", answer)
    last = capsys.readouterr().out.splitlines()[-1]
    assert last == ex.grade("04.2", 1).message  # the first hint again, not both
