"""Every public helper refuses bad input in one sentence that names the argument, what it
expected and what it got, before PyTorch can answer with a message about code the learner
never wrote. Where PyTorch's own message is the lesson (a layer the learner built refuses an
input), it stays: see the last tests."""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn

import lenet_helpers as lh
from lenet_extras import drawing, lenet5, mnist, training
from lenet_extras import exercises as ex
from lenet_extras.explorer import lenet_sizes, model_sizes
from lenet_extras.explorer_widgets import explore, lenet_explorer

NET = lh.LeNet()
IMAGES = torch.zeros(4, 1, 32, 32)
LABELS = torch.zeros(4, dtype=torch.long)
SGD = torch.optim.SGD(NET.parameters(), lr=0.1)

CASES = [
    # (what, call, error, the start of the sentence)
    (
        "trace_shapes: a class",
        lambda: lh.trace_shapes(lh.LeNet, IMAGES),
        TypeError,
        r"model must be a torch.nn.Module, got the class LeNet \(create one from it first",
    ),
    (
        "trace_shapes: a list",
        lambda: lh.trace_shapes(NET, [[0.0]]),
        TypeError,
        "x must be a torch.Tensor, got a list",
    ),
    (
        "trace_shapes: keep_outputs",
        lambda: lh.trace_shapes(NET, IMAGES, keep_outputs="yes"),
        TypeError,
        "keep_outputs must be True or False",
    ),
    (
        "trace_shapes: device",
        lambda: lh.trace_shapes(NET, IMAGES.to("meta")),
        ValueError,
        "x is on meta but the model's parameters are on cpu",
    ),
    (
        "trace_shapes: lazy",
        lambda: lh.trace_shapes(nn.LazyLinear(3), torch.zeros(1, 2)),
        ValueError,
        "model has lazy layers whose size is not known yet",
    ),
    (
        "size_rule_table",
        lambda: lh.size_rule_table(NET, "x"),
        TypeError,
        "x must be a torch.Tensor",
    ),
    (
        "count_parameters",
        lambda: lh.count_parameters([NET]),
        TypeError,
        "model must be a torch.nn.Module, got a list",
    ),
    (
        "count_parameters: flag",
        lambda: lh.count_parameters(NET, "all"),
        TypeError,
        "trainable_only must be True or False, got 'all'",
    ),
    (
        "parameter_table",
        lambda: lh.parameter_table(None),
        TypeError,
        "model must be a torch.nn.Module, got None",
    ),
    (
        "lenet_sizes",
        lambda: lenet_sizes(conv1_kernel=2.5),
        ValueError,
        "conv1_kernel must be an int",
    ),
    (
        "lenet_explorer",
        lambda: lenet_explorer(input_size="x"),
        ValueError,
        "input_size must be an int",
    ),
    (
        "model_sizes: shape",
        lambda: model_sizes(NET, 32),
        ValueError,
        "input_shape must be one example's shape",
    ),
    (
        "model_sizes: dtype",
        lambda: model_sizes(NET, (1, 32, 32), dtype="long"),
        TypeError,
        "dtype must be a torch.dtype",
    ),
    (
        "model_sizes: embedding",
        lambda: model_sizes(nn.Embedding(5, 3), (4,)),
        ValueError,
        "Embedding cannot take input .*: an embedding takes whole numbers: pass dtype=torch.long",
    ),
    (
        "explore",
        lambda: explore("LeNet", (1, 32, 32)),
        TypeError,
        "model must be a torch.nn.Module, got 'LeNet'",
    ),
    (
        "train_epoch: labels (N, 1)",
        lambda: training.train_epoch(NET, IMAGES, LABELS[:, None], SGD),
        ValueError,
        r"labels must be one class index per image, shape \(4,\); got shape \(4, 1\): use",
    ),
    (
        "train_epoch: float labels",
        lambda: training.train_epoch(NET, IMAGES, LABELS.float(), SGD),
        TypeError,
        "labels must hold whole numbers",
    ),
    (
        "train_epoch: lengths",
        lambda: training.train_epoch(NET, IMAGES, LABELS[:3], SGD),
        ValueError,
        r"labels must be one class index per image, shape \(4,\); got shape \(3,\)",
    ),
    (
        "train_epoch: bytes",
        lambda: training.train_epoch(NET, IMAGES.byte(), LABELS, SGD),
        TypeError,
        r"images must hold floating-point values, got dtype torch.uint8 \(convert it with .float",
    ),
    (
        "train_epoch: empty",
        lambda: training.train_epoch(NET, IMAGES[:0], LABELS[:0], SGD),
        ValueError,
        "images is empty",
    ),
    (
        "train_epoch: optimizer",
        lambda: training.train_epoch(NET, IMAGES, LABELS, "sgd"),
        TypeError,
        "optimizer must be a torch.optim optimizer",
    ),
    (
        "train_epoch: another model's optimizer",
        lambda: training.train_epoch(
            NET, IMAGES, LABELS, torch.optim.SGD(lh.LeNet().parameters(), 0.1)
        ),
        ValueError,
        "optimizer holds none of the model's parameters",
    ),
    (
        "train_epoch: batch_size",
        lambda: training.train_epoch(NET, IMAGES, LABELS, SGD, batch_size=0),
        ValueError,
        "batch_size must be at least 1, got 0",
    ),
    (
        "train_epoch: classes",
        lambda: training.train_epoch(NET, IMAGES, LABELS + 12, SGD),
        ValueError,
        "labels go up to 12, but the model gives 10 scores per image",
    ),
    (
        "train_epoch: negative",
        lambda: training.train_epoch(NET, IMAGES, LABELS - 1, SGD),
        ValueError,
        "labels must be class indices 0, 1, 2, ...; it holds -1",
    ),
    (
        "train_epoch: scheduler",
        lambda: training.train_epoch(NET, IMAGES, LABELS, SGD, scheduler=1),
        TypeError,
        "scheduler must be a torch.optim.lr_scheduler or None",
    ),
    (
        "train_epoch: generator",
        lambda: training.train_epoch(NET, IMAGES, LABELS, SGD, generator=0),
        TypeError,
        "generator must be a torch.Generator or None",
    ),
    (
        "train_epoch: scores",
        lambda: training.train_epoch(
            nn.Conv2d(1, 10, 32),
            IMAGES,
            LABELS,
            torch.optim.SGD(nn.Conv2d(1, 10, 32).parameters(), 0.1),
        ),
        ValueError,
        "optimizer holds none",
    ),
    (
        "predict: batch_size",
        lambda: training.predict(NET, IMAGES, batch_size=1.5),
        TypeError,
        "batch_size must be a whole number",
    ),
    (
        "predict: one number",
        lambda: training.predict(NET, torch.tensor(0.5)),
        ValueError,
        "images must be a batch, with a first dimension, got a single number",
    ),
    (
        "predict: scores",
        lambda: training.predict(nn.Conv2d(1, 10, 32), IMAGES),
        ValueError,
        r"the model must return one row of class scores per image, shape \(4, classes\)",
    ),
    (
        "evaluate: labels (N, 1)",
        lambda: training.evaluate(NET, IMAGES, LABELS[:, None]),
        ValueError,
        r"labels must be one class index per image, shape \(4,\); got shape \(4, 1\)",
    ),
    (
        "confusion_matrix: class 12",
        lambda: training.confusion_matrix(torch.tensor([1]), torch.tensor([12])),
        ValueError,
        "predictions holds class 12, but classes=10 counts only 0 to 9: pass classes=13",
    ),
    (
        "confusion_matrix: lengths",
        lambda: training.confusion_matrix(LABELS, LABELS[:2]),
        ValueError,
        r"predictions must be one class index per image, shape \(4,\)",
    ),
    (
        "confusion_matrix: classes",
        lambda: training.confusion_matrix(LABELS, LABELS, classes=0),
        ValueError,
        "classes must be at least 1, got 0",
    ),
    (
        "load_mnist: split",
        lambda: mnist.load_mnist("val"),
        ValueError,
        "split must be 'train' or 'test'",
    ),
    (
        "load_mnist: root",
        lambda: mnist.load_mnist("test", root=5),
        TypeError,
        "root must be a folder",
    ),
    (
        "pad_to_32",
        lambda: lenet5.pad_to_32(torch.zeros(3, 32, 32)),
        ValueError,
        "pad_to_32 expects images",
    ),
    (
        "Subsampling",
        lambda: lenet5.Subsampling(0),
        ValueError,
        "channels must be at least 1, got 0",
    ),
    (
        "PartialConv2d",
        lambda: lenet5.PartialConv2d([(0, 1), ()]),
        TypeError,
        "connections must list",
    ),
    (
        "RBFOutput",
        lambda: lenet5.RBFOutput(classes=2.0),
        TypeError,
        "classes must be a whole number",
    ),
    (
        "draw_lenet: shape",
        lambda: drawing.draw_lenet(NET, (32, 32)),
        ValueError,
        r"input_shape must be \(C, H, W\), got \(32, 32\)",
    ),
    (
        "draw_lenet: model",
        lambda: drawing.draw_lenet(lh.LeNet),
        TypeError,
        "model must be a torch.nn.Module",
    ),
    (
        "draw_lenet: too small",
        lambda: drawing.draw_lenet(None, (1, 12, 12)),
        ValueError,
        "input_size=12 is too small for LeNet",
    ),
    (
        "draw_lenet: wrong model",
        lambda: drawing.draw_lenet(NET, (1, 28, 28)),
        ValueError,
        r"LeNet cannot take input of shape \(1, 28, 28\): it fails before its first layer",
    ),
    (
        "show_images: titles",
        lambda: drawing.show_images(IMAGES, ["a"]),
        ValueError,
        "titles must be one caption per image, 4, got 1 titles",
    ),
    (
        "show_images: channels",
        lambda: drawing.show_images(torch.zeros(2, 3, 8, 8)),
        ValueError,
        "images must have one channel",
    ),
    (
        "show_kernels",
        lambda: drawing.show_kernels(NET.conv1.weight),
        TypeError,
        "kernels must be a dict",
    ),
    (
        "show_kernels: 2-D",
        lambda: drawing.show_kernels({"fc1": NET.fc1.weight}),
        ValueError,
        r"kernels\['fc1'\] must have 4 dimensions",
    ),
    (
        "show_feature_maps: batch",
        lambda: drawing.show_feature_maps(NET, IMAGES),
        ValueError,
        "image must have 3 dimensions",
    ),
    (
        "show_feature_maps: flat layer",
        lambda: drawing.show_feature_maps(NET, IMAGES[0], ["fc1"]),
        ValueError,
        r"layers \['fc1'\] give no \(C, H, W\) maps to draw",
    ),
    (
        "show_confusion_matrix",
        lambda: drawing.show_confusion_matrix(torch.zeros(3, 4, dtype=torch.long)),
        ValueError,
        "counts must be a square table of counts",
    ),
    (
        "LeNet: too large to build",
        lambda: lh.LeNet(input_size=3000),
        ValueError,
        r"input_size=3000 would give fc1 1,071,377,280 weights: .* up to 759$",
    ),
    (
        "lenet_sizes: too large",
        lambda: lenet_sizes(input_size=3000),
        ValueError,
        "input_size must be at most 512 in the explorer, got 3000",
    ),
    (
        "model_sizes: too large",
        lambda: model_sizes(NET, (1, 100_000, 100_000)),
        ValueError,
        r"input_shape \(1, 100000, 100000\) has 10,000,000,000 values; one example of at most",
    ),
    (
        "grade: a number",
        lambda: ex.grade(2.4, 1),
        TypeError,
        "exercise must be its number as text, such as '02.4'",
    ),
    (
        "check: unknown",
        lambda: ex.check("9.9", 1),
        KeyError,
        "no exercise '9.9'; the exercises are 01.1",
    ),
]


@pytest.mark.parametrize("what, call, error, words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_in_one_sentence(what, call, error, words):
    with pytest.raises(error, match=words) as raised:
        call()
    message = str(raised.value)
    assert "\n" not in message and len(message) < 300, message
    assert "Traceback" not in message


def test_a_layer_the_learner_built_still_speaks_for_itself():
    """Where the learner's own layer refuses an input they gave it, PyTorch's message stays."""
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(5, 5))
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied"):
        lh.trace_shapes(model, torch.zeros(1, 1, 8, 8))
