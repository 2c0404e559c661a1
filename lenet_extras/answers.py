"""The right answer to every exercise, each computed by PyTorch in a short named function.

A function named ``e01_2`` answers exercise 01.2. For the exercises whose answer is code,
the function takes the learner's answer and returns what is wrong with it, or None.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable
from typing import Any

import torch
import torch.nn as nn
from torch.autograd import Variable

from lenet_helpers import LeNet, count_parameters, trace_shapes

# --- 01 imports


def e01_1() -> bool:
    return (torch.zeros(3, requires_grad=True) * 2).requires_grad


def e01_2() -> float:
    x = torch.tensor(3.0, requires_grad=True)
    (x**2 + 2 * x).backward()
    return x.grad.item()


def e01_3() -> type:
    return type(Variable(torch.zeros(2)))


# --- 02 architecture


class _LeNetWithReluModule(LeNet):
    """The lecture's class with one ReLU module, created once and called four times."""

    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU()


def e02_1() -> int:
    return len(list(_LeNetWithReluModule().children()))


def e02_2() -> tuple[int, ...]:
    return _shape_after(nn.Conv2d(1, 1, kernel_size=(3, 7)), (1, 1, 20, 30))


def e02_3() -> int:
    chain = nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 32, 5), nn.MaxPool2d(2))
    return math.prod(_shape_after(chain, (1, 1, 32, 32))[1:])


def e02_4(model: Any) -> str | None:
    """The lecture's network as one nn.Sequential with ReLU and Flatten modules."""
    if not isinstance(model, nn.Sequential):
        return f"give an nn.Sequential, got {type(model).__name__}"
    kinds = [type(m) for m in model.modules() if next(m.children(), None) is None]
    if kinds.count(nn.ReLU) != 4 or nn.Flatten not in kinds:
        return "print() should list four nn.ReLU() modules and one nn.Flatten()"
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    return _same_function_as(model, LeNet(), x, x)


# --- 03 feed-forward


def e03_1() -> int:
    return _shape_after(nn.Conv2d(1, 6, 5), (1, 1, 28, 28))[-2]


def e03_2() -> int:
    return _shape_after(nn.MaxPool2d(kernel_size=3, stride=2), (1, 6, 14, 14))[-2]


def e03_3() -> tuple[int, ...]:
    return _shape_after(LeNet(), (7, 1, 32, 32))


def e03_4() -> int:
    """The padding for which a 5x5 convolution returns a 28x28 input at its own size."""
    sides = {p: _shape_after(nn.Conv2d(1, 1, 5, padding=p), (1, 1, 28, 28))[-1] for p in range(3)}
    return next(p for p, side in sides.items() if side == 28)


def e03_5(out_size: Any) -> str | None:
    """A function out_size(size, kernel, stride, padding) that follows nn.Conv2d."""
    if not callable(out_size):
        return f"give the function itself (answer = out_size), got {type(out_size).__name__}"
    for size, kernel, stride, padding in [(32, 5, 1, 0), (28, 5, 1, 2), (15, 2, 2, 0),
                                          (14, 3, 2, 0), (10, 3, 3, 1), (7, 7, 1, 0)]:  # fmt: skip
        layer = nn.Conv2d(1, 1, kernel, stride=stride, padding=padding)
        truth = _shape_after(layer, (1, 1, size, size))[-1]
        got = _call(out_size, size, kernel, stride, padding)
        if got != truth:
            return f"out_size({size}, {kernel}, {stride}, {padding}) gave {got!r}, PyTorch: {truth}"
    return None


# --- 04 trainable parameters


def e04_1() -> int:
    return count_parameters(nn.Conv2d(6, 32, kernel_size=5))


def e04_2() -> int:
    return count_parameters(nn.Linear(400, 120, bias=False))


def e04_3() -> int:
    return sum(p.numel() * p.element_size() for p in LeNet().double().parameters())


def e04_4() -> int:
    net = LeNet()
    net.conv1 = nn.Conv2d(3, 6, kernel_size=5)
    return count_parameters(net)


def e04_5(count: Any) -> str | None:
    """A function count(model) that gives every model's number of parameter values."""
    if not callable(count):
        return f"give the function itself (answer = count), got {type(count).__name__}"
    for model in (LeNet(), nn.Conv2d(3, 8, 3), nn.Linear(5, 2, bias=False), LeNet(input_size=28)):
        truth = sum(p.numel() for p in model.parameters())
        got = _call(count, model)
        if got != truth:
            return f"count({type(model).__name__}) gave {got!r}, numel() adds up to {truth}"
    return None


# --- 05 shapes and pitfalls


def e05_1() -> int:
    with torch.no_grad():
        return LeNet().features(torch.zeros(100, 1, 28, 28)).view(-1, 16 * 5 * 5).shape[0]


def e05_2() -> int:
    with torch.no_grad():
        return LeNet(input_size=36).features(torch.zeros(1, 1, 36, 36)).numel()


def e05_3() -> str:
    """The one layer whose settings depend on the image size, once the rest stays as it is."""
    net, digit = LeNet(), torch.zeros(1, 1, 28, 28)
    width = net.features(digit).numel()
    return next(n for n, m in net.named_children() if getattr(m, "in_features", width) != width)


def e05_4() -> int:
    return count_parameters(LeNet(input_size=36))


def e05_5(shapes_of: Any) -> str | None:
    """A function shapes_of(model, x) that records every leaf layer's output shape by hooks."""
    if not callable(shapes_of):
        return f"give the function itself (answer = shapes_of), got {type(shapes_of).__name__}"
    relu = nn.ReLU()  # one module, called twice: a hook fires each time
    inner = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, stride=2), relu, nn.MaxPool2d(2))
    nested = nn.Sequential(inner, nn.Flatten(), nn.Linear(16, 10), relu)
    for model, x in ((LeNet(), torch.zeros(2, 1, 32, 32)), (nested, torch.zeros(1, 1, 9, 9))):
        truth = [tuple(t.output_shape) for t in trace_shapes(model, x)]
        hooks_before = _hook_count(model)
        got = _call(shapes_of, model, x)
        if not isinstance(got, list | tuple) or [_call(tuple, s) for s in got] != truth:
            return f"for {type(model).__name__} it gave {got!r}, the leaf layers output {truth}"
        if _hook_count(model) != hooks_before:
            return "a hook is still registered after it returns: remove every handle"
    return None


def e05_6(model: Any) -> str | None:
    """A module that takes unpadded 28x28 digits and keeps the lecture's parameter count."""
    if not isinstance(model, nn.Module):
        return f"give an nn.Module, got {type(model).__name__}"
    trainable = count_parameters(model)
    if trainable != count_parameters(LeNet()):
        return f"it has {trainable:,} trainable parameters, the lecture's LeNet has 61,706"
    for batch in (3, 5):
        digits = torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(batch))
        from lenet_extras.lenet5 import pad_to_32

        problem = _same_function_as(model, LeNet(), digits, pad_to_32(digits))
        if problem:
            return problem
    return None


# --- 06 the LeNet-5 of 1998


def e06_1() -> int:
    from lenet_extras.lenet5 import LeNet5

    return count_parameters(LeNet5().s4)


def e06_2() -> int:
    return count_parameters(nn.Conv2d(6, 16, kernel_size=5))


def e06_3() -> str:
    """Which distance names the digit: give the output layer an input equal to one centre."""
    from lenet_extras.lenet5 import RBFOutput

    output = RBFOutput()
    distances = output(output.centres[3:4])[0]
    return "smallest" if distances.argmin().item() == 3 else "largest"


def e06_4() -> int:
    from lenet_extras.lenet5 import LeNet5

    net = LeNet5()
    net.s2, net.s4 = nn.MaxPool2d(2), nn.MaxPool2d(2)
    return count_parameters(net)


def e06_5(rbf: Any) -> str | None:
    """A function rbf(x, centres) that computes what LeNet-5's output layer computes."""
    from lenet_extras.lenet5 import RBFOutput

    if not callable(rbf):
        return f"give the function itself (answer = rbf), got {type(rbf).__name__}"
    generator = torch.Generator().manual_seed(6)
    for rows, seed in ((1, 1998), (5, 7), (3, 0)):
        layer = RBFOutput(seed=seed)
        x = torch.randn(rows, 84, generator=generator)
        truth = layer(x)
        got = _call(rbf, x.clone(), layer.centres.clone())
        if not isinstance(got, torch.Tensor) or got.shape != truth.shape:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            return f"for x of shape {tuple(x.shape)} it gave {shape}, expected {tuple(truth.shape)}"
        if not torch.allclose(got.double(), truth.double(), rtol=1e-4, atol=1e-3):
            return f"for x of shape {tuple(x.shape)} its distances differ from the output layer's"
    return None


# --- 07 training preview


def e07_1() -> int:
    from lenet_extras.mnist import load_mnist

    return round(0.015 * len(load_mnist("test")[1]))


def e07_2() -> int:
    from lenet_extras.mnist import MNIST_COUNTS

    return len(range(0, MNIST_COUNTS["train"], 256))


# --- shared pieces


def _shape_after(layer: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(layer(torch.zeros(shape)).shape)


class _Raised(str):
    """The error a learner's code raised, shown in one line."""

    def __repr__(self) -> str:
        return f"an error, {self}"


def _call(function: Callable[..., Any], *args: Any) -> Any:
    """The learner's function's result, or the error it raised."""
    try:
        return function(*args)
    except (Exception, SystemExit) as exc:  # the learner's code may fail in any way
        return _Raised(f"{type(exc).__name__}: {exc}")


def _same_function_as(model: nn.Module, reference: nn.Module, x: Any, x_ref: Any) -> str | None:
    """Give a copy of the model the reference's weights, in order, and compare the outputs."""
    model = copy.deepcopy(model)
    theirs, ours = list(model.parameters()), list(reference.parameters())
    if [p.shape for p in theirs] != [p.shape for p in ours]:
        return "its weights differ in shape from the lecture's: " + (
            f"{[tuple(p.shape) for p in theirs]} instead of {[tuple(p.shape) for p in ours]}"
        )
    with torch.no_grad():
        for mine, original in zip(theirs, ours, strict=True):
            mine.copy_(original)
        got, expected = _call(model, x), reference(x_ref)
    if isinstance(got, _Raised):
        return f"running it on a batch of shape {tuple(x.shape)} raised {got}"
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return f"a batch of shape {tuple(x.shape)} gave {shape}, expected {tuple(expected.shape)}"
    if not torch.allclose(got.float(), expected, atol=1e-5):
        return "with the lecture's weights it computes something else than the lecture's network"
    return None


def _hook_count(model: nn.Module) -> int:
    """Forward hooks registered on the model's modules (PyTorch keeps them in _forward_hooks)."""
    return sum(len(m._forward_hooks) for m in model.modules())
