"""How long each notebook takes to run in a fresh kernel, against the floor of that machine.

    python -m benchmarks.notebook_times      (or: make benchmark)

For every notebook: the wall time to start a fresh kernel and execute it top to bottom
(as `make refresh` and nbval do), next to the floor measured in the same run: a notebook
whose only cell is `import torch`, also in a fresh kernel. The ratio says what the
notebook's own work costs on top of what no notebook here can avoid. Target: each lecture
notebook (01-05) within 1.5x the floor. Then the whole strict nbval run against pytest's
own start-up (collecting nothing). Each time is the median of a few runs; nothing is
asserted, and no file is written.
"""

from __future__ import annotations

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
LECTURE = ("01", "02", "03", "04", "05")


def median_time(run, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        floor_path = Path(tmp) / "floor.ipynb"
        nbformat.write(
            nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch")]), floor_path
        )
        execute(floor_path)  # warm the disk cache before measuring anything
        floor = median_time(lambda: execute(floor_path))

        rows = []
        for entry in load_contents()["notebooks"]:
            path = nbio.NOTEBOOKS / entry["file"]
            repeats = REPEATS if entry["file"][:2] in LECTURE else 1
            seconds = median_time(lambda path=path: execute(path), repeats)
            rows.append((entry["file"], seconds))

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
    print(f"(every time is the median of {REPEATS} runs, 06 and the solutions of one)\n")
    print(f"{'notebook':<32}{'seconds':>8}{'× floor':>9}  target")
    for name, seconds in rows:
        ratio = seconds / floor
        target = ("ok" if ratio <= 1.5 else "OVER") + " (≤ 1.5×)" if name[:2] in LECTURE else "-"
        print(f"{name:<32}{seconds:>8.2f}{ratio:>9.2f}  {target}")
    outcome = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
    print(f"\nstrict nbval over every notebook: {nbval:.1f} s ({outcome})")
    print(f"pytest start-up, collecting nothing: {startup:.2f} s")
    print(f"nbval run / pytest start-up: {nbval / startup:.1f}×")


if __name__ == "__main__":
    main()
