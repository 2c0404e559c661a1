"""Checking the exercises whose answer is code: here those answered by a function (03.5,
04.5, 05.5, 06.5) and what every check shares; those answered by a module (02.4, 05.6) are in
:mod:`lenet_extras.module_checks`.

Each checker takes the learner's answer and returns None when it is right, or what is wrong
with it in one sentence. A :class:`Form` sentence says the answer is not something that can
be checked at all (not a function, not a module): saying so costs the learner no try. Every
truth is computed by PyTorch, on cases beyond the ones a question names (so a function that
special-cases them is caught), and a learner's numbers are turned into plain Python ints
before they are compared (so an object that claims to equal anything is caught).
"""

from __future__ import annotations

import operator
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from lenet_extras.checks import describe
from lenet_helpers import LeNet, trace_shapes


class Form(str):
    """What makes an answer uncheckable (its form, not its content): costs no try."""


class Raised(str):
    """The error a learner's code raised, shown in one line."""

    def __repr__(self) -> str:
        return f"an error, {self}"


def call(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """The learner's function's result, or the error it raised."""
    try:
        return function(*args, **kwargs)
    except (Exception, SystemExit) as exc:  # the learner's code may fail in any way
        first = (str(exc).strip().splitlines() or [""])[0]
        return Raised(f"{type(exc).__name__}: {first}" if first else type(exc).__name__)


def _whole_valued(value: Any) -> bool:
    """A number that is whole but not an int: a float 28.0, a one-value tensor(28)."""
    try:
        number = value.item() if isinstance(value, torch.Tensor | np.ndarray) else value
        return not isinstance(number, bool) and float(number).is_integer()
    except Exception:  # not a single number
        return False


def whole(value: Any) -> int | None:
    """A whole number as a plain int (Python's, NumPy's), or None for anything else."""
    if (
        isinstance(value, bool)
        or isinstance(value, torch.Tensor)
        or not hasattr(value, "__index__")
    ):
        return None
    try:
        return operator.index(value)  # always a plain int, whatever the answer claims
    except Exception:  # a broken __index__
        return None


# --- 03.5: the size rule as a function


def _size_cases() -> list[tuple[int, int, int, int]]:
    """The question's cases, then others drawn afresh for each check from a wide range."""
    cases = [
        (32, 5, 1, 0),
        (28, 5, 1, 2),
        (15, 2, 2, 0),
        (14, 3, 2, 0),
        (10, 3, 3, 1),
        (7, 7, 1, 0),
    ]
    draw = random.Random()
    while len(cases) < 30:
        size, kernel = draw.randint(1, 64), draw.randint(1, 9)
        stride, padding = draw.randint(1, 5), draw.randint(0, 4)
        if size + 2 * padding >= kernel:
            cases.append((size, kernel, stride, padding))
    return cases


def e03_5(out_size: Any) -> str | None:
    """A function out_size(size, kernel, stride=1, padding=0) that follows nn.Conv2d."""
    if not callable(out_size) or isinstance(out_size, type):
        return Form(f"give the function itself (answer = out_size), got {describe(out_size)}")
    calls = [((size, k, s, p), {}) for size, k, s, p in _size_cases()]
    calls += [((32, 5), {}), ((28, 5), {"padding": 2}), ((15, 2), {"stride": 2})]
    for args, kwargs in calls:
        size, kernel = args[:2]
        stride = args[2] if len(args) > 2 else kwargs.get("stride", 1)
        padding = args[3] if len(args) > 3 else kwargs.get("padding", 0)
        conv = F.conv2d(torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel),
                        stride=stride, padding=padding)  # fmt: skip
        truth = conv.shape[-1]
        got = call(out_size, *args, **kwargs)
        named = [*map(str, args), *(f"{k}={v}" for k, v in kwargs.items())]
        shown = f"out_size({', '.join(named)})"
        if isinstance(got, Raised) and (kwargs or len(args) == 2):
            return f"{shown} raised {got}: name the arguments as the question does, with defaults"
        if whole(got) is None and not isinstance(got, Raised):
            if _whole_valued(got):
                how = "(// divides to one)" if isinstance(got, float) else "(.item() gives one)"
                return f"{shown} gave {got!r}: return a plain Python int {how}"
            return f"{shown} gave {got!r}, not a whole number: a size counts pixels (use //)"
        if whole(got) != truth:
            return f"{shown} gave {got!r}, PyTorch: {truth}"
    return None


# --- 04.5: counting the parameters of any model


def _models_to_count() -> list[tuple[str, nn.Module]]:
    tied = nn.Sequential(nn.Linear(6, 6), nn.ReLU(), nn.Linear(6, 6))
    tied[2].weight = tied[0].weight  # one tensor, two layers: counted once
    draw = random.Random()
    widths = [draw.randint(1, 40) for _ in range(draw.randint(2, 5))]
    chain = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(widths, widths[1:], strict=False)])
    frozen = nn.Linear(3, 2)
    frozen.weight.requires_grad_(False)  # still a parameter: counted, though not trained
    return [
        ("LeNet()", LeNet()),
        ("nn.Conv2d(3, 8, 3)", nn.Conv2d(3, 8, 3)),
        ("nn.Linear(3, 2) with its weight frozen", frozen),
        ("nn.Linear(5, 2, bias=False)", nn.Linear(5, 2, bias=False)),
        ("LeNet(input_size=28)", LeNet(input_size=28)),
        ("a model whose two layers share one weight", tied),
        ("nn.BatchNorm2d(4), whose running statistics are buffers", nn.BatchNorm2d(4)),
        (f"a chain of linear layers of widths {widths}", chain),
    ]


def e04_5(count: Any) -> str | None:
    """A function count(model) that gives every model's number of parameter values."""
    if not callable(count) or isinstance(count, type):
        return Form(f"give the function itself (answer = count), got {describe(count)}")
    for name, model in _models_to_count():
        truth = sum(p.numel() for p in nn.Module.parameters(model))
        got = call(count, model)
        if whole(got) is None and _whole_valued(got) and float(got) == truth:
            return f"count({name}) gave {got!r}: return a plain Python int, as numel() does"
        if whole(got) != truth:
            shared = " (a tensor two layers share counts once)" if "share" in name else ""
            return f"count({name}) gave {got!r}; its parameters hold {truth} values{shared}"
    return None


# --- 05.5: every leaf layer's output shape, by hooks


def _models_to_trace() -> list[tuple[nn.Module, torch.Tensor]]:
    relu = nn.ReLU()  # one module, called twice: a hook fires each time
    inner = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, stride=2), relu, nn.MaxPool2d(2))
    nested = nn.Sequential(inner, nn.Flatten(), nn.Linear(16, 10), relu)
    draw = random.Random()
    widths = [draw.randint(1, 30) for _ in range(draw.randint(2, 5))]
    chain = nn.Sequential(*[nn.Linear(a, b) for a, b in zip(widths, widths[1:], strict=False)])
    return [
        (LeNet(), torch.zeros(2, 1, 32, 32)),
        (nested, torch.zeros(1, 1, 9, 9)),
        (chain, torch.zeros(draw.randint(1, 4), widths[0])),
    ]


def e05_5(shapes_of: Any) -> str | None:
    """A function shapes_of(model, x) that records every leaf layer's output shape by hooks."""
    if not callable(shapes_of) or isinstance(shapes_of, type):
        return Form(f"give the function itself (answer = shapes_of), got {describe(shapes_of)}")
    for model, x in _models_to_trace():
        truth = [tuple(t.output_shape) for t in trace_shapes(model, x)]
        hooks_before = _hook_count(model)
        got = call(shapes_of, model, x)
        read = [_as_shape(s) for s in got] if isinstance(got, list | tuple) else None
        if read != truth:
            return f"for {type(model).__name__} it gave {got!r}, the leaf layers output {truth}"
        if _hook_count(model) != hooks_before:
            return "a hook is still registered after it returns: remove every handle"
    return None


def _as_shape(value: Any) -> tuple[int | None, ...] | None:
    if isinstance(value, str) or not hasattr(value, "__iter__"):
        return None
    try:
        return tuple(whole(v) for v in value)
    except Exception:  # an odd object whose iteration fails
        return None


def _hook_count(model: nn.Module) -> int:
    """Forward hooks registered on the model's modules (PyTorch keeps them in _forward_hooks)."""
    return sum(len(m._forward_hooks) for m in model.modules())


# --- 06.5: LeNet-5's radial basis output layer as a function


def e06_5(rbf: Any) -> str | None:
    """A function rbf(x, centres) that computes what LeNet-5's output layer computes."""
    from lenet_extras.lenet5 import RBFOutput

    if not callable(rbf) or isinstance(rbf, type):
        return Form(f"give the function itself (answer = rbf), got {describe(rbf)}")
    draw = random.Random()
    cases = [(1, 1998), (5, 7), (3, 0), (draw.randint(1, 9), draw.randint(1, 10_000))]
    for rows, seed in cases:  # each case: its own centres, so none can be built in
        layer = RBFOutput(seed=seed)
        x = torch.randn(rows, 84, generator=torch.Generator().manual_seed(seed + rows))
        truth = layer(x)
        got = call(rbf, x.clone(), layer.centres.clone())
        if isinstance(got, Raised):
            return f"for x of shape {tuple(x.shape)} it raised {got}"
        if not isinstance(got, torch.Tensor):
            return f"for x of shape {tuple(x.shape)} it gave {describe(got)}: return a tensor"
        if got.shape != truth.shape:
            given = tuple(got.shape)
            return (
                f"for x of shape {tuple(x.shape)} it gave shape {given}, not {tuple(truth.shape)}"
            )
        if not torch.allclose(got.detach().double(), truth.double(), rtol=1e-4, atol=1e-3):
            return f"for x of shape {tuple(x.shape)} its distances differ from the output layer's"
    return None
