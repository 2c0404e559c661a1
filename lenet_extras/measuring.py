"""Running a learner's model to measure it, and leaving it exactly as it was.

Every helper that runs a model for a table, a figure or a prediction does it inside
:func:`untouched`: in eval mode, without gradients, with torch's random state kept, and with
every submodule's mode, every parameter and every buffer put back afterwards. So a BatchNorm
layer's running statistics, a dropout layer's random draws and the learner's train/eval
setting are the same after the helper as before it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
import torch.nn as nn
from torch import Tensor


@contextlib.contextmanager
def untouched(model: nn.Module) -> Iterator[nn.Module]:
    """Run ``model`` inside this block in eval mode and without gradients; afterwards every
    submodule's mode, every parameter and buffer (object and values) and torch's random
    state are what they were before, also when the block raises."""
    modes = [(m, m.training) for m in model.modules()]
    saved = [
        (owner, store, name, t, t._version, t.detach().clone())
        for owner in model.modules()
        for store in (owner._parameters, owner._buffers)
        for name, t in store.items()
        if t is not None
    ]
    cuda = sorted({t.device.index or 0 for *_, t, _, _ in saved if t.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda), torch.no_grad():
        try:
            for m, _ in modes:
                m.training = False  # not m.eval(): a model's own train() may do more than this
            yield model
        finally:
            for m, mode in modes:
                m.training = mode
            for _owner, store, name, original, version, values in saved:
                store[name] = original
                if original._version != version:
                    original.copy_(values)


def leaves(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every module without children, each once (a shared one under its
    first name); a model without children is its own leaf, named after its class."""
    found = [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]
    return [(n or type(m).__name__, m) for n, m in found]


def tensors_in(value: Any) -> list[Tensor]:
    """Every tensor in a layer's output or inputs, in order: a tensor, or tuples, lists and
    dicts of them (an LSTM's (output, (h, c)), max pooling's (values, indices))."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list | tuple):
        return [t for item in value for t in tensors_in(item)]
    return []
