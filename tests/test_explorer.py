"""The explorer's rows, checked against PyTorch itself: layers built here, real shapes, numel()."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn as nn

from lenet_extras.explorer import LECTURE_SETTINGS, lenet_sizes, model_sizes
from lenet_helpers import LeNet, count_parameters, trace_shapes

LAYERS = ("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3")


def numel(layer: nn.Module) -> int:
    return sum(p.numel() for p in layer.parameters())


def reference(s: dict[str, int]) -> dict[str, tuple]:
    """(output shape or None, parameter count or None) per layer, from layers built here."""
    convs = {"conv1": (1, 6), "conv2": (6, 16)}
    found, x = {}, torch.zeros(1, 1, s["input_size"], s["input_size"])
    for name in LAYERS[:4]:
        k, st, p = s[f"{name}_kernel"], s[f"{name}_stride"], s[f"{name}_padding"]
        if name in convs:
            layer = nn.Conv2d(*convs[name], k, st, p, dilation=s[f"{name}_dilation"])
        else:
            layer = nn.MaxPool2d(k, st, p)
        try:
            x = None if x is None else layer(x)
        except RuntimeError:
            x = None
        found[name] = (None if x is None else tuple(x.shape[1:]), numel(layer))
    flat = None if x is None else x.flatten(1)
    found["flatten"] = None if flat is None else flat.shape[1]
    for name, n_in, n_out in (("fc1", found["flatten"], 120), ("fc2", 120, 84), ("fc3", 84, 10)):
        layer = None if n_in is None else nn.Linear(n_in, n_out)
        flat = None if flat is None or layer is None else layer(flat)
        found[name] = (None if flat is None else tuple(flat.shape[1:]), layer and numel(layer))
    return found


def shown(table) -> dict[str, tuple]:
    """(output shape or None, parameters) per layer, read back from the explorer's rows."""
    rows = {row["layer"]: row for row in table.rows}
    dims = {name: rows[name]["output"] for name in LAYERS}
    return {
        name: (None if text is None else tuple(map(int, text.split("×"))), rows[name]["parameters"])
        for name, text in dims.items()
    }


def grid(n: int = 80) -> list[dict[str, int]]:
    """A fixed sample of settings: kernels, strides, paddings, dilations and input sides."""
    rng = random.Random(28)
    choices = {"input_size": (8, 13, 28, 29, 32, 40)}
    for name in LAYERS[:4]:
        conv = name.startswith("conv")
        choices[f"{name}_kernel"] = (1, 3, 5) if conv else (1, 2, 3)
        choices[f"{name}_stride"] = (1, 2, 3)
        choices[f"{name}_padding"] = (0, 1, 2) if conv else (0, 1)
        if conv:
            choices[f"{name}_dilation"] = (1, 2)
    return [{k: rng.choice(v) for k, v in choices.items()} for _ in range(n)]


@pytest.mark.parametrize("settings", grid(), ids=lambda s: "-".join(map(str, s.values())))
def test_rows_match_real_layers(settings):
    table, truth = lenet_sizes(**settings), reference(LECTURE_SETTINGS | settings)
    assert shown(table) == {name: truth[name] for name in LAYERS}
    assert table.flatten == truth["flatten"]
    counts = [truth[name][1] for name in LAYERS]
    assert table.total == (None if None in counts else sum(counts))
    assert table.rows[-1]["parameters"] == table.total


def test_the_grid_reaches_no_output_and_floors():
    tables = [lenet_sizes(**s) for s in grid()]
    assert any(t.flatten is None for t in tables) and any(t.flatten for t in tables)
    assert any("PyTorch keeps" in note for t in tables for note in t.notes)


def test_defaults_are_the_lecture_network():
    net, table = LeNet(), lenet_sizes()
    traced = {
        t.name: tuple(t.output_shape[1:]) for t in trace_shapes(net, torch.zeros(1, 1, 32, 32))
    }
    assert shown(table) == {name: (traced[name], numel(getattr(net, name))) for name in LAYERS}
    assert table.total == count_parameters(net) == 61_706
    assert table.flatten == net.fc1.in_features == 400
    assert table.notes == []
    assert set(table.column("vs lecture")) == {""}
    assert table.column("lecture parameters") == table.column("parameters")


def test_28_by_28_with_conv1_padding_2_matches_the_lecture():
    table = lenet_sizes(input_size=28, conv1_padding=2)
    net = LeNet(input_size=28, conv1_padding=2)
    assert table.flatten == net.fc1.in_features == 400
    assert table.total == count_parameters(net) == 61_706
    assert table.column("vs lecture") == ["changed"] + [""] * 9  # only the input differs


def test_changed_rows_are_marked_against_the_lecture():
    table = lenet_sizes(input_size=28)
    marks = dict(zip(table.column("layer"), table.column("vs lecture"), strict=True))
    assert marks["fc1"] == marks["flatten (fc1's input)"] == marks["total"] == "changed"
    assert marks["fc2"] == marks["fc3"] == ""
    assert table.total == count_parameters(LeNet(input_size=28))


def test_no_output_is_one_sentence_naming_layer_and_rule():
    with pytest.raises(RuntimeError):
        nn.Conv2d(6, 16, 5)(torch.zeros(1, 6, 4, 4))  # what PyTorch does with 12x12 at conv2
    table = lenet_sizes(input_size=12)
    assert table.notes == [
        "conv2 gives no output: its window spans d·(k − 1) + 1 = 5 pixels, "
        "but its padded input is only 4 + 2·0 = 4 wide."
    ]
    assert table.flatten is None and table.total is None
    assert "Traceback" not in repr(table) and "conv2 gives no output" in repr(table)
    with pytest.raises(RuntimeError):
        nn.MaxPool2d(2, 2, padding=2)(torch.zeros(1, 6, 28, 28))
    (note,) = lenet_sizes(pool1_padding=2).notes
    assert note.startswith("pool1 gives no output: max pooling pads at most half its window")


@pytest.mark.parametrize(
    "settings, note",
    [
        ({"input_size": 29}, "pool1: (25 − 2)/2 + 1 = 12.5, PyTorch keeps 12."),
        (
            {"conv1_stride": 2, "conv1_dilation": 2},
            "conv1: (32 − 2·(5 − 1) − 1)/2 + 1 = 12.5, PyTorch keeps 12.",
        ),
        (
            {"conv1_stride": 3, "conv1_padding": 1},
            "conv1: (32 + 2·1 − 5)/3 + 1 ≈ 10.67, PyTorch keeps 10.",
        ),
    ],
)
def test_floored_sizes_are_pointed_out(settings, note):
    assert note in lenet_sizes(**settings).notes
    kept = int(note.rsplit(" ", 1)[1].rstrip("."))
    layer = note.split(":")[0]
    assert (
        shown(lenet_sizes(**settings))[layer][0][-1]
        == kept
        == reference(LECTURE_SETTINGS | settings)[layer][0][-1]
    )


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match="conv1_stride must be an int of at least 1, got 0"):
        lenet_sizes(conv1_stride=0)
    with pytest.raises(TypeError, match=r"unknown setting\(s\) \['conv3_kernel'\]"):
        lenet_sizes(conv3_kernel=3)


def test_torch_random_state_is_left_alone():
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    lenet_sizes(input_size=28)
    assert torch.equal(torch.rand(3), expected)


# --- model_sizes: any module ---------------------------------------------------------------

SMALL = (3, 20, 24)


def small_model() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(8, 4, 5, padding=2), nn.AvgPool2d(2),
        nn.Flatten(), nn.Linear(4 * 5 * 6, 7),
    )  # fmt: skip


def test_model_sizes_of_a_small_sequential():
    model = small_model()
    table = model_sizes(model, SMALL)
    x, expected = torch.zeros(1, *SMALL), []
    for layer in model:
        x = layer(x)
        expected.append(("×".join(map(str, x.shape[1:])), numel(layer)))
    rows = table.rows[1:-1]
    assert [(r["output"], r["parameters"]) for r in rows] == expected
    assert [r["layer"] for r in rows] == [str(i) for i in range(len(model))]
    assert table.total == table.rows[-1]["parameters"] == count_parameters(model)


def test_model_sizes_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got a list"):
        model_sizes([nn.Linear(2, 2)], (2,))
    with pytest.raises(TypeError, match=r"got the class Linear \(create one from it first"):
        model_sizes(nn.Linear, (2,))
    for bad in [(0, 3), "1x32x32", (1.5, 3), ()]:
        with pytest.raises(ValueError, match="input_shape must be one example's shape"):
            model_sizes(nn.Linear(2, 2), bad)


def test_model_sizes_names_the_layer_an_input_shape_fails_in():
    with pytest.raises(RuntimeError):
        small_model()(torch.zeros(1, 3, 28, 28))
    with pytest.raises(
        ValueError,
        match=r"cannot take input of shape \(3, 28, 28\): it fails in layer 5 \(Linear\)",
    ):
        model_sizes(small_model(), (3, 28, 28))
    with pytest.raises(ValueError, match=r"fails in layer 0 \(Conv2d\)"):
        model_sizes(small_model(), (1, 20, 24))  # one channel where conv1 wants three


class Regroups(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)

    def forward(self, x):
        return self.conv(x).view(-1, 7)


def test_model_sizes_names_a_failure_between_layers():
    with pytest.raises(
        ValueError, match="fails right after layer conv, in the model's forward code"
    ):
        model_sizes(Regroups(), (1, 5, 5))
    with pytest.raises(
        ValueError, match="LeNet cannot take input of shape .* before its first layer"
    ):
        model_sizes(LeNet(), (1, 28, 28))
