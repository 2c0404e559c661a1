"""A plain training loop over in-memory tensors, and how to score the result (07)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor

from lenet_extras import checks
from lenet_extras.measuring import untouched


def train_epoch(
    model: nn.Module,
    images: Tensor,
    labels: Tensor,
    optimizer: torch.optim.Optimizer,
    *,
    batch_size: int = 64,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    generator: torch.Generator | None = None,
) -> float:
    """One pass over the training set in shuffled mini-batches; returns the mean loss (07).

    A plain loop over in-memory tensors: no DataLoader workers, no progress bar. A
    ``scheduler`` (such as OneCycleLR) is stepped after every optimizer step. Pass a seeded
    ``generator`` for the same shuffling every run. A loss that is not a finite number
    (NaN or infinite) stops training with a ``FloatingPointError`` that names the batch,
    before that batch changes the weights.
    """
    _check_training(model, images, labels, optimizer, batch_size, scheduler, generator)
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        scores = model(images[batch])
        if start == 0:
            _check_scores(scores, len(batch), int(labels.max()))
        loss = F.cross_entropy(scores, labels[batch])
        if not torch.isfinite(loss):
            raise FloatingPointError(_stopped(loss, images, batch, start, batch_size, optimizer))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(batch)
    return total / len(images)


def predict(model: nn.Module, images: Tensor, *, batch_size: int = 500) -> Tensor:
    """The predicted class of every image, in eval mode and without gradients (07).

    The model is left as it was: its train/eval mode, parameters, buffers and torch's random
    state are restored afterwards (see :mod:`lenet_extras.measuring`).
    """
    checks.module("model", model)
    checks.tensor("images", images, kind="floating", batch=True)
    batch_size = checks.integer("batch_size", batch_size, at_least=1)
    checks.same_device(model, "images", images)
    parts = []
    with untouched(model):
        for i in range(0, len(images), batch_size):
            scores = model(images[i : i + batch_size].clone())  # a layer may work in place
            if i == 0:
                _check_scores(scores, len(images[:batch_size]), None)
            parts.append(scores.argmax(1))
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.int64)


def evaluate(model: nn.Module, images: Tensor, labels: Tensor, *, batch_size: int = 500) -> float:
    """Fraction of images classified correctly (07), leaving the model as it was."""
    checks.tensor("images", images, kind="floating", nonempty=True)
    checks.class_indices("labels", labels, len(images))
    return (predict(model, images, batch_size=batch_size) == labels).double().mean().item()


def confusion_matrix(labels: Tensor, predictions: Tensor, classes: int = 10) -> Tensor:
    """Counts[i, j] = how many images of class i were predicted as class j (07)."""
    classes = checks.integer("classes", classes, at_least=1)
    checks.class_indices("labels", labels, len(labels) if isinstance(labels, Tensor) else 0)
    checks.class_indices("predictions", predictions, len(labels))
    for name, values in (("labels", labels), ("predictions", predictions)):
        if len(values) and int(values.max()) >= classes:
            raise ValueError(
                f"{name} holds class {int(values.max())}, but classes={classes} counts only "
                f"0 to {classes - 1}: pass classes={int(values.max()) + 1} or more"
            )
    index = labels.long() * classes + predictions.long()
    return torch.bincount(index, minlength=classes * classes).reshape(classes, classes)


def _check_training(model, images, labels, optimizer, batch_size, scheduler, generator) -> None:
    """train_epoch's arguments, each refused in one sentence naming it."""
    checks.module("model", model)
    checks.tensor("images", images, kind="floating", nonempty=True)
    checks.class_indices("labels", labels, len(images))
    checks.same_device(model, "images", images)
    checks.optimizer_for(model, optimizer)
    checks.integer("batch_size", batch_size, at_least=1)
    if scheduler is not None and not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(f"scheduler must be a torch.optim.lr_scheduler or None, got {scheduler!r}")
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {generator!r}")


def _check_scores(scores: object, batch: int, largest_label: int | None) -> None:
    """The model gives one row of class scores per image, enough for every label."""
    if not isinstance(scores, Tensor) or scores.dim() != 2 or len(scores) != batch:
        got = tuple(scores.shape) if isinstance(scores, Tensor) else checks.describe(scores)
        raise ValueError(
            f"the model must return one row of class scores per image, shape ({batch}, "
            f"classes) for a batch of {batch}; it returned {got}"
        )
    if largest_label is not None and largest_label >= scores.shape[1]:
        raise ValueError(
            f"labels go up to {largest_label}, but the model gives {scores.shape[1]} scores per "
            f"image: labels must be class indices from 0 to {scores.shape[1] - 1}"
        )


def _stopped(loss: Tensor, images: Tensor, batch: Tensor, start: int, size: int, optimizer) -> str:
    """Why training stopped at a batch whose loss is not a finite number, and what to try."""
    number = start // size + 1
    where = f"training stopped at batch {number} of {-(-len(images) // size)}"
    bad = (~torch.isfinite(images[batch])).flatten(1).any(1)
    if bad.any():
        first = int(batch[bad.nonzero()[0, 0]])
        return (
            f"{where}: its images hold NaN or infinite values (image {first} is one), so the "
            f"loss is {loss.item()}; clean the images (torch.isfinite(images).all() checks them)"
        )
    rate = optimizer.param_groups[0].get("lr")
    return (
        f"{where}, before it changed the weights: the loss became {loss.item()}; try a lower "
        f"learning rate than {rate}, and check the images and labels"
    )
