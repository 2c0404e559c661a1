"""Your own model, layer by layer: output shapes and parameter counts that add up (03).

``model_sizes`` runs a model once on zeros and lists every call of a leaf layer, as
torchinfo's summary does, with the same totals: a layer called several times is counted
once, parameters that no called layer holds get rows of their own, a layer that returns
several tensors shows each shape, and a trainable count stands beside the total.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn as nn

from lenet_extras import checks
from lenet_extras.measuring import leaves
from lenet_helpers import LayerTrace, Table, call_labels, trace_shapes

__all__ = ["SizeTable", "model_sizes", "trace_example"]


class SizeTable(Table):
    """A :class:`Table` with the flatten width fc1 needs, the total, and one note per remark."""

    def __init__(self, columns, rows, *, flatten=None, total=None, notes=()) -> None:
        super().__init__(columns, rows, notes=notes)
        self.flatten: int | None = flatten
        self.total: int | None = total


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape) if len(shape) else "scalar"


LARGEST_EXAMPLE = 2**24  # values in one example: 64 MB of float32 zeros, run in a moment


def example_shape(input_shape: Any) -> tuple[int, ...]:
    """One example's shape, checked: positive whole numbers, e.g. (1, 28, 28), of at most
    LARGEST_EXAMPLE values."""
    shape = tuple(input_shape) if isinstance(input_shape, Sequence) else None
    if (
        isinstance(input_shape, str)
        or not shape
        or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape)
    ):
        raise ValueError(
            "input_shape must be one example's shape without the batch dimension, as positive "
            f"ints, e.g. (1, 32, 32); got {input_shape!r}"
        )
    if math.prod(shape) > LARGEST_EXAMPLE:
        raise ValueError(
            f"input_shape {shape} has {math.prod(shape):,} values; one example of at most "
            f"{LARGEST_EXAMPLE:,} is enough to see every layer's size"
        )
    return shape


def trace_example(
    model: nn.Module, input_shape: Sequence[int], dtype: torch.dtype | None = None
) -> list[LayerTrace]:
    """:func:`trace_shapes` on one example of zeros of ``input_shape`` (on the model's device,
    in ``dtype``, by default the model's). A model that cannot take that shape is refused
    with a ``ValueError`` naming the layer it fails in, in one line."""
    checks.module("model", model)
    shape = example_shape(input_shape)
    if dtype is not None and not isinstance(dtype, torch.dtype):
        raise TypeError(
            f"dtype must be a torch.dtype such as torch.long, got {checks.describe(dtype)}"
        )
    weight = next(model.parameters(), None)
    if dtype is None and weight is not None and weight.is_floating_point():
        dtype = weight.dtype
    device = weight.device if weight is not None else None
    entered: list[str] = []
    finished: list[str] = []

    def track(where: list[str], name: str) -> Callable[..., None]:
        return lambda *_: where.append(name)

    named = leaves(model)
    handles = [m.register_forward_pre_hook(track(entered, n)) for n, m in named]
    handles += [m.register_forward_hook(track(finished, n)) for n, m in named]
    try:
        return trace_shapes(model, torch.zeros(1, *shape, dtype=dtype, device=device))
    except Exception as error:  # whatever the model's own code raises for this shape
        cause = (str(error).strip().splitlines() or [type(error).__name__])[0]
        if not entered:
            where = "before its first layer"
        elif len(finished) < len(entered):
            layer = dict(named)[entered[-1]]
            where = f"in layer {entered[-1]} ({type(layer).__name__})"
            if isinstance(layer, nn.Embedding) and dtype != torch.long:
                cause = "an embedding takes whole numbers: pass dtype=torch.long"
        else:
            where = f"right after layer {entered[-1]}, in the model's forward code"
        raise ValueError(
            f"{type(model).__name__} cannot take input of shape {shape}: it fails {where}: {cause}"
        ) from None
    finally:
        for handle in handles:
            handle.remove()


def model_sizes(
    model: nn.Module, input_shape: Sequence[int], *, dtype: torch.dtype | None = None
) -> SizeTable:
    """Each leaf layer's output shape and parameter count for one input (03).

    ``input_shape`` is one example's shape without the batch dimension, e.g. (1, 28, 28).
    The model runs once on zeros of shape (1, *input_shape), of ``dtype`` (by default the
    model's; ``torch.long`` for a model that starts with an embedding), in eval mode, and is
    left exactly as it was (see :func:`lenet_helpers.trace_shapes`). A model that cannot
    take that shape is refused with a ``ValueError`` naming the layer where it fails.

    One row per call of a leaf layer. A layer called again is marked "(call 2 of 3)" and its
    parameters are counted on its first row only; a tensor two layers share is counted once.
    Parameters that no called layer holds (a container's own ``nn.Parameter``, a layer never
    called) get rows of their own, so that the column adds up to the total, which equals
    ``sum(p.numel() for p in model.parameters())``. ``trainable`` counts the values with
    ``requires_grad=True``.
    """
    trace = trace_example(model, input_shape, dtype)
    counted: dict[int, str] = {}  # id of a parameter -> the layer whose row counts it
    notes: list[str] = []
    rows: list[dict[str, Any]] = [{"layer": "input", "output": _dims(example_shape(input_shape))}]
    runs = {step.name: step.call for step in trace}  # the last call's number is the count
    for step, label in zip(trace, call_labels(trace), strict=True):
        row = {"layer": label, "type": type(step.layer).__name__}
        row["output"] = ", ".join(_dims(s[1:]) for s in step.output_shapes) or None
        if step.call == 1:
            new = []
            for name, p in step.layer.named_parameters():
                full = f"{step.name}.{name}"
                if id(p) in counted:
                    notes.append(f"{full} is {counted[id(p)]}, the same tensor: counted once")
                else:
                    counted[id(p)] = full
                    new.append(p)
            row |= _counts(new)
            if runs[step.name] > 1 and new:
                notes.append(
                    f"{step.name} runs {runs[step.name]} times; its parameters are counted once"
                )
        rows.append(row)
    for row, params in _uncounted(model, counted, {id(s.layer) for s in trace}):
        rows.append(row | _counts(params))
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    rows.append({"layer": "total", "parameters": total, "trainable": trainable})
    columns = ["layer", "type", "output", "parameters", "trainable"]
    return SizeTable(columns, rows, total=total, notes=notes)


def _counts(params: Sequence[torch.Tensor]) -> dict[str, int]:
    return {
        "parameters": sum(p.numel() for p in params),
        "trainable": sum(p.numel() for p in params if p.requires_grad),
    }


def _uncounted(
    model: nn.Module, counted: dict[int, str], called: set[int]
) -> list[tuple[dict[str, Any], list[torch.Tensor]]]:
    """Rows for the parameters no called leaf layer holds: one per leaf layer never called,
    and one per parameter that a container holds itself (named by its full name)."""
    found: list[tuple[dict[str, Any], list[torch.Tensor]]] = []
    for name, module in model.named_modules():
        own = [(n, p) for n, p in module.named_parameters(recurse=False) if id(p) not in counted]
        for n, p in own:
            counted[id(p)] = f"{name}.{n}" if name else n
        if not own:
            continue
        kind = type(module).__name__
        if next(module.children(), None) is None and id(module) not in called:
            row = {"layer": name or kind, "type": kind, "output": "not called"}
            found.append((row, [p for _, p in own]))
        else:
            for n, p in own:
                row = {"layer": f"{name}.{n}" if name else n, "type": f"Parameter of {kind}"}
                found.append((row, [p]))
    return found
