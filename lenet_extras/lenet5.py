"""LeNet-5 of LeCun et al. (1998), layer by layer (06); the padding of MNIST digits (05)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from lenet_extras import checks


def pad_to_32(images: Tensor) -> Tensor:
    """Pad 28x28 images with two pixels of background on every side, to 32x32 (introduced
    in 05). The background is 0 in these images (blank paper scaled to [0, 1]).

    LeCun et al. (1998) placed the digits in a 32x32 field of background in the same way
    (their background was -0.1, after their own scaling), so that distinctive features such
    as stroke ends and corners can appear at the centre of the receptive field of the
    highest-level feature detectors.
    """
    if not isinstance(images, Tensor) or images.dim() < 2 or tuple(images.shape[-2:]) != (28, 28):
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"pad_to_32 expects images whose last two dimensions are 28x28, got {got}")
    return F.pad(images, (2, 2, 2, 2))


class ScaledTanh(nn.Module):
    """LeNet-5's squashing function, 1.7159 * tanh(2x/3) (introduced in 06)."""

    def forward(self, x: Tensor) -> Tensor:
        return 1.7159 * torch.tanh(2.0 / 3.0 * x)


class Subsampling(nn.Module):
    """LeNet-5's S2/S4 layers: each map's 2x2 sum, times a trained coefficient, plus a trained
    bias; two parameters per map (introduced in 06)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        channels = checks.integer("channels", channels, at_least=1)
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: Tensor) -> Tensor:
        summed = 4 * F.avg_pool2d(x, 2)
        return summed * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)


# Table I of LeCun et al. (1998): which S2 maps (0-5) each of the 16 C3 maps reads.
C3_CONNECTIONS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2), (1, 2, 3), (2, 3, 4), (3, 4, 5), (0, 4, 5), (0, 1, 5),
    (0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (0, 3, 4, 5), (0, 1, 4, 5), (0, 1, 2, 5),
    (0, 1, 3, 4), (1, 2, 4, 5), (0, 2, 3, 5),
    (0, 1, 2, 3, 4, 5),
)  # fmt: skip


class PartialConv2d(nn.Module):
    """A convolution in which each output map reads only some input maps (LeNet-5's C3,
    introduced in 06). Output map j has its own kernel stack ``weight_j`` over the input maps
    ``connections[j]``, so ``numel()`` counts exactly the connections that exist."""

    def __init__(self, connections: Sequence[Sequence[int]], kernel_size: int = 5) -> None:
        super().__init__()
        kernel_size = checks.integer("kernel_size", kernel_size, at_least=1)
        if not _is_table(connections):
            raise TypeError(
                "connections must list, for each output map, the input maps it reads, such as "
                f"[(0, 1, 2), (1, 2, 3)]; got {checks.describe(connections)}"
            )
        self.connections = [tuple(c) for c in connections]
        for j, inputs in enumerate(self.connections):
            weight = torch.empty(1, len(inputs), kernel_size, kernel_size)
            nn.init.kaiming_uniform_(weight, a=math.sqrt(5))  # as nn.Conv2d initialises
            self.register_parameter(f"weight_{j}", nn.Parameter(weight))
        bound = 1 / math.sqrt(min(len(c) for c in self.connections) * kernel_size**2)
        self.bias = nn.Parameter(torch.empty(len(self.connections)).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        maps = [
            F.conv2d(x[:, list(inputs)], getattr(self, f"weight_{j}"))
            for j, inputs in enumerate(self.connections)
        ]
        return torch.cat(maps, 1) + self.bias.view(1, -1, 1, 1)


def _is_table(connections: object) -> bool:
    """A non-empty sequence of non-empty sequences of input map numbers."""
    rows = connections if isinstance(connections, Sequence) else ()
    return bool(rows) and all(
        isinstance(r, Sequence) and r and all(isinstance(i, int) and i >= 0 for i in r)
        for r in rows
    )


class RBFOutput(nn.Module):
    """LeNet-5's output layer: one Euclidean radial basis unit per class (introduced in 06).

    Unit i outputs the squared distance between F6's 84 outputs and a fixed code of +-1
    values; the smallest distance wins. The paper drew the codes by hand as 7x12 bitmaps of
    the digits; these are fixed random +-1 stand-ins. They are a buffer, not a parameter: the
    paper kept its codes fixed (at least at first, it says).
    """

    def __init__(self, in_features: int = 84, classes: int = 10, seed: int = 1998) -> None:
        super().__init__()
        in_features = checks.integer("in_features", in_features, at_least=1)
        classes = checks.integer("classes", classes, at_least=1)
        generator = torch.Generator().manual_seed(checks.integer("seed", seed))
        codes = torch.randint(0, 2, (classes, in_features), generator=generator) * 2.0 - 1.0
        self.register_buffer("centres", codes)

    def forward(self, x: Tensor) -> Tensor:
        return ((x.unsqueeze(1) - self.centres) ** 2).sum(-1)


class LeNet5(nn.Module):
    """LeNet-5 as published by LeCun et al. (1998), for comparison (introduced in 06).

    C1 -> S2 -> C3 -> S4 -> C5 -> F6 -> RBF output, scaled tanh throughout, trainable
    subsampling instead of max-pooling, a partial connection table in C3. 60,000 trainable
    parameters; the 840 RBF values are fixed.
    """

    def __init__(self) -> None:
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)
        self.s2 = Subsampling(6)
        self.c3 = PartialConv2d(C3_CONNECTIONS, kernel_size=5)
        self.s4 = Subsampling(16)
        self.c5 = nn.Conv2d(16, 120, kernel_size=5)
        self.f6 = nn.Linear(120, 84)
        self.output = RBFOutput(84, 10)
        self.squash = ScaledTanh()

    def forward(self, x: Tensor) -> Tensor:
        for layer in (self.c1, self.s2, self.c3, self.s4, self.c5):
            x = self.squash(layer(x))
        x = self.squash(self.f6(torch.flatten(x, 1)))
        return self.output(x)
