"""Helpers behind the Lecture 28 companion notebooks (LeNet Definition).

The module is ordered by the notebook that first uses each piece, and every docstring says
where that is. Importing it has no side effects: no seeds are set, no global settings change,
and matplotlib is only imported by the functions that draw.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import math
import operator
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

if TYPE_CHECKING:  # only for annotations: matplotlib is imported lazily
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "C3_CONNECTIONS",
    "EXERCISES",
    "MNIST_ROOT",
    "MNIST_SHA256",
    "LayerTrace",
    "LeNet",
    "LeNet5",
    "PartialConv2d",
    "RBFOutput",
    "ScaledTanh",
    "Subsampling",
    "Table",
    "check",
    "confusion_matrix",
    "conv_output_size",
    "count_parameters",
    "draw_lenet",
    "evaluate",
    "expect_error",
    "grade",
    "load_mnist",
    "pad_to_32",
    "parameter_table",
    "predict",
    "show_feature_maps",
    "show_images",
    "show_kernels",
    "size_rule_table",
    "trace_shapes",
    "train_epoch",
]


# --- 01 imports: showing an error on purpose -------------------------------------------


@contextlib.contextmanager
def expect_error(*expected: type[BaseException]) -> Iterator[None]:
    """Run a block that should fail, and print the error's type and message (introduced in 01).

    A notebook uses this to show an error on purpose without a long traceback, so that
    "Run All" carries on. If the block does *not* raise, that is a bug in the notebook:
    an ``AssertionError`` says so.
    """
    if not expected:
        raise TypeError("expect_error() needs at least one exception type, e.g. ValueError")
    try:
        yield
    except expected as exc:
        print(f"{type(exc).__name__}: {exc}")
    else:
        names = " or ".join(e.__name__ for e in expected)
        raise AssertionError(f"expected {names}, but the code ran without an error")


# --- 02 architecture: the lecture's network, and a picture drawn from it ----------------

LECTURE_INPUT_SIZE = 32


class LeNet(nn.Module):
    """The network of Lecture 28, with the lecture's layer names (introduced in 02).

    ``LeNet()`` is exactly the lecture's model: conv1 -> pool1 -> conv2 -> pool2 -> fc1 ->
    fc2 -> fc3, ReLU after conv1, conv2, fc1 and fc2, 61,706 parameters.
    With ``verbose=True`` the forward pass prints the lecture's eight size lines.

    Unlike the slide code, the forward pass checks its input: anything that is not a
    floating-point tensor of shape (N, 1, input_size, input_size) is refused with an error
    naming what was expected and what was received.

    The keyword-only options build the 28x28 variants of notebook 05: ``input_size`` is the
    side of the square input, ``conv1_padding`` the zero padding of conv1; fc1's width follows.
    """

    def __init__(
        self,
        verbose: bool = False,
        *,
        input_size: int = LECTURE_INPUT_SIZE,
        conv1_padding: int = 0,
    ) -> None:
        super().__init__()
        self.verbose = verbose
        self.input_size = input_size
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=conv1_padding)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        side = input_size
        side = conv_output_size(side, 5, padding=conv1_padding)  # conv1
        side = conv_output_size(side, 2, stride=2)  # pool1
        side = conv_output_size(side, 5)  # conv2
        side = conv_output_size(side, 2, stride=2)  # pool2
        self.fc1 = nn.Linear(16 * side * side, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x = self._show("output of conv1", F.relu(self.conv1(x)))
        x = self._show("output of pool1", self.pool1(x))
        x = self._show("output of conv2", F.relu(self.conv2(x)))
        x = self._show("output of pool2", self.pool2(x))
        x = self._show("flattened response", torch.flatten(x, 1))
        x = self._show("output of fc1", F.relu(self.fc1(x)))
        x = self._show("output of fc2", F.relu(self.fc2(x)))
        return self._show("output of fc3", self.fc3(x))

    def _show(self, what: str, x: Tensor) -> Tensor:
        if self.verbose:
            print("Size of " + what + ": " + str(x.size()))
        return x

    def _check_input(self, x: object) -> None:
        side = self.input_size
        expected = f"(N, 1, {side}, {side})"
        if not isinstance(x, Tensor):
            raise TypeError(
                f"LeNet expects a torch.Tensor of shape {expected}, got {type(x).__name__}"
            )
        shape = tuple(x.shape)
        if len(shape) != 4 or shape[1:] != (1, side, side):
            hint = ""
            if shape == (1, side, side) or shape == (side, side):
                hint = " (a single image: add the batch dimension, e.g. x.reshape(1, 1, H, W))"
            elif len(shape) == 4 and shape[1] == 1 and shape[2:] == (28, 28) and side == 32:
                hint = " (MNIST digits are 28x28: pad them to 32x32 first, see notebook 05)"
            elif len(shape) == 4 and shape[-1] == 1 and shape[1:3] == (side, side):
                hint = " (channels last: PyTorch wants N, C, H, W; use x.permute(0, 3, 1, 2))"
            raise ValueError(f"LeNet expects input of shape {expected}, got {shape}{hint}")
        if x.dtype != self.conv1.weight.dtype:
            raise TypeError(
                f"LeNet expects a {self.conv1.weight.dtype} tensor, got {x.dtype}"
                + (
                    " (scale pixels to [0, 1] with x.float() / 255)"
                    if not x.is_floating_point()
                    else ""
                )
            )


def draw_lenet(
    model: nn.Module | None = None,
    input_shape: Sequence[int] = (1, LECTURE_INPUT_SIZE, LECTURE_INPUT_SIZE),
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the feature volumes of a network, from a real forward pass (introduced in 02).

    Each stage is traced with :func:`trace_shapes`, so the picture cannot disagree with the
    code: a box per (C, H, W) volume, a bar per flat vector, labelled with the layer name and
    the size. ``input_shape`` is (C, H, W) without the batch dimension. With no model, the
    lecture's LeNet is drawn (or its variant for a square ``input_shape`` other than 32).
    Returns the figure; each drawn volume carries ``gid="volume:<stage name>"``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Polygon, Rectangle

    shape = tuple(int(s) for s in input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {tuple(input_shape)}")
    if model is None:
        if shape[0] != 1 or shape[1] != shape[2]:
            raise ValueError(f"the lecture's LeNet takes (1, S, S) inputs, got {shape}")
        model = LeNet(input_size=shape[1])
    stages = _stages(trace_shapes(model, torch.zeros(1, *shape)), shape)

    own_figure = ax is None
    if ax is None:
        fig, ax = plt.subplots(dpi=80)
    else:
        fig = ax.get_figure()
    biggest = max(s[1] for _, s in stages if len(s) == 3)
    x = 0.0
    for name, size in stages:
        if len(size) == 3:  # a (C, H, W) volume: face for H x W, oblique depth for C
            c, h, w = size
            face_h = 0.4 + 1.6 * h / biggest
            face_w = 0.4 + 1.6 * w / biggest * 0.55
            depth = 0.12 + 0.05 * math.sqrt(c)
            dx, dy = depth * 0.8, depth * 0.6
            y0 = -face_h / 2
            ax.add_patch(
                Polygon(
                    [(x, y0 + face_h), (x + dx, y0 + face_h + dy),
                     (x + dx + face_w, y0 + face_h + dy), (x + face_w, y0 + face_h)],
                    closed=True, facecolor="#c6dbef", edgecolor="#31688e", lw=0.8,
                )
            )  # fmt: skip
            ax.add_patch(
                Polygon(
                    [(x + face_w, y0), (x + face_w + dx, y0 + dy),
                     (x + face_w + dx, y0 + face_h + dy), (x + face_w, y0 + face_h)],
                    closed=True, facecolor="#9ecae1", edgecolor="#31688e", lw=0.8,
                )
            )  # fmt: skip
            face = Rectangle((x, y0), face_w, face_h, facecolor="#deebf7", edgecolor="#31688e")
            face.set_gid(f"volume:{name}")
            ax.add_patch(face)
            label = f"{c}×{h}×{w}"
            width = face_w + dx
        else:  # a flat vector: a bar whose height grows with the number of features
            (n,) = size
            bar_h = 0.3 + 1.7 * math.log10(n) / math.log10(400)
            bar = Rectangle((x, -bar_h / 2), 0.14, bar_h, facecolor="#fdd0a2", edgecolor="#a63603")
            bar.set_gid(f"volume:{name}")
            ax.add_patch(bar)
            label = f"{n}"
            width = 0.14
        centre = x + width / 2
        ax.text(centre, 1.45, name, ha="center", va="bottom", fontsize=9, fontweight="bold")
        ax.text(centre, -1.45, label, ha="center", va="top", fontsize=9, gid="size-label")
        x += width + 0.55
    ax.set_xlim(-0.3, x - 0.25)
    ax.set_ylim(-1.9, 1.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"{type(model).__name__} on a {'×'.join(map(str, shape))} input")
    if own_figure:
        fig.set_size_inches(0.95 * (x + 0.2) + 0.3, 3.3)
        fig.tight_layout(pad=0.2)
    return fig


def _stages(trace: list[LayerTrace], input_shape: tuple[int, ...]) -> list[tuple[str, tuple]]:
    """Turn a trace into drawable stages: input, each layer, and a 'flatten' step if implied."""
    stages: list[tuple[str, tuple]] = [("input", input_shape)]
    for step in trace:
        keeps_size = step.output_shape == step.input_shape
        if keeps_size and next(step.layer.parameters(), None) is None:
            continue  # an activation module: nothing new to draw
        if step.input_shape[1:] != stages[-1][1]:
            stages.append(("flatten", tuple(step.input_shape[1:])))
        stages.append((step.name, tuple(step.output_shape[1:])))
    return stages


# --- 03 feed-forward: plain-text tables, the output-size rule, sizes traced with hooks ---


class Table:
    """Rows of named values that print as an aligned plain-text table (introduced in 03).

    ``table.rows`` is a list of dicts, so a notebook can assert on any column.
    """

    def __init__(self, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> None:
        self.columns = list(columns)
        self.rows = [dict(row) for row in rows]

    def column(self, name: str) -> list[Any]:
        """All values of one column, top to bottom."""
        return [row.get(name) for row in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    def __repr__(self) -> str:
        cells = [[_cell_text(row.get(c)) for c in self.columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        numeric = [
            all(
                isinstance(v, int | float) and not isinstance(v, bool)
                for v in (row.get(c) for row in self.rows)
                if v is not None
            )
            for c in self.columns
        ]

        def line(values: Sequence[str]) -> str:
            parts = [
                v.rjust(w) if num else v.ljust(w)
                for v, w, num in zip(values, widths, numeric, strict=True)
            ]
            return "  ".join(parts).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.columns), rule, *(line(r) for r in cells)])


def _cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution or pooling along one axis (introduced in 03).

    out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1,
    the rule PyTorch documents for ``nn.Conv2d`` and ``nn.MaxPool2d`` (with ceil_mode=False).
    Raises ``ValueError`` when the kernel does not fit in the padded input.
    """
    values = {}
    for name, value, smallest in (
        ("size", size, 1),
        ("kernel_size", kernel_size, 1),
        ("stride", stride, 1),
        ("padding", padding, 0),
        ("dilation", dilation, 1),
    ):
        if isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}")
        try:
            values[name] = operator.index(value)
        except TypeError:
            hint = (
                " (apply the rule to height and width separately)"
                if isinstance(value, tuple)
                else ""
            )
            raise TypeError(f"{name} must be an int, got {value!r}{hint}") from None
        if values[name] < smallest:
            raise ValueError(f"{name} must be at least {smallest}, got {value}")
    span = values["dilation"] * (values["kernel_size"] - 1) + 1
    padded = values["size"] + 2 * values["padding"]
    if span > padded:
        raise ValueError(
            f"no output: the kernel spans {span} pixels (kernel_size={kernel_size}, "
            f"dilation={dilation}) but the padded input is only {padded} "
            f"(size={size} + 2*padding={padding})"
        )
    return (padded - span) // values["stride"] + 1


@dataclass(frozen=True)
class LayerTrace:
    """One leaf layer's call in a forward pass: its name, the layer, and the shapes
    (and the output itself, when asked for)."""

    name: str
    layer: nn.Module
    input_shape: torch.Size
    output_shape: torch.Size
    output: Tensor | None = field(default=None, repr=False, compare=False)


def trace_shapes(model: nn.Module, x: Tensor, *, keep_outputs: bool = False) -> list[LayerTrace]:
    """Run ``model(x)`` once and record every leaf layer's input and output shape (03, 05).

    The shapes are taken with forward hooks, so ``forward`` needs no print statements.
    The hooks are removed afterwards, also when the forward pass raises. Gradients are
    not recorded; the model's train/eval mode is left as it was. With ``keep_outputs``,
    each record also holds the layer's output tensor (used to draw feature maps in 06).
    """
    records: list[LayerTrace] = []
    leaves = [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]

    def hook_for(name: str) -> Callable[..., None]:
        def hook(module: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            in_shape = inputs[0].shape if inputs and isinstance(inputs[0], Tensor) else torch.Size()
            out_shape = output.shape if isinstance(output, Tensor) else torch.Size()
            kept = output if keep_outputs and isinstance(output, Tensor) else None
            records.append(LayerTrace(name, module, in_shape, out_shape, kept))

        return hook

    handles = [m.register_forward_hook(hook_for(n or type(m).__name__)) for n, m in leaves]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return records


def size_rule_table(model: nn.Module, x: Tensor) -> Table:
    """Per-layer sizes of one forward pass, next to what the output-size rule predicts (03, 05).

    For convolution and pooling layers the rule (:func:`conv_output_size`) is applied to the
    layer's real settings and input; for linear layers the prediction is ``out_features``.
    Column ``agrees`` says whether the prediction matches the size the layer really produced.
    """
    rows = []
    for step in trace_shapes(model, x):
        layer, actual = step.layer, tuple(step.output_shape[1:])
        settings, predicted = "", None
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            k, s, p = (
                _pair(layer.kernel_size),
                _pair(layer.stride or layer.kernel_size),
                _pair(layer.padding),
            )
            d = _pair(getattr(layer, "dilation", 1))
            settings = f"k={_short(k)} s={_short(s)} p={_short(p)} d={_short(d)}"
            if not getattr(layer, "ceil_mode", False):
                channels = (
                    layer.out_channels if isinstance(layer, nn.Conv2d) else step.input_shape[1]
                )
                h, w = step.input_shape[2:]
                predicted = (
                    channels,
                    conv_output_size(h, k[0], s[0], p[0], d[0]),
                    conv_output_size(w, k[1], s[1], p[1], d[1]),
                )
        elif isinstance(layer, nn.Linear):
            settings = f"{layer.in_features} -> {layer.out_features}"
            predicted = (layer.out_features,)
        rows.append(
            {
                "layer": step.name,
                "type": type(layer).__name__,
                "settings": settings,
                "input": _dims(step.input_shape[1:]),
                "rule": _dims(predicted) if predicted is not None else None,
                "actual": _dims(actual),
                "agrees": None if predicted is None else predicted == actual,
            }
        )
    return Table(["layer", "type", "settings", "input", "rule", "actual", "agrees"], rows)


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _short(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape)


# --- 04 trainable parameters ----------------------------------------------------------


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Total number of parameter values, by ``numel()`` (introduced in 04).

    With ``trainable_only`` (the default), parameters with ``requires_grad=False`` are left
    out. Buffers (fixed tensors such as LeNet-5's RBF centres) are never counted.
    """
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def parameter_table(model: nn.Module) -> Table:
    """Each layer's parameters, counted by formula and by ``numel()`` (introduced in 04).

    Formula for ``nn.Conv2d``: (C_in/groups * kH * kW + 1) * C_out (the +1 is the bias);
    for ``nn.Linear``: (in + 1) * out. Other layers show their ``numel()`` only.
    The last row is the total over the model.
    """
    rows = []
    for name, layer in model.named_modules():
        own = list(layer.parameters(recurse=False))
        if not own:
            continue
        bias = 1 if getattr(layer, "bias", None) is not None else 0
        formula, by_formula = None, None
        if isinstance(layer, nn.Conv2d):
            c_in, (kh, kw) = layer.in_channels // layer.groups, layer.kernel_size
            formula = f"({c_in}·{kh}·{kw}{' + 1' if bias else ''})·{layer.out_channels}"
            by_formula = (c_in * kh * kw + bias) * layer.out_channels
        elif isinstance(layer, nn.Linear):
            formula = f"({layer.in_features}{' + 1' if bias else ''})·{layer.out_features}"
            by_formula = (layer.in_features + bias) * layer.out_features
        numel = sum(p.numel() for p in own)
        rows.append(
            {
                "layer": name,
                "tensors": ", ".join(_dims(p.shape) for p in own),
                "formula": formula,
                "by formula": by_formula,
                "numel": numel,
                "agrees": None if by_formula is None else by_formula == numel,
            }
        )
    total = sum(r["numel"] for r in rows)
    rows.append({"layer": "total", "numel": total})
    return Table(["layer", "tensors", "formula", "by formula", "numel", "agrees"], rows)


# --- 05 shapes and pitfalls: 28x28 digits, and the LeNet-5 of 1998 ---------------------


def pad_to_32(images: Tensor) -> Tensor:
    """Pad 28x28 images with two zero pixels on every side, to 32x32 (introduced in 05).

    LeCun et al. (1998) placed the MNIST digits in a 32x32 field the same way, so that
    strokes near the edge still reach the centre of conv1's receptive fields.
    """
    if not isinstance(images, Tensor) or images.dim() < 2 or tuple(images.shape[-2:]) != (28, 28):
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"pad_to_32 expects images whose last two dimensions are 28x28, got {got}")
    return F.pad(images, (2, 2, 2, 2))


class ScaledTanh(nn.Module):
    """LeNet-5's squashing function, 1.7159 * tanh(2x/3) (introduced in 05)."""

    def forward(self, x: Tensor) -> Tensor:
        return 1.7159 * torch.tanh(2.0 / 3.0 * x)


class Subsampling(nn.Module):
    """LeNet-5's S2/S4 layers: each map's 2x2 sum, times a trained coefficient, plus a trained
    bias; two parameters per map (introduced in 05)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        summed = 4 * F.avg_pool2d(x, 2)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


# Table I of LeCun et al. (1998): which S2 maps (0-5) each of the 16 C3 maps reads.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class PartialConv2d(nn.Module):
    """A convolution in which each output map reads only some input maps (LeNet-5's C3,
    introduced in 05). Output map j has its own kernel stack ``weight_j`` over the input maps
    ``connections[j]``, so ``numel()`` counts exactly the connections that exist."""

    def __init__(self, connections: Sequence[Sequence[int]], kernel_size: int = 5) -> None:
        super().__init__()
        self.connections = [tuple(c) for c in connections]
        for j, inputs in enumerate(self.connections):
            weight = torch.empty(1, len(inputs), kernel_size, kernel_size)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # as nn.Conv2d initialises
            self.register_parameter(f"weight_{j}", nn.Parameter(weight))
        bound = 1 / math.sqrt(min(len(c) for c in self.connections) * kernel_size**2)
        self.bias = nn.Parameter(torch.empty(len(self.connections)).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        maps = [
            F.conv2d(x[:, list(inputs)], getattr(self, f"weight_{j}"))
            for j, inputs in enumerate(self.connections)
        ]
        return torch.cat(maps, 1) + self.bias.view(1, -1, 1, 1)


class RBFOutput(nn.Module):
    """LeNet-5's output layer: one Euclidean radial basis unit per class (introduced in 05).

    Unit i outputs the squared distance between F6's 84 outputs and a fixed code of +-1
    values; the smallest distance wins. The paper drew the codes by hand as 7x12 bitmaps of
    the digits; these are fixed random +-1 stand-ins. They are a buffer, not a parameter:
    the paper did not train them either.
    """

    def __init__(self, in_features: int = 84, classes: int = 10, seed: int = 1998) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        codes = torch.randint(0, 2, (classes, in_features), generator=generator) * 2.0 - 1.0
        self.register_buffer("centres", codes)

    def forward(self, x: Tensor) -> Tensor:
        return ((x.unsqueeze(1) - self.centres) ** 2).sum(-1)


class LeNet5(nn.Module):
    """LeNet-5 as published by LeCun et al. (1998), for comparison (introduced in 05).

    C1 -> S2 -> C3 -> S4 -> C5 -> F6 -> RBF output, scaled tanh throughout, trainable
    subsampling instead of max-pooling, a partial connection table in C3. 60,000 trainable
    parameters; the 840 RBF values are fixed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv2d(C3_CONNECTIONS, kernel_size=5)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = RBFOutput(84, 10)
        self.squash = ScaledTanh()

    def forward(self, x: Tensor) -> Tensor:
        for layer in (self.c1, self.s2, self.c3, self.s4, self.c5):
            x = self.squash(layer(x))
        x = self.squash(self.f6(torch.flatten(x, 1)))
        return self.output(x)


# --- 06 training preview: MNIST from the repository, and a plain training loop ----------

MNIST_ROOT = Path(__file__).resolve().parent / "data" / "mnist"

# The published SHA-256 of each decompressed file (see data/mnist/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
_MNIST_SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", 60_000),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10_000),
}
_RESTORE = "restore it with `git checkout -- data/mnist` in the repository"


def load_mnist(
    split: Literal["train", "test"], root: str | Path = MNIST_ROOT
) -> tuple[Tensor, Tensor]:
    """Read MNIST from the gzip-compressed IDX files in ``root`` (introduced in 06).

    Returns float32 images of shape (N, 1, 28, 28) scaled to [0, 1] and int64 labels of
    shape (N,). Every file's decompressed bytes are checked against the published SHA-256,
    and its magic number and dimensions are checked. Nothing is written or downloaded.
    """
    if split not in _MNIST_SPLITS:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    image_name, label_name, count = _MNIST_SPLITS[split]
    images = _read_idx(Path(root) / f"{image_name}.gz", magic=0x803, dims=(count, 28, 28))
    labels = _read_idx(Path(root) / f"{label_name}.gz", magic=0x801, dims=(count,))
    pixels = torch.from_numpy(images.astype(np.float32) / np.float32(255))
    return pixels.reshape(count, 1, 28, 28), torch.from_numpy(labels.astype(np.int64))


def _read_idx(path: Path, magic: int, dims: tuple[int, ...]) -> np.ndarray:
    name = path.name.removesuffix(".gz")
    expected = MNIST_SHA256[name]
    if not path.is_file():
        raise FileNotFoundError(
            f"MNIST file {path} is missing: {_RESTORE}, or pass root= a folder holding it"
        )
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise ValueError(
            f"MNIST file {path} is damaged ({exc}); expected the decompressed data to have "
            f"SHA-256 {expected}: {_RESTORE}"
        ) from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected:
        raise ValueError(
            f"MNIST file {path} is altered or truncated: SHA-256 of the decompressed data is "
            f"{digest}, expected {expected}: {_RESTORE}"
        )
    header = 4 + 4 * len(dims)
    found_magic = int.from_bytes(raw[:4], "big")
    found_dims = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(len(dims)))
    if found_magic != magic or found_dims != dims or len(raw) != header + math.prod(dims):
        raise ValueError(
            f"MNIST file {path}: expected IDX magic {magic:#010x} and dimensions {dims}, "
            f"got {found_magic:#010x} and {found_dims} ({len(raw)} bytes)"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(dims)


def train_epoch(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 64,
    generator: torch.Generator | None = None,
) -> float:
    """One pass over the training set in shuffled mini-batches; returns the mean loss (06).

    A plain loop over in-memory tensors: no DataLoader workers, no progress bar. Pass a
    seeded ``generator`` for the same shuffling every run.
    """
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} and {len(labels)}")
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / len(images)


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, *, batch_size: int = 1000) -> Tensor:
    """The predicted class of every image, in eval mode and without gradients (06)."""
    model.eval()
    parts = [model(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)]
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.int64)


def evaluate(model: nn.Module, images: Tensor, labels: Tensor, *, batch_size: int = 1000) -> float:
    """Fraction of images classified correctly (06)."""
    return (predict(model, images, batch_size=batch_size) == labels).double().mean().item()


def confusion_matrix(labels: Tensor, predictions: Tensor, classes: int = 10) -> Tensor:
    """Counts[i, j] = how many images of class i were predicted as class j (06)."""
    index = labels.long() * classes + predictions.long()
    return torch.bincount(index, minlength=classes * classes).reshape(classes, classes)


def show_images(
    images: Tensor,
    titles: Sequence[str] | None = None,
    *,
    columns: int = 8,
    size: float = 1.1,
    title: str | None = None,
) -> Figure:
    """A grid of single-channel images, each with an optional caption (06)."""
    import matplotlib.pyplot as plt

    n = len(images)
    rows = max(1, math.ceil(n / columns))
    height = rows * size * 1.15 + (0.3 if title else 0)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, height), dpi=80)
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i].detach().reshape(images[i].shape[-2:]).numpy(), cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_kernels(kernels: dict[str, Tensor], *, cell: float | None = None) -> Figure:
    """Convolution kernels, one labelled block per entry, stacked (06).

    Each block has a column per output map and a row per input map. Within a block all
    kernels share one colour scale centred on zero (red positive, blue negative), so
    blocks of different magnitude (before and after training) stay readable.
    """
    import matplotlib.pyplot as plt

    blocks = {name: w.detach() for name, w in kernels.items()}
    out_ch = max(w.shape[0] for w in blocks.values())
    cell = cell or min(0.9, 6.4 / out_ch)  # inches per kernel: about 6.4 inches wide in all
    heights = [w.shape[1] for w in blocks.values()]
    fig = plt.figure(figsize=(out_ch * cell + 0.2, sum(h * cell + 0.35 for h in heights)), dpi=80)
    for sub, (name, w) in zip(
        fig.subfigures(len(blocks), 1, height_ratios=heights), blocks.items(), strict=True
    ):
        limit = w.abs().max().item() or 1.0
        axes = sub.subplots(w.shape[1], out_ch, squeeze=False)
        for (i, o), ax in np.ndenumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if o < w.shape[0]:
                ax.imshow(w[o, i].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
        sub.suptitle(name, fontsize=9)
    return fig


def show_feature_maps(
    model: nn.Module, image: Tensor, layers: Sequence[str] = ("conv1", "pool1", "conv2", "pool2")
) -> Figure:
    """The maps one image produces at the named layers, titled with their traced sizes (06).

    ``image`` is one (1, H, W) image. Sizes and maps both come from one :func:`trace_shapes`
    pass, so the model's ``forward`` is untouched. Convolution maps are shown as the layer
    outputs them, before the ReLU that ``forward`` applies next.
    """
    import matplotlib.pyplot as plt

    trace = {t.name: t for t in trace_shapes(model, image.unsqueeze(0), keep_outputs=True)}
    missing = [name for name in layers if name not in trace]
    if missing:
        raise ValueError(f"no leaf layer named {missing} in the model; it has {list(trace)}")
    sizes = {name: trace[name].output_shape for name in layers}
    maps = {name: trace[name].output[0] for name in layers}
    width = max(maps[name].shape[0] for name in layers)
    fig, axes = plt.subplots(len(layers), width, figsize=(width * 0.62, len(layers) * 0.95), dpi=80)
    for row, name in enumerate(layers):
        for col in range(width):
            ax = axes[row, col]
            ax.axis("off")
            if col < maps[name].shape[0]:
                ax.imshow(maps[name][col].numpy(), cmap="gray")
        axes[row, 0].set_title(f"{name}: {_dims(sizes[name][1:])}", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


# --- Exercises at the end of every notebook: checked against PyTorch itself ------------


@dataclass(frozen=True)
class Exercise:
    """One self-checking exercise. ``truth`` computes the right answer with PyTorch."""

    question: str
    truth: Callable[[], Any]
    hint: str
    kind: Literal["number", "shape", "text", "bool"] = "number"


@dataclass(frozen=True)
class Verdict:
    """What :func:`grade` says about an answer."""

    status: Literal["correct", "wrong", "unanswered"]
    message: str

    def __str__(self) -> str:
        return self.message


def _first_regrouping_batch(input_size: int = 28, limit: int = 200) -> tuple[int, int]:
    """Smallest batch of input_size x input_size images for which the lecture's
    ``x.view(-1, 16*5*5)`` raises nothing, and how many rows fc1 then receives."""
    features = nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.MaxPool2d(2, 2), nn.Conv2d(6, 16, 5), nn.MaxPool2d(2, 2)
    )
    with torch.no_grad():
        for n in range(1, limit + 1):
            try:
                rows = (
                    features(torch.zeros(n, 1, input_size, input_size))
                    .view(-1, 16 * 5 * 5)
                    .shape[0]
                )
            except RuntimeError:
                continue
            return n, rows
    raise ValueError(f"no batch size up to {limit} regroups silently")


def _layer_to_change_for(input_size: int) -> str:
    """The first layer of the lecture's LeNet that cannot take input_size x input_size input."""
    net = LeNet()
    x = torch.zeros(1, 1, input_size, input_size)
    with torch.no_grad():
        for name, layer in net.named_children():
            if isinstance(layer, nn.Linear):
                x = torch.flatten(x, 1)
                if x.shape[1] != layer.in_features:
                    return name
            x = layer(x)
    raise ValueError(f"LeNet takes {input_size}x{input_size} input unchanged")


def _padding_that_keeps(size: int, kernel_size: int) -> int:
    for padding in range(kernel_size):
        if (
            nn.Conv2d(1, 1, kernel_size, padding=padding)(torch.zeros(1, 1, size, size)).shape[-1]
            == size
        ):
            return padding
    raise ValueError(f"no padding keeps {size} with kernel {kernel_size}")


def _out_shape(layer: nn.Module, *shape: int) -> torch.Size:
    with torch.no_grad():
        return layer(torch.zeros(*shape)).shape


def _count_after_forward(batch_size: int) -> int:
    net = LeNet()
    with torch.no_grad():
        net(torch.zeros(batch_size, 1, 32, 32))
    return count_parameters(net)


def _autograd_example() -> float:
    x = torch.tensor(3.0, requires_grad=True)
    (x**2 + 2 * x).backward()
    return x.grad.item()


def _variable_type() -> str:
    from torch.autograd import Variable

    return type(Variable(torch.zeros(2))).__name__


EXERCISES: dict[str, Exercise] = {
    "01.1": Exercise(
        "What does torch.zeros(3).requires_grad give: True or False?",
        lambda: torch.zeros(3).requires_grad,
        "a tensor only records operations for autograd when you ask for it",
        "bool",
    ),
    "01.2": Exercise(
        "x = torch.tensor(3.0, requires_grad=True); (x**2 + 2*x).backward(). What is x.grad?",
        _autograd_example,
        "the derivative of x**2 + 2x is 2x + 2; evaluate it at x = 3",
    ),
    "01.3": Exercise(
        "What is the class name of the object Variable(torch.zeros(2)) returns?",
        _variable_type,
        "since PyTorch 0.4 Variable only hands back what you gave it; try type(...)",
        "text",
    ),
    "02.1": Exercise(
        "How many layers does print(net) list for the lecture's LeNet?",
        lambda: len(list(LeNet().children())),
        "only modules assigned in __init__ are listed; F.relu and the flattening are not",
    ),
    "02.2": Exercise(
        "nn.Conv2d(1, 1, kernel_size=(5, 10)) on a 1x1x32x32 input: how wide is the output "
        "(its last dimension)?",
        lambda: _out_shape(nn.Conv2d(1, 1, kernel_size=(5, 10)), 1, 1, 32, 32)[-1],
        "kernel_size is (height, width), so 10 runs along the width: 32 - 10 + 1",
    ),
    "02.3": Exercise(
        "If conv2 had 32 output channels instead of 16, how many inputs would fc1 need?",
        lambda: math.prod(
            _out_shape(
                nn.Sequential(
                    nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 32, 5), nn.MaxPool2d(2)
                ),
                1,
                1,
                32,
                32,
            )[1:]
        ),  # fmt: skip
        "channels x height x width after pool2; the spatial size does not change",
    ),
    "03.1": Exercise(
        "A 1x28x28 image goes through conv1 (5x5, stride 1, no padding). How tall is the output?",
        lambda: _out_shape(nn.Conv2d(1, 6, 5), 1, 1, 28, 28)[-2],
        "conv_output_size(28, 5) = 28 - 5 + 1",
    ),
    "03.2": Exercise(
        "nn.MaxPool2d(kernel_size=3, stride=2) on a 6x14x14 input: how tall is the output?",
        lambda: _out_shape(nn.MaxPool2d(kernel_size=3, stride=2), 1, 6, 14, 14)[-2],
        "floor((14 - 3) / 2) + 1: the rule rounds down",
    ),
    "03.3": Exercise(
        "What is the shape of LeNet's output for a batch of 7 images? Give a tuple.",
        lambda: tuple(_out_shape(LeNet(), 7, 1, 32, 32)),
        "the batch size passes through every layer; fc3 has 10 outputs",
        "shape",
    ),
    "03.4": Exercise(
        "Which padding makes conv1 (5x5, stride 1) keep a 28x28 input at 28x28?",
        lambda: _padding_that_keeps(28, 5),
        "the kernel removes kernel_size - 1 = 4 pixels; padding adds 2 * padding",
    ),
    "04.1": Exercise(
        "How many parameters (weights and biases) does nn.Conv2d(6, 32, kernel_size=5) have?",
        lambda: count_parameters(nn.Conv2d(6, 32, kernel_size=5)),
        "(C_in * k * k + 1) * C_out",
    ),
    "04.2": Exercise(
        "How many parameters does nn.Linear(400, 120, bias=False) have?",
        lambda: count_parameters(nn.Linear(400, 120, bias=False)),
        "without a bias there is no +1: in * out",
    ),
    "04.3": Exercise(
        "How many bytes do LeNet's parameters take in float64 (net.double())?",
        lambda: sum(p.numel() * p.element_size() for p in LeNet().double().parameters()),
        "a float64 value takes 8 bytes",
    ),
    "04.4": Exercise(
        "How many trainable parameters does LeNet have after a forward pass on a batch of 100?",
        lambda: _count_after_forward(batch_size=100),
        "the batch size changes the activations, not the weights",
    ),
    "05.1": Exercise(
        "Feeding unpadded 28x28 digits to the lecture's code: what is the smallest batch size "
        "for which x.view(-1, 16*5*5) raises no error?",
        lambda: _first_regrouping_batch(28)[0],
        "each digit leaves 16*4*4 = 256 values; you need N*256 to be a multiple of 400",
    ),
    "05.2": Exercise(
        "For that batch size, how many rows does fc1 receive?",
        lambda: _first_regrouping_batch(28)[1],
        "divide the number of values by 400",
    ),
    "05.3": Exercise(
        "Which layer of the lecture's LeNet must change to take unpadded 28x28 input? "
        "Give its name as print(net) shows it.",
        lambda: _layer_to_change_for(28),
        "convolutions and pooling take any size; find the first layer with a fixed input width",
        "text",
    ),
    "05.4": Exercise(
        "How many trainable parameters has the unpadded 28x28 variant, LeNet(input_size=28)?",
        lambda: count_parameters(LeNet(input_size=28)),
        "only fc1 changes: (256 + 1) * 120 instead of (400 + 1) * 120",
    ),
    "06.1": Exercise(
        "At 98.5% test accuracy, how many MNIST test digits may the network get wrong at most?",
        lambda: round(0.015 * len(load_mnist("test")[1])),
        "1.5% of the test set; len(test_labels) tells its size",
    ),
    "06.2": Exercise(
        "What shape do the training images have after pad_to_32? Give a tuple.",
        lambda: tuple(pad_to_32(torch.zeros(60_000, 1, 28, 28)).shape),
        "(N, C, H, W) with N = 60,000 training digits, one channel, 32x32",
        "shape",
    ),
}


def grade(exercise: str, answer: Any) -> Verdict:
    """Compare an answer with the truth computed by PyTorch; never raises for an answer."""
    if exercise not in EXERCISES:
        raise KeyError(f"no exercise {exercise!r}; the exercises are {', '.join(EXERCISES)}")
    task = EXERCISES[exercise]
    if answer is None or answer is ... or (isinstance(answer, str) and not answer.strip()):
        return Verdict("unanswered", f"{exercise}: not answered yet. {task.question}")
    truth = task.truth()
    given = _normalise(answer, task.kind)
    if given is not None and given == _normalise(truth, task.kind):
        return Verdict("correct", f"{exercise}: correct, {_show(truth)}.")
    return Verdict("wrong", f"{exercise}: not quite ({_show(answer)}). Hint: {task.hint}.")


def check(exercise: str, answer: Any) -> None:
    """Print whether an exercise's answer is right, with a hint when it is not."""
    print(grade(exercise, answer))


def _normalise(value: Any, kind: str) -> Any:
    """The answer in a comparable form, or None when it cannot be read as that kind."""
    try:
        if kind == "bool":
            if isinstance(value, str):
                return {"true": True, "false": False}.get(value.strip().lower())
            return bool(value) if isinstance(value, bool | np.bool_) else None
        if kind == "text":
            return value.strip().lower() if isinstance(value, str) else None
        if kind == "shape":
            if isinstance(value, str):
                return None
            return tuple(int(operator.index(v)) for v in value)
        if isinstance(value, Tensor):
            value = value.item()
        number = float(value)
        return round(number, 6)
    except (TypeError, ValueError, RuntimeError):
        return None


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, tuple | torch.Size):
        return str(tuple(value))
    return repr(value) if isinstance(value, str) else str(value)
