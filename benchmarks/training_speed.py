"""How fast the helper's training loop is, against a bare loop doing the same work.

    python -m benchmarks.training_speed      (or: make benchmark)

Prints, from one run on this machine:
  * training throughput (images per second) of lenet_helpers.train_epoch and of a bare
    reference loop written inline, each timed over full epochs, alternating, best of two;
  * their ratio (target: at least 0.9, i.e. the helper adds no noticeable overhead);
  * the training time notebook 06's recipe needs to reach 98.5% test accuracy
    (target: at most 30 s on 2 cores), evaluation time excluded.
Speed is reported, never asserted: no test depends on this machine's timing.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from lenet_helpers import LeNet, evaluate, load_mnist, pad_to_32, train_epoch

THREADS = 2  # as notebook 06
BATCH = 64
TARGET_ACCURACY = 0.985


def bare_epoch(model, images, labels, optimizer, generator) -> float:
    """The reference: the same steps as train_epoch, written out with nothing around them."""
    model.train()
    order = torch.randperm(len(images), generator=generator)
    total = 0.0
    for start in range(0, len(images), BATCH):
        batch = order[start : start + BATCH]
        loss = F.cross_entropy(model(images[batch]), labels[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / len(images)


def helper_epoch(model, images, labels, optimizer, generator) -> float:
    return train_epoch(model, images, labels, optimizer, batch_size=BATCH, generator=generator)


def fresh(seed: int = 0):
    torch.manual_seed(seed)
    net = LeNet()
    return net, torch.optim.Adam(net.parameters(), lr=1e-3), torch.Generator().manual_seed(seed)


def throughput(epoch_fn, images, labels) -> float:
    net, optimizer, generator = fresh()
    start = time.perf_counter()
    epoch_fn(net, images, labels, optimizer, generator)
    return len(images) / (time.perf_counter() - start)


def main() -> None:
    torch.set_num_threads(THREADS)
    train_images, train_labels = load_mnist("train")
    test_images, test_labels = load_mnist("test")
    train_images, test_images = pad_to_32(train_images), pad_to_32(test_images)

    warm_net, warm_opt, warm_gen = fresh()
    bare_epoch(warm_net, train_images[:2048], train_labels[:2048], warm_opt, warm_gen)  # warm-up

    rates = {"helper": [], "bare": []}
    for _ in range(2):  # alternate, so that a slow moment of the machine hits both alike
        rates["helper"].append(throughput(helper_epoch, train_images, train_labels))
        rates["bare"].append(throughput(bare_epoch, train_images, train_labels))
    helper, bare = max(rates["helper"]), max(rates["bare"])

    net, optimizer, generator = fresh()
    training_time, reached = 0.0, None
    for epoch in range(1, 11):
        start = time.perf_counter()
        helper_epoch(net, train_images, train_labels, optimizer, generator)
        training_time += time.perf_counter() - start
        accuracy = evaluate(net, test_images, test_labels)
        print(
            f"  epoch {epoch}: test accuracy {accuracy:.2%} after {training_time:.1f} s of training"
        )
        if accuracy >= TARGET_ACCURACY:
            reached = (epoch, training_time)
            break

    print(f"\nTraining LeNet on MNIST, batch {BATCH}, Adam, {torch.get_num_threads()} threads")
    print(f"{'helper loop (lenet_helpers.train_epoch)':<44}{helper:>9,.0f} images/s")
    print(f"{'bare reference loop':<44}{bare:>9,.0f} images/s")
    verdict = "meets" if helper / bare >= 0.9 else "misses"
    print(f"{'ratio helper / bare':<44}{helper / bare:>9.3f}   ({verdict} the target of 0.9)")
    if reached:
        epoch, seconds = reached
        verdict = "meets" if seconds <= 30 else "misses"
        label = "time to 98.5% test accuracy"
        print(f"{label:<44}{seconds:>9.1f} s   (epoch {epoch}; {verdict} the target of 30 s)")
    else:
        print(f"{'time to 98.5% test accuracy':<44}not reached in 10 epochs")


if __name__ == "__main__":
    main()
