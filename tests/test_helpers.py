"""The helper module, checked against PyTorch itself: real layers, real shapes, real numel()."""

from __future__ import annotations

import contextlib
import io
import itertools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lenet_helpers as lh
from tools import nbio

# --- conv_output_size against real layers ---------------------------------------------

SIZES = (1, 2, 3, 5, 8, 13, 14, 28, 32)


def real_length(layer: nn.Module, size: int) -> int | None:
    """The output length PyTorch produces along the width, or None if it refuses."""
    try:
        with torch.no_grad():
            return layer(torch.zeros(1, 1, 3, size)).shape[-1]
    except RuntimeError:
        return None


@pytest.mark.parametrize(
    "kernel, stride, padding, dilation",
    list(itertools.product(range(1, 6), (1, 2, 3), (0, 1, 2), (1, 2))),
)
def test_size_rule_matches_conv2d(kernel, stride, padding, dilation):
    layer = nn.Conv2d(
        1, 1, (1, kernel), stride=(1, stride), padding=(0, padding), dilation=(1, dilation)
    )
    for size in SIZES:
        expected = real_length(layer, size)
        if expected is None:
            with pytest.raises(ValueError, match="no output"):
                lh.conv_output_size(size, kernel, stride, padding, dilation)
        else:
            assert lh.conv_output_size(size, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize(
    "kernel, stride, dilation", list(itertools.product(range(1, 6), (1, 2, 3), (1, 2)))
)
def test_size_rule_matches_maxpool2d(kernel, stride, dilation):
    for padding in range(kernel // 2 + 1):  # PyTorch allows at most half the kernel as padding
        layer = nn.MaxPool2d(
            (1, kernel), stride=(1, stride), padding=(0, padding), dilation=(1, dilation)
        )
        for size in SIZES:
            expected = real_length(layer, size)
            if expected is None:
                with pytest.raises(ValueError):
                    lh.conv_output_size(size, kernel, stride, padding, dilation)
            else:
                assert lh.conv_output_size(size, kernel, stride, padding, dilation) == expected


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"size": (28, 28), "kernel_size": 5}, TypeError, r"size must be one whole number, got a"),
        (
            {"size": 28.0, "kernel_size": 5},
            TypeError,
            r"^size must be a whole number \(an int\), got 28.0$",
        ),
        ({"size": True, "kernel_size": 1}, TypeError, r"^size must be a whole number .*got True$"),
        (
            {"size": 28, "kernel_size": torch.tensor(5.0)},
            TypeError,
            r"^kernel_size must be a whole",
        ),
        ({"size": 0, "kernel_size": 1}, ValueError, r"^size must be at least 1, got 0$"),
        (
            {"size": 28, "kernel_size": 5, "stride": 0},
            ValueError,
            r"^stride must be at least 1, got 0$",
        ),
        ({"size": 28, "kernel_size": 5, "padding": -1}, ValueError, r"^padding must be at least 0"),
        ({"size": 4, "kernel_size": 5}, ValueError, "no output: .* spans 5 pixels .* only 4"),
        ({"size": 8, "kernel_size": 3, "padding": 2, "pooling": True}, ValueError, "at most half"),
        ({"size": 8, "kernel_size": 3, "pooling": 1}, TypeError, "^pooling must be True or False"),
    ],
)
def test_size_rule_rejects_bad_arguments_clearly(kwargs, error, words):
    with pytest.raises(error, match=words) as raised:
        lh.conv_output_size(**kwargs)
    assert "\n" not in str(raised.value)


def test_pooling_refused_by_the_rule_exactly_where_pytorch_refuses_it():
    """conv_output_size(..., pooling=True) answers where PyTorch's pooling layers give an
    output, and refuses where they refuse the padding."""
    for kernel, padding, dilation in itertools.product(range(1, 6), range(0, 5), (1, 2)):
        pools = [nn.MaxPool2d((1, kernel), 1, (0, padding), dilation=(1, dilation))]
        if dilation == 1:
            pools.append(nn.AvgPool2d((1, kernel), 1, (0, padding)))
        for pool, size in itertools.product(pools, (1, 4, 9)):
            expected = real_length(pool, size)
            try:
                got = lh.conv_output_size(size, kernel, 1, padding, dilation, pooling=True)
            except ValueError:
                got = None
            assert got == expected, (pool, size)


def test_size_rule_table_handles_string_padding():
    model = nn.Sequential(nn.Conv2d(1, 2, 5, padding="same"), nn.Conv2d(2, 2, 3, padding="valid"))
    table = lh.size_rule_table(model, torch.zeros(1, 1, 9, 9))
    assert table.column("rule") == ["2×9×9", "2×7×7"] and all(table.column("agrees"))


def test_size_rule_table_leaves_ceil_mode_unrated():
    model = nn.MaxPool2d(2, 2, ceil_mode=True)
    (row,) = lh.size_rule_table(model, torch.zeros(1, 1, 15, 15)).rows
    assert row["actual"] == "1×8×8" and row["agrees"] is None


def test_size_rule_accepts_numpy_and_torch_integers():
    import numpy as np

    assert lh.conv_output_size(np.int64(32), torch.tensor(5)) == 28


# --- LeNet: the lecture's network, its prints, and its input check ---------------------

LECTURE_LINES_BATCH_1 = """\
Size of output of conv1: torch.Size([1, 6, 28, 28])
Size of output of pool1: torch.Size([1, 6, 14, 14])
Size of output of conv2: torch.Size([1, 16, 10, 10])
Size of output of pool2: torch.Size([1, 16, 5, 5])
Size of flattened response: torch.Size([1, 400])
Size of output of fc1: torch.Size([1, 120])
Size of output of fc2: torch.Size([1, 84])
Size of output of fc3: torch.Size([1, 10])
"""  # as printed in the lecture (slide at 19:09)


def printed(model: nn.Module, x: torch.Tensor) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        model(x)
    return out.getvalue()


def test_verbose_lenet_prints_the_lecture_lines():
    assert printed(lh.LeNet(verbose=True), torch.zeros(1, 1, 32, 32)) == LECTURE_LINES_BATCH_1
    ten = printed(lh.LeNet(verbose=True), torch.zeros(10, 1, 32, 32))
    assert ten == LECTURE_LINES_BATCH_1.replace("([1,", "([10,")


def test_quiet_lenet_prints_nothing():
    assert printed(lh.LeNet(), torch.zeros(3, 1, 32, 32)) == ""


def test_lenet_matches_the_layers_it_names():
    """forward is exactly conv1-relu-pool1-conv2-relu-pool2-flatten-fc1-relu-fc2-relu-fc3."""
    net = lh.LeNet()
    x = torch.randn(4, 1, 32, 32)
    by_hand = net.pool2(F.relu(net.conv2(net.pool1(F.relu(net.conv1(x))))))
    by_hand = net.fc3(F.relu(net.fc2(F.relu(net.fc1(by_hand.reshape(4, -1))))))
    assert torch.equal(net(x), by_hand)


def test_lenet_layers_and_count_are_the_lecture_ones():
    net = lh.LeNet()
    assert [n for n, _ in net.named_children()] == [
        "conv1",
        "pool1",
        "conv2",
        "pool2",
        "fc1",
        "fc2",
        "fc3",
    ]
    assert lh.count_parameters(net) == sum(p.numel() for p in net.parameters()) == 61706


@pytest.mark.parametrize(
    "given, words",
    [
        (torch.zeros(1, 32, 32), r"batch of shape \(N, 1, 32, 32\), got \(1, 32, 32\)$"),
        (torch.zeros(32, 32), r"got \(32, 32\)$"),
        (torch.zeros(8, 1, 28, 28), r"got \(8, 1, 28, 28\) \(MNIST digits are 28x28: pad"),
        (torch.zeros(2, 3, 32, 32), r"got \(2, 3, 32, 32\)$"),
        (torch.zeros(2, 32, 32, 1), r"got \(2, 32, 32, 1\)$"),
        ([[0.0]], r"got list$"),
    ],
)
def test_lenet_refuses_anything_but_a_batch_naming_both(given, words):
    with pytest.raises(ValueError, match=words):
        lh.LeNet()(given)


def test_lenet_unbatched_image_would_run_through_pytorchs_own_layers():
    """The check is a choice: PyTorch's conv and pool layers do take one (C, H, W) image."""
    net = lh.LeNet()
    assert net.features(torch.zeros(1, 32, 32)).shape == (16, 5, 5)


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (
            {"input_size": 12},
            ValueError,
            r"^input_size=12 is too small .* conv2 gets 4x4 maps.*is 16$",
        ),
        (
            {"input_size": 8, "conv1_padding": 2},
            ValueError,
            r"smallest input_size that works is 12",
        ),
        ({"input_size": 28.0}, TypeError, r"^input_size must be a whole number"),
        ({"input_size": 0}, ValueError, r"^input_size must be at least 1, got 0$"),
        ({"conv1_padding": -2}, ValueError, r"^conv1_padding must be at least 0, got -2$"),
        ({"verbose": "yes"}, TypeError, r"^verbose must be True or False, got 'yes'$"),
    ],
)
def test_lenet_refuses_settings_it_cannot_be_built_with(kwargs, error, words):
    with pytest.raises(error, match=words):
        lh.LeNet(**kwargs)


def test_lenet_smallest_input_is_the_smallest_pytorch_runs():
    for padding in (0, 1, 2):
        with pytest.raises(ValueError) as raised:
            lh.LeNet(input_size=1, conv1_padding=padding)
        smallest = int(str(raised.value).rsplit(" ", 1)[1])
        net = lh.LeNet(input_size=smallest, conv1_padding=padding)
        assert net(torch.zeros(1, 1, smallest, smallest)).shape == (1, 10)
        layers = [nn.Conv2d(1, 6, 5, padding=padding), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5)]
        with pytest.raises(RuntimeError):  # PyTorch's own layers refuse one pixel less
            nn.Sequential(*layers, nn.MaxPool2d(2))(torch.zeros(1, 1, smallest - 1, smallest - 1))


def test_lenet_refuses_a_size_it_cannot_hold_and_names_the_largest_it_builds():
    for side in (32, 36, 101):  # the count it checks is PyTorch's own
        assert lh.LeNet(input_size=side).fc1.weight.numel() == lh._fc1_weights(side)
    with pytest.raises(ValueError, match="would give fc1 .* weights") as raised:
        lh.LeNet(input_size=1000)
    largest = int(str(raised.value).rsplit(" ", 1)[1])
    assert lh._fc1_weights(largest) <= lh.LARGEST_FC1 < lh._fc1_weights(largest + 1)
    with pytest.raises(ValueError, match=f"up to {largest}$"):
        lh.LeNet(input_size=largest + 1)


@pytest.mark.parametrize(
    "batch, words",
    [
        (
            torch.zeros(2, 1, 32, 32, dtype=torch.float64),
            r"weights are torch.float32 but the batch is torch.float64: .*x.to\(torch.float32\)$",
        ),
        (
            torch.zeros(2, 1, 32, 32, dtype=torch.uint8),
            r"the batch is torch.uint8: convert it with x.float\(\) / 255$",
        ),
        (
            torch.zeros(2, 1, 32, 32, device="meta"),
            r"^the batch is on meta but the model's parameters are on cpu",
        ),
    ],
)
def test_lenet_refuses_a_batch_of_another_dtype_or_device_in_one_sentence(batch, words):
    with pytest.raises(ValueError, match=words):
        lh.LeNet()(batch)


def test_lenet_in_float64_takes_float64():
    assert (
        lh.LeNet().double()(torch.zeros(1, 1, 32, 32, dtype=torch.float64)).dtype == torch.float64
    )


def test_lenet_variants_follow_the_size_rule():
    for input_size, padding in [(28, 0), (28, 2), (36, 0), (32, 1)]:
        net = lh.LeNet(input_size=input_size, conv1_padding=padding)
        out = net(torch.zeros(2, 1, input_size, input_size))
        assert out.shape == (2, 10)
        with pytest.raises(ValueError, match=f"\\(N, 1, {input_size}, {input_size}\\)"):
            net(torch.zeros(2, 1, input_size + 1, input_size + 1))


def test_notebook_02_class_is_the_helper_network():
    """Notebook 02 writes LeNet out as the lecture does; it must stay the helper's network."""
    nb = nbio.read(nbio.NOTEBOOKS / "02_architecture.ipynb")
    source = next(
        c.source for c in nb.cells if c.cell_type == "code" and "class LeNet(nn.Module)" in c.source
    )
    namespace = {"torch": torch, "nn": nn, "F": F}
    exec(source, namespace)
    inline, helper = namespace["LeNet"](), lh.LeNet(verbose=True)
    assert [(n, p.shape) for n, p in inline.named_parameters()] == [
        (n, p.shape) for n, p in helper.named_parameters()
    ]
    assert str(inline) == str(helper)
    helper.load_state_dict(inline.state_dict())
    for batch in (1, 10):
        x = torch.randn(batch, 1, 32, 32)
        assert printed(inline, x) == printed(helper, x)
        with contextlib.redirect_stdout(io.StringIO()):
            assert torch.equal(inline(x), helper(x))


# --- trace_shapes and size_rule_table ---------------------------------------------------


def test_trace_shapes_records_every_leaf_layer():
    net = lh.LeNet()
    x = torch.zeros(3, 1, 32, 32)
    trace = lh.trace_shapes(net, x)
    assert [t.name for t in trace] == [n for n, _ in net.named_children()]
    shape = x.shape
    for step, (_, layer) in zip(trace, net.named_children(), strict=True):
        if isinstance(layer, nn.Linear) and len(shape) == 4:
            shape = torch.Size([shape[0], shape[1:].numel()])
        assert step.input_shape == shape
        shape = layer(torch.zeros(shape)).shape
        assert step.output_shape == shape
        assert step.layer is layer


def test_trace_shapes_can_keep_each_layers_output():
    net = lh.LeNet()
    x = torch.randn(2, 1, 32, 32)
    trace = {t.name: t for t in lh.trace_shapes(net, x, keep_outputs=True)}
    with torch.no_grad():
        assert torch.equal(trace["conv1"].output, net.conv1(x))
        assert torch.equal(trace["fc3"].output, net(x))
    assert all(t.output is None for t in lh.trace_shapes(net, x))


def leftover_hook_calls(model: nn.Module, x: torch.Tensor, monkeypatch) -> int:
    """How many hooks still fire on a plain forward pass: every record trace_shapes would add
    goes through LayerTrace, so count its constructions."""
    calls = []
    original = lh.LayerTrace.__init__

    def counting(self, *args, **kwargs):
        calls.append(args)
        original(self, *args, **kwargs)

    monkeypatch.setattr(lh.LayerTrace, "__init__", counting)
    with torch.no_grad(), contextlib.suppress(RuntimeError, ValueError):
        model(x)
    monkeypatch.undo()
    return len(calls)


def test_trace_shapes_removes_its_hooks_also_when_forward_raises(monkeypatch):
    net = lh.LeNet()
    lh.trace_shapes(net, torch.zeros(1, 1, 32, 32))
    assert leftover_hook_calls(net, torch.zeros(1, 1, 32, 32), monkeypatch) == 0
    sequential = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Linear(5, 5))
    with pytest.raises(RuntimeError):
        lh.trace_shapes(sequential, torch.zeros(1, 1, 8, 8))
    assert leftover_hook_calls(sequential, torch.zeros(1, 1, 7, 7), monkeypatch) == 0


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_trace_shapes_leaves_mode_and_gradients_alone(mode):
    net = lh.LeNet().train(mode == "train")
    trace = lh.trace_shapes(net, torch.zeros(1, 1, 32, 32), keep_outputs=True)
    assert net.training == (mode == "train")
    assert all(step.output.grad_fn is None for step in trace)  # no graph was recorded
    assert all(p.grad is None for p in net.parameters())


def test_trace_shapes_of_a_single_layer():
    trace = lh.trace_shapes(nn.Conv2d(1, 4, 3), torch.zeros(2, 1, 9, 9))
    assert [(t.name, tuple(t.output_shape)) for t in trace] == [("Conv2d", (2, 4, 7, 7))]


@pytest.mark.parametrize(
    "model, shape",
    [
        (lh.LeNet(), (2, 1, 32, 32)),
        (lh.LeNet(input_size=28), (1, 1, 28, 28)),
        (
            nn.Sequential(
                nn.Conv2d(3, 4, (3, 5), stride=(2, 1), padding=(1, 2), dilation=(1, 2)),
                nn.MaxPool2d(3, stride=2, padding=1),
                nn.AvgPool2d((2, 3)),
                nn.Flatten(),
                nn.Linear(4 * 2 * 3, 7),
            ),
            (1, 3, 19, 23),
        ),
    ],
)
def test_size_rule_table_agrees_with_real_layers(model, shape):
    table = lh.size_rule_table(model, torch.zeros(shape))
    rated = [row for row in table.rows if row["agrees"] is not None]
    assert rated and all(row["agrees"] for row in rated)
    assert [row["actual"] for row in table.rows] == [
        "×".join(map(str, t.output_shape[1:])) for t in lh.trace_shapes(model, torch.zeros(shape))
    ]


def test_table_prints_aligned_columns():
    text = repr(
        lh.Table(["name", "count"], [{"name": "a", "count": 5}, {"name": "bbb", "count": 61706}])
    )
    lines = text.splitlines()
    assert lines[0].startswith("name") and lines[1].startswith("----")
    assert lines[2].endswith("     5") and lines[3].endswith("61,706")
    assert len({len(line) for line in lines}) == 1


# --- count_parameters and parameter_table -----------------------------------------------

LAYERS = [
    nn.Conv2d(1, 6, 5),
    nn.Conv2d(6, 16, 5),
    nn.Conv2d(3, 8, (3, 5), bias=False),
    nn.Conv2d(8, 8, 3, groups=4),
    nn.Linear(400, 120),
    nn.Linear(7, 3, bias=False),
]


@pytest.mark.parametrize("layer", LAYERS, ids=repr)
def test_parameter_table_formula_matches_numel(layer):
    row = lh.parameter_table(nn.Sequential(layer)).rows[0]
    numel = sum(p.numel() for p in layer.parameters())
    assert row["by formula"] == row["numel"] == numel
    assert row["agrees"] is True


def test_parameter_table_lists_every_layer_and_the_total():
    net = lh.LeNet()
    table = lh.parameter_table(net)
    layers = [n for n, m in net.named_modules() if list(m.parameters(recurse=False))]
    assert table.column("layer") == [*layers, "total"]
    assert table.rows[-1]["numel"] == sum(p.numel() for p in net.parameters())


def test_count_parameters_trainable_only_and_buffers():
    net = lh.LeNet()
    everything = sum(p.numel() for p in net.parameters())
    net.conv1.requires_grad_(False)
    assert (
        lh.count_parameters(net) == everything - net.conv1.weight.numel() - net.conv1.bias.numel()
    )
    assert lh.count_parameters(net, trainable_only=False) == everything
    with_buffer = nn.BatchNorm1d(4)  # running statistics are buffers, not parameters
    assert lh.count_parameters(with_buffer) == 8


def test_count_is_independent_of_the_batch_size():
    net = lh.LeNet()
    before = lh.count_parameters(net)
    for batch in (1, 10, 64):
        net(torch.zeros(batch, 1, 32, 32))
        assert lh.count_parameters(net) == before


# --- expect_error -------------------------------------------------------------------------


def test_expect_error_prints_the_error_in_one_line(capsys):
    with lh.expect_error(ValueError):
        raise ValueError("expected this")
    assert capsys.readouterr().out == "ValueError: expected this\n"


def test_expect_error_fails_when_nothing_goes_wrong():
    with pytest.raises(AssertionError, match="expected ValueError or KeyError, but the code ran"):
        with lh.expect_error(ValueError, KeyError):
            pass


def test_expect_error_lets_other_errors_through():
    with pytest.raises(KeyError):
        with lh.expect_error(ValueError):
            raise KeyError("not this one")


def test_expect_error_refuses_what_is_not_an_exception_class():
    for wrong in ("ValueError", ValueError("x"), int):
        with pytest.raises(TypeError, match="takes exception classes, such as ValueError"):
            with lh.expect_error(wrong):
                raise ValueError("never reached")


# --- tables that add up -------------------------------------------------------------------


def tied() -> nn.Sequential:
    """Two linear layers sharing one weight tensor (tied weights), and a frozen third."""
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), nn.Linear(3, 3), nn.Linear(3, 2))
    model[2].weight = model[0].weight
    model[3].requires_grad_(False)
    return model


def test_parameter_table_counts_a_tied_weight_once():
    model = tied()
    table = lh.parameter_table(model)
    total = table.rows[-1]
    assert total["numel"] == lh.count_parameters(model, trainable_only=False)
    assert total["numel"] == sum(p.numel() for p in model.parameters()) == 3 * 3 + 3 + 3 + 8
    assert sum(table.column("numel")[:-1]) == total["numel"]  # the rows add up
    row = {r["layer"]: r for r in table.rows}["2"]
    assert row["numel"] == 3 and row["tensors"] == "3×3 (= 0.weight), 3"
    assert row["by formula"] == 12 and row["agrees"] is True  # the layer's own size
    assert table.notes == ["2.weight is 0.weight, the same tensor: counted once"]
    assert "counted once" in repr(table)


def test_parameter_table_has_a_trainable_column_that_follows_requires_grad():
    model = tied()
    table = lh.parameter_table(model)
    assert table.column("trainable") == [12, 3, 0, 15]
    assert table.rows[-1]["trainable"] == lh.count_parameters(model)
    net = lh.LeNet()
    net.conv1.weight.requires_grad_(False)
    rows = {r["layer"]: r for r in lh.parameter_table(net).rows}
    assert rows["conv1"]["trainable"] == 6 and rows["conv1"]["numel"] == 156
    assert rows["total"]["trainable"] == lh.count_parameters(net) == 61_706 - 150


def test_size_rule_table_shows_every_tensor_a_layer_returns():
    table = lh.size_rule_table(nn.MaxPool2d(2, return_indices=True), torch.zeros(1, 3, 8, 8))
    (row,) = table.rows
    values, indices = nn.MaxPool2d(2, return_indices=True)(torch.zeros(1, 3, 8, 8))
    dims = ["×".join(map(str, t.shape[1:])) for t in (values, indices)]
    assert row["actual"] == ", ".join(dims)
    assert row["agrees"] is True  # the rule predicts the values' size


def test_trace_shapes_numbers_the_calls_of_a_layer_used_again():
    relu = nn.ReLU()
    model = nn.Sequential(nn.Linear(4, 5), relu, nn.Linear(5, 6), relu)
    trace = lh.trace_shapes(model, torch.zeros(2, 4))
    assert [(t.name, t.call) for t in trace] == [("0", 1), ("1", 1), ("2", 1), ("1", 2)]
    assert lh.call_labels(trace) == ["0", "1 (call 1 of 2)", "2", "1 (call 2 of 2)"]
    assert [t.output_shape for t in trace] == [torch.Size([2, 5])] * 2 + [torch.Size([2, 6])] * 2
    cell = nn.LSTMCell(3, 4)
    (step,) = lh.trace_shapes(cell, torch.zeros(2, 3))
    assert step.output_shapes == tuple(t.shape for t in cell(torch.zeros(2, 3)))


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: lh.Table("ab", []), TypeError, "^columns must be a list of names, got 'ab'$"),
        (lambda: lh.Table(["a", "a"], []), ValueError, "^columns must differ"),
        (lambda: lh.Table(["a"], [{"b": 1}]), ValueError, r"^row 0 has \['b'\], which is not"),
        (lambda: lh.Table(["a"], [[1]]), TypeError, "^row 0 must be a dict"),
        (lambda: lh.Table(["a"], []).column("b"), KeyError, "no column 'b'; the columns are"),
    ],
)
def test_table_refuses_rows_it_would_not_print(make, error, words):
    with pytest.raises(error, match=words):
        make()
