"""A plain training loop over in-memory tensors, and how to score the result (07)."""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor


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
    ``generator`` for the same shuffling every run.
    """
    if len(images) != len(labels):
        raise ValueError(f"images and labels differ in length: {len(images)} and {len(labels)}")
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total = 0.0
    for start in range(0, len(images), batch_size):
        batch = order[start : start + batch_size]
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(batch)
    return total / len(images)


@torch.no_grad()
def predict(model: nn.Module, images: Tensor, *, batch_size: int = 1000) -> Tensor:
    """The predicted class of every image, in eval mode and without gradients (07)."""
    model.eval()
    parts = [model(images[i : i + batch_size]).argmax(1) for i in range(0, len(images), batch_size)]
    return torch.cat(parts) if parts else torch.empty(0, dtype=torch.int64)


def evaluate(model: nn.Module, images: Tensor, labels: Tensor, *, batch_size: int = 1000) -> float:
    """Fraction of images classified correctly (07)."""
    return (predict(model, images, batch_size=batch_size) == labels).double().mean().item()


def confusion_matrix(labels: Tensor, predictions: Tensor, classes: int = 10) -> Tensor:
    """Counts[i, j] = how many images of class i were predicted as class j (07)."""
    index = labels.long() * classes + predictions.long()
    return torch.bincount(index, minlength=classes * classes).reshape(classes, classes)
