"""The explorer's controls: moving one shows the rows PyTorch gives for the new settings."""

from __future__ import annotations

import ipywidgets as widgets
import pytest
import torch
import torch.nn as nn

from lenet_extras.explorer import LECTURE_SETTINGS, lenet_sizes, model_sizes
from lenet_extras.explorer_widgets import HOW_TO_PLAY, explore, lenet_explorer
from lenet_helpers import LeNet, count_parameters


def control(explorer, name: str):
    """The control carrying the CSS class lenet-<name> (also how the browser test finds it)."""
    stack = list(explorer.children)
    while stack:
        widget = stack.pop()
        if f"lenet-{name}" in widget._dom_classes:
            return widget
        stack += list(getattr(widget, "children", ()))
    raise LookupError(name)


def test_every_setting_has_a_control_starting_at_the_lecture():
    explorer = lenet_explorer()
    assert {name: control(explorer, name).value for name in LECTURE_SETTINGS} == LECTURE_SETTINGS
    assert explorer.text == repr(lenet_sizes())


def test_moving_controls_shows_what_pytorch_gives():
    explorer = lenet_explorer()
    control(explorer, "input_size").value = 28
    control(explorer, "conv1_padding").value = 2
    net = LeNet(input_size=28, conv1_padding=2)
    table = lenet_sizes(input_size=28, conv1_padding=2)
    assert (table.flatten, table.total) == (net.fc1.in_features, count_parameters(net))
    assert explorer.text == repr(table)
    assert "<b>input " in explorer.table.value  # the changed row stands out
    control(explorer, "conv2_kernel").value = 12  # 14x14 into a 12x12 window: no floor, 3x3
    assert explorer.text == repr(lenet_sizes(input_size=28, conv1_padding=2, conv2_kernel=12))


IPYWIDGETS_7 = int(widgets.__version__.split(".")[0]) < 8


@pytest.mark.skipif(IPYWIDGETS_7, reason="ipywidgets 7 shows widgets without a stored text")
def test_stored_text_is_the_table_and_how_to_play():
    bundle = lenet_explorer()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == f"{lenet_sizes()!r}\n\n{HOW_TO_PLAY}"
    assert "61,706" in bundle["text/html"] and HOW_TO_PLAY in bundle["text/html"]


def test_bad_starting_settings_are_refused():
    with pytest.raises(ValueError, match="pool2_kernel must be an int of at least 1"):
        lenet_explorer(pool2_kernel=0)


def small_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 8 * 8, 3)
    )


def test_explore_has_a_slider_per_spatial_dimension():
    explorer = explore(small_model(), (1, 16, 16))
    sliders = explorer.children[:-1]
    assert [s.description for s in sliders] == ["height", "width"]
    assert explorer.text == repr(model_sizes(small_model(), (1, 16, 16)))


def test_explore_shows_the_refusal_when_a_slider_breaks_the_model():
    model = small_model()
    explorer = explore(model, (1, 16, 16))
    explorer.children[0].value = 20
    with pytest.raises(RuntimeError):
        model(torch.zeros(1, 1, 20, 16))
    assert explorer.text.startswith("Sequential cannot take input of shape (1, 20, 16)")
    assert "fails in layer 3 (Linear)" in explorer.text
    explorer.children[0].value = 16
    assert explorer.text == repr(model_sizes(model, (1, 16, 16)))


def test_explore_refuses_bad_input_at_once():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got 'LeNet'"):
        explore("LeNet", (1, 32, 32))
    with pytest.raises(ValueError, match="it fails in layer 3"):
        explore(small_model(), (1, 20, 20))


@pytest.mark.skipif(not IPYWIDGETS_7, reason="how Colab's ipywidgets 7 displays a widget")
def test_on_ipywidgets_7_the_explorer_displays_as_any_widget():
    explorer = lenet_explorer()
    assert explorer._repr_mimebundle_() is None  # IPython then uses _ipython_display_
    assert callable(explorer._ipython_display_)
