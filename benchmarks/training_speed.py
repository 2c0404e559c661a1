"""How fast notebook 07 trains, against references measured in the same run.

    python -m benchmarks.training_speed      (or: make benchmark)

Prints, from one run on this machine, with PyTorch's default threads (or OMP_NUM_THREADS):
  * the compute floor: throughput (images per second) of one epoch of `fit`, notebook 07's
    training call (its threads fixed, no progress line), and of the same forward, backward
    and optimiser step repeated on one fixed batch for as many steps as an epoch (no
    shuffling, no indexing, no scheduler, no .item()), each followed by the same evaluation
    on the 10,000 test digits that `fit` makes after an epoch; alternating, three of each;
    the ratio (median of the three paired ratios, each pair measured back to back) says what
    the loop around the arithmetic costs (target: at least 0.9). The min-max range of each
    shows how busy the machine was;
  * time to accuracy: the training time (evaluation excluded) that notebook 07's recipe
    (LeNet, Adam, one-cycle, batches of 128; run epoch by epoch with `train_epoch`, which
    steps the same way) and the PyTorch MNIST example's recipe (pytorch/examples,
    mnist/main.py) each need to reach 98.5% test accuracy, checked after every epoch, on the
    same data and threads, and their ratio. The example's network is written here from its
    description; its run is capped.
Speed is reported, never asserted: no test depends on this machine's timing.
"""

from __future__ import annotations

import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from lenet_extras.fitting import fit
from lenet_extras.lenet5 import pad_to_32
from lenet_extras.mnist import load_mnist
from lenet_extras.training import evaluate, train_epoch
from lenet_helpers import LeNet

TARGET_ACCURACY = 0.985
REPEATS = 3
PEER_EPOCHS = 3  # the example's run stops here if it has not reached the target


def notebook_07(seed: int = 0, epochs: int = 2, batch_size: int = 128, train_size: int = 60_000):
    """Notebook 07's recipe: LeNet, Adam with a one-cycle schedule, 2 epochs of batches of 128."""
    torch.manual_seed(seed)
    net = LeNet()
    optimizer = torch.optim.Adam(net.parameters())
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=0.01, epochs=epochs, steps_per_epoch=math.ceil(train_size / batch_size)
    )
    return net, optimizer, schedule, batch_size, epochs


class ExampleNet(nn.Module):
    """The network of the PyTorch MNIST example: two 3x3 convolutions (32, 64), max-pooling,
    dropout 0.25 and 0.5, 9216 -> 128 -> 10, log-softmax. Takes 28x28 digits."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 64, 3)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv2(F.relu(self.conv1(x)))), 2)
        x = F.relu(self.fc1(torch.flatten(self.dropout1(x), 1)))
        return F.log_softmax(self.fc2(self.dropout2(x)), dim=1)


def example_epoch(model, images, labels, optimizer, batch_size: int = 64) -> None:
    """The example's training loop (nll_loss on log-softmax), over the same in-memory tensors."""
    model.train()
    order = torch.randperm(len(images))
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        loss = F.nll_loss(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def floor_epoch(model, images, labels, optimizer, batch_size: int, steps: int) -> None:
    """The compute floor: forward, backward and step on one fixed batch, `steps` times."""
    model.train()
    x, y = images[:batch_size], labels[:batch_size]
    for _ in range(steps):
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def time_to_target(train_one_epoch, score, epochs: int) -> list[tuple[int, float, float]]:
    """(epoch, training seconds so far, test accuracy) after each epoch, until the target."""
    progress, seconds = [], 0.0
    for epoch in range(1, epochs + 1):
        seconds += timed(train_one_epoch)
        progress.append((epoch, seconds, score()))
        if progress[-1][2] >= TARGET_ACCURACY:
            break
    return progress


def reached(progress) -> float | None:
    return next((seconds for _, seconds, acc in progress if acc >= TARGET_ACCURACY), None)


def main() -> None:
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    train_32, test_32 = pad_to_32(train_images), pad_to_32(test_images)

    # (a) the compute floor, alternating with the helper so that a busy moment hits both alike
    net, optimizer, schedule, batch_size, _ = notebook_07(epochs=REPEATS)
    steps = math.ceil(len(train_32) / batch_size)

    threads = torch.get_num_threads()

    def helper_run() -> None:
        fit(net, train_32, train_labels, test_32, test_labels, epochs=1, batch_size=batch_size,
            threads=threads, progress=False)  # fmt: skip

    def floor_run() -> None:
        floor_epoch(net, train_32, train_labels, optimizer, batch_size, steps)
        evaluate(net, test_32, test_labels)  # as fit does after every epoch

    floor_epoch(net, train_32, train_labels, optimizer, batch_size, steps // 10)  # warm-up
    helper, floor = [], []
    for _ in range(REPEATS):
        helper.append(len(train_32) / timed(helper_run))
        floor.append(steps * batch_size / timed(floor_run))

    # (b) time to 98.5%: notebook 07's recipe, then the PyTorch example's
    net, optimizer, schedule, batch_size, epochs = notebook_07()
    ours = time_to_target(
        lambda: train_epoch(
            net, train_32, train_labels, optimizer, batch_size=batch_size, scheduler=schedule
        ),
        lambda: evaluate(net, test_32, test_labels),
        epochs,
    )
    train_norm, test_norm = ((x - 0.1307) / 0.3081 for x in (train_images, test_images))
    torch.manual_seed(0)
    peer = ExampleNet()
    adadelta = torch.optim.Adadelta(peer.parameters(), lr=1.0)
    step_lr = torch.optim.lr_scheduler.StepLR(adadelta, step_size=1, gamma=0.7)

    def peer_epoch() -> None:
        example_epoch(peer, train_norm, train_labels, adadelta)
        step_lr.step()

    theirs = time_to_target(peer_epoch, lambda: evaluate(peer, test_norm, test_labels), PEER_EPOCHS)

    print(f"\nTraining on MNIST with {threads} threads\n")
    print(f"(a) compute floor: images per second, median of {REPEATS} alternating runs (min-max)")
    for name, rates in (("fit, one epoch of notebook 07's", helper), ("floor", floor)):
        print(
            f"  {name:<38}{statistics.median(rates):>9,.0f}   ({min(rates):,.0f}-{max(rates):,.0f})"
        )
    ratio = statistics.median(h / f for h, f in zip(helper, floor, strict=True))
    verdict = "meets" if ratio >= 0.9 else "misses"
    label = "ratio fit / floor (paired)"
    print(f"  {label:<38}{ratio:>9.3f}   ({verdict} the target of 0.9)")

    print(f"\n(b) time to {TARGET_ACCURACY:.1%} test accuracy (training time, evaluation excluded)")
    for name, progress in (
        ("notebook 07 (LeNet, Adam, one-cycle)", ours),
        ("PyTorch example", theirs),
    ):
        steps_text = ", ".join(f"epoch {e}: {acc:.2%} at {s:.1f} s" for e, s, acc in progress)
        print(f"  {name}: {steps_text}")
    mine, peers = reached(ours), reached(theirs)
    if mine is None:
        print(f"  notebook 07's recipe did not reach {TARGET_ACCURACY:.1%}")
    elif peers is None:
        spent = theirs[-1][1]
        print(
            f"  the example did not reach {TARGET_ACCURACY:.1%} within {PEER_EPOCHS} epochs "
            f"({spent:.1f} s): ratio example / notebook 07 > {spent / mine:.1f}"
        )
    else:
        print(f"  {'ratio example / notebook 07':<38}{peers / mine:>9.1f}")


if __name__ == "__main__":
    main()
