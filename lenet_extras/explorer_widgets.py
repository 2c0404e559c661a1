"""Controls for the size explorer (introduced in 03): standard ipywidgets, nothing custom.

Every change of a control calls :func:`lenet_extras.explorer.lenet_sizes` (or
:func:`~lenet_extras.explorer.model_sizes`) again and shows the table it returns: the
widgets hold no rule of their own. Only standard controls are used, so the explorer renders
in JupyterLab (also on Binder) and on Colab alike.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as widgets
import torch.nn as nn

from lenet_extras.explorer import LECTURE_SETTINGS, SizeTable, lenet_sizes, model_sizes

__all__ = ["Explorer", "explore", "lenet_explorer"]

HOW_TO_PLAY = (
    "Run this cell in JupyterLab (also on Binder) or on Colab to get the controls "
    "that change these settings."
)
_RANGES = {"kernel": (1, 15), "stride": (1, 8), "padding": (0, 8), "dilation": (1, 5)}


class Explorer(widgets.VBox):
    """The explorer's controls and table. Where widgets cannot be shown (a plain viewer, a
    static page), the stored text is the table for the settings it was shown with, and a
    sentence on how to get the controls."""

    def __init__(self, children: Sequence[widgets.Widget], table: widgets.HTML) -> None:
        super().__init__(children)
        self.table = table
        self.text = ""  # the current table as plain text

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any] | None:
        # ipywidgets 8 displays a widget through this; ipywidgets 7 (Colab's) has no such
        # method and displays it through _ipython_display_, which IPython asks for first.
        parent = getattr(super(), "_repr_mimebundle_", None)
        bundle = parent(**kwargs) if parent is not None else None
        if bundle is not None:
            bundle["text/plain"] = f"{self.text}\n\n{HOW_TO_PLAY}"
            bundle["text/html"] = f"{self.table.value}<p>{html.escape(HOW_TO_PLAY)}</p>"
        return bundle


def _as_html(text: str) -> str:
    """The table in a <pre> block, changed rows in bold."""
    lines = [
        f"<b>{html.escape(line)}</b>" if line.endswith("changed") else html.escape(line)
        for line in text.splitlines()
    ]
    return "<pre>" + "\n".join(lines) + "</pre>"


def _wire(
    controls: dict[str, widgets.ValueWidget],
    rows: Callable[..., SizeTable],
    layout: Sequence[widgets.Widget],
) -> Explorer:
    """Show rows(**values of controls) now and after every change of a control."""
    table = widgets.HTML()
    table.add_class("lenet-sizes")
    explorer = Explorer([*layout, table], table)

    def update(_change: object = None) -> None:
        try:
            text = repr(rows(**{name: c.value for name, c in controls.items()}))
        except (TypeError, ValueError) as error:  # a setting the model cannot take
            text = str(error)
        explorer.text = text
        table.value = _as_html(text)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return explorer


def lenet_explorer(**settings: int) -> Explorer:
    """Controls for the input side and for the kernel size, stride, padding (and dilation) of
    conv1, pool1, conv2 and pool2, with the table of :func:`lenet_sizes` under them (03).

    Keywords set the starting values (the lecture's by default), as for ``lenet_sizes``.
    """
    start = LECTURE_SETTINGS | settings
    lenet_sizes(**start)  # refuse bad starting values here, with lenet_sizes' message
    controls: dict[str, widgets.ValueWidget] = {
        "input_size": widgets.IntSlider(
            start["input_size"], min=4, max=64, description="input side",
            style={"description_width": "initial"},
        )
    }  # fmt: skip
    rows = [controls["input_size"]]
    for layer in ("conv1", "pool1", "conv2", "pool2"):
        boxes = []
        for key, (low, high) in _RANGES.items():
            name = f"{layer}_{key}"
            if name in start:
                box = widgets.BoundedIntText(
                    start[name], min=low, max=max(high, start[name]), description=key,
                    style={"description_width": "initial"}, layout={"width": "125px"},
                )  # fmt: skip
                box.add_class(f"lenet-{name}")
                controls[name] = box
                boxes.append(box)
        label = widgets.Label(layer, layout={"width": "50px"})
        rows.append(widgets.HBox([label, *boxes]))
    controls["input_size"].add_class("lenet-input_size")
    explorer = _wire(controls, lenet_sizes, rows)
    explorer.add_class("lenet-explorer")
    return explorer


def explore(model: nn.Module, input_shape: Sequence[int]) -> Explorer:
    """Each layer's output shape and parameter count for your own model, with a slider for
    every input dimension after the channels (03). See :func:`model_sizes`.

    Bad input is refused at once: not a module, or a first input shape the model cannot take
    (the error names the layer). Later, a shape the model refuses shows that message instead
    of the table.
    """
    model_sizes(model, input_shape)
    shape = tuple(input_shape)
    names = {2: ["length"], 3: ["height", "width"]}.get(len(shape))
    dims = list(range(1, len(shape))) or [0]
    names = names or [f"size {d}" for d in dims]
    controls = {
        str(d): widgets.IntSlider(
            shape[d], min=1, max=max(64, 2 * shape[d]), description=name,
            style={"description_width": "initial"},
        )
        for d, name in zip(dims, names, strict=True)
    }  # fmt: skip

    def rows(**values: int) -> SizeTable:
        chosen = list(shape)
        for d, value in values.items():
            chosen[int(d)] = value
        return model_sizes(model, tuple(chosen))

    return _wire(controls, rows, list(controls.values()))
