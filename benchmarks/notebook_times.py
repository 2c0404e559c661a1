"""How long each notebook takes to run in a fresh kernel, against the floor of that machine.

    python -m benchmarks.notebook_times      (or: make benchmark)

For every notebook: the wall time to start a fresh kernel and execute it top to bottom
(as `make refresh` and nbval do), next to the floor measured in the same run, alternating
with it: a notebook whose only cell is `import torch`, also in a fresh kernel. The ratio
(median of the paired ratios, each pair run back to back) says what the notebook's own work
costs on top of what no notebook here can avoid. Target: each notebook 01-06 within 1.5x
the floor. Notebook 07, which trains LeNet on MNIST, has its time targets in
benchmarks.busy_core, measured against a reference notebook in the same run.
Then the whole strict nbval run against pytest's own start-up (collecting nothing). Each
time is the median of a few runs (the solutions: one); nothing is asserted, and no file is
written. A notebook that fails to run gets one line saying why, and the rest go on.
"""

from __future__ import annotations

import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from tools import nbio
from tools.navigation import load_contents
from tools.refresh import execute

REPEATS = 3
LECTURE = ("01", "02", "03", "04", "05", "06")
TRAINING = "07"  # its targets: benchmarks.busy_core


def timed(run) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def median_time(run, repeats: int = REPEATS) -> float:
    return statistics.median(timed(run) for _ in range(repeats))


def against_floor(path: Path, floor_path: Path, repeats: int) -> tuple[list, list]:
    """Run the floor and the notebook alternately; return both lists of seconds."""
    floors, times = [], []
    for _ in range(repeats):
        floors.append(timed(lambda: execute(floor_path)))
        times.append(timed(lambda: execute(path)))
    return floors, times


def target(name: str, seconds: float, ratio: float) -> str:
    if name[:2] in LECTURE:
        return ("ok" if ratio <= 1.5 else "OVER") + " (≤ 1.5× floor)"
    if name[:2] == TRAINING:
        return "see benchmarks.busy_core"
    return "-"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = Path(tmp) / "floor.ipynb"
        nbformat.write(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")]), floor_path
        )
        execute(floor_path)  # warm the disk cache before measuring anything

        rows, all_floors = [], []
        for entry in load_contents()["notebooks"]:
            name = entry["file"]
            repeats = REPEATS if name[:2] in (*LECTURE, TRAINING) else 1
            try:
                floors, times = against_floor(nbio.NOTEBOOKS / name, floor_path, repeats)
            except Exception as exc:  # report and go on: one broken notebook hides no others
                text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()  # no terminal colours
                cause = text.splitlines()[-1] if text else ""
                rows.append((name, None, f"failed: {type(exc).__name__}: {cause}"[:120]))
                continue
            all_floors += floors
            ratio = statistics.median(t / f for t, f in zip(times, floors, strict=True))
            rows.append((name, statistics.median(times), ratio))
        floor = statistics.median(all_floors) if all_floors else float("nan")

        pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:randomly"]
        startup = median_time(
            lambda: subprocess.run([*pytest, "--co", tmp], capture_output=True, check=False)
        )
        start = time.perf_counter()
        result = subprocess.run(
            [*pytest, "notebooks"], cwd=nbio.REPO, capture_output=True, text=True, check=False
        )
        nbval = time.perf_counter() - start

    print(f"\nFloor: a notebook with only `import torch`, in a fresh kernel: {floor:.2f} s")
    print(f"(median of {len(all_floors)} runs, alternating with the notebooks; each notebook's")
    print(f"time is the median of {REPEATS} runs, the solutions' of one)\n")
    print(f"{'notebook':<32}{'seconds':>8}{'× floor':>9}  target")
    for name, seconds, ratio in rows:
        if seconds is None:
            print(f"{name:<32}  {ratio}")
            continue
        print(f"{name:<32}{seconds:>8.2f}{ratio:>9.2f}  {target(name, seconds, ratio)}")
    outcome = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
    print(f"\nstrict nbval over every notebook: {nbval:.1f} s ({outcome})")
    print(f"pytest start-up, collecting nothing: {startup:.2f} s")
    print(f"nbval run / pytest start-up: {nbval / startup:.1f}×")


if __name__ == "__main__":
    main()
