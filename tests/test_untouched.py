"""Helpers never change a learner's model: whatever they run it for (a trace, a table, a
figure, a prediction, a grade), its mode, parameters, buffers and torch's random state are
the same afterwards, and the input tensor too."""

from __future__ import annotations

import matplotlib
import pytest
import torch
import torch.nn as nn

import lenet_helpers as lh
from lenet_extras import drawing, training
from lenet_extras import exercises as ex
from lenet_extras.explorer import model_sizes
from lenet_extras.explorer_widgets import explore

matplotlib.use("Agg")


class Counting(nn.Module):
    """A layer whose forward changes its own state in place, as BatchNorm's does."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        self.calls += 1
        with torch.no_grad():
            self.scale.mul_(2)  # a parameter changed in place
        return x * self.scale


def model_in_mixed_modes() -> nn.Module:
    """BatchNorm and dropout in training mode, one block switched to eval by the learner, a
    first layer that works in place, and a layer that changes its own state."""
    model = nn.Sequential(
        nn.ReLU(inplace=True),
        nn.Conv2d(1, 4, 3, padding=1),
        nn.BatchNorm2d(4),
        nn.Dropout(0.5),
        nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.Dropout2d(0.3)),
        Counting(),
        nn.Flatten(),
        nn.Linear(4 * 8 * 8, 10),
    )
    model[4].eval()
    return model


def state(model: nn.Module) -> dict:
    return {
        "modes": [(n, m.training) for n, m in model.named_modules()],
        "tensors": {k: v.clone() for k, v in model.state_dict().items()},
        "objects": [id(t) for t in model.state_dict(keep_vars=True).values()],
        "rng": torch.get_rng_state(),
    }


def assert_same(before: dict, after: dict) -> None:
    assert after["modes"] == before["modes"]
    assert after["objects"] == before["objects"]
    assert after["tensors"].keys() == before["tensors"].keys()
    for key, value in before["tensors"].items():
        assert torch.equal(after["tensors"][key], value), key
    assert torch.equal(after["rng"], before["rng"])


def test_the_model_really_changes_when_run_plainly():
    """Without care, one forward pass changes all of it: the test model is a fair one."""
    model = model_in_mixed_modes()
    before = state(model)
    x = torch.randn(2, 1, 8, 8)
    x_before = x.clone()
    model(x)
    changed = [k for k, v in before["tensors"].items() if not torch.equal(model.state_dict()[k], v)]
    assert {"2.running_mean", "2.num_batches_tracked", "5.calls", "5.scale"} <= set(changed)
    assert not torch.equal(torch.get_rng_state(), before["rng"])  # dropout drew numbers
    assert not torch.equal(x, x_before)  # the in-place ReLU changed the caller's tensor


RUNS = {
    "trace_shapes": lambda m, x: lh.trace_shapes(m, x),
    "trace_shapes(keep_outputs)": lambda m, x: lh.trace_shapes(m, x, keep_outputs=True),
    "size_rule_table": lambda m, x: lh.size_rule_table(m, x),
    "model_sizes": lambda m, x: model_sizes(m, tuple(x.shape[1:])),
    "explore": lambda m, x: explore(m, tuple(x.shape[1:])),
    "draw_lenet": lambda m, x: drawing.draw_lenet(m, tuple(x.shape[1:])),
    "show_feature_maps": lambda m, x: drawing.show_feature_maps(m, x[0], ["1", "2"]),
    "predict": lambda m, x: training.predict(m, x),
    "evaluate": lambda m, x: training.evaluate(m, x, torch.zeros(len(x), dtype=torch.long)),
}


@pytest.mark.parametrize("helper", RUNS)
def test_helper_leaves_model_input_and_random_state_as_they_were(helper):
    import matplotlib.pyplot as plt

    model = model_in_mixed_modes()
    x = torch.randn(3, 1, 8, 8) - 0.5
    x_before, before = x.clone(), state(model)
    RUNS[helper](model, x)
    plt.close("all")
    assert_same(before, state(model))
    assert torch.equal(x, x_before)


@pytest.mark.parametrize("helper", ["trace_shapes", "model_sizes", "predict"])
def test_helper_leaves_the_model_as_it_was_also_when_it_fails(helper):
    model, x = model_in_mixed_modes(), torch.randn(3, 1, 9, 9)  # fc's width is wrong for 9x9
    before = state(model)
    with pytest.raises((RuntimeError, ValueError)):
        RUNS[helper](model, x)
    assert_same(before, state(model))


def test_kept_outputs_are_those_of_the_current_weights_in_eval_mode():
    net = lh.LeNet()
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        net.conv1.weight.mul_(3)  # as training changes them
        net.eval()
        expected = {"conv1": net.conv1(x), "fc3": net(x)}
    net.train()
    trace = {t.name: t for t in lh.trace_shapes(net, x, keep_outputs=True)}
    assert torch.equal(trace["conv1"].output, expected["conv1"])
    assert torch.equal(trace["fc3"].output, expected["fc3"])
    assert net.training


def test_grading_leaves_the_random_state_and_the_answer_as_they_were():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.BatchNorm2d(6))
    before, rng = state(model), torch.get_rng_state()
    for exercise, answer in (("02.4", model), ("05.6", model), ("04.4", 1), ("03.5", len)):
        ex.grade(exercise, answer)
    assert torch.equal(torch.get_rng_state(), rng)
    assert_same(before, state(model))
