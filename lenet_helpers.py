"""The lecture's pieces, behind notebooks 01 to 04 of the Lecture 28 companion.

In the order a learner meets them: showing an error on purpose (01), the lecture's LeNet
(02), the output-size rule and sizes traced with hooks (03), and parameter counts (04).
Everything past the lecture (LeNet-5, MNIST, training, drawing, exercises) lives in the
package `lenet_extras` beside this file. Importing this module changes no global setting.
"""

from __future__ import annotations

import contextlib
import inspect
import operator
import textwrap
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

# --- 01 imports: showing an error on purpose, and a helper's code ---------------------------------


@contextlib.contextmanager
def expect_error(*expected: type[BaseException]) -> Iterator[None]:
    """Run a block that should fail, and print the error's type and message in one line.

    If the block does *not* raise, an ``AssertionError`` says so.
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
            return
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        hint = ""
        if side == 32 and isinstance(x, Tensor) and tuple(x.shape[-2:]) == (28, 28):
            hint = " (MNIST digits are 28x28: pad them to 32x32 first, see notebook 05)"
        raise ValueError(f"LeNet expects a batch of shape (N, 1, {side}, {side}), got {got}{hint}")


# --- 03 feed-forward: the output-size rule, sizes traced with hooks, and a table ---------


def conv_output_size(
    size: int, kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> int:
    """Output length of a convolution or pooling layer along one axis (introduced in 03).

    out = floor((size + 2*padding - dilation*(kernel_size - 1) - 1) / stride) + 1,
    the rule PyTorch documents for ``nn.Conv2d`` and ``nn.MaxPool2d`` (ceil_mode=False).
    Raises ``ValueError`` when the kernel does not fit in the padded input.
    """
    size, kernel_size, stride, padding, dilation = map(
        operator.index, (size, kernel_size, stride, padding, dilation)
    )
    if min(size, kernel_size, stride, dilation) < 1 or padding < 0:
        raise ValueError(
            "size, kernel_size, stride and dilation must be at least 1 and padding at least 0, "
            f"got {size=}, {kernel_size=}, {stride=}, {padding=}, {dilation=}"
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
    """One leaf layer's call in a forward pass: its name, the layer, and the shapes
    (and the output itself, when asked for)."""

    name: str
    layer: nn.Module
    input_shape: torch.Size
    output_shape: torch.Size
    output: Tensor | None = field(default=None, repr=False, compare=False)


def trace_shapes(model: nn.Module, x: Tensor, *, keep_outputs: bool = False) -> list[LayerTrace]:
    """Run ``model(x)`` once and record every leaf layer's input and output shape (03 to 06).

    The shapes come from forward hooks, so ``forward`` needs no print statements. The hooks
    are removed afterwards, also when the forward pass raises. No gradients are recorded and
    the model's train/eval mode is left as it was. With ``keep_outputs`` each record also
    holds the layer's output tensor.
    """
    records: list[LayerTrace] = []

    def record(name: str):
        def hook(layer: nn.Module, inputs: tuple[Any, ...], output: Any) -> None:
            first = inputs[0] if inputs and isinstance(inputs[0], Tensor) else None
            in_shape = first.shape if first is not None else torch.Size()
            out_shape = output.shape if isinstance(output, Tensor) else torch.Size()
            kept = output if keep_outputs and isinstance(output, Tensor) else None
            records.append(LayerTrace(name, layer, in_shape, out_shape, kept))

        return hook

    leaves = [(n, m) for n, m in model.named_modules() if next(m.children(), None) is None]
    handles = [m.register_forward_hook(record(n or type(m).__name__)) for n, m in leaves]
    try:
        with torch.no_grad():
            model(x)
    finally:
        for handle in handles:
            handle.remove()
    return records


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

    def __repr__(self) -> str:
        columns = self.columns
        cells = [[_cell_text(row.get(c)) for c in columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        numeric = [all(_is_number(v) for v in self.column(c) if v is not None) for c in columns]

        def line(values: Sequence[str]) -> str:
            aligned = zip(values, widths, numeric, strict=True)
            return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in aligned).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.columns), rule, *(line(r) for r in cells)])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


SIZE_COLUMNS = ["layer", "type", "settings", "input", "rule", "actual", "agrees"]


def size_rule_table(model: nn.Module, x: Tensor) -> Table:
    """Per-layer sizes of one forward pass, next to what the output-size rule predicts (03, 05).

    For convolution and pooling layers the rule (:func:`conv_output_size`) is applied to the
    layer's own settings and input; a linear layer's prediction is ``out_features``. Column
    ``agrees`` says whether the prediction matches the size the layer really produced.
    """
    rows = []
    for step in trace_shapes(model, x):
        layer, actual = step.layer, tuple(step.output_shape[1:])
        settings, predicted = "", None
        if isinstance(layer, nn.Conv2d | nn.MaxPool2d | nn.AvgPool2d):
            settings, predicted = _rule_for_window(layer, step.input_shape)
        elif isinstance(layer, nn.Linear):
            settings = f"{layer.in_features} -> {layer.out_features}"
            predicted = (layer.out_features,)
        rule = None if predicted is None else _dims(predicted)
        agrees = None if predicted is None else predicted == actual
        row = [step.name, type(layer).__name__, settings, _dims(step.input_shape[1:])]
        rows.append(dict(zip(SIZE_COLUMNS, [*row, rule, _dims(actual), agrees], strict=True)))
    return Table(SIZE_COLUMNS, rows)


def _rule_for_window(layer: nn.Module, input_shape: torch.Size) -> tuple[str, tuple | None]:
    """A convolution's or pooling layer's settings, and the (C, H, W) the rule predicts."""
    channels = layer.out_channels if isinstance(layer, nn.Conv2d) else input_shape[1]
    k, s = _pair(layer.kernel_size), _pair(layer.stride or layer.kernel_size)
    d = _pair(getattr(layer, "dilation", 1))
    h, w = input_shape[2:]
    p = (0, 0) if layer.padding in ("same", "valid") else _pair(layer.padding)
    shown = layer.padding if isinstance(layer.padding, str) else _short(p)
    settings = f"k={_short(k)} s={_short(s)} p={shown} d={_short(d)}"
    if layer.padding == "same":  # Conv2d(padding="same") pads so that the size is kept
        return settings, (channels, h, w)
    if getattr(layer, "ceil_mode", False):
        return settings + " ceil", None  # the rule above rounds down; ceil_mode rounds up
    sides = [conv_output_size(n, k[i], s[i], p[i], d[i]) for i, n in enumerate((h, w))]
    return settings, (channels, *sides)


def _pair(value: int | Sequence[int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _short(pair: tuple[int, int]) -> str:
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def _dims(shape: Sequence[int]) -> str:
    return "×".join(str(int(s)) for s in shape)


# --- 04 trainable parameters -------------------------------------------------------------


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Total number of parameter values, by ``numel()`` (introduced in 04).

    With ``trainable_only`` (the default), parameters with ``requires_grad=False`` are left
    out. Buffers (fixed tensors such as LeNet-5's RBF codes) are never counted.
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
        plus = " + 1" if bias else ""
        formula, by_formula = None, None
        if isinstance(layer, nn.Conv2d):
            c_in, (kh, kw) = layer.in_channels // layer.groups, layer.kernel_size
            formula = f"({c_in}·{kh}·{kw}{plus})·{layer.out_channels}"
            by_formula = (c_in * kh * kw + bias) * layer.out_channels
        elif isinstance(layer, nn.Linear):
            formula = f"({layer.in_features}{plus})·{layer.out_features}"
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
    rows.append({"layer": "total", "numel": sum(r["numel"] for r in rows)})
    return Table(["layer", "tensors", "formula", "by formula", "numel", "agrees"], rows)
