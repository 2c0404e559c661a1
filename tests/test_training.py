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
    with pytest.raises(ValueError, match=r"labels must be one class index per image, shape \(4,\)"):
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
    assert net.training  # predict runs in eval mode, then puts the mode back
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


# --- training stops on a loss that is not a finite number ---------------------------------


def test_a_nan_image_stops_training_before_the_weights_change():
    images, labels = toy_data(64)
    images[17, 0, 3, 4] = float("nan")
    net = LeNet()
    before = [p.detach().clone() for p in net.parameters()]
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    with pytest.raises(FloatingPointError) as raised:
        train_epoch(net, images, labels, optimizer, batch_size=64)  # one batch, holding it
    message = str(raised.value)
    assert message.startswith("training stopped at batch 1 of 1: its images hold NaN")
    assert "image 17 is one" in message and "torch.isfinite(images).all()" in message
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))


def test_a_diverging_loss_stops_training_and_says_what_to_try():
    images, labels = toy_data(256)
    net = LeNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=1e10)
    with pytest.raises(
        FloatingPointError, match=r"^training stopped at batch \d+ of 8, before"
    ) as e:
        for _ in range(3):
            train_epoch(net, images, labels, optimizer, batch_size=32)
    assert "try a lower learning rate than 10000000000.0" in str(e.value)
    assert "\n" not in str(e.value)
    assert all(torch.isfinite(p).all() for p in net.parameters())


def test_evaluate_refuses_labels_that_would_broadcast():
    images = torch.rand(50, 1, 32, 32, generator=torch.Generator().manual_seed(2))
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(32 * 32, 10))
    right = predict(net, images)  # labels the model always gets right
    assert evaluate(net, images, right) == 1.0
    broadcast = (predict(net, images) == right[:, None]).double().mean().item()
    assert broadcast < 1.0  # what comparing with (N, 1) labels would have reported
    with pytest.raises(ValueError, match=r"shape \(50,\); got shape \(50, 1\): use labels.squeeze"):
        evaluate(net, images, right[:, None])


def test_confusion_matrix_refuses_a_class_it_has_no_row_for():
    with pytest.raises(ValueError, match="holds class 12, but classes=10"):
        confusion_matrix(torch.tensor([1, 4]), torch.tensor([12, 4]))
    counts = confusion_matrix(torch.tensor([1, 4]), torch.tensor([12, 4]), classes=13)
    assert counts[1, 12] == 1 and counts[4, 4] == 1 and counts.sum() == 2
