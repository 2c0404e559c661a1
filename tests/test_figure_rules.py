"""The figure rules (tools/figure_rules.py): what they refuse, what they let through, and that
a real kernel applies them as it draws (tools/figure_backend.py, through a refresh)."""

from __future__ import annotations

import io
import os
import struct

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from lenet_extras import drawing  # noqa: E402
from lenet_extras.lenet5 import LeNet5  # noqa: E402
from lenet_helpers import LeNet  # noqa: E402
from tools import figure_rules, nbio, refresh  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def pooling_panels(titles: dict[str, str] | None = None, height: float = 2.2):
    """Notebook 05's pooling comparison (cells 31 and 34 today), drawn from a copy of its code;
    `titles` replaces panel titles, as a fix would."""
    image = torch.zeros(1, 1, 8, 8)
    image[..., 3] = 1.0
    every_other = nn.Conv2d(1, 1, kernel_size=1, stride=2, bias=False).requires_grad_(False)
    averaging = nn.Conv2d(1, 1, kernel_size=2, stride=2, bias=False).requires_grad_(False)
    every_other.weight.fill_(1.0)
    averaging.weight.fill_(0.25)
    results = {
        "max-pool 2×2": nn.MaxPool2d(2, 2)(image),
        "1×1 conv, stride 2": every_other(image),
        "2×2 averaging conv, stride 2": averaging(image),
    }
    fig, axes = plt.subplots(1, 4, figsize=(8, height), dpi=80)
    panels = {"input 8×8": image, **results}
    for ax, (name, result) in zip(axes, panels.items(), strict=False):  # the colour bar's axes
        shown = ax.imshow(result[0, 0].numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set(title=(titles or {}).get(name, name), xticks=[], yticks=[])
    fig.colorbar(shown, ax=axes, shrink=0.8, label="pixel value")
    return fig


def test_notebook_05s_pooling_figure_is_refused_for_its_overlapping_titles():
    found = figure_rules.problems(pooling_panels())
    assert "texts overlap: '1×1 conv, stride 2' and '2×2 averaging conv, stride 2'" in found
    assert all(p.startswith("texts overlap: ") for p in found), found


def test_the_same_figure_with_titles_on_two_lines_passes():
    two_lines = {
        "1×1 conv, stride 2": "1×1 conv,\nstride 2",
        "2×2 averaging conv, stride 2": "2×2 averaging\nconv, stride 2",
    }
    assert figure_rules.problems(pooling_panels(two_lines, height=2.5)) == []


def text_figure(width_inches: float, fontsize: float):
    """A frame as wide as the figure, and one text above it."""
    fig = plt.figure(figsize=(width_inches, 1.5), dpi=80)
    fig.add_axes((0, 0, 1, 0.7)).set(xticks=[], yticks=[])
    fig.text(0.5, 0.8, "a label", ha="center", fontsize=fontsize)
    return fig


def test_text_under_8_px_as_shown_is_refused_and_a_wide_figure_is_shown_scaled_down():
    assert figure_rules.problems(text_figure(6, 7.5)) == []  # 8.3 px, shown as drawn
    (small,) = figure_rules.problems(text_figure(6, 7))  # 7.8 px
    assert small.startswith("text 'a label' is 7.8 px as shown")
    # 9 pt is 10 px at 80 dpi; a figure 1000 px wide (1016 with savefig's padding) is shown
    # 688 px wide: 6.8 px
    (scaled,) = figure_rules.problems(text_figure(1000 / 80, 9))
    assert "is 6.8 px as shown (the figure is 1016 px wide, shown at 688)" in scaled


def image_figure(cmap: str, low: float = 0.0, high: float = 1.0):
    fig, ax = plt.subplots(figsize=(3, 3), dpi=80)
    data = np.linspace(low, high, 64).reshape(8, 8)
    ax.imshow(data, cmap=cmap, vmin=low, vmax=high)
    return fig


@pytest.mark.parametrize("cmap", ["viridis", "cividis", "magma", "plasma", "gray", "gray_r"])
def test_sequential_maps_of_the_viridis_family_and_greys_pass(cmap):
    assert figure_rules.problems(image_figure(cmap)) == []


@pytest.mark.parametrize(
    "cmap, fault",
    [
        ("jet", "its lightness goes up and down for typical colour vision"),
        ("hsv", "its lightness goes up and down"),
        ("RdYlGn", "its two sides look alike for protanopia"),
        ("Spectral", "its two sides look alike for protanopia"),
        ("Wistia", "its lightness changes too little"),
    ],
)
def test_maps_that_some_readers_cannot_read_are_refused(cmap, fault):
    (found,) = figure_rules.problems(image_figure(cmap, -1, 1))
    assert found.startswith(f"colour map {cmap!r}: {fault}"), found


def test_a_diverging_map_passes_only_centred_on_zero():
    assert figure_rules.problems(image_figure("RdBu_r", -0.3, 0.3)) == []
    (found,) = figure_rules.problems(image_figure("RdBu_r", 0, 0.3))
    assert "its middle is not the data's zero" in found


def lines_figure(*colours: str):
    fig, ax = plt.subplots(figsize=(3, 2), dpi=80)
    for i, colour in enumerate(colours):
        ax.plot([0, 1], [i, i + 1], color=colour)
    return fig


def test_line_colours_must_stay_apart_for_every_reader():
    assert figure_rules.problems(lines_figure("tab:blue", "tab:orange")) == []
    okabe_ito = ["#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00", "#000000"]
    assert figure_rules.problems(lines_figure(*okabe_ito)) == []
    (found,) = figure_rules.problems(lines_figure("tab:red", "tab:green"))
    assert found == "line colours: colours #d62728 and #2ca02c look alike for deuteranopia"
    # matplotlib's default cycle, from its third colour on
    (found,) = figure_rules.problems(lines_figure("C0", "C1", "C2"))
    assert "look alike for protanopia" in found


def test_simulated_deficiencies_keep_white_and_black_and_merge_red_with_green():
    rgb = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [0.84, 0.15, 0.16], [0.17, 0.63, 0.17]])
    typical = figure_rules.seen(rgb, "typical colour vision")
    for vision in figure_rules.VISIONS:
        seen = figure_rules.seen(rgb, vision)
        assert np.allclose(seen[:2], typical[:2], atol=1.0)  # white and black stay
    red_green = [
        np.linalg.norm(np.subtract(*figure_rules.seen(rgb[2:], vision)))
        for vision in figure_rules.VISIONS
    ]
    assert red_green[2] < red_green[0] / 5  # deuteranopia: red and green nearly alike


@pytest.mark.parametrize(
    "draw",
    [
        lambda: drawing.draw_lenet(),
        lambda: drawing.draw_lenet(LeNet(input_size=28), (1, 28, 28), title="Option 3"),
        lambda: drawing.draw_lenet(LeNet5()),
        lambda: drawing.show_feature_maps(LeNet(), torch.rand(1, 32, 32)),
        lambda: drawing.show_kernels(
            {"conv1": LeNet().conv1.weight, "again": LeNet().conv1.weight}
        ),
        lambda: drawing.show_kernels({"conv2": LeNet().conv2.weight}, outputs=4),
        lambda: drawing.show_images(torch.rand(12, 1, 28, 28), ["4, said 9"] * 12, columns=6),
        lambda: drawing.show_confusion_matrix(torch.randint(0, 1200, (10, 10))),
    ],
)
def test_every_drawing_helper_draws_readable_figures(draw):
    fig = draw()
    assert figure_rules.problems(fig) == []
    # the width the rules assume is the PNG's, as the inline backend saves it
    png = io.BytesIO()
    fig.savefig(png, format="png", bbox_inches="tight")
    width = struct.unpack(">I", png.getvalue()[16:20])[0]
    assert figure_rules.drawn_texts(fig)[1] == pytest.approx(width, abs=1)


def test_the_notebooks_kernels_get_the_rules_from_conftest():
    assert os.environ["MPLBACKEND"] == figure_rules.BACKEND
    assert str(nbio.REPO) in os.environ["PYTHONPATH"].split(os.pathsep)


def test_a_refresh_refuses_a_notebook_whose_figure_breaks_a_rule(tmp_path):
    """In a real kernel: a good figure is shown as a PNG; a bad one is refused whether it is
    shown by plt.show() (which fails the cell) or by display() (an error in the output), and
    the refresh names the notebook, each cell and the texts."""
    good = "import matplotlib.pyplot as plt\nplt.plot([0, 1]); plt.title('fine')\nplt.show()"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(good)])
    nb.metadata["kernelspec"] = nbio.KERNELSPEC
    nbformat.write(nb, tmp_path / "good.ipynb")
    shown = refresh.execute(tmp_path / "good.ipynb").cells[0].outputs
    assert [set(o.data) for o in shown] == [{"image/png", "text/plain"}]
    displayed = (
        "from IPython.display import display\n"
        "fig = plt.figure(figsize=(2, 1)); fig.text(0.5, 0.5, 'one'); fig.text(0.5, 0.5, 'two')\n"
        "display(fig); plt.close(fig)"
    )
    overlap = "plt.figtext(0.5, 0.5, 'three'); plt.figtext(0.5, 0.5, 'four')\n"
    shown_by_show = good.replace("plt.show()", overlap + "plt.show()")
    nb.cells += [nbformat.v4.new_code_cell(displayed), nbformat.v4.new_code_cell(shown_by_show)]
    nbformat.write(nb, tmp_path / "bad.ipynb")
    with pytest.raises(refresh.UnreadableFigure) as refused:
        refresh.execute(tmp_path / "bad.ipynb")
    assert str(refused.value) == (
        f"{tmp_path / 'bad.ipynb'}: cell 1: a figure cannot be read by everyone:\n"
        "- texts overlap: 'one' and 'two'\n"
        "cell 2: the figure titled 'fine' cannot be read by everyone:\n"
        "- texts overlap: 'three' and 'four'"
    )
