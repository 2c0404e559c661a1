"""What each notebook asks of a class: peak memory, time to run, and how much there is to read.

    python -m benchmarks.class_needs       (or: make benchmark)

Each notebook runs top to bottom in a fresh kernel of this environment (as `make refresh`
does), and then one more cell reads the kernel's peak resident memory (getrusage's ru_maxrss:
what the kernel process ever held in RAM) and the processor time it used (user + system, all
its threads): unlike the wall time, also printed, that hardly changes when other programs
share the machine. The floor, a kernel that only ran `import torch`, is measured in the same
run. Run it with each PyTorch build to compare them (the instructors page shows both); the
torch build is printed at the top. Linux and macOS only (getrusage).

Then the reading-time estimate, which is arithmetic on counts, not a measurement of anyone
reading: the words of the prose, of the code and of the printed outputs a learner reads, at
READING_RATE words a minute (the rate Carver (1992) measured for college readers reading to
learn), and that plus an allowance per exercise (EXERCISE_MINUTES, by kind of answer), which is
an assumption to replace with a class's own timed read-through. The run time comes on top.
Nothing is asserted, and no file is written.
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools import nbio
from tools.navigation import NAV_TAG, load_contents

READING_RATE = 200  # words a minute: Carver, "Reading rate", J. of Reading 36(2), 1992
EXERCISE_MINUTES = {"code": 6.0}  # writing and checking a few lines of code
DEFAULT_EXERCISE_MINUTES = 2.0  # predicting one number, shape, name or yes/no, then checking
PEAK_CELL = (
    "import resource, sys\n"
    "usage = resource.getrusage(resource.RUSAGE_SELF)\n"
    "print(usage.ru_maxrss * (1 if sys.platform == 'darwin' else 1024),"  # macOS: bytes; Linux: KiB
    " usage.ru_utime + usage.ru_stime)"
)
BUILD_CELL = "import torch\nprint(torch.__version__, torch.version.cuda or 'cpu')"


def run_with_peak(
    nb: nbformat.NotebookNode, folder: Path
) -> tuple[float, int, float, nbformat.NotebookNode]:
    """(seconds to start a fresh kernel and run every cell, the kernel's peak RSS in bytes,
    the processor seconds the kernel used, the notebook as run)."""
    nb = nbformat.from_dict(nb)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_CELL))
    client = NotebookClient(
        nb,
        timeout=900,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    printed = "".join(o.get("text", "") for o in nb.cells[-1].outputs)  # may come in pieces
    peak, cpu = printed.split()
    return seconds, int(peak), float(cpu), nb


def words(text: str) -> int:
    return len(re.findall(r"\S+", text))


def reading_counts(nb: nbformat.NotebookNode) -> dict[str, int]:
    """Words of prose, of code and of printed text a learner reads (navigation cells left out)."""
    counts = {"prose": 0, "code": 0, "output": 0}
    for cell in nb.cells:
        if NAV_TAG in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            counts["prose"] += words(cell.source)
            continue
        if cell.cell_type != "code":
            continue
        counts["code"] += words(cell.source)
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            counts["output"] += words(text if isinstance(text, str) else "".join(text))
    return counts


def exercises() -> dict[str, list[str]]:
    """Notebook number ("01") -> the kinds of answer of its exercises."""
    table = tomllib.loads((nbio.REPO / "lenet_extras" / "exercises.toml").read_text("utf-8"))
    found: dict[str, list[str]] = {}
    for number, exercise in table.items():
        found.setdefault(number.split(".")[0], []).append(exercise["kind"])
    return found


def exercise_minutes(kinds: list[str]) -> float:
    return sum(EXERCISE_MINUTES.get(kind, DEFAULT_EXERCISE_MINUTES) for kind in kinds)


def main() -> None:
    floor_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BUILD_CELL)])
    _, floor, _, ran = run_with_peak(floor_nb, nbio.NOTEBOOKS)
    version = "".join(o.get("text", "") for o in ran.cells[0].outputs).split()
    print(f"PyTorch {version[0]}, {'CPU' if version[1] == 'cpu' else 'CUDA ' + version[1]} build")
    print(f"Floor: a fresh kernel after `import torch` peaks at {floor / 1e6:.0f} MB\n")
    kinds = exercises()
    header = (
        f"{'notebook':<30}{'peak MB':>8}{'run s':>6}{'CPU s':>6}{'prose':>6}{'code':>5}"
        f"{'output':>7}{'exerc.':>7}{'read min':>9}{'+ exerc.':>9}"
    )
    print(header)
    for entry in load_contents()["notebooks"]:
        path = nbio.NOTEBOOKS / entry["file"]
        nb = nbio.read(path)
        try:
            seconds, peak, cpu, _ = run_with_peak(nb, path.parent)
        except Exception as exc:  # report and go on: one broken notebook hides no others
            cause = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
            print(f"{entry['file']:<30}  failed: {type(exc).__name__}: {cause}"[:120])
            continue
        counts = reading_counts(nb)
        reading = sum(counts.values()) / READING_RATE
        own = kinds.get(entry["file"][:2], []) if entry["file"][:2].isdigit() else []
        total = reading + exercise_minutes(own)
        print(
            f"{entry['file']:<30}{peak / 1e6:>8.0f}{seconds:>6.0f}{cpu:>6.0f}{counts['prose']:>6}"
            f"{counts['code']:>5}{counts['output']:>7}{len(own):>7}{reading:>9.0f}{total:>9.0f}"
        )
    print(
        f"\nread min: (prose + code + output words) / {READING_RATE} words a minute."
        f"\n+ exerc.: read min + {DEFAULT_EXERCISE_MINUTES:.0f} min per exercise"
        f" ({EXERCISE_MINUTES['code']:.0f} for one that asks for code). Both are estimates"
        " from counts, not a timed read-through; add the run time."
    )


if __name__ == "__main__":
    sys.exit(main())
