"""Run notebooks' cells again, as learners do, and name every cell that fails.

    python -m tools.rerun                              # every notebook in notebooks/contents.toml
    python -m tools.rerun notebooks/07_training_preview.ipynb ...

Three patterns, in fresh kernels started in the notebook's folder (as refresh and nbval do):
  twice in a row   every cell run twice before the next one (Shift+Enter, Shift+Enter)
  whole twice      the whole notebook top to bottom, then again in the same kernel
  backwards        then, still in that kernel, every cell before the last one again, from the
                   last to the first (scrolling up and re-running what is above)
A cell fails when it shows an error and is not marked as expecting one (the tags of
tools/hygiene.py). Each failure is one line: the notebook, the cell's number (counted from 0,
as tools/hygiene.py counts) and first line, the pattern, and the error. Exit status 1 if any.
Outputs are not compared and no file is written.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools import nbio
from tools.hygiene import expects_error
from tools.navigation import load_contents

PATTERNS = ("twice in a row", "whole twice", "backwards")


@dataclass(frozen=True)
class Failure:
    notebook: str
    cell: int
    first_line: str
    pattern: str
    error: str

    def __str__(self) -> str:
        return (
            f"{self.notebook}, cell {self.cell} ({self.first_line}): fails {self.pattern}: "
            f"{self.error}"
        )


def _first_line(cell: nbformat.NotebookNode) -> str:
    lines = [line for line in cell.source.splitlines() if line.strip()]
    text = lines[0].strip() if lines else ""
    return text if len(text) <= 60 else text[:57] + "..."


def _error(cell: nbformat.NotebookNode) -> str | None:
    for output in cell.get("outputs", []):
        if output.output_type == "error":
            text = f"{output.ename}: {output.evalue}" if output.evalue else output.ename
            return text.strip().splitlines()[0][:200]
    return None


def _orders(code: list[int]) -> dict[str, list[list[int]]]:
    """The cells each pattern runs, kernel by kernel: one list per kernel."""
    return {
        "twice in a row": [[i for i in code for _ in range(2)]],
        "whole twice": [code + code],
        "backwards": [list(reversed(code[:-1]))],  # runs on in the kernel of "whole twice"
    }


def check(path: Path, timeout: int = 600) -> list[Failure]:
    """Every failure of the three patterns in one notebook (an empty list: none)."""
    # The kernel is this interpreter's: make sure a bare "python" resolves to it.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    original = nbio.read(path)
    code = [i for i, cell in enumerate(original.cells) if cell.cell_type == "code"]
    orders = _orders(code)
    failures: list[Failure] = []
    kernels = [("twice in a row",), ("whole twice", "backwards")]
    for patterns in kernels:
        nb = copy.deepcopy(original)
        client = NotebookClient(
            nb,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
        with client.setup_kernel():
            for pattern in patterns:
                seen: set[int] = set()
                for order in orders[pattern]:
                    for index in order:
                        cell = nb.cells[index]
                        client.execute_cell(cell, index)
                        error = _error(cell)
                        if error and not expects_error(cell) and index not in seen:
                            seen.add(index)
                            failures.append(
                                Failure(path.name, index, _first_line(cell), pattern, error)
                            )
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in contents order")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of the tool itself")
    args = parser.parse_args(argv)
    try:
        paths = args.notebooks or [
            nbio.NOTEBOOKS / entry["file"] for entry in load_contents()["notebooks"]
        ]
        for path in paths:
            if not path.is_file():
                raise FileNotFoundError(f"{path}: no such notebook")
        failures = []
        for path in paths:
            found = check(path)
            failures += found
            verdict = f"{len(found)} failing cell(s)" if found else "every cell ran again"
            print(f"{path.name}: {verdict}", flush=True)
            for failure in found:
                print(f"  {failure}", flush=True)
    except Exception as error:  # one line for a person; the traceback only on request
        if args.debug:
            raise
        print(f"tools.rerun: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print(
        f"re-run check ({', '.join(PATTERNS)}): {len(paths)} notebook(s), "
        f"{len(failures)} failing cell(s)"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
