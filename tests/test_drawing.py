"""draw_lenet and the plotting helpers: what they draw is what the model computes."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

import lenet_extras.drawing as lh  # noqa: E402
from lenet_extras.lenet5 import LeNet5  # noqa: E402
from lenet_helpers import LeNet  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def stages_by_hand(net: nn.Module, shape: tuple[int, int, int]) -> list[tuple[str, str]]:
    """(name, size label) of every stage, running the layers one by one (no hooks, no trace)."""
    x = torch.zeros(1, *shape)
    stages = [("input", "×".join(map(str, shape)))]
    with torch.no_grad():
        for name, layer in net.named_children():
            if isinstance(layer, nn.Linear) and x.dim() > 2:
                x = torch.flatten(x, 1)
                stages.append(("flatten", str(x.shape[1])))
            x = layer(x)
            stages.append((name, "×".join(map(str, x.shape[1:]))))
    return stages


def drawn(fig) -> list[tuple[str, str]]:
    ax = fig.axes[0]
    volumes = [
        p.get_gid().split(":", 1)[1]
        for p in ax.patches
        if (p.get_gid() or "").startswith("volume:")
    ]
    sizes = [t.get_text() for t in ax.texts if t.get_gid() == "size-label"]
    names = [t.get_text() for t in ax.texts if t.get_gid() != "size-label"]
    assert names == volumes
    return list(zip(volumes, sizes, strict=True))


@pytest.mark.parametrize(
    "net, shape",
    [
        (LeNet(), (1, 32, 32)),
        (LeNet(input_size=28), (1, 28, 28)),
        (LeNet(input_size=28, conv1_padding=2), (1, 28, 28)),
    ],
)
def test_draw_lenet_draws_every_volume_with_its_real_size(net, shape):
    stages = drawn(lh.draw_lenet(net, shape))
    assert stages == stages_by_hand(net, shape)


def test_lecture_picture_has_nine_volumes():
    stages = drawn(lh.draw_lenet())
    assert [size for _, size in stages] == [
        "1×32×32",
        "6×28×28",
        "6×14×14",
        "16×10×10",
        "16×5×5",
        "400",
        "120",
        "84",
        "10",
    ]  # fmt: skip  (the sizes the lecture prints)


def test_28x28_variant_is_drawn_by_default_for_a_28x28_input():
    stages = drawn(lh.draw_lenet(input_shape=(1, 28, 28)))
    assert stages[-5:] == [
        ("pool2", "16×4×4"),
        ("flatten", "256"),
        ("fc1", "120"),
        ("fc2", "84"),
        ("fc3", "10"),
    ]


def test_lenet5_picture_skips_activation_modules():
    names = [name for name, _ in drawn(lh.draw_lenet(LeNet5()))]
    assert names == ["input", "c1", "s2", "c3", "s4", "c5", "flatten", "f6", "output"]


def test_draw_lenet_into_given_axes_and_bad_shapes():
    fig, ax = plt.subplots()
    assert lh.draw_lenet(ax=ax) is fig
    with pytest.raises(ValueError, match=r"input_shape must be \(C, H, W\), got \(32, 32\)"):
        lh.draw_lenet(input_shape=(32, 32))
    with pytest.raises(ValueError, match=r"\(1, S, S\) inputs, got \(3, 32, 32\)"):
        lh.draw_lenet(input_shape=(3, 32, 32))


def test_plot_helpers_draw_one_panel_per_item():
    net = LeNet()
    images = torch.rand(10, 1, 32, 32)
    assert (
        sum(ax.has_data() for ax in lh.show_images(images, [str(i) for i in range(10)]).axes) == 10
    )
    fig = lh.show_kernels({"before": net.conv2.weight, "after": net.conv2.weight * 2})
    kernels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert sum(ax.has_data() for ax in kernels) == 2 * 16 * 6
    assert [ax.get_ylabel() for ax in fig.axes if ax.get_label() == "<colorbar>"] == ["weight"] * 2
    fig = lh.show_feature_maps(net, images[0])
    assert sum(ax.has_data() for ax in fig.axes) == 6 + 6 + 16 + 16
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_title(loc="left")]
    assert titles == ["conv1: 6×28×28", "pool1: 6×14×14", "conv2: 16×10×10", "pool2: 16×5×5"]
    with pytest.raises(ValueError, match=r"no leaf layer named \['conv9'\]"):
        lh.show_feature_maps(net, images[0], layers=("conv9",))


def test_show_kernels_keeps_the_first_kernels_and_labels_rows_and_columns():
    weight = LeNet().conv2.weight
    fig = lh.show_kernels({"conv2": weight}, outputs=4)
    kernels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    assert len(kernels) == 4 * 6
    assert [ax.get_title() for ax in kernels[:4]] == [f"kernel {o}" for o in range(4)]
    assert [ax.get_ylabel() for ax in kernels[::4]] == [f"input {i}" for i in range(6)]
    first = kernels[0].get_images()[0].get_array()
    assert torch.equal(torch.from_numpy(first.data), weight[0, 0].detach())


def test_confusion_matrix_figure_writes_every_count_and_labels_its_scale():
    counts = torch.tensor([[5, 0], [2, 1000]])
    fig = lh.show_confusion_matrix(counts)
    ax = fig.axes[0]
    assert sorted(t.get_text() for t in ax.texts) == sorted(["5", "0", "2", "1000"])
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert "logarithmic" in fig.axes[1].get_ylabel()


def sheets(fig) -> dict[str, int]:
    """How many sheets each volume of a draw_lenet picture is drawn with."""
    count: dict[str, int] = {}
    for patch in fig.axes[0].patches:
        kind, _, name = (patch.get_gid() or "").partition(":")
        if kind in ("volume", "sheet"):
            count[name] = count.get(name, 0) + 1
    return count


@pytest.mark.parametrize("net, shape", [(LeNet(), (1, 32, 32)), (LeNet5(), (1, 32, 32))])
def test_every_volume_is_drawn_with_one_sheet_per_map_and_the_legend_says_so(net, shape):
    fig = lh.draw_lenet(net, shape)
    drawn = sheets(fig)
    with torch.no_grad():
        x = torch.zeros(1, *shape)
        maps = {"input": shape[0]}
        for name, layer in net.named_children():
            if isinstance(layer, nn.Linear) and x.dim() > 2:
                x = torch.flatten(x, 1)
                maps["flatten"] = 1  # a bar
            x = layer(x)
            maps[name] = min(x.shape[1], lh.MAX_SHEETS) if x.dim() == 4 else 1
    assert drawn == {name: n for name, n in maps.items() if name in drawn}
    assert {drawn["input"], drawn[list(drawn)[1]], max(drawn.values())} == {1, 6, 16}
    (legend,) = fig.texts
    assert "one sheet per map" in legend.get_text() and "1, 6 and 16 maps" in legend.get_text()


def test_kernel_colour_bars_carry_the_sign_of_their_numbers():
    weight = LeNet().conv1.weight
    fig = lh.show_kernels({"conv1": weight})
    fig.canvas.draw()
    (bar,) = [ax for ax in fig.axes if ax.get_label() == "<colorbar>"]
    ticks = bar.yaxis.get_majorticklocs()
    labels = [t.get_text() for t in bar.yaxis.get_ticklabels()]
    assert 0 < len(ticks) == len(labels)
    for value, label in zip(ticks, labels, strict=True):
        sign = "+" if value > 0 else "−" if value < 0 else ""
        assert label.startswith(sign) and (value != 0 or label == "0"), (value, label)
        assert float(label.replace("−", "-")) == pytest.approx(value, abs=0.01)


def test_feature_maps_are_large_enough_to_show_their_pixels():
    net = LeNet()
    fig = lh.show_feature_maps(net, torch.rand(1, 32, 32))
    fig.canvas.draw()
    shown = [ax for ax in fig.axes if ax.has_data()]
    assert len(shown) == 6 + 6 + 16 + 16
    for ax in shown:
        height, width = ax.get_images()[0].get_array().shape
        box = ax.get_window_extent()
        assert min(box.width, box.height) >= 70, "each map at least 70 px a side"
        assert box.width / width >= 2.5, "at least 2.5 px per pixel of the map"
    assert len(fig.axes) == 6 * 8, "16 maps take two rows of eight"
