"""Re-execute notebooks in place so that their stored outputs are current.

    python -m tools.refresh                     # every notebook, in the order of contents.toml
    python -m tools.refresh notebooks/03_*.ipynb

Each notebook runs top to bottom in a fresh kernel of this environment, with its own folder
as the working directory, as nbval runs it, and with the figure rules of tools/figure_rules.py
checking every figure it shows: a notebook with a figure that breaks one is not written. The
file is then written in the stable form of tools/nbio.py, so a refresh with no change to code
or stack leaves `git diff` empty.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tools import figure_rules, nbio
from tools.navigation import load_contents


def execute(path: Path, timeout: int = 600) -> nbio.nbformat.NotebookNode:
    """Run one notebook in a fresh kernel and return it with new outputs (the file is untouched)."""
    # The kernel is this interpreter's: make sure a bare "python" resolves to it.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    os.environ.update(figure_rules.kernel_environment())
    nb = nbio.read(path)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own log would warn on every start that it talks TCP on localhost.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    try:
        client.execute()
    except CellExecutionError as error:
        if error.ename != "FigureRuleError":
            raise
    unreadable = figure_rule_errors(nb)
    if unreadable:
        raise UnreadableFigure(f"{path}: " + "\n".join(unreadable))
    return nb


class UnreadableFigure(Exception):
    """A notebook shows a figure that breaks the figure rules (tools/figure_rules.py)."""


def figure_rule_errors(nb: nbio.nbformat.NotebookNode) -> list[str]:
    """Where the figure rules stopped a figure: 'cell N: what is wrong', for each one."""
    return [
        f"cell {i}: {output.evalue}"
        for i, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "error" and output.ename == "FigureRuleError"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in contents order")
    args = parser.parse_args(argv)
    paths = args.notebooks or [
        nbio.NOTEBOOKS / entry["file"] for entry in load_contents()["notebooks"]
    ]
    for path in paths:
        start = time.perf_counter()
        try:
            executed = execute(path)
        except UnreadableFigure as error:
            print(f"refresh: {error}", file=sys.stderr)
            return 1
        changed = nbio.write(path, executed)
        elapsed = time.perf_counter() - start
        print(f"{path.name}: {'updated' if changed else 'unchanged'} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
