"""model_sizes' rows add up, checked against torchinfo and PyTorch itself.

torchinfo's repository tests its summary on fixture models (tests/fixtures/models.py) against
expected printouts (tests/test_output/*.out). Its PyPI release (the pinned torchinfo 1.8.0
sdist included) ships neither, and its code is not ours to copy. So the models below are
written here, one for each case those fixtures cover that our table must get right: a layer
called recursively, a layer reused in a Sequential, parameters a container holds itself,
a model whose only parameters are its own, frozen and partly frozen layers, layers that
return tuples (max pooling with indices, LSTMCell, LSTM), a ModuleList looped over, a layer
never called, BatchNorm reused with one ReLU. Each is run through torchinfo.summary() itself,
and every leaf call's output shape and every total is compared; the totals are also checked
against PyTorch's own numel(), which is where torchinfo and PyTorch differ (tied weights).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn as nn
from torchinfo import summary

from lenet_extras.explorer import model_sizes
from lenet_helpers import LeNet


class Recursive(nn.Module):
    """One convolution called six times."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        for _ in range(6):
            x = self.conv(x)
        return x


class HoldsParameters(nn.Module):
    """Parameters held by containers, not by any called layer, and a layer never called."""

    def __init__(self) -> None:
        super().__init__()
        self.first = nn.Linear(2, 1)
        self.scale = nn.Parameter(torch.ones(2))
        self.inner = nn.ModuleDict({"layer": nn.Linear(1, 1), "unused": nn.Linear(3, 3)})
        self.inner.register_parameter("gain", nn.Parameter(torch.ones(1)))

    def forward(self, x):
        return self.inner["layer"](self.first(x * self.scale)) * self.inner.gain


class OwnParametersOnly(nn.Module):
    """A fully connected layer written with bare parameters: no layer at all."""

    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(8, 5))
        self.bias = nn.Parameter(torch.zeros(5))

    def forward(self, x):
        return x @ self.weight + self.bias


class PoolAndUnpool(nn.Module):
    """Max pooling that returns (values, indices), and the layer that takes both."""

    def __init__(self) -> None:
        super().__init__()
        self.encode = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU())
        self.pool = nn.MaxPool2d(2, 2, return_indices=True)
        self.unpool = nn.MaxUnpool2d(2, 2)

    def forward(self, x):
        values, indices = self.pool(self.encode(x))
        return self.unpool(values, indices)


class CellLoop(nn.Module):
    """An LSTM cell, returning (h, c), stepped four times."""

    def __init__(self) -> None:
        super().__init__()
        self.cell = nn.LSTMCell(3, 2)
        self.squash = nn.Tanh()
        self.out = nn.Linear(2, 3)

    def forward(self, x):
        h = c = torch.zeros(x.shape[0], 2)
        for _ in range(4):
            h, c = self.cell(x, (h, c))
            h = self.squash(h)
        return self.out(h)


class Sequence(nn.Module):
    """An embedding, a two-layer LSTM returning (output, (h, c)), a decoder."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(20, 8)
        self.lstm = nn.LSTM(8, 6, num_layers=2)
        self.decode = nn.Linear(6, 20)

    def forward(self, x):
        out, _ = self.lstm(self.embed(x))
        return self.decode(out)


def reused_linear() -> nn.Module:
    linear = nn.Linear(10, 10)
    return nn.Sequential(*[m for _ in range(3) for m in (linear, nn.ReLU())])


def reused_relu_with_batchnorm() -> nn.Module:
    relu = nn.ReLU()
    layers = [nn.Conv2d(4, 2, 1), nn.BatchNorm2d(2), relu, nn.Conv2d(2, 4, 1, stride=2)]
    return nn.Sequential(*layers, nn.BatchNorm2d(4), relu)


def frozen() -> nn.Module:
    model = nn.Sequential(nn.Conv1d(1, 2, 3), nn.Conv1d(2, 2, 3), nn.Conv1d(2, 1, 3))
    model[0].requires_grad_(False)
    model[1].bias.requires_grad_(False)
    return model


class Looped(nn.Module):
    """A ModuleList looped over, with a Sequential called and then its layers again."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            [nn.Linear(5, 5), nn.Sequential(nn.Linear(5, 5)), nn.Linear(5, 5)]
        )

    def forward(self, x):
        for block in self.blocks:
            x = block(x)
        for layer in self.blocks[1]:
            x = layer(x)
        return x


MODELS = {
    "recursive": (Recursive, (4, 6, 6), None),
    "reused linear": (reused_linear, (10,), None),
    "reused relu, batchnorm": (reused_relu_with_batchnorm, (4, 8, 8), None),
    "parameters in containers": (HoldsParameters, (2,), None),
    "own parameters only": (OwnParametersOnly, (8,), None),
    "tuple output: pooling": (PoolAndUnpool, (3, 8, 8), None),
    "tuple output: LSTMCell": (CellLoop, (3,), None),
    "tuple output: LSTM": (Sequence, (5,), torch.long),
    "frozen layers": (frozen, (1, 12), None),
    "ModuleList": (Looped, (5,), None),
    "LeNet": (LeNet, (1, 32, 32), None),
}


def ours(name: str):
    make, shape, dtype = MODELS[name]
    torch.manual_seed(0)
    return model_sizes(make(), shape, **({"dtype": dtype} if dtype else {}))


def torchinfos(name: str):
    make, shape, dtype = MODELS[name]
    torch.manual_seed(0)
    return summary(make(), input_size=(1, *shape), dtypes=dtype and [dtype], verbose=0)


def calls(table) -> list[dict]:
    """The rows of leaf layers' calls, in order (not input, total, or uncalled parameters)."""
    skip = {"input", "total"}
    return [
        r
        for r in table.rows
        if r["layer"] not in skip
        and r.get("output") != "not called"
        and not r["type"].startswith("Parameter")
    ]


@pytest.mark.parametrize("name", MODELS)
def test_every_leaf_call_has_torchinfos_output_shape(name):
    leaves = [layer for layer in torchinfos(name).summary_list if layer.is_leaf_layer]
    rows = calls(ours(name))
    assert [r["type"] for r in rows] == [layer.class_name for layer in leaves]
    firsts = [r["output"].split(", ")[0] for r in rows]
    assert firsts == ["×".join(map(str, layer.output_size[1:])) for layer in leaves]
    again = [
        " (call " in r["layer"] and not r["layer"].split("(call ")[1].startswith("1 ") for r in rows
    ]
    assert again == [layer.is_recursive for layer in leaves]


@pytest.mark.parametrize("name", MODELS)
def test_rows_add_up_to_pytorchs_count_and_torchinfos_totals(name):
    make, *_ = MODELS[name]
    torch.manual_seed(0)
    model = make()
    table = ours(name)
    body, total = table.rows[:-1], table.rows[-1]
    assert total["parameters"] == sum(p.numel() for p in model.parameters()) == table.total
    assert total["trainable"] == sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert sum(r.get("parameters") or 0 for r in body) == total["parameters"]
    assert sum(r.get("trainable") or 0 for r in body) == total["trainable"]
    info = torchinfos(name)
    assert (info.total_params, info.trainable_params) == (total["parameters"], total["trainable"])


def test_a_repeated_layer_is_marked_and_counted_once():
    rows = {r["layer"]: r for r in ours("recursive").rows}
    assert rows["conv (call 1 of 6)"]["parameters"] == 4 * 4 * 9 + 4
    assert all(rows[f"conv (call {k} of 6)"].get("parameters") is None for k in range(2, 7))
    assert "conv runs 6 times; its parameters are counted once" in repr(ours("recursive"))


def test_parameters_outside_called_layers_get_rows_of_their_own():
    rows = {r["layer"]: r for r in ours("parameters in containers").rows}
    assert rows["scale"] == {
        "layer": "scale",
        "type": "Parameter of HoldsParameters",
        "parameters": 2,
        "trainable": 2,
    }
    assert rows["inner.gain"]["parameters"] == 1
    assert rows["inner.unused"] == {
        "layer": "inner.unused",
        "type": "Linear",
        "output": "not called",
        "parameters": 12,
        "trainable": 12,
    }
    own = {r["layer"]: r.get("parameters") for r in ours("own parameters only").rows}
    assert own == {"input": None, "OwnParametersOnly": 45, "total": 45}  # itself the leaf


def test_tuple_outputs_show_each_tensor():
    rows = {r["layer"]: r for r in ours("tuple output: pooling").rows}
    values, indices = nn.MaxPool2d(2, 2, return_indices=True)(torch.zeros(1, 8, 8, 8))
    assert rows["pool"]["output"] == ", ".join(
        "×".join(map(str, t.shape[1:])) for t in (values, indices)
    )
    cell = {r["layer"]: r for r in ours("tuple output: LSTMCell").rows}
    h, c = nn.LSTMCell(3, 2)(torch.zeros(1, 3))
    assert cell["cell (call 1 of 4)"]["output"] == f"{h.shape[1]}, {c.shape[1]}"


def test_a_tied_weight_is_counted_once_as_pytorch_does_where_torchinfo_counts_it_twice():
    model = nn.Sequential(nn.Linear(5, 5), nn.ReLU(), nn.Linear(5, 5))
    model[2].weight = model[0].weight
    table = model_sizes(model, (5,))
    assert table.total == sum(p.numel() for p in model.parameters()) == 35
    assert [r.get("parameters") for r in table.rows] == [None, 30, 0, 5, 35]
    assert summary(model, input_size=(1, 5), verbose=0).total_params == 60  # torchinfo 1.8.0
