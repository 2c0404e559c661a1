"""Pictures drawn from a real forward pass: the network's volumes (02, 05, 06), and digits,
kernels, feature maps and the confusion matrix of a trained network (07).

matplotlib is imported inside each function, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch.nn as nn
from torch import Tensor

from lenet_extras import figure_checks
from lenet_extras.layer_table import trace_example
from lenet_helpers import LayerTrace, LeNet, trace_shapes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# draw_lenet's geometry, in data units: a (C, H, W) volume is a stack of C sheets, one per
# map (MAX_SHEETS at most), each sheet's face growing with H and W; a flat vector is a bar
# whose height grows with the logarithm of its length.
FACE_MIN, FACE_GROWTH = 0.4, 1.6  # face side = FACE_MIN + FACE_GROWTH * side / largest side
FACE_ASPECT = 0.55  # faces are drawn narrower than tall, so wide networks fit the page
SHEET_STEP, MAX_SHEETS = (0.036, 0.026), 16  # each further sheet, up and to the right
BAR_WIDTH, BAR_MIN, BAR_GROWTH, BAR_REFERENCE = 0.14, 0.3, 1.7, 400
GAP = 0.5  # between two stages
MAX_WIDTH = 8.4  # inches: 672 px at 80 dpi, narrower than the notebook's column
LEGEND = (
    f"Each stack is a layer's feature maps, one sheet per map ({MAX_SHEETS} at most drawn): "
    "1, 6 and 16 maps make stacks of 1, 6 and 16 sheets. A sheet grows with its map (square maps "
    "drawn narrower than tall); a bar's height grows with log(number of values). Labels give "
    "exact sizes."
)


def draw_lenet(
    model: nn.Module | None = None,
    input_shape: Sequence[int] = (1, 32, 32),
    *,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Draw the feature volumes of a network, from a real forward pass (introduced in 02).

    Every stage is traced with :func:`trace_shapes`, so the picture cannot disagree with
    the code: a stack of sheets per (C, H, W) volume, one sheet per map, and a bar per flat
    vector, labelled with the layer's name and size; below, a legend says how to read them
    (only in a figure of its own, not in given ``ax``). ``input_shape`` is (C, H, W) without
    the batch dimension. With no model, the lecture's LeNet for that input side is drawn.
    Each volume's front sheet (or bar) carries ``gid="volume:<stage name>"``, the sheets
    behind it ``gid="sheet:<stage name>"``. The model is run as :func:`trace_shapes` runs it,
    and left as it was.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    shape = figure_checks.network_drawing(model, input_shape, title)
    if model is None:
        model = LeNet(input_size=shape[1])
    stages = _stages(trace_example(model, shape), shape)

    fig, own_figure = (ax.get_figure(), False) if ax is not None else (None, True)
    if ax is None:
        fig, ax = plt.subplots(dpi=80)
    largest = max(size[1] for _, size in stages if len(size) == 3)
    x = 0.0
    for name, size in stages:
        if len(size) == 3:
            c, h, w = size
            face_h = FACE_MIN + FACE_GROWTH * h / largest
            face_w = (FACE_MIN + FACE_GROWTH * w / largest) * FACE_ASPECT
            sheets = min(c, MAX_SHEETS)
            for k in reversed(range(sheets)):  # back to front: the first map's sheet in front
                shape_patch = Rectangle(
                    (x + k * SHEET_STEP[0], -face_h / 2 + k * SHEET_STEP[1]), face_w, face_h,
                    facecolor="#deebf7", edgecolor="#31688e", lw=0.8,
                )  # fmt: skip
                if k:
                    shape_patch.set_gid(f"sheet:{name}")
                    ax.add_patch(shape_patch)
            label, width = f"{c}×{h}×{w}", face_w + (sheets - 1) * SHEET_STEP[0]
        else:
            (n,) = size
            bar_h = BAR_MIN + BAR_GROWTH * math.log10(n) / math.log10(BAR_REFERENCE)
            shape_patch = Rectangle(
                (x, -bar_h / 2), BAR_WIDTH, bar_h, facecolor="#fdd0a2", edgecolor="#a63603"
            )
            label, width = f"{n}", BAR_WIDTH
        shape_patch.set_gid(f"volume:{name}")
        ax.add_patch(shape_patch)
        centre = x + width / 2
        ax.text(centre, 1.45, name, ha="center", va="bottom", fontsize=9, fontweight="bold")
        ax.text(centre, -1.45, label, ha="center", va="top", fontsize=9, gid="size-label")
        x += width + GAP
    ax.set_xlim(-0.3, x - 0.25)
    ax.set_ylim(-1.9, 1.9)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"{type(model).__name__} on a {'×'.join(map(str, shape))} input")
    if own_figure:
        fig.set_size_inches(min(0.95 * (x + 0.2), MAX_WIDTH - 0.3) + 0.3, 3.7)
        fig.text(0.5, 0.01, LEGEND, ha="center", va="bottom", fontsize=9, wrap=True)
        fig.tight_layout(pad=0.2, rect=(0, 0.12, 1, 1))
    return fig


def _stages(trace: list[LayerTrace], input_shape: tuple[int, ...]) -> list[tuple[str, tuple]]:
    """Input, each layer that changes the data, and a 'flatten' step where one is implied."""
    stages: list[tuple[str, tuple]] = [("input", input_shape)]
    for step in trace:
        keeps_size = step.output_shape == step.input_shape
        if keeps_size and next(step.layer.parameters(), None) is None:
            continue  # an activation module: nothing new to draw
        if step.input_shape[1:] != stages[-1][1]:
            stages.append(("flatten", tuple(step.input_shape[1:])))
        stages.append((step.name, tuple(step.output_shape[1:])))
    return stages


def show_images(
    images: Tensor, titles: Sequence[str] | None = None, *, columns: int = 8, title: str = ""
) -> Figure:
    """A grid of single-channel images, dark ink on white, each with an optional caption (07)."""
    import matplotlib.pyplot as plt

    figure_checks.image_grid(images, titles, columns)

    inches = 1.1  # per image
    rows = max(1, math.ceil(len(images) / columns))
    height = rows * inches * 1.15 + (0.3 if title else 0)
    fig, axes = plt.subplots(rows, columns, figsize=(columns * inches, height), dpi=80)
    for i, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if i < len(images):
            ax.imshow(images[i].detach().reshape(images[i].shape[-2:]).numpy(), cmap="gray_r")
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def show_kernels(kernels: dict[str, Tensor], *, outputs: int | None = None) -> Figure:
    """Convolution kernels, one labelled block per entry (07).

    In each block a column is one kernel (one output map) and a row is its slice for one
    input map. ``outputs`` keeps only the first kernels. All kernels of a block share one
    colour scale centred on zero (blue negative, red positive), shown by its colour bar,
    whose numbers carry their sign, for readers who do not tell the two colours apart.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    signed = FuncFormatter(lambda v, _: "0" if v == 0 else f"{v:+.2g}".replace("-", "−"))

    figure_checks.kernel_blocks(kernels, outputs)
    blocks = {name: w.detach()[:outputs] for name, w in kernels.items()}
    columns = max(w.shape[0] for w in blocks.values())
    rows = [w.shape[1] for w in blocks.values()]
    inches = min(0.9, 6.0 / columns)  # per kernel
    size = (columns * inches + 1.6, sum(r * inches + 0.7 for r in rows))
    fig = plt.figure(figsize=size, dpi=80, layout="constrained")
    subfigures = fig.subfigures(len(blocks), 1, height_ratios=[r + 0.8 for r in rows])
    for sub, (name, w) in zip(np.atleast_1d(subfigures), blocks.items(), strict=True):
        limit = w.abs().max().item() or 1.0
        axes = sub.subplots(w.shape[1], columns, squeeze=False)
        for (i, o), ax in np.ndenumerate(axes):
            ax.set_xticks([])
            ax.set_yticks([])
            if o < w.shape[0]:
                image = ax.imshow(w[o, i].numpy(), cmap="RdBu_r", vmin=-limit, vmax=limit)
            if i == 0:
                ax.set_title(f"kernel {o}", fontsize=8)
            if o == 0 and w.shape[1] > 1:
                ax.set_ylabel(f"input {i}", fontsize=8)
        sub.colorbar(image, ax=axes, shrink=0.9, label="weight", format=signed)
        sub.suptitle(name, fontsize=10)
    return fig


def show_feature_maps(
    model: nn.Module,
    image: Tensor,
    layers: Sequence[str] = ("conv1", "pool1", "conv2", "pool2"),
    *,
    per_row: int = 8,
) -> Figure:
    """The maps one (1, H, W) image produces at the named layers, from one trace (07).

    Each layer starts a row titled with its traced size; a layer with more than ``per_row``
    maps continues on the next rows. Every map is drawn large enough to show its pixels (one
    inch at 80 dpi), on its own grey scale, from its lowest value (black) to its highest
    (white), so maps can be compared in pattern but not in strength. Layers are shown as they
    output their maps: a convolution before the ReLU that ``forward`` applies after it. The
    model is run as :func:`trace_shapes` runs it, and left as it was.
    """
    import matplotlib.pyplot as plt

    figure_checks.feature_maps(model, image, layers)
    trace = {t.name: t for t in trace_shapes(model, image.unsqueeze(0), keep_outputs=True)}
    figure_checks.map_layers(trace, layers)
    maps = {name: trace[name].output[0] for name in layers}
    rows = [(name, i) for name in layers for i in range(0, len(maps[name]), per_row)]
    width = min(per_row, max(len(m) for m in maps.values()))
    fig, axes = plt.subplots(
        len(rows), width, figsize=(width * 1.02, len(rows) * 1.3 + 0.2), dpi=80, squeeze=False
    )
    for (name, first), row in zip(rows, axes, strict=True):
        for col, ax in enumerate(row):
            ax.axis("off")
            if first + col < len(maps[name]):
                ax.imshow(maps[name][first + col].numpy(), cmap="gray", interpolation="nearest")
        if first == 0:
            size = "×".join(str(s) for s in trace[name].output_shape[1:])
            row[0].set_title(f"{name}: {size}", fontsize=9, loc="left")
    fig.suptitle(
        "each map on its own grey scale: black its lowest value, white its highest", fontsize=9
    )
    fig.tight_layout(h_pad=0.6, w_pad=0.4)
    return fig


def show_confusion_matrix(counts: Tensor) -> Figure:
    """Counts[i, j] of test digits of class i predicted as j, with every number written out (07).

    The colour grows with the logarithm of the count, so that the few mistakes are visible
    next to the thousand correct answers of each class; the colour bar is labelled in counts.
    """
    import matplotlib.pyplot as plt

    figure_checks.count_table(counts)
    values = counts.numpy()
    fig, ax = plt.subplots(figsize=(5.4, 4.6), dpi=80)
    image = ax.imshow(np.log10(values + 1), cmap="cividis")
    darkest = np.log10(values.max() + 1) / 2
    for (i, j), n in np.ndenumerate(values):
        colour = "white" if np.log10(n + 1) < darkest else "black"
        ax.text(j, i, n, ha="center", va="center", fontsize=8, color=colour)
    ticks = [0, 1, 10, 100, 1000]
    bar = fig.colorbar(image, ax=ax, ticks=np.log10(np.array(ticks) + 1))
    bar.ax.set_yticklabels([str(t) for t in ticks])
    bar.set_label("test digits (logarithmic colour scale)")
    ax.set(xlabel="predicted class", ylabel="true class", xticks=range(10), yticks=range(10))
    ax.set_title("Which digit is taken for which", fontsize=10)
    fig.tight_layout()
    return fig
