"""The training helpers of notebook 07, on small synthetic data: fast and deterministic."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from lenet_extras.training import confusion_matrix, evaluate, predict, train_epoch
from lenet_helpers import LeNet


def toy_data(n: int = 256):
    """Two kinds of image: bright top half (class 0) or bright bottom half (class 1)."""
    generator = torch.Generator().manual_seed(1)
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = torch.rand(n, 1, 32, 32, generator=generator) * 0.2
    images[labels == 0, :, :16] += 0.8
    images[labels == 1, :, 16:] += 0.8
    return images, labels


def test_train_epoch_learns_and_returns_the_mean_loss():
    images, labels = toy_data()
    net = LeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    before = F.cross_entropy(net(images), labels).item()
    losses = [train_epoch(net, images, labels, optimizer, batch_size=32) for _ in range(3)]
    assert losses[-1] < losses[0] < before * 1.5
    assert evaluate(net, images, labels) > 0.95


def test_same_seed_same_run():
    images, labels = toy_data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        net = LeNet()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.05)
        generator = torch.Generator().manual_seed(0)
        runs.append(
            [train_epoch(net, images, labels, optimizer, generator=generator) for _ in range(2)]
        )
    assert runs[0] == runs[1]


def test_train_epoch_steps_the_scheduler_after_every_batch():
    images, labels = toy_data(100)  # batches of 32: four steps, the last of 4 images
    net = LeNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    halving = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    train_epoch(net, images, labels, optimizer, batch_size=32, scheduler=halving)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**4)


def test_train_epoch_refuses_mismatched_data():
    net = LeNet()
    with pytest.raises(ValueError, match="differ in length: 4 and 3"):
        train_epoch(
            net,
            torch.zeros(4, 1, 32, 32),
            torch.zeros(3, dtype=torch.long),
            torch.optim.SGD(net.parameters(), 0.1),
        )


def test_predict_and_evaluate_agree_with_argmax_in_any_batch_size():
    images, labels = toy_data(100)
    net = LeNet().train()
    with torch.no_grad():
        expected = net(images).argmax(1)
    for batch_size in (1, 7, 100, 1000):
        assert torch.equal(predict(net, images, batch_size=batch_size), expected)
    assert not net.training  # predict switches to eval mode
    assert evaluate(net, images, labels) == pytest.approx(
        (expected == labels).double().mean().item()
    )
    assert predict(net, images[:0]).shape == (0,)


def test_confusion_matrix_counts_pairs():
    labels = torch.tensor([0, 0, 1, 2, 2, 2])
    predictions = torch.tensor([0, 1, 1, 2, 0, 2])
    counts = confusion_matrix(labels, predictions, classes=3)
    expected = torch.zeros(3, 3, dtype=torch.int64)
    for t, p in zip(labels.tolist(), predictions.tolist(), strict=True):
        expected[t, p] += 1
    assert torch.equal(counts, expected)
    assert counts.sum() == len(labels)
