"""The arguments of the drawing helpers (lenet_extras.drawing), each refused in one sentence
naming it, before matplotlib or PyTorch sees them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lenet_extras import checks
from lenet_extras.layer_table import example_shape


def network_drawing(model: Any, input_shape: Any, title: Any) -> tuple[int, ...]:
    """draw_lenet's arguments; returns the checked (C, H, W)."""
    if model is not None:
        checks.module("model", model)
    shape = example_shape(input_shape)
    if len(shape) != 3:
        raise ValueError(f"input_shape must be (C, H, W), got {shape}")
    if model is None and (shape[0] != 1 or shape[1] != shape[2]):
        raise ValueError(f"the lecture's LeNet takes (1, S, S) inputs, got {shape}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a string, got {checks.describe(title)}")
    return shape


def image_grid(images: Any, titles: Any, columns: Any) -> None:
    """show_images' arguments: (N, H, W) or (N, 1, H, W) images, one title per image."""
    checks.tensor("images", images, dims=(3, 4), nonempty=True)
    if images.dim() == 4 and images.shape[1] != 1:
        raise ValueError(f"images must have one channel, (N, 1, H, W), got {tuple(images.shape)}")
    if titles is not None and (isinstance(titles, str) or not isinstance(titles, Sequence)):
        raise TypeError(f"titles must be a list of captions, got {checks.describe(titles)}")
    if titles is not None and len(titles) != len(images):
        raise ValueError(
            f"titles must be one caption per image, {len(images)}, got {len(titles)} titles"
        )
    checks.integer("columns", columns, at_least=1)


def kernel_blocks(kernels: Any, outputs: Any) -> None:
    """show_kernels' arguments: a dict of name: 4-D weight, and how many kernels to show."""
    if not isinstance(kernels, dict) or not kernels:
        raise TypeError(
            "kernels must be a dict of name: weight, such as {'conv1': net.conv1.weight}, "
            f"got {checks.describe(kernels)}"
        )
    for name, weight in kernels.items():
        checks.tensor(f"kernels[{name!r}]", weight, dims=4, nonempty=True)
    if outputs is not None:
        checks.integer("outputs", outputs, at_least=1)


def feature_maps(model: Any, image: Any, layers: Any) -> None:
    """show_feature_maps' arguments: a model, one (C, H, W) image, a list of layer names."""
    checks.module("model", model)
    checks.tensor("image", image, dims=3)
    if isinstance(layers, str) or not isinstance(layers, Sequence) or not layers:
        raise TypeError(f"layers must be a list of layer names, got {checks.describe(layers)}")


def map_layers(trace: dict[str, Any], layers: Sequence[str]) -> None:
    """Every named layer was called and gave (N, C, H, W) maps."""
    missing = [name for name in layers if name not in trace]
    if missing:
        raise ValueError(f"no leaf layer named {missing} in the model; it has {list(trace)}")
    flat = [n for n in layers if trace[n].output is None or trace[n].output.dim() != 4]
    if flat:
        raise ValueError(
            f"layers {flat} give no (C, H, W) maps to draw; choose among {list(trace)}"
        )


def count_table(counts: Any) -> None:
    """show_confusion_matrix's argument: a square table of counts, as confusion_matrix gives."""
    checks.tensor("counts", counts, dims=2, kind="integer", nonempty=True)
    if counts.shape[0] != counts.shape[1] or int(counts.min()) < 0:
        raise ValueError(
            "counts must be a square table of counts, as confusion_matrix gives, got "
            f"{checks.describe(counts)}"
        )
