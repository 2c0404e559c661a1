"""Checking the exercises whose answer is a module: 02.4 (the lecture's network as one
nn.Sequential) and 05.6 (a network for unpadded 28x28 digits with the lecture's parameters).

As in :mod:`lenet_extras.code_checks`: None when right, else one sentence on what is wrong;
a :class:`~lenet_extras.code_checks.Form` sentence costs no try. The learner's module is
copied before it is run, so checking never changes it.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
import torch.nn as nn

from lenet_extras.checks import describe
from lenet_extras.code_checks import Form, Raised, call
from lenet_helpers import LeNet

# --- 02.4: the lecture's network as one nn.Sequential

LECTURE_STEPS = [nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Conv2d, nn.ReLU, nn.MaxPool2d, nn.Flatten]
LECTURE_STEPS += [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]


def _listed(module: nn.Module) -> list[nn.Module]:
    """The modules print() shows without children, in its order, a reused one each time."""
    found = []
    for child in module._modules.values():
        if child is not None:
            found += _listed(child) if child._modules else [child]
    return found


def _called(model: nn.Module, x: torch.Tensor) -> list[nn.Module] | Raised:
    """The modules without children that a forward pass calls, in order, each time."""
    calls: list[nn.Module] = []
    hooks = [
        m.register_forward_hook(lambda m, i, o: calls.append(m))
        for m in model.modules()
        if not m._modules
    ]
    try:
        with torch.no_grad():
            raised = call(model, x)
    finally:
        for hook in hooks:
            hook.remove()
    return raised if isinstance(raised, Raised) else calls


def e02_4(model: Any) -> str | None:
    """The lecture's network as one nn.Sequential with ReLU and Flatten modules."""
    if not isinstance(model, nn.Sequential):
        return Form(f"give an nn.Sequential, got {describe(model)}")
    if type(model).forward is not nn.Sequential.forward:
        return "its class replaces nn.Sequential's forward, so print() need not show what runs"
    model = copy.deepcopy(model)
    listed = _listed(model)
    kinds = [type(m) for m in listed]
    if kinds.count(nn.ReLU) != 4 or kinds.count(nn.Flatten) != 1:
        return "print() should list four nn.ReLU() modules and one nn.Flatten()"
    x = torch.randn(3, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    called = _called(model, x)
    if isinstance(called, Raised):
        return f"running it on a batch of shape {tuple(x.shape)} raised {called}"
    if [id(m) for m in called] != [id(m) for m in listed]:
        names = ", ".join(type(m).__name__ for m in called)
        return f"print() lists {len(listed)} steps, but a forward pass runs these: {names}"
    if [type(m) for m in called] != LECTURE_STEPS:
        return "its steps are not the lecture's, in the order forward runs them"
    return _same_function_as(model, LeNet(), x)


def _same_function_as(model: nn.Module, reference: nn.Module, x: torch.Tensor) -> str | None:
    """Give the model the reference's weights (matched by shape) and compare the outputs."""
    theirs, ours = list(nn.Module.parameters(model)), list(reference.parameters())
    if sorted(p.shape for p in theirs) != sorted(p.shape for p in ours):
        return f"its weights differ in shape from the lecture's: {_shapes(theirs)}"
    by_shape = {p.shape: p for p in ours}  # the lecture's shapes are all different
    with torch.no_grad():
        for p in theirs:
            p.copy_(by_shape[p.shape])
        got, expected = call(model.eval(), x), reference(x)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else describe(got)
        return f"a batch of shape {tuple(x.shape)} gave {shape}, expected {tuple(expected.shape)}"
    if not torch.allclose(got.float(), expected, atol=1e-5):
        return "with the lecture's weights it computes something else than the lecture's network"
    return None


def _shapes(params: list[torch.Tensor]) -> str:
    return ", ".join("×".join(map(str, p.shape)) for p in params) or "no parameters"


def _digits(batch: int, seed: int) -> torch.Tensor:
    return torch.randn(batch, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


# --- 05.6: unpadded 28x28 digits, the lecture's parameters


def e05_6(model: Any) -> str | None:
    """A module that takes unpadded 28x28 digits, gives 10 scores per digit, and has exactly
    the lecture's parameters (every one of them used): any of notebook 05's ways is right."""
    if not isinstance(model, nn.Module):
        hint = ": create one from it first" if isinstance(model, type) else ""
        return Form(f"give an nn.Module, got {describe(model)}{hint}")
    own = list(nn.Module.named_parameters(model))  # not model.parameters(): it may be replaced
    trainable = sum(p.numel() for _, p in own if p.requires_grad)
    if trainable != 61_706:
        return f"it has {trainable:,} trainable parameters, the lecture's LeNet has 61,706"
    lecture = list(LeNet().parameters())
    if sorted(p.shape for _, p in own) != sorted(p.shape for p in lecture):
        return f"its parameters are not the lecture's layers: {_shapes([p for _, p in own])}"
    model = call(copy.deepcopy, model)
    if isinstance(model, Raised):
        return Form(f"it cannot be copied for checking: {model}")
    digits = _digits(5, seed=28)
    scores = {}
    for batch in (digits, digits[:1], digits[1:4]):
        got = call(model.eval(), batch)
        expected = (len(batch), 10)
        if not isinstance(got, torch.Tensor) or tuple(got.shape) != expected:
            shape = tuple(got.shape) if isinstance(got, torch.Tensor) else repr(got)
            given = tuple(batch.shape)
            return f"a batch of unpadded digits of shape {given} gave {shape}, expected {expected}"
        scores[len(batch)] = got
    alone = torch.cat([scores[1], scores[3]])
    if not torch.allclose(alone, scores[5][:4], atol=1e-5):
        return "a digit's scores change with the other digits in its batch"
    if torch.allclose(scores[5][0], scores[5][1]):
        return "two different digits get the same scores: the scores must come from the digit"
    scores[5].float().sum().backward()
    unused = [n for n, p in nn.Module.named_parameters(model) if p.grad is None or not p.grad.any()]
    if unused:
        return f"its parameter {unused[0]} takes no part in the scores: every parameter must"
    return None
