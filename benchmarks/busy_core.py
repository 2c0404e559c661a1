"""The training notebook's time on an idle machine and beside one busy core, in the same run.

    python -m benchmarks.busy_core                 (or: make benchmark)
    python -m benchmarks.busy_core --runs 5 --without-choice

The notebook that trains (the one whose code calls ``fit(``, found through
notebooks/contents.toml) runs top to bottom in a fresh kernel, as a learner runs it (the
inline figures, no checking of them), alternately alone and beside a process that keeps one
core busy (a Python loop started just before the run and stopped just after it). Each figure
is min / median / max over the runs; the ratio is the median of the ratios of each pair (busy
run / idle run before it). Targets on 2 cores: beside a busy core ≤ 1.5× idle, and idle
≤ 15 s on the machine where that target was set. That machine's speed is not this one's, so
the same run also times the reference: the training notebook as it was when the target was
set (commit REFERENCE, where it took 12-14 s idle), taken from the repository's history and
run idle the same way, alternately with ours. Idle ≤ 15 s there is idle ≤ 15/14 of the
reference here (14 s, the slower end, makes the bound the stricter one); the absolute idle
time is printed too. Without the history (a downloaded archive), the reference is skipped
with a line saying so. `--without-choice` runs the same with fit's thread choice switched off
(PyTorch's own threads, one per core): the trap that the choice avoids. Nothing is asserted
and no file is written. Other programs running at the same time make every figure slower and
wider: the spread between min and max shows it.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools import nbio
from tools.navigation import load_contents

IDLE_TARGET, RATIO_TARGET = 15.0, 1.5
# The training notebook when the targets were set (issue 16): 12-14 s idle on that machine.
REFERENCE = "85f8ef0e65b1193d62c23fdbdcd55cae01ae5ffd"
REFERENCE_NOTEBOOK, REFERENCE_SECONDS = "notebooks/06_training_preview.ipynb", 14.0
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


def run_plain(path: Path, code_root: Path = nbio.REPO) -> tuple[float, nbformat.NotebookNode]:
    """Seconds to run a notebook top to bottom in a fresh kernel, in its own folder, with the
    helper code of ``code_root`` first on the path and matplotlib's inline figures."""
    nb = nbio.read(path)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    saved = dict(os.environ)
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + saved.get("PATH", "")
    os.environ["PYTHONPATH"] = str(code_root)
    os.environ.pop("MPLBACKEND", None)
    try:
        start = time.perf_counter()
        client.execute()
        return time.perf_counter() - start, nb
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_once(path: Path) -> Run:
    """Seconds to run the notebook in a fresh kernel, and the threads fit used per epoch."""
    seconds, nb = run_plain(path)
    return seconds, nb.cells[-1].outputs[0].text.split(":", 1)[1].strip()


def reference_tree(folder: Path) -> Path | None:
    """The repository as it was at REFERENCE, unpacked in ``folder``; None without history."""
    try:
        packed = subprocess.run(
            ["git", "archive", REFERENCE], cwd=nbio.REPO, capture_output=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=io.BytesIO(packed)) as archive:
        archive.extractall(folder, filter="data")
    return folder


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


def against_reference(path: Path, root: Path, runs: int) -> tuple[list[float], list[float]]:
    """Ours and the reference, idle, alternately: seconds of each."""
    ours, theirs = [], []
    for _ in range(runs):
        theirs.append(run_plain(root / REFERENCE_NOTEBOOK, code_root=root)[0])
        ours.append(run_once(path)[0])
    return ours, theirs


def spread(seconds: list[float]) -> str:
    low, mid, high = min(seconds), statistics.median(seconds), max(seconds)
    return f"{low:6.1f} {mid:6.1f} {high:6.1f}"


def report(title: str, idle_runs: list[Run], busy_runs: list[Run]) -> None:
    idle, busy = [s for s, _ in idle_runs], [s for s, _ in busy_runs]
    ratio = statistics.median(b / i for i, b in zip(idle, busy, strict=True))
    idle_ok = "within" if statistics.median(idle) <= IDLE_TARGET else "over"
    ratio_ok = "ok" if ratio <= RATIO_TARGET else "OVER"
    print(f"\n{title}")
    print(f"  {'':<28}{'min':>6} {'median':>6} {'max':>6}  seconds")
    print(f"  {'idle':<28}{spread(idle)}  {idle_ok} {IDLE_TARGET:.0f} s on this machine today")
    print(f"  {'beside one busy core':<28}{spread(busy)}")
    print(f"  {'ratio busy / idle (paired)':<28}{ratio:>13.2f}  {ratio_ok} (≤ {RATIO_TARGET})")
    threads = [" ".join(t for _, t in runs) for runs in (idle_runs, busy_runs)]
    print(f"  threads per epoch, idle: {threads[0]}; beside a busy core: {threads[1]}")


def report_reference(ours: list[float], theirs: list[float]) -> None:
    ratio = statistics.median(o / t for o, t in zip(ours, theirs, strict=True))
    bound = IDLE_TARGET / REFERENCE_SECONDS
    verdict = "ok" if ratio <= bound else "OVER"
    print(f"\nidle, against the training notebook of {REFERENCE[:7]} (12-14 s idle when set)")
    print(f"  {'':<28}{'min':>6} {'median':>6} {'max':>6}  seconds")
    print(f"  {'ours':<28}{spread(ours)}")
    print(f"  {'the reference, same run':<28}{spread(theirs)}")
    print(f"  {'ratio ours / reference':<28}{ratio:>13.2f}  {verdict} (≤ 15/14 = {bound:.2f})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs (default 3)")
    parser.add_argument(
        "--without-choice", action="store_true", help="also run with PyTorch's own threads"
    )
    args = parser.parse_args(argv)
    path = training_notebook()
    run_plain(path)  # warm the disk cache before measuring anything
    print(f"{path.name}: {args.runs} runs idle and {args.runs} beside one busy core, alternately")
    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:  # the notebook's own folder depth
        copy = instrumented(path, Path(tmp), CHOICE)
        report("with fit's thread choice (as the notebook runs)", *measure(copy, args.runs))
        with tempfile.TemporaryDirectory() as old:
            root = reference_tree(Path(old))
            if root is None:
                print(f"\nno reference: commit {REFERENCE[:7]} is not in this copy's history")
            else:
                report_reference(*against_reference(copy, root, args.runs))
        if args.without_choice:
            copy = instrumented(path, Path(tmp), NO_CHOICE)
            title = "with PyTorch's own threads (the choice switched off)"
            report(title, *measure(copy, args.runs))


if __name__ == "__main__":
    main()
