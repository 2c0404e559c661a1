"""The training notebook's time on an idle machine and beside one busy core, in the same run.

    python -m benchmarks.busy_core                 (or: make benchmark)
    python -m benchmarks.busy_core --runs 5 --without-choice

The notebook that trains (the one whose code calls ``fit(``, found through
notebooks/contents.toml) runs top to bottom in a fresh kernel, as `make refresh` runs it,
alternately alone and beside a process that keeps one core busy (a Python loop started just
before the run and stopped just after it). Each figure is min / median / max over the runs;
the ratio is the median of the ratios of each pair (busy run / idle run before it). Targets
on 2 cores: idle ≤ 15 s, beside a busy core ≤ 1.5× idle. `--without-choice` runs the same
with fit's thread choice switched off (PyTorch's own threads, one per core): the trap that
the choice avoids. Nothing is asserted and no file is written. Other programs running at the
same time make every figure slower and wider: the spread between min and max shows it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat

from tools import nbio
from tools.navigation import load_contents
from tools.refresh import execute

IDLE_TARGET, RATIO_TARGET = 15.0, 1.5
# Cells added around the notebook's own: the first records the thread count fit chooses before
# each epoch (or, for --without-choice, keeps PyTorch's own), the last prints what it used.
RECORD = """\
import torch
import lenet_extras.fitting
_chosen, _choose = [], lenet_extras.fitting.choose_threads
def _recorded(*args, **kwargs):
    _chosen.append({choice})
    return _chosen[-1]
lenet_extras.fitting.choose_threads = _recorded"""
CHOICE, NO_CHOICE = "_choose(*args, **kwargs)", "torch.get_num_threads()"
Run = tuple[float, str]  # seconds, threads per epoch


def training_notebook() -> Path:
    for entry in load_contents()["notebooks"]:
        path = nbio.NOTEBOOKS / entry["file"]
        if any("fit(" in c.source for c in nbio.read(path).cells if c.cell_type == "code"):
            return path
    raise LookupError("no notebook in notebooks/contents.toml calls fit(")


def run_once(path: Path) -> Run:
    """Seconds to run the notebook in a fresh kernel, and the threads fit used per epoch."""
    start = time.perf_counter()
    nb = execute(path)
    seconds = time.perf_counter() - start
    return seconds, nb.cells[-1].outputs[0].text.split(":", 1)[1].strip()


def beside_busy_core(run: Callable[[], Run]) -> Run:
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)  # let it take its core
        return run()
    finally:
        busy.kill()
        busy.wait()


def instrumented(path: Path, folder: Path, choice: str) -> Path:
    """A copy of the notebook, in ``folder``, that prints the threads of each epoch last."""
    nb = nbio.read(path)
    nb.cells.insert(0, nbformat.v4.new_code_cell(RECORD.format(choice=choice)))
    nb.cells.append(nbformat.v4.new_code_cell('print("threads per epoch:", _chosen)'))
    copy = folder / path.name
    nbformat.write(nb, copy)
    return copy


def measure(path: Path, runs: int) -> tuple[list[Run], list[Run]]:
    idle, busy = [], []
    for _ in range(runs):
        idle.append(run_once(path))
        busy.append(beside_busy_core(lambda: run_once(path)))
    return idle, busy


def spread(seconds: list[float]) -> str:
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    return f"{low:6.1f} {mid:6.1f} {high:6.1f}"


def report(title: str, idle_runs: list[Run], busy_runs: list[Run]) -> None:
    idle, busy = [s for s, _ in idle_runs], [s for s, _ in busy_runs]
    ratio = statistics.median(b / i for i, b in zip(idle, busy, strict=True))
    idle_ok = "ok" if statistics.median(idle) <= IDLE_TARGET else "OVER"
    ratio_ok = "ok" if ratio <= RATIO_TARGET else "OVER"
    print(f"\n{title}")
    print(f"  {'':<28}{'min':>6} {'median':>6} {'max':>6}  seconds")
    print(f"  {'idle':<28}{spread(idle)}  {idle_ok} (≤ {IDLE_TARGET:.0f} s)")
    print(f"  {'beside one busy core':<28}{spread(busy)}")
    print(f"  {'ratio busy / idle (paired)':<28}{ratio:>13.2f}  {ratio_ok} (≤ {RATIO_TARGET})")
    threads = [" ".join(t for _, t in runs) for runs in (idle_runs, busy_runs)]
    print(f"  threads per epoch, idle: {threads[0]}; beside a busy core: {threads[1]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs (default 3)")
    parser.add_argument(
        "--without-choice", action="store_true", help="also run with PyTorch's own threads"
    )
    args = parser.parse_args(argv)
    path = training_notebook()
    execute(path)  # warm the disk cache before measuring anything
    print(f"{path.name}: {args.runs} runs idle and {args.runs} beside one busy core, alternately")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:  # the notebook's own folder depth
        copy = instrumented(path, Path(tmp), CHOICE)
        report("with fit's thread choice (as the notebook runs)", *measure(copy, args.runs))
        if args.without_choice:
            copy = instrumented(path, Path(tmp), NO_CHOICE)
            title = "with PyTorch's own threads (the choice switched off)"
            report(title, *measure(copy, args.runs))


if __name__ == "__main__":
    main()
