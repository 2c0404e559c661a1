"""Watch training as it runs, and see it afterwards (07).

``EpochProgress`` shows one line per epoch that is rewritten in place while the epoch runs
(a display updated in JupyterLab, Colab and VS Code; a plain line printed once per epoch
anywhere else). It shows counts and losses only, never a time or a speed, so what a notebook
stores is the same on every run. ``show_history`` draws the loss and the accuracy against the
training step, as d2l's ``Animator`` does, with the learning rate the schedule set.

matplotlib is imported inside ``show_history``, so importing this module stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["EpochProgress", "show_history"]

BAR = 20  # characters in the bar
UPDATES = 20  # rewrites of the line per epoch
SMOOTHING = 50  # batches in the running means of show_history
BLUE, VERMILION = "#0072B2", "#D55E00"  # Okabe-Ito colours, told apart by colour-blind eyes


class _Steps(Protocol):  # what EpochProgress reads of a History
    steps_per_epoch: int
    loss: list[float]
    accuracy: list[float]
    batch_sizes: list[int]
    learning_rate: list[float]
    test_accuracy: list[float]


def _in_a_notebook() -> bool:
    """True in a Jupyter kernel (JupyterLab, Colab, VS Code), where a display can be updated."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


class EpochProgress:
    """One line per epoch: a bar of the batches done and the running loss, then, once the
    epoch ends, its mean loss and the test accuracy (07)."""

    def __init__(self, epochs: int, steps_per_epoch: int, *, show: bool = True) -> None:
        self.epochs, self.steps = epochs, steps_per_epoch
        self.every = max(1, steps_per_epoch // UPDATES)
        self.show, self.live = show, show and _in_a_notebook()
        self.handle: Any = None

    def line(self, epoch: int, history: _Steps) -> str:
        done = len(history.loss) - (epoch - 1) * self.steps
        filled = BAR * done // self.steps
        bar = "█" * filled + "·" * (BAR - filled)
        sizes = history.batch_sizes[-done:]  # every image counts once
        loss = sum(x * n for x, n in zip(history.loss[-done:], sizes, strict=True)) / sum(sizes)
        text = f"epoch {epoch}/{self.epochs} [{bar}] {done}/{self.steps} batches"
        if len(history.test_accuracy) < epoch:
            return f"{text}, loss so far {loss:.4f}"
        right = sum(a * n for a, n in zip(history.accuracy[-done:], sizes, strict=True))
        return (
            f"{text}: training loss {loss:.4f}, training accuracy {right / sum(sizes):.2%}, "
            f"test accuracy {history.test_accuracy[epoch - 1]:.2%}"
        )

    def _show(self, text: str, new: bool) -> None:
        from IPython.display import display

        bundle = {"text/plain": text}
        if new or self.handle is None:
            self.handle = display(bundle, raw=True, display_id=True)
        else:
            self.handle.update(bundle, raw=True)

    def step(self, epoch: int, history: _Steps) -> None:
        """Call after every batch; rewrites the line every few batches."""
        done = len(history.loss) - (epoch - 1) * self.steps
        if self.live and (done == 1 or done % self.every == 0):
            self._show(self.line(epoch, history), new=done == 1)

    def end_epoch(self, epoch: int, history: _Steps) -> None:
        """Call once the epoch's test accuracy is in the history."""
        if self.live:
            self._show(self.line(epoch, history), new=False)
        elif self.show:
            print(self.line(epoch, history), flush=True)


def _running_mean(values: list[float], window: int) -> list[float]:
    out, total = [], 0.0
    for i, value in enumerate(values):
        total += value - (values[i - window] if i >= window else 0.0)
        out.append(total / min(i + 1, window))
    return out


def show_history(history: _Steps) -> Figure:
    """Three panels against the training step: the loss and the accuracy of every batch with
    their running means, the test accuracy after each epoch, and the learning rate (07)."""
    import matplotlib.pyplot as plt

    if not history.loss:
        raise ValueError("show_history needs a history with at least one training step")
    steps = range(1, len(history.loss) + 1)
    ends = [min(e * history.steps_per_epoch, len(history.loss))
            for e in range(1, len(history.test_accuracy) + 1)]  # fmt: skip
    fig, (loss, accuracy, rate) = plt.subplots(
        1, 3, figsize=(8.5, 3.5), dpi=80, layout="constrained", width_ratios=[1, 1, 0.7]
    )
    mean = f"mean of the last {SMOOTHING}"
    loss.plot(steps, history.loss, color=BLUE, alpha=0.3, linewidth=0.7, label="each batch")
    loss.plot(steps, _running_mean(history.loss, SMOOTHING), color=BLUE, linewidth=2, label=mean)
    loss.set_yscale("log")
    loss.set_ylabel("training loss (cross-entropy, log scale)", fontsize=9)
    percent = [100 * a for a in history.accuracy]
    accuracy.plot(steps, percent, color=BLUE, alpha=0.3, linewidth=0.7, label="each batch")
    accuracy.plot(steps, _running_mean(percent, SMOOTHING), color=BLUE, linewidth=2, label=mean)
    tests = [100 * a for a in history.test_accuracy]
    accuracy.plot(ends, tests, "s", color=VERMILION, markersize=7, label="test digits")
    for end, value in zip(ends, tests, strict=True):
        accuracy.annotate(f"{value:.2f}%", (end, value), xytext=(-4, -16), ha="right",
                          textcoords="offset points", fontsize=9, color=VERMILION)  # fmt: skip
    accuracy.set_ylim(0, 100)
    accuracy.set_ylabel("accuracy (%)", fontsize=9)
    rate.plot(steps, history.learning_rate, color="black", linewidth=1.5)
    rate.set_ylabel("learning rate", fontsize=9)
    for ax in (loss, accuracy, rate):
        ax.set_xlabel("training step (one batch each)", fontsize=9)
        ax.tick_params(labelsize=8)
        for end in ends[:-1]:
            ax.axvline(end, color="0.5", linestyle=":", linewidth=1)
    loss.legend(fontsize=8, loc="upper right")
    accuracy.legend(fontsize=8, loc="lower right")
    fig.suptitle(
        f"Training, batch by batch ({history.steps_per_epoch} batches per epoch; "
        "dotted: the end of an epoch)",
        fontsize=10,
    )
    return fig
