"""The right answer to every exercise, each computed by PyTorch in a short named function.

A function named ``e01_2`` answers exercise 01.2. For the exercises whose answer is code,
the function (from :mod:`lenet_extras.code_checks` or :mod:`lenet_extras.module_checks`)
takes the learner's answer and returns what is wrong with it, or None.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
from torch.autograd import Variable

from lenet_extras.code_checks import e03_5, e04_5, e05_5, e06_5  # noqa: F401
from lenet_extras.module_checks import e02_4, e05_6  # noqa: F401
from lenet_helpers import LeNet, count_parameters

# --- 01 imports


def e01_1() -> bool:
    return (torch.zeros(3, requires_grad=True) * 2).requires_grad


def e01_2() -> float:
    x = torch.tensor(3.0, requires_grad=True)
    (x**2 + 2 * x).backward()
    return x.grad.item()


def e01_3() -> type:
    return type(Variable(torch.zeros(2)))


# --- 02 architecture


class _LeNetWithReluModule(LeNet):
    """The lecture's class with one ReLU module, created once and called four times."""

    def __init__(self) -> None:
        super().__init__()
        self.relu = nn.ReLU()


def e02_1() -> int:
    return len(list(_LeNetWithReluModule().children()))


def e02_2() -> tuple[int, ...]:
    return _shape_after(nn.Conv2d(1, 1, kernel_size=(3, 7)), (1, 1, 20, 30))


def e02_3() -> int:
    chain = nn.Sequential(nn.Conv2d(1, 6, 5), nn.MaxPool2d(2), nn.Conv2d(6, 32, 5), nn.MaxPool2d(2))
    return math.prod(_shape_after(chain, (1, 1, 32, 32))[1:])


# --- 03 feed-forward


def e03_1() -> int:
    return _shape_after(nn.Conv2d(1, 6, 5), (1, 1, 28, 28))[-2]


def e03_2() -> int:
    return _shape_after(nn.MaxPool2d(kernel_size=3, stride=2), (1, 6, 14, 14))[-2]


def e03_3() -> tuple[int, ...]:
    return _shape_after(LeNet(), (7, 1, 32, 32))


def e03_4() -> int:
    """The padding for which a 5x5 convolution returns a 28x28 input at its own size."""
    sides = {p: _shape_after(nn.Conv2d(1, 1, 5, padding=p), (1, 1, 28, 28))[-1] for p in range(3)}
    return next(p for p, side in sides.items() if side == 28)


# --- 04 trainable parameters


def e04_1() -> int:
    return count_parameters(nn.Conv2d(6, 32, kernel_size=5))


def e04_2() -> int:
    return count_parameters(nn.Linear(400, 120, bias=False))


def e04_3() -> int:
    return sum(p.numel() * p.element_size() for p in LeNet().double().parameters())


def e04_4() -> int:
    net = LeNet()
    net.conv1 = nn.Conv2d(3, 6, kernel_size=5)
    return count_parameters(net)


# --- 05 shapes and pitfalls


def e05_1() -> int:
    with torch.no_grad():
        return LeNet().features(torch.zeros(100, 1, 28, 28)).view(-1, 16 * 5 * 5).shape[0]


def e05_2() -> int:
    with torch.no_grad():
        return LeNet(input_size=36).features(torch.zeros(1, 1, 36, 36)).numel()


def e05_3() -> str:
    """The one layer whose settings depend on the image size, once the rest stays as it is."""
    net, digit = LeNet(), torch.zeros(1, 1, 28, 28)
    width = net.features(digit).numel()
    return next(n for n, m in net.named_children() if getattr(m, "in_features", width) != width)


def e05_4() -> int:
    return count_parameters(LeNet(input_size=36))


# --- 06 the LeNet-5 of 1998


def e06_1() -> int:
    from lenet_extras.lenet5 import LeNet5

    return count_parameters(LeNet5().s4)


def e06_2() -> int:
    return count_parameters(nn.Conv2d(6, 16, kernel_size=5))


def e06_3() -> str:
    """Which distance names the digit: give the output layer an input equal to one centre."""
    from lenet_extras.lenet5 import RBFOutput

    output = RBFOutput()
    distances = output(output.centres[3:4])[0]
    return "smallest" if distances.argmin().item() == 3 else "largest"


def e06_4() -> int:
    from lenet_extras.lenet5 import LeNet5

    net = LeNet5()
    net.s2, net.s4 = nn.MaxPool2d(2), nn.MaxPool2d(2)
    return count_parameters(net)


# --- 07 training preview


def e07_1() -> int:
    from lenet_extras.mnist import load_mnist

    return round(0.015 * len(load_mnist("test")[1]))


def e07_2() -> int:
    from lenet_extras.mnist import MNIST_COUNTS

    return len(range(0, MNIST_COUNTS["train"], 256))


# --- shared pieces


def _shape_after(layer: nn.Module, shape: tuple[int, ...]) -> tuple[int, ...]:
    with torch.no_grad():
        return tuple(layer(torch.zeros(shape)).shape)
