"""The exercises whose answer is code: for each, a tested list of right answers (every way
the notebooks call reasonable), wrong ones, and at least one cheat, an answer written to pass
the checker rather than to answer the question."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from lenet_extras import exercises as ex
from lenet_extras.lenet5 import RBFOutput, pad_to_32
from lenet_helpers import LeNet, trace_shapes

CODE_IDS = sorted(e for e, task in ex.EXERCISES.items() if task["kind"] == "code")


def lecture_sequential(relu_after_fc3: bool = False) -> nn.Sequential:
    layers = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU()]
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU()]
    layers += [nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    return nn.Sequential(*layers, *([nn.ReLU()] if relu_after_fc3 else []))


def one_relu_four_times() -> nn.Sequential:
    """What print() shows is right: the same nn.ReLU() object listed at four places."""
    relu = nn.ReLU()
    layers = [nn.Conv2d(1, 6, 5), relu, nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), relu]
    layers += [nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), relu]
    return nn.Sequential(*layers, nn.Linear(120, 84), relu, nn.Linear(84, 10))


def nested_sequential() -> nn.Sequential:
    steps = list(lecture_sequential())
    return nn.Sequential(nn.Sequential(*steps[:3]), *steps[3:])


class SequentialCallingLeNet(nn.Sequential):
    """Cheat: print() lists the lecture's steps, but forward runs the helper's LeNet."""

    def __init__(self) -> None:
        super().__init__(*lecture_sequential())
        self.net = LeNet()

    def forward(self, x):
        return self.net(x)


def lenet_with_unused_relus() -> nn.Sequential:
    """Cheat: the helper's LeNet (which calls F.relu) given four nn.ReLU attributes it never
    calls, and a Flatten after it that changes nothing."""
    net = LeNet()
    for i in range(4):
        net.add_module(f"relu{i}", nn.ReLU())
    return nn.Sequential(net, nn.Flatten())


def size_rule(size, kernel, stride=1, padding=0):
    return (size + 2 * padding - kernel) // stride + 1


KNOWN_SIZES = {(32, 5, 1, 0): 28, (28, 5, 1, 2): 28, (15, 2, 2, 0): 7, (14, 3, 2, 0): 6}
KNOWN_SIZES |= {(10, 3, 3, 1): 4, (7, 7, 1, 0): 1}


def memorised_sizes(size, kernel, stride=1, padding=0):
    """Cheat: the question's cases looked up, anything else guessed."""
    return KNOWN_SIZES.get((size, kernel, stride, padding), size - kernel + 1)


class AlwaysEqual(int):
    """Cheat: a number that claims to equal whatever it is compared with."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def memorised_counts(model):
    """Cheat: the counts of the models a checker is likely to try, by their printout."""
    return {"LeNet": 61_706, "Conv2d": 224, "Linear": 10}.get(type(model).__name__, 0)


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


def memorised_shapes(model, x):
    """Cheat: the shapes of the question's two models, by their class and batch size."""
    if isinstance(model, LeNet):
        return [
            (2, 6, 28, 28),
            (2, 6, 14, 14),
            (2, 16, 10, 10),
            (2, 16, 5, 5),
            (2, 120),
            (2, 84),
            (2, 10),
        ]
    return [(1, 4, 5, 5), (1, 4, 5, 5), (1, 4, 2, 2), (1, 16), (1, 10), (1, 10)]


class Padded(nn.Module):
    """Pads each digit to 32x32 inside the module, then the lecture's network."""

    def __init__(self) -> None:
        super().__init__()
        self.net = LeNet()

    def forward(self, x):
        return self.net(pad_to_32(x))


class Resized(nn.Module):
    """Resizes each digit to 32x32 (notebook 05 calls it reasonable), then the lecture's net."""

    def __init__(self) -> None:
        super().__init__()
        self.net = LeNet()

    def forward(self, x):
        return self.net(F.interpolate(x, size=(32, 32), mode="bilinear", align_corners=False))


class DefinedInAnotherOrder(nn.Module):
    """conv1 padded by 2, with the layers defined in __init__ from the last to the first."""

    def __init__(self) -> None:
        super().__init__()
        self.fc3, self.fc2, self.fc1 = nn.Linear(84, 10), nn.Linear(120, 84), nn.Linear(400, 120)
        self.conv2, self.conv1 = nn.Conv2d(6, 16, 5), nn.Conv2d(1, 6, 5, padding=2)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.flatten(F.max_pool2d(F.relu(self.conv2(x)), 2), 1)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class CountOnly(nn.Module):
    """61,706 parameters and the right output shape, but nothing computed from the input."""

    def __init__(self):
        super().__init__()
        self.weights = nn.Parameter(torch.zeros(61706))

    def forward(self, x):
        return torch.zeros(x.shape[0], 10)


class FakedCount(nn.Module):
    """Cheat: reports the lecture's parameters from parameters(), holds none, and returns
    scores that ignore the digit."""

    def parameters(self, recurse=True):
        return LeNet().parameters()

    def forward(self, x):
        return torch.zeros(x.shape[0], 10)


class TopUp(nn.Module):
    """Cheat: the smaller network for 28x28 digits, plus an unused tensor that tops its count
    up to 61,706."""

    def __init__(self) -> None:
        super().__init__()
        self.net = LeNet(input_size=28)
        self.spare = nn.Parameter(
            torch.zeros(61_706 - sum(p.numel() for p in self.net.parameters()))
        )

    def forward(self, x):
        return self.net(x)


class CallsAnotherLeNet(nn.Module):
    """Cheat: holds the lecture's parameters, but computes with a LeNet made on the spot."""

    def __init__(self) -> None:
        super().__init__()
        self.net = LeNet()

    def forward(self, x):
        return LeNet()(pad_to_32(x))


class BatchMean(nn.Module):
    """Right sizes, but each digit's scores depend on the other digits of its batch."""

    def __init__(self) -> None:
        super().__init__()
        self.net = LeNet(input_size=28, conv1_padding=2)

    def forward(self, x):
        return self.net(x - x.mean(0, keepdim=True))


RIGHT = {
    "02.4": [lecture_sequential(), one_relu_four_times(), nested_sequential()],
    "03.5": [
        size_rule,
        lambda size, kernel, stride=1, padding=0: (size - kernel + 2 * padding) // stride + 1,
    ],
    "04.5": [lambda model: sum(p.numel() for p in model.parameters())],
    "05.5": [
        shapes_by_hooks,
        lambda model, x: [tuple(t.output_shape) for t in trace_shapes(model, x)],
    ],
    "05.6": [LeNet(input_size=28, conv1_padding=2), Padded(), Resized(), DefinedInAnotherOrder()],
    "06.5": [
        lambda x, centres: (x**2).sum(1, keepdim=True) - 2 * x @ centres.T + (centres**2).sum(1),
        lambda x, centres: ((x.unsqueeze(1) - centres) ** 2).sum(-1),
        lambda x, centres: torch.cdist(x, centres) ** 2,
    ],
}
WRONG = {
    "02.4": [lecture_sequential(relu_after_fc3=True), nn.Sequential(nn.ReLU())],
    "03.5": [
        lambda size, kernel, stride=1, padding=0: size - kernel + 1,
        lambda size, kernel, stride, padding: (size + 2 * padding - kernel) // stride + 1,
        lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) / stride + 1,
    ],
    "04.5": [
        lambda model: sum(w.size()[0] * w.size()[1] * w.size()[2] for w in model.parameters()),
        lambda model: sum(p.numel() for p in model.parameters() if p.dim() > 1),
        lambda model: float(sum(p.numel() for p in model.parameters())),
        lambda model: sum(p.numel() for m in model.modules() for p in m.parameters(recurse=False)),
    ],
    "05.5": [
        lambda model, x: list(shapes_by_hooks(model, x, remove=False)),
        shapes_on_children,
        lambda model, x: [tuple(model(x).shape)],
        lambda model, x: None,
    ],
    "05.6": [LeNet(input_size=28), nn.Linear(784, 10), CountOnly(), BatchMean()],
    "06.5": [
        lambda x, centres: torch.cdist(x, centres),  # the distance, not its square
        lambda x, centres: ((x - centres[: len(x)]) ** 2).sum(-1),  # row i against centre i
        lambda x, centres: ((x.unsqueeze(1) - centres) ** 2).sum(-1).T,
    ],
}
CHEATS = {
    "02.4": [SequentialCallingLeNet(), lenet_with_unused_relus()],
    "03.5": [memorised_sizes, lambda *args, **kwargs: AlwaysEqual(0)],
    "04.5": [lambda model: AlwaysEqual(0), memorised_counts, lambda model: 61_706],
    "05.5": [memorised_shapes],
    "05.6": [FakedCount(), TopUp(), CallsAnotherLeNet()],
    "06.5": [lambda x, centres: RBFOutput()(x)],  # the layer's own centres, not the ones given
}
NOT_CHECKABLE = {  # told what to give, no try used
    "02.4": [LeNet(), "nn.Sequential(...)"],
    "03.5": [28, "out_size"],
    "04.5": [61_706],
    "05.5": [[(2, 10)]],
    "05.6": [LeNet, "LeNet(input_size=28, conv1_padding=2)"],
    "06.5": [RBFOutput, "rbf"],
}


def test_every_code_exercise_has_right_wrong_and_cheating_answers():
    assert sorted(RIGHT) == sorted(WRONG) == sorted(CHEATS) == sorted(NOT_CHECKABLE) == CODE_IDS
    assert all(RIGHT[e] and WRONG[e] and CHEATS[e] for e in CODE_IDS)


def answers_of(table):
    return [(e, i, answer) for e in CODE_IDS for i, answer in enumerate(table[e])]


@pytest.mark.parametrize("exercise, i, answer", answers_of(RIGHT), ids=lambda v: str(v)[:20])
def test_right_code_is_accepted(exercise, i, answer):
    verdict = ex.grade(exercise, answer)
    assert verdict.status == "correct", verdict.message


@pytest.mark.parametrize(
    "exercise, i, answer", answers_of(WRONG) + answers_of(CHEATS), ids=lambda v: str(v)[:20]
)
def test_wrong_and_cheating_code_is_refused_with_what_went_wrong(exercise, i, answer):
    verdict = ex.grade(exercise, answer)
    assert verdict.status == "wrong", verdict.message
    assert "not yet: " in verdict.message and "Hint: " in verdict.message
    assert "\n" not in verdict.message


@pytest.mark.parametrize(
    "exercise, i, answer", answers_of(NOT_CHECKABLE), ids=lambda v: str(v)[:20]
)
def test_an_answer_that_cannot_be_checked_says_what_to_give_without_a_try(exercise, i, answer):
    verdict = ex.grade(exercise, answer)
    assert verdict.status == "unreadable", verdict.message
    assert verdict.message.endswith("This does not count as a try.")


def test_the_cheats_would_pass_a_checker_that_trusted_them():
    """Each cheat gets past what a naive check looks at: that is what makes it one."""
    assert AlwaysEqual(0) == 61_706 and not AlwaysEqual(0) != 28
    assert sum(p.numel() for p in FakedCount().parameters()) == 61_706
    assert sum(p.numel() for p in TopUp().parameters()) == 61_706
    assert TopUp()(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert all(memorised_sizes(*case) == size for case, size in KNOWN_SIZES.items())
    shapes = memorised_shapes(LeNet(), torch.zeros(2, 1, 32, 32))
    assert shapes == [
        tuple(t.output_shape) for t in trace_shapes(LeNet(), torch.zeros(2, 1, 32, 32))
    ]
    printed = [type(m) for m in lenet_with_unused_relus().modules() if not list(m.children())]
    assert printed.count(nn.ReLU) == 4 and nn.Flatten in printed
    x = torch.randn(3, 1, 32, 32)
    cheat = lenet_with_unused_relus()
    with torch.no_grad():
        assert torch.equal(cheat(x), cheat[0](x))  # LeNet's own output


def test_a_failing_function_is_reported_in_one_line():
    verdict = ex.grade("03.5", lambda *args: 1 / 0)
    assert "an error, ZeroDivisionError: division by zero" in verdict.message
    assert "\n" not in verdict.message


def test_an_answer_that_exits_is_reported_not_obeyed():
    verdict = ex.grade("03.5", lambda *args: sys.exit(3))
    assert verdict.status == "wrong" and "SystemExit: 3" in verdict.message


def test_grading_leaves_the_learners_model_as_it_was():
    for exercise, model in (("02.4", lecture_sequential()), ("05.6", DefinedInAnotherOrder())):
        before = [p.detach().clone() for p in model.parameters()]
        ex.grade(exercise, model)
        assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
        assert all(p.grad is None for p in model.parameters())


WHAT_WENT_WRONG = [  # a message that names the real mistake, not a misleading one
    ("04.5", lambda model: torch.tensor(sum(p.numel() for p in model.parameters())),
     "return a plain Python int"),
    ("04.5", lambda model: sum(v.numel() for v in model.state_dict().values()),
     "a tensor two layers share counts once"),
    ("03.5", lambda size, kernel, stride=1, padding=0: torch.tensor(
        (size + 2 * padding - kernel) // stride + 1), "return a plain Python int"),
    ("03.5", lambda size, kernel, stride=1, padding=0: (size + 2 * padding - kernel) / stride + 1,
     "return a plain Python int (// divides to one)"),
    ("06.5", lambda x, centres: ((x.unsqueeze(1) - centres) ** 2).sum(-1).numpy(),
     "it gave a NumPy array of shape (1, 10): return a tensor"),
    ("03.5", lambda size, kernel, stride=1, padding=0: np.array([
        (size + 2 * padding - kernel) // stride + 1]), "return a plain Python int (.item()"),
    ("04.5", lambda model: sum(p.numel() for p in model.parameters() if p.requires_grad),
     "with its weight frozen"),
]  # fmt: skip


@pytest.mark.parametrize("exercise, answer, said", WHAT_WENT_WRONG, ids=lambda v: str(v)[:20])
def test_a_wrong_answer_is_told_what_is_wrong_with_it(exercise, answer, said):
    verdict = ex.grade(exercise, answer)
    assert verdict.status == "wrong" and said in verdict.message, verdict.message
