"""Play with the sizes: what PyTorch makes of LeNet with other settings (introduced in 03).

The rows come from real layers: every call builds ``nn.Conv2d``, ``nn.MaxPool2d`` and
``nn.Linear`` layers with the given settings and runs one forward pass on zeros, so the sizes
and counts shown are PyTorch's own, never a copy of the rule. The widgets in
:mod:`lenet_extras.explorer_widgets` only wire controls to these functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
import torch.nn as nn

from lenet_extras.layer_table import SizeTable, model_sizes

__all__ = ["LECTURE_SETTINGS", "SizeTable", "lenet_sizes", "model_sizes"]

# The lecture's network: 32x32 input, 5x5 convolutions with stride 1, 2x2 pooling with stride 2.
LECTURE_SETTINGS: dict[str, int] = {"input_size": 32}
for _name, _kernel, _stride in (("conv1", 5, 1), ("pool1", 2, 2), ("conv2", 5, 1), ("pool2", 2, 2)):
    LECTURE_SETTINGS |= {f"{_name}_kernel": _kernel, f"{_name}_stride": _stride}
    LECTURE_SETTINGS |= {f"{_name}_padding": 0}
    if _name.startswith("conv"):
        LECTURE_SETTINGS[f"{_name}_dilation"] = 1
_SMALLEST = {"input_size": 1, "kernel": 1, "stride": 1, "padding": 0, "dilation": 1}
# The largest: far past the controls' ranges, small enough that the real layers built for a
# table fit in memory in a moment (a 512x512 input gives fc1 30 million weights).
_LARGEST = {"input_size": 512, "kernel": 64, "stride": 64, "padding": 64, "dilation": 16}


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape)


def _first(value: int | Sequence[int]) -> int:
    """One axis of a layer setting (the explorer's settings are square)."""
    return value if isinstance(value, int) else int(value[0])


def _numel(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def _settings(given: dict[str, Any]) -> dict[str, int]:
    unknown = sorted(set(given) - set(LECTURE_SETTINGS))
    if unknown:
        raise TypeError(f"unknown setting(s) {unknown}; the settings are {list(LECTURE_SETTINGS)}")
    settings = LECTURE_SETTINGS | given
    for name, value in settings.items():
        kind = name if name == "input_size" else name.split("_")[1]
        smallest, largest = _SMALLEST[kind], _LARGEST[kind]
        if isinstance(value, bool) or not isinstance(value, int) or value < smallest:
            raise ValueError(f"{name} must be an int of at least {smallest}, got {value!r}")
        if value > largest:
            raise ValueError(f"{name} must be at most {largest} in the explorer, got {value}")
    return settings


def _no_output(name: str, layer: nn.Module, side: int, error: RuntimeError) -> str:
    """One sentence on why a layer gives no output, naming the rule it breaks."""
    k, p, d = _first(layer.kernel_size), _first(layer.padding), _first(layer.dilation)
    span = d * (k - 1) + 1
    if isinstance(layer, nn.MaxPool2d) and 2 * p > span:
        return (
            f"{name} gives no output: max pooling pads at most half its window, and "
            f"padding {p} is more than half of kernel size {k}."
        )
    if span > side + 2 * p:
        return (
            f"{name} gives no output: its window spans d·(k − 1) + 1 = {span} pixels, but "
            f"its padded input is only {side} + 2·{p} = {side + 2 * p} wide."
        )
    return f"{name} gives no output: PyTorch says: {str(error).splitlines()[0]}"


def _floor_note(name: str, layer: nn.Module, side: int, kept: int) -> str | None:
    """One sentence when (in + 2p − d(k − 1) − 1)/s is not whole and PyTorch rounds down."""
    k, s, p = _first(layer.kernel_size), _first(layer.stride), _first(layer.padding)
    d = _first(layer.dilation)
    top = side + 2 * p - d * (k - 1) - 1
    if top % s == 0:
        return None
    padded = f"{side} + 2·{p}" if p else f"{side}"
    window = f"{d}·({k} − 1) − 1" if d > 1 else f"{k}"
    exact = top / s + 1
    shown = f"= {exact:g}" if round(exact, 2) == exact else f"≈ {exact:.2f}"
    return f"{name}: ({padded} − {window})/{s} + 1 {shown}, PyTorch keeps {kept}."


def _lenet_rows(settings: dict[str, int]) -> tuple[list[dict[str, Any]], int | None, list[str]]:
    """Build the network for these settings and run it: rows, flatten width, notes."""
    side = settings["input_size"]
    features: list[tuple[str, nn.Module]] = []
    channels = {"conv1": (1, 6), "conv2": (6, 16)}
    for name in ("conv1", "pool1", "conv2", "pool2"):
        k, s, p = (settings[f"{name}_{key}"] for key in ("kernel", "stride", "padding"))
        if name in channels:
            d = settings[f"{name}_dilation"]
            layer = nn.Conv2d(*channels[name], k, stride=s, padding=p, dilation=d)
        else:
            layer = nn.MaxPool2d(k, stride=s, padding=p)
        features.append((name, layer))
    rows: list[dict[str, Any]] = [{"layer": "input", "output": _dims((1, side, side))}]
    notes: list[str] = []
    x: torch.Tensor | None = torch.zeros(1, 1, side, side)
    for name, layer in features:
        if x is not None:
            try:
                y = layer(x)
            except RuntimeError as error:
                notes.append(_no_output(name, layer, x.shape[-1], error))
                y = None
            else:
                note = _floor_note(name, layer, x.shape[-1], y.shape[-1])
                notes += [note] if note else []
            x = y
        rows.append({"layer": name, "output": None if x is None else _dims(x.shape[1:])})
        rows[-1]["parameters"] = _numel(layer)
    flatten = None if x is None else int(math.prod(x.shape[1:]))
    rows.append({"layer": "flatten (fc1's input)", "output": flatten})
    widths = [("fc1", flatten, 120), ("fc2", 120, 84), ("fc3", 84, 10)]
    flat = None if x is None else torch.flatten(x, 1)
    for name, n_in, n_out in widths:
        layer = nn.Linear(n_in, n_out) if n_in is not None else None
        flat = None if flat is None or layer is None else layer(flat)
        rows.append(
            {
                "layer": name,
                "output": None if flat is None else _dims(flat.shape[1:]),
                "parameters": None if layer is None else _numel(layer),
            }
        )
    return rows, flatten, notes


def lenet_sizes(**settings: int) -> SizeTable:
    """The lecture's LeNet rebuilt with other settings: each layer's output and parameters.

    Keywords (all optional, defaults are the lecture's): ``input_size`` (the side of a square
    one-channel input), and for ``conv1``, ``pool1``, ``conv2``, ``pool2`` their ``_kernel``,
    ``_stride``, ``_padding``, and for the convolutions ``_dilation``, e.g.
    ``lenet_sizes(input_size=28, conv1_padding=2)``. fc1 takes whatever pool2 produces.
    Every value comes from real layers and one forward pass on zeros; the lecture's own values
    and whether a row changed sit beside them. A layer that gives no output, or a size that
    PyTorch rounds down, is explained in a note. Building the layers leaves torch's random
    state as it was.
    """
    chosen = _settings(settings)
    with torch.random.fork_rng(devices=[]), torch.no_grad():
        rows, flatten, notes = _lenet_rows(chosen)
        lecture, _, _ = _lenet_rows(LECTURE_SETTINGS)
    for row, before in zip(rows, lecture, strict=True):
        row["lecture output"] = before["output"]
        row["lecture parameters"] = before.get("parameters")
    counts = [row["parameters"] for row in rows if "parameters" in row]  # the seven layers
    total = None if None in counts else sum(counts)
    lecture_total = sum(row["lecture parameters"] for row in rows if "parameters" in row)
    rows.append({"layer": "total", "parameters": total, "lecture parameters": lecture_total})
    for row in rows:
        same = (row.get("output"), row.get("parameters")) == (
            row.get("lecture output"),
            row.get("lecture parameters"),
        )
        row["vs lecture"] = "" if same else "changed"
    columns = ["layer", "output", "parameters", "lecture output", "lecture parameters"]
    return SizeTable([*columns, "vs lecture"], rows, flatten=flatten, total=total, notes=notes)
