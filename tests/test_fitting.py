"""fit, its thread choice, its progress line and its figure (notebook 07), on small data."""

from __future__ import annotations

import itertools
import re

import pytest
import torch

from lenet_extras import fitting, progress
from lenet_extras.fitting import History, choose_threads, fit
from lenet_extras.progress import EpochProgress, show_history
from lenet_helpers import LeNet


def toy_data(n: int = 200, seed: int = 1):
    """Bright top half (class 0) or bright bottom half (class 1)."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    images = torch.rand(n, 1, 32, 32, generator=generator) * 0.2
    images[labels == 0, :, :16] += 0.8
    images[labels == 1, :, 16:] += 0.8
    return images, labels


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.fixture
def one_thread(monkeypatch):
    """fit on one thread, whatever the machine is doing: runs that can be compared exactly."""
    torch.set_num_threads(1)  # restored by _restore_threads
    monkeypatch.setattr(fitting, "choose_threads", lambda *args, **kwargs: 1)


def run(**kwargs) -> tuple[LeNet, History]:
    torch.manual_seed(0)
    net = LeNet()
    images, labels = toy_data()
    test_images, test_labels = toy_data(100, seed=2)
    settings = {"epochs": 2, "batch_size": 32, "progress": False} | kwargs
    return net, fit(net, images, labels, test_images, test_labels, **settings)


def test_fit_learns_and_records_every_step(one_thread):
    net, history = run()
    assert history.steps_per_epoch == 7  # 200 images in batches of 32
    assert len(history.loss) == len(history.accuracy) == len(history.learning_rate) == 14
    assert history.batch_sizes[:7] == [32] * 6 + [8]
    losses = history.epoch_losses()
    assert len(losses) == 2 and losses[1] < losses[0]
    assert history.test_accuracy[-1] > 0.95 and history.threads == [1, 1]


def test_the_learning_rate_follows_pytorchs_one_cycle_schedule(one_thread):
    _, history = run(max_lr=0.05)
    reference = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        reference, max_lr=0.05, epochs=2, steps_per_epoch=7
    )
    expected = []
    for _ in range(14):
        expected.append(schedule.get_last_lr()[0])
        reference.step()
        schedule.step()
    assert history.learning_rate == pytest.approx(expected)


def test_a_fixed_thread_count_is_kept_for_every_epoch(monkeypatch):
    def no_choice(*args, **kwargs):
        raise AssertionError("chose threads although told how many")

    monkeypatch.setattr(fitting, "choose_threads", no_choice)
    _, history = run(threads=1)
    assert history.threads == [1, 1] and torch.get_num_threads() == 1


def test_running_fit_again_trains_again_the_same_way(one_thread):
    # The notebook's cell makes a new network from the same seed: the same run twice.
    first, second = run()[1], run()[1]
    assert first.loss == second.loss and first.test_accuracy == second.test_accuracy
    net, _ = run()
    again = fit(net, *toy_data(), *toy_data(100, seed=2), batch_size=32, progress=False)
    assert len(again.loss) == 14  # a trained model trains again: nothing was used up


def test_fit_keeps_the_mode_and_the_global_random_state(one_thread):
    torch.manual_seed(0)
    net = LeNet().eval()
    state = torch.get_rng_state()
    fit(net, *toy_data(), *toy_data(100, seed=2), epochs=1, progress=False)
    assert not net.training
    assert torch.equal(torch.get_rng_state(), state)
    net.train()
    fit(net, *toy_data(), *toy_data(100, seed=2), epochs=1, progress=False)
    assert net.training


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"epochs": 0}, "epochs must be a whole number of at least 1, got 0"),
        ({"batch_size": True}, "batch_size must be a whole number of at least 1, got True"),
        ({"max_lr": -0.1}, "max_lr must be a number above 0, got -0.1"),
        ({"threads": 0}, "threads must be a whole number of at least 1, got 0"),
    ],
)
def test_fit_refuses_bad_settings(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run(**change)


def test_fit_refuses_data_of_the_wrong_shape():
    images, labels = toy_data()
    net = LeNet()
    with pytest.raises(ValueError, match=r"train_labels must have shape \(200,\), got \(199,\)"):
        fit(net, images, labels[:-1], images, labels, progress=False)
    with pytest.raises(
        ValueError, match=r"test_images must be a non-empty batch .* got \(200, 32, 32\)"
    ):
        fit(net, images, labels, images[:, 0], labels, progress=False)


def test_fit_stops_when_the_loss_is_no_longer_a_number(one_thread):
    images, labels = toy_data()
    images[:] = float("nan")
    net = LeNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    with pytest.raises(FloatingPointError, match=r"became nan at step 1 .* smaller max_lr"):
        fit(net, images, labels, images, labels, progress=False)
    # it stops before the step: the weights are the last good ones, not NaN
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())


# --- choose_threads ----------------------------------------------------------------------


def fake_clock(monkeypatch, seconds_per_pass: dict[int, float]) -> None:
    """time.perf_counter in fitting, advancing by the pass time of the current thread count."""
    ticks = itertools.count()
    now = [0.0]

    def perf_counter() -> float:
        # each pass reads the clock twice: before, and after (when it advances)
        if next(ticks) % 2:
            now[0] += seconds_per_pass[torch.get_num_threads()]
        return now[0]

    monkeypatch.setattr(fitting.time, "perf_counter", perf_counter)


@pytest.mark.parametrize(
    ("one", "two", "chosen"), [(0.02, 0.011, 2), (0.02, 0.018, 1), (0.02, 0.3, 1)]
)
def test_choose_threads_keeps_more_threads_only_when_clearly_faster(monkeypatch, one, two, chosen):
    fake_clock(monkeypatch, {1: one, 2: two})
    images, labels = toy_data(8)
    assert choose_threads(LeNet(), images, labels, most=2) == chosen
    assert torch.get_num_threads() == chosen


def test_choose_threads_leaves_the_model_alone():
    net = LeNet()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    state = torch.get_rng_state()
    threads = choose_threads(net, *toy_data(8), most=2)
    assert threads in (1, 2) and torch.get_num_threads() == threads
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())
    assert all(p.grad is None for p in net.parameters())
    assert torch.equal(torch.get_rng_state(), state)


def test_choose_threads_with_one_thread_to_choose_from_times_nothing(monkeypatch):
    def no_clock() -> float:
        raise AssertionError("timed a choice between one thread and one thread")

    monkeypatch.setattr(fitting.time, "perf_counter", no_clock)
    assert choose_threads(LeNet(), *toy_data(8), most=1) == 1


@pytest.mark.parametrize("bad", [0, 1.5, True])
def test_choose_threads_refuses_a_bad_count(bad):
    with pytest.raises(ValueError, match=f"most must be a whole number of at least 1, got {bad}"):
        choose_threads(LeNet(), *toy_data(8), most=bad)


# --- progress and the figure -------------------------------------------------------------


def test_outside_a_notebook_one_line_per_epoch_is_printed(one_thread, capsys):
    run(progress=True)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1/2 [████████████████████] 7/7 batches: training loss")
    assert "test accuracy" in lines[1]
    run(progress=False)
    assert capsys.readouterr().out == ""


class FakeHandle:
    def __init__(self, shown: list) -> None:
        self.shown = shown

    def update(self, bundle, raw):
        self.shown[-1].append(bundle["text/plain"])


def test_in_a_notebook_each_epoch_is_one_line_rewritten_in_place(one_thread, monkeypatch):
    shown: list[list[str]] = []  # one list of texts per displayed line

    def display(bundle, raw, display_id):
        assert raw and display_id
        shown.append([bundle["text/plain"]])
        return FakeHandle(shown)

    monkeypatch.setattr(progress, "_in_a_notebook", lambda: True)
    monkeypatch.setattr("IPython.display.display", display)
    images, labels = toy_data(640)  # 20 batches of 32 per epoch
    fit(LeNet(), images, labels, images, labels, epochs=2, batch_size=32)
    assert len(shown) == 2  # one line per epoch
    for epoch, texts in enumerate(shown, 1):
        assert texts[0].startswith(f"epoch {epoch}/2 [█···················] 1/20 batches")
        assert 10 <= len(texts) <= progress.UPDATES + 2
        assert "test accuracy" in texts[-1] and "test accuracy" not in texts[-2]
        # counts and losses only: nothing that changes from run to run, such as a time
        assert not any(re.search(r"\d ?(s|sec|ms|it/s)\b", text) for text in texts)


def test_show_history_draws_loss_accuracy_and_learning_rate(one_thread):
    import matplotlib.pyplot as plt

    _, history = run()
    figure = show_history(history)
    loss, accuracy, rate = figure.axes
    assert loss.get_yscale() == "log" and "loss" in loss.get_ylabel()
    assert "accuracy" in accuracy.get_ylabel() and rate.get_ylabel() == "learning rate"
    assert all(ax.get_xlabel().startswith("training step") for ax in figure.axes)
    assert len(loss.lines[0].get_xdata()) == 14
    plt.close(figure)
    with pytest.raises(ValueError, match="at least one training step"):
        show_history(History(steps_per_epoch=3))


def test_history_weighs_each_epochs_loss_by_batch_size():
    history = History(steps_per_epoch=2)
    scores, labels = torch.tensor([[1.0, 0.0]] * 2), torch.tensor([0, 1])
    history.add(torch.tensor(1.0), scores, labels, 0.1)
    history.add(torch.tensor(4.0), scores[:1], labels[:1], 0.1)
    assert history.epoch_losses() == [pytest.approx((2 * 1.0 + 4.0) / 3)]
    assert history.accuracy == [0.5, 1.0]
    assert EpochProgress(1, 2, show=False).line(1, history).endswith("loss so far 2.0000")
