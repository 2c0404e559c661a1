"""The LeNet-5 of 1998 and the padding of digits, checked against PyTorch's own layers."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lenet_extras.lenet5 import C3_CONNECTIONS, LeNet5, PartialConv2d, Subsampling, pad_to_32
from lenet_helpers import LeNet, count_parameters


def test_pad_to_32_is_a_two_pixel_zero_border():
    images = torch.rand(3, 1, 28, 28)
    padded = pad_to_32(images)
    assert padded.shape == (3, 1, 32, 32)
    assert torch.equal(padded[..., 2:30, 2:30], images)
    border = padded.clone()
    border[..., 2:30, 2:30] = 0
    assert not border.any()
    with pytest.raises(ValueError, match=r"28x28, got \(3, 1, 32, 32\)"):
        pad_to_32(padded)


def test_conv1_padding_2_equals_padding_the_digits():
    padded, in_conv = LeNet(), LeNet(input_size=28, conv1_padding=2)
    in_conv.load_state_dict(padded.state_dict())
    digits = torch.rand(5, 1, 28, 28)
    assert torch.allclose(padded(pad_to_32(digits)), in_conv(digits), atol=1e-6)


def test_partial_conv_equals_a_masked_full_convolution():
    c3 = PartialConv2d(C3_CONNECTIONS)
    full = torch.zeros(16, 6, 5, 5)
    for j, inputs in enumerate(C3_CONNECTIONS):
        full[j, list(inputs)] = getattr(c3, f"weight_{j}")[0].detach()
    x = torch.randn(2, 6, 14, 14)
    assert torch.allclose(c3(x), F.conv2d(x, full, c3.bias), atol=1e-5)
    links = sum(len(inputs) for inputs in C3_CONNECTIONS)
    assert count_parameters(c3) == links * 25 + 16


def test_c3_table_is_table_one_of_the_paper():
    # Each S2 map feeds 10 of the 16 C3 maps; 6 C3 maps read 3, 9 read 4, 1 reads all 6.
    feeds = [sum(i in inputs for inputs in C3_CONNECTIONS) for i in range(6)]
    assert feeds == [10] * 6
    assert sorted(len(c) for c in C3_CONNECTIONS) == [3] * 6 + [4] * 9 + [6]


def test_subsampling_is_a_scaled_2x2_sum_plus_bias():
    layer = Subsampling(2)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([0.5, -2.0]))
        layer.bias.copy_(torch.tensor([1.0, 0.0]))
    x = torch.randn(1, 2, 4, 4)
    sums = x.unfold(2, 2, 2).unfold(3, 2, 2).sum((-1, -2))
    expected = sums * torch.tensor([0.5, -2.0]).view(1, 2, 1, 1) + torch.tensor([1.0, 0.0]).view(
        1, 2, 1, 1
    )
    assert torch.allclose(layer(x), expected, atol=1e-6)


def test_lenet5_has_the_papers_counts_and_shapes():
    net = LeNet5()
    counts = {name: count_parameters(child) for name, child in net.named_children()}
    conv = {
        name: sum(p.numel() for p in getattr(net, name).parameters()) for name in ("c1", "c5", "f6")
    }
    assert conv == {"c1": (25 + 1) * 6, "c5": (16 * 25 + 1) * 120, "f6": (120 + 1) * 84}
    assert counts["s2"] == 2 * 6 and counts["s4"] == 2 * 16 and counts["output"] == 0
    assert sum(counts.values()) == count_parameters(net) == 60_000
    assert net(torch.zeros(3, 1, 32, 32)).shape == (3, 10)


def test_rbf_codes_are_fixed_buffers_not_parameters():
    net = LeNet5()
    assert count_parameters(net.output, trainable_only=False) == 0
    assert sum(b.numel() for b in net.buffers()) == 10 * 84
