"""Train a network in one call that can be run again, with progress you can watch (07).

``fit`` builds everything a run consumes (the optimiser, the schedule, the order of the
batches) inside the call, as d2l's ``train_ch6`` does: running its cell again trains again,
and never fails on a schedule that was used up. It returns a ``History`` of every step,
which :func:`lenet_extras.progress.show_history` draws.
"""

from __future__ import annotations

import copy
import math
import statistics
import time
from dataclasses import dataclass, field

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from lenet_extras.progress import EpochProgress
from lenet_extras.training import evaluate

__all__ = ["History", "STARTING_THREADS", "choose_threads", "fit"]

# How many threads PyTorch started with in this kernel: one per core, unless told otherwise.
STARTING_THREADS = torch.get_num_threads()


def choose_threads(
    model: nn.Module, images: Tensor, labels: Tensor, *, most: int | None = None, trials: int = 3
) -> int:
    """Set PyTorch to one thread or to ``most`` (default: ``STARTING_THREADS``), whichever
    does a training step's forward and backward pass faster right now; return the number (07).

    PyTorch splits each layer's work between its threads, and they wait for one another at
    the end of the layer. When another program holds one of the cores, every layer waits
    for the thread that cannot run, and two threads are slower than one. The passes are timed
    alternately on a copy of ``model`` with the batch ``images`` and ``labels``: the model
    itself, its gradients and the random state are left as they were. ``fit`` calls this
    before every epoch; call it before a training loop of your own, too.
    """
    most = STARTING_THREADS if most is None else most
    for name, value in (("most", most), ("trials", trials)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    chosen = 1
    if most > 1:
        seconds: dict[int, list[float]] = {1: [], most: []}
        trial = copy.deepcopy(model)
        with torch.random.fork_rng(devices=[]):
            for _ in range(trials + 1):  # alternately; the first round warms up
                for threads in (1, most):
                    torch.set_num_threads(threads)
                    start = time.perf_counter()
                    F.cross_entropy(trial(images), labels).backward()
                    seconds[threads].append(time.perf_counter() - start)
        if statistics.median(seconds[most][1:]) < 0.8 * statistics.median(seconds[1][1:]):
            chosen = most  # clearly faster: none of its threads waited long for a core
    torch.set_num_threads(chosen)
    return chosen


@dataclass
class History:
    """What ``fit`` measured: the loss, accuracy and learning rate of every training batch,
    and the test accuracy after every epoch (07)."""

    steps_per_epoch: int
    loss: list[float] = field(default_factory=list)  # the mean loss of each batch
    accuracy: list[float] = field(default_factory=list)  # the fraction right in each batch
    learning_rate: list[float] = field(default_factory=list)  # the one each step used
    batch_sizes: list[int] = field(default_factory=list)
    test_accuracy: list[float] = field(default_factory=list)  # after each epoch
    threads: list[int] = field(default_factory=list)  # how many PyTorch used in each epoch

    def add(self, loss: Tensor, scores: Tensor, labels: Tensor, learning_rate: float) -> None:
        """Record one training step; stop the run if its loss is not a finite number."""
        value = loss.item()
        if not math.isfinite(value):
            raise FloatingPointError(
                f"the training loss became {value} at step {len(self.loss) + 1} (learning "
                f"rate {learning_rate:.3g}): the weights diverged; try a smaller max_lr"
            )
        self.loss.append(value)
        self.accuracy.append((scores.argmax(1) == labels).double().mean().item())
        self.learning_rate.append(learning_rate)
        self.batch_sizes.append(len(labels))

    def epoch_losses(self) -> list[float]:
        """The mean training loss of each epoch, every image counted once."""
        means = []
        for start in range(0, len(self.loss), self.steps_per_epoch):
            part = slice(start, start + self.steps_per_epoch)
            pairs = zip(self.loss[part], self.batch_sizes[part], strict=True)
            means.append(sum(x * n for x, n in pairs) / sum(self.batch_sizes[part]))
        return means


def check_settings(epochs: int, batch_size: int, max_lr: float, threads: int | None) -> None:
    """Refuse a setting ``fit`` cannot train with, naming it (07)."""
    for name, value in (("epochs", epochs), ("batch_size", batch_size), ("threads", threads)):
        if name == "threads" and value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    if isinstance(max_lr, bool) or not isinstance(max_lr, int | float) or not max_lr > 0:
        raise ValueError(f"max_lr must be a number above 0, got {max_lr!r}")


def check_data(*data: Tensor) -> None:
    """Refuse images and labels ``fit`` cannot train and test on, naming them (07)."""
    for which, images, labels in (("train", *data[:2]), ("test", *data[2:])):
        if not isinstance(images, Tensor) or images.dim() != 4 or len(images) == 0:
            got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
            raise ValueError(f"{which}_images must be a non-empty batch (N, C, H, W), got {got}")
        if not isinstance(labels, Tensor) or tuple(labels.shape) != (len(images),):
            got = tuple(labels.shape) if isinstance(labels, Tensor) else type(labels).__name__
            raise ValueError(f"{which}_labels must have shape ({len(images)},), got {got}")


def fit(
    model: nn.Module,
    train_images: Tensor,
    train_labels: Tensor,
    test_images: Tensor,
    test_labels: Tensor,
    *,
    epochs: int = 2,
    batch_size: int = 128,
    max_lr: float = 0.01,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = True,
) -> History:
    """Train ``model`` with Adam and a one-cycle schedule; return what was measured (07).

    ``seed`` fixes the order of the batches (the weights are the model's own). ``threads``
    None lets ``choose_threads`` pick before each epoch; a number fixes it, for runs whose
    every digit repeats. The model ends in the mode, train or eval, it started in.
    """
    check_settings(epochs, batch_size, max_lr, threads)
    check_data(train_images, train_labels, test_images, test_labels)
    steps = math.ceil(len(train_images) / batch_size)
    optimizer = torch.optim.Adam(model.parameters())
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=max_lr, epochs=epochs, steps_per_epoch=steps
    )
    shuffle = torch.Generator().manual_seed(seed)
    history, watch = History(steps), EpochProgress(epochs, steps, show=progress)
    was_training = model.training
    for epoch in range(1, epochs + 1):
        model.train()
        order = torch.randperm(len(train_images), generator=shuffle)
        first = order[:batch_size]
        history.threads.append(
            threads or choose_threads(model, train_images[first], train_labels[first])
        )
        torch.set_num_threads(history.threads[-1])
        for start in range(0, len(train_images), batch_size):
            batch = order[start : start + batch_size]
            scores = model(train_images[batch])
            loss = F.cross_entropy(scores, train_labels[batch])
            history.add(loss, scores, train_labels[batch], schedule.get_last_lr()[0])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            watch.step(epoch, history)
        history.test_accuracy.append(evaluate(model, test_images, test_labels))
        watch.end_epoch(epoch, history)
    model.train(was_training)
    return history
