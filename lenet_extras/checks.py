"""Checking the arguments of the companion's helpers (used by every public helper).

Each check refuses bad input in one sentence that names the argument, what was expected and
what was received, before the helper hands anything to PyTorch: a learner never reads
PyTorch's message about a call the helper made on their behalf. Each returns the checked value.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
import torch.nn as nn
from torch import Tensor
from torch.nn.parameter import is_lazy


def describe(value: Any) -> str:
    """A few words on what a value is: 'a torch.float64 tensor of shape (3, 4)', 'a list'."""
    if isinstance(value, Tensor):
        return f"a {value.dtype} tensor of shape {tuple(value.shape)}"
    if isinstance(value, type):
        return f"the class {value.__name__}"
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if type(value).__module__ == "numpy" and type(value).__name__ == "ndarray":
        return f"a NumPy array of shape {value.shape}"
    name = type(value).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def module(name: str, value: Any) -> nn.Module:
    """A model or layer: an nn.Module object (not its class), without uninitialised layers."""
    if not isinstance(value, nn.Module):
        hint = ""
        if isinstance(value, type) and issubclass(value, nn.Module):
            hint = f" (create one from it first, as in net = {value.__name__}(...))"
        raise TypeError(f"{name} must be a torch.nn.Module, got {describe(value)}{hint}")
    lazy = [n for n, p in value.named_parameters() if is_lazy(p)]
    if lazy:
        raise ValueError(
            f"{name} has lazy layers whose size is not known yet ({', '.join(lazy[:3])}): "
            "run it once on a real batch first"
        )
    return value


def integer(name: str, value: Any, *, at_least: int | None = None) -> int:
    """A whole number (Python's, NumPy's or a one-element integer tensor), not a bool."""
    number = None
    if not isinstance(value, bool) and hasattr(value, "__index__"):
        try:
            number = operator.index(value)
        except TypeError:
            number = None
    if number is None:
        raise TypeError(f"{name} must be a whole number (an int), got {describe(value)}")
    if at_least is not None and number < at_least:
        raise ValueError(f"{name} must be at least {at_least}, got {number}")
    return number


def flag(name: str, value: Any) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {describe(value)}")
    return value


def tensor(
    name: str,
    value: Any,
    *,
    dims: int | tuple[int, ...] | None = None,
    kind: str | None = None,
    nonempty: bool = False,
    batch: bool = False,
) -> Tensor:
    """A tensor, with ``dims`` dimensions (one number or several allowed), of a ``kind`` of
    dtype ("floating" or "integer"); with ``batch``, one whose first dimension counts items,
    and with ``nonempty``, at least one of them."""
    if not isinstance(value, Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {describe(value)}")
    allowed = (dims,) if isinstance(dims, int) else dims
    if allowed is not None and value.dim() not in allowed:
        wanted = " or ".join(str(d) for d in allowed)
        raise ValueError(
            f"{name} must have {wanted} dimensions, got shape {tuple(value.shape)} "
            f"({value.dim()} dimensions)"
        )
    if kind == "floating" and not value.is_floating_point():
        raise TypeError(
            f"{name} must hold floating-point values, got dtype {value.dtype} "
            "(convert it with .float(); images stored as bytes also need / 255)"
        )
    if kind == "integer" and (value.is_floating_point() or value.is_complex()):
        raise TypeError(
            f"{name} must hold whole numbers (an integer dtype such as torch.int64), got dtype "
            f"{value.dtype} (convert it with .long())"
        )
    if kind == "integer" and value.dtype == torch.bool:
        raise TypeError(f"{name} must hold whole numbers, got dtype torch.bool")
    if (batch or nonempty) and value.dim() == 0:
        raise ValueError(f"{name} must be a batch, with a first dimension, got a single number")
    if nonempty and len(value) == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}): there is nothing to use")
    return value


def class_indices(name: str, value: Any, count: int) -> Tensor:
    """One class index per item: an integer tensor of shape (count,), no negative entry."""
    tensor(name, value, kind="integer")
    if value.dim() == 2 and value.shape[1] == 1:
        raise ValueError(
            f"{name} must be one class index per image, shape ({count},); got shape "
            f"{tuple(value.shape)}: use {name}.squeeze(1)"
        )
    if value.dim() != 1 or len(value) != count:
        raise ValueError(
            f"{name} must be one class index per image, shape ({count},); got shape "
            f"{tuple(value.shape)}"
        )
    if count and int(value.min()) < 0:
        raise ValueError(f"{name} must be class indices 0, 1, 2, ...; it holds {int(value.min())}")
    return value


def same_device(model: nn.Module, name: str, value: Tensor) -> None:
    """The tensor is where the model's parameters are."""
    weight = next(model.parameters(), None)
    if weight is not None and weight.device != value.device:
        raise ValueError(
            f"{name} is on {value.device} but the model's parameters are on {weight.device}: "
            f"move it there with .to({str(weight.device)!r})"
        )


def optimizer_for(model: nn.Module, optimizer: Any) -> torch.optim.Optimizer:
    """An optimizer that holds at least one of the model's parameters."""
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(
            f"optimizer must be a torch.optim optimizer (such as torch.optim.SGD("
            f"model.parameters(), lr=0.01)), got {describe(optimizer)}"
        )
    held = {id(p) for group in optimizer.param_groups for p in group["params"]}
    if not any(id(p) in held for p in model.parameters()):
        raise ValueError(
            "optimizer holds none of the model's parameters, so training would change nothing: "
            "create the optimizer from this model's parameters, after the model"
        )
    return optimizer
