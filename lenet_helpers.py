"""The lecture's pieces, behind notebooks 01 to 04 of the Lecture 28 companion.

In the order a learner meets them: showing an error on purpose (01), the lecture's LeNet
(02), the output-size rule and sizes traced with hooks (03), and parameter counts (04).
Everything past the lecture (LeNet-5, MNIST, training, drawing, exercises) lives in the
package `lenet_extras` beside this file, with the checks every helper makes of its arguments
(`lenet_extras.checks`), the way they run a model without changing it
(`lenet_extras.measuring`), and the `Table` they print (`lenet_extras.table`, imported
here). Importing this module changes no global setting.
"""

from __future__ import annotations

import contextlib
import inspect
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from lenet_extras import checks
from lenet_extras.measuring import leaves, tensors_in, untouched
from lenet_extras.table import Table

# --- 01 imports: showing an error on purpose, and a helper's code ---------------------------------


@contextlib.contextmanager
def expect_error(*expected: type[BaseException]) -> Iterator[None]:
    """Run a block that should fail, and print the error's type and message in one line.

    If the block does *not* raise, an ``AssertionError`` says so.
    """
    if not expected:
        raise TypeError("expect_error() needs at least one exception type, e.g. ValueError")
    for kind in expected:
        if not (isinstance(kind, type) and issubclass(kind, BaseException)):
            raise TypeError(
                "expect_error() takes exception classes, such as ValueError (no quotes, no "
                f"parentheses), got {checks.describe(kind)}"
            )
    try:
        yield
    except expected as exc:
        print(f"{type(exc).__name__}: {exc}")
    else:
        names = " or ".join(e.__name__ for e in expected)
        raise AssertionError(f"expected {names}, but the code ran without an error")


class Source:
    """A function's or class's code, as :func:`show_source` shows it: highlighted where the
    notebook renders Markdown (JupyterLab, Colab, the static site), plain text elsewhere."""

    def __init__(self, name: str, where: str, code: str) -> None:
        self.name, self.where, self.code = name, where, code

    def __repr__(self) -> str:
        return f"# {self.name}, from {self.where}\n{self.code}"

    def _repr_markdown_(self) -> str:
        return f"`{self.name}`, from `{self.where}`:\n\n```python\n{self.code}\n```"


def show_source(obj: Any) -> Source:
    """The code of a helper, to read it where a notebook first uses it (introduced in 02).

    Works for functions, classes and methods defined in a file; ``LeNet??`` in Jupyter shows
    the same code, but only in the pager, not in the notebook or on the static site.
    """
    if not (inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)):
        raise TypeError(
            f"show_source expects a function or a class, such as LeNet or conv_output_size, "
            f"got {type(obj).__name__}"
        )
    try:
        code = inspect.getsource(obj)
        file = Path(inspect.getsourcefile(obj) or "")
    except (OSError, TypeError) as error:
        raise TypeError(
            f"show_source cannot find the code of {obj.__qualname__}: it was not defined in a "
            f"file ({error})"
        ) from None
    where = "/".join(file.parts[-2:]) if file.parent.name == "lenet_extras" else file.name
    return Source(obj.__qualname__, where, textwrap.dedent(code).rstrip("\n"))


# --- 02 architecture: the lecture's network ----------------------------------------------


class LeNet(nn.Module):
    """The network of Lecture 28, with the lecture's layer names (introduced in 02).

    conv1 -> pool1 -> conv2 -> pool2 -> fc1 -> fc2 -> fc3, ReLU after conv1, conv2, fc1 and
    fc2, 61,706 parameters; ``verbose=True`` prints the lecture's eight size lines. Unlike the
    slide code, ``forward`` flattens with ``torch.flatten(x, 1)`` and refuses any input that
    is not a batch (N, 1, input_size, input_size). ``input_size`` and ``conv1_padding`` build
    the variants of notebook 05; fc1's width is whatever pool2 then produces.
    """

    def __init__(self, verbose: bool = False, *, input_size: int = 32, conv1_padding: int = 0):
        super().__init__()
        checks.flag("verbose", verbose)
        input_size = checks.integer("input_size", input_size, at_least=1)
        conv1_padding = checks.integer("conv1_padding", conv1_padding, at_least=0)
        _check_lenet_fits(input_size, conv1_padding)
        self.input_size = input_size
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=conv1_padding)
        self.pool1 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.MaxPool2d(kernel_size=2, stride=2)
        self.verbose = False  # measure fc1's width with one quiet pass through the layers above
        with torch.no_grad():
            flat = self.features(torch.zeros(1, 1, input_size, input_size)).numel()
        self.verbose = verbose
        self.fc1 = nn.Linear(flat, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def features(self, x: Tensor) -> Tensor:
        """conv1 -> ReLU -> pool1 -> conv2 -> ReLU -> pool2: everything before the flattening."""
        x = self._report("output of conv1", F.relu(self.conv1(x)))
        x = self._report("output of pool1", self.pool1(x))
        x = self._report("output of conv2", F.relu(self.conv2(x)))
        return self._report("output of pool2", self.pool2(x))

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        x = self._report("flattened response", torch.flatten(self.features(x), 1))
        x = self._report("output of fc1", F.relu(self.fc1(x)))
        x = self._report("output of fc2", F.relu(self.fc2(x)))
        return self._report("output of fc3", self.fc3(x))

    def _report(self, what: str, x: Tensor) -> Tensor:
        if self.verbose:
            print("Size of " + what + ": " + str(x.size()))
        return x

    def _check_input(self, x: object) -> None:
        side = self.input_size
        if isinstance(x, Tensor) and x.dim() == 4 and tuple(x.shape[1:]) == (1, side, side):
            weight = self.conv1.weight
            if x.dtype != weight.dtype:
                how = "x.float() / 255" if not x.is_floating_point() else f"x.to({weight.dtype})"
                raise ValueError(
                    f"LeNet's weights are {weight.dtype} but the batch is {x.dtype}: convert "
                    f"it with {how}"
                )
            checks.same_device(self, "the batch", x)
            return
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        hint = ""
        if side == 32 and isinstance(x, Tensor) and tuple(x.shape[-2:]) == (28, 28):
            hint = " (MNIST digits are 28x28: pad them to 32x32 first, see notebook 05)"
        raise ValueError(f"LeNet expects a batch of shape (N, 1, {side}, {side}), got {got}{hint}")


def _check_lenet_fits(input_size: int, conv1_padding: int) -> None:
    """Refuse an input side for which a layer of the lecture's network has no output."""
    steps = [("conv1", 5, 1, conv1_padding), ("pool1", 2, 2, 0), ("conv2", 5, 1, 0)]
    steps.append(("pool2", 2, 2, 0))

    def fits(side: int) -> str | None:
        for name, kernel, stride, padding in steps:
            if side + 2 * padding < kernel:
                return f"{name} gets {side}x{side} maps, smaller than its {kernel}x{kernel} window"
            side = (side + 2 * padding - kernel) // stride + 1
        return None

    problem = fits(input_size)
    if problem:
        smallest = next(n for n in range(1, 64) if fits(n) is None)
        raise ValueError(
            f"input_size={input_size} is too small for LeNet with conv1_padding="
            f"{conv1_padding}: {problem}; the smallest input_size that works is {smallest}"
        )
    weights = _fc1_weights(input_size + 2 * conv1_padding)
    if weights > LARGEST_FC1:
        largest = next(n for n in range(input_size, 0, -1) if _fc1_weights(n) <= LARGEST_FC1)
        raise ValueError(
            f"input_size={input_size} would give fc1 {weights:,} weights: LeNet is a network "
            f"for small images, and builds for an input_size up to {largest - 2 * conv1_padding}"
        )


LARGEST_FC1 = 2**26  # weights: 256 MB of float32


def _fc1_weights(side: int) -> int:
    """fc1's weights for a padded input side: conv1, pool1, conv2, pool2, then 16 maps."""
    pooled = ((side - 4) // 2 - 4) // 2
    return 16 * pooled**2 * 120


# --- 03 feed-forward: the output-size rule, sizes traced with hooks, and a table ---------


def conv_output_size(
    size: int,
    kernel_size: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    *,
    pooling: bool = False,
) -> int:
    """Output length of a convolution or pooling layer along one axis (introduced in 03).

    out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1,
    the rule PyTorch documents for ``nn.Conv2d`` and ``nn.MaxPool2d`` (ceil_mode=False).
    Raises ``ValueError`` when the kernel does not fit in the padded input, and, with
    ``pooling=True``, when the padding is more than half the window, which PyTorch's pooling
    layers refuse.
    """
    named = {"size": size, "kernel_size": kernel_size, "stride": stride, "padding": padding}
    named["dilation"] = dilation
    for name, value in named.items():
        if isinstance(value, tuple | list | torch.Size):
            raise TypeError(
                f"{name} must be one whole number, got {checks.describe(value)} {tuple(value)}: "
                "the rule works on one axis at a time, so call it once per side"
            )
        named[name] = checks.integer(name, value, at_least=0 if name == "padding" else 1)
    checks.flag("pooling", pooling)
    size, kernel_size, stride, padding, dilation = named.values()
    if pooling and padding > kernel_size // 2:
        raise ValueError(
            f"pooling pads at most half its window: padding={padding} is more than half of "
            f"kernel_size={kernel_size}"
        )
    out = (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1
    if out < 1:
        raise ValueError(
            f"no output: the kernel spans {dilation * (kernel_size - 1) + 1} pixels but the "
            f"padded input is only {size + 2 * padding} ({size=}, {padding=})"
        )
    return out


@dataclass(frozen=True)
class LayerTrace:
    """One call of a leaf layer in a forward pass: its name, the layer, the shapes of its first
    input and first output, and (when asked for) a copy of that output. ``output_shapes`` has
    every tensor the layer returned (two for max pooling with ``return_indices=True`` or an
    LSTM cell); ``call`` counts the calls of this layer, from 1, when one is used again."""

    name: str
    layer: nn.Module
    input_shape: torch.Size
    output_shape: torch.Size
    output: Tensor | None = field(default=None, repr=False, compare=False)
    output_shapes: tuple[torch.Size, ...] = ()
    call: int = 1


def trace_shapes(model: nn.Module, x: Tensor, *, keep_outputs: bool = False) -> list[LayerTrace]:
    """Run ``model`` once on ``x`` and record every call of a leaf layer (03 to 06).

    The shapes come from forward hooks, so ``forward`` needs no print statements; the hooks
    are removed afterwards, also when the forward pass raises. The model runs on a copy of
    ``x``, in eval mode and without gradients; its train/eval mode, parameters, buffers (such
    as BatchNorm's running statistics) and torch's random state are restored afterwards, so
    tracing leaves the model as it was. With ``keep_outputs`` each record also holds a copy
    of the layer's output, computed with the model's current weights.
    """
    checks.module("model", model)
    checks.tensor("x", x)
    checks.flag("keep_outputs", keep_outputs)
    checks.same_device(model, "x", x)
    records: list[LayerTrace] = []
    calls: dict[str, int] = {}

    def record(name: str):
        def hook(layer: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            given, made = tensors_in(inputs), tensors_in(output)
            calls[name] = calls.get(name, 0) + 1
            first = made[0] if made else None
            kept = first.clone() if keep_outputs and first is not None else None
            shapes = tuple(t.shape for t in made)
            in_shape = given[0].shape if given else torch.Size()
            out_shape = first.shape if first is not None else torch.Size()
            records.append(LayerTrace(name, layer, in_shape, out_shape, kept, shapes, calls[name]))

        return hook

    handles = [m.register_forward_hook(record(n)) for n, m in leaves(model)]
    try:
        with untouched(model):
            model(x.clone())  # a copy: a layer that works in place must not change x
    finally:
        for handle in handles:
            handle.remove()
    return records


SIZE_COLUMNS = ["layer", "type", "settings", "input", "rule", "actual", "agrees"]


def size_rule_table(model: nn.Module, x: Tensor) -> Table:
    """Per-layer sizes of one forward pass, next to what the output-size rule predicts (03, 05).

    ``x`` is a batch: its first dimension, and each layer's, is left out of the sizes. For
    convolution and pooling layers the rule (:func:`conv_output_size`) is applied to the
    layer's own settings and input; a linear layer's prediction is ``out_features``. Column
    ``agrees`` says whether the prediction matches the size the layer really produced (for a
    layer that returns several tensors, its first: max pooling's values before its indices).
    A layer called more than once has one row per call, marked "(call 2 of 3)". The model is
    run as :func:`trace_shapes` runs it, and left as it was.
    """
    rows = []
    trace = trace_shapes(model, x)
    for step, label in zip(trace, call_labels(trace), strict=True):
        layer, actual = step.layer, tuple(step.output_shape[1:])
        settings, predicted = "", None
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d) and step.input_shape:
            settings, predicted = _rule_for_window(layer, step.input_shape)
        elif isinstance(layer, nn.Linear):
            settings = f"{layer.in_features} -> {layer.out_features}"
            predicted = (layer.out_features,)
        rule = None if predicted is None else _dims(predicted)
        agrees = None if predicted is None else predicted == actual
        shown = ", ".join(_dims(shape[1:]) for shape in step.output_shapes) or None
        row = [label, type(layer).__name__, settings, _dims(step.input_shape[1:])]
        rows.append(dict(zip(SIZE_COLUMNS, [*row, rule, shown, agrees], strict=True)))
    return Table(SIZE_COLUMNS, rows)


def call_labels(trace: Sequence[LayerTrace]) -> list[str]:
    """Each step's layer name, with "(call k of n)" added for a layer called n > 1 times."""
    total: dict[str, int] = {}
    for step in trace:
        total[step.name] = max(total.get(step.name, 0), step.call)
    return [
        step.name
        if total[step.name] == 1
        else f"{step.name} (call {step.call} of {total[step.name]})"
        for step in trace
    ]


def _rule_for_window(layer: nn.Module, input_shape: torch.Size) -> tuple[str, tuple | None]:
    """A convolution's or pooling layer's settings, and the (C, H, W) the rule predicts."""
    channels = layer.out_channels if isinstance(layer, nn.Conv2d) else input_shape[-3]
    k, s = _pair(layer.kernel_size), _pair(layer.stride or layer.kernel_size)
    d = _pair(getattr(layer, "dilation", 1))
    h, w = input_shape[-2:]
    p = (0, 0) if layer.padding in ("same", "valid") else _pair(layer.padding)
    shown = layer.padding if isinstance(layer.padding, str) else _short(p)
    settings = f"k={_short(k)} s={_short(s)} p={shown} d={_short(d)}"
    if layer.padding == "same":  # Conv2d(padding="same") pads so that the size is kept
        return settings, (channels, h, w)
    if getattr(layer, "ceil_mode", False):
        return settings + " ceil", None  # the rule above rounds down; ceil_mode rounds up
    pooling = not isinstance(layer, nn.Conv2d)
    sides = [
        conv_output_size(n, k[i], s[i], p[i], d[i], pooling=pooling) for i, n in enumerate((h, w))
    ]
    return settings, (channels, *sides)


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _short(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape) if len(shape) else "scalar"


# --- 04 trainable parameters -------------------------------------------------------------


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Total number of parameter values, by ``numel()`` (introduced in 04).

    With ``trainable_only`` (the default), parameters with ``requires_grad=False`` are left
    out. A tensor shared by two layers (tied weights) is counted once. Buffers (fixed tensors
    such as LeNet-5's RBF codes, or BatchNorm's running statistics) are never counted.
    """
    checks.module("model", model)
    checks.flag("trainable_only", trainable_only)
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


PARAMETER_COLUMNS = ["layer", "tensors", "formula", "by formula", "numel", "trainable", "agrees"]


def parameter_table(model: nn.Module) -> Table:
    """Each layer's parameters, counted by formula and by ``numel()`` (introduced in 04).

    Formula for ``nn.Conv2d``: (C_in/groups * kH * kW + 1) * C_out (the +1 is the bias);
    for ``nn.Linear``: (in + 1) * out. Other layers show their ``numel()`` only. Column
    ``trainable`` counts the values with ``requires_grad=True``. A tensor that two layers
    share (tied weights) is counted once, in the row of the first, and named in the second's
    ``tensors``. The last row is the total over the model, as :func:`count_parameters`
    (``trainable_only=False``) counts it.
    """
    checks.module("model", model)
    rows, notes, first_seen = [], [], {}
    for name, layer in model.named_modules():
        own = [(n, p) for n, p in layer.named_parameters(recurse=False) if p is not None]
        if not own:
            continue
        bias = 1 if isinstance(getattr(layer, "bias", None), Tensor) else 0
        plus = " + 1" if bias else ""
        formula, by_formula = None, None
        if isinstance(layer, nn.Conv2d):
            c_in, (kh, kw) = layer.in_channels // layer.groups, layer.kernel_size
            formula = f"({c_in}·{kh}·{kw}{plus})·{layer.out_channels}"
            by_formula = (c_in * kh * kw + bias) * layer.out_channels
        elif isinstance(layer, nn.Linear):
            formula = f"({layer.in_features}{plus})·{layer.out_features}"
            by_formula = (layer.in_features + bias) * layer.out_features
        tensors, new = [], []
        for tensor_name, p in own:
            full = f"{name}.{tensor_name}" if name else tensor_name
            if id(p) in first_seen:
                tensors.append(f"{_dims(p.shape)} (= {first_seen[id(p)]})")
                notes.append(f"{full} is {first_seen[id(p)]}, the same tensor: counted once")
            else:
                first_seen[id(p)] = full
                tensors.append(_dims(p.shape))
                new.append(p)
        rows.append(
            {
                "layer": name or type(model).__name__,
                "tensors": ", ".join(tensors),
                "formula": formula,
                "by formula": by_formula,
                "numel": sum(p.numel() for p in new),
                "trainable": sum(p.numel() for p in new if p.requires_grad),
                "agrees": None
                if by_formula is None
                else by_formula == sum(p.numel() for _, p in own),
            }
        )
    total = {"layer": "total", "numel": sum(r["numel"] for r in rows)}
    rows.append(total | {"trainable": sum(r["trainable"] for r in rows)})
    return Table(PARAMETER_COLUMNS, rows, notes=notes)
