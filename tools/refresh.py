"""Re-execute notebooks in place so that their stored outputs are current.

    python -m tools.refresh                     # every notebook, in the order of contents.toml
    python -m tools.refresh notebooks/03_*.ipynb
    python -m tools.refresh --timeout 900       # seconds one cell may run (default 600)

Each notebook runs top to bottom in a fresh kernel of this environment, with its own folder
as the working directory, as nbval runs it, and with the figure rules of tools/figure_rules.py
checking every figure it shows. The file is then written in the stable form of tools/nbio.py,
so a refresh with no change to code or stack leaves `git diff` empty. A cell that runs long is
named while it runs; a cell that fails, a figure that breaks a rule, a timeout or Ctrl-C names
the notebook and the cell, and leaves that notebook's file as it was.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path


def _interrupted_while_starting(*_) -> None:
    print("refresh: interrupted; nothing was changed", file=sys.stderr)
    sys.exit(130)


if __name__ == "__main__":  # Ctrl-C while the imports below load (seconds, on a busy machine)
    signal.signal(signal.SIGINT, _interrupted_while_starting)

from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402

from tools import cli, figure_rules, nbio  # noqa: E402
from tools.contents import load_contents  # noqa: E402


class UnreadableFigure(cli.ToolError):
    """A notebook shows a figure that breaks the figure rules (tools/figure_rules.py)."""


def figure_rule_errors(nb: nbio.nbformat.NotebookNode) -> list[str]:
    """Where the figure rules stopped a figure: 'cell N: what is wrong', for each one."""
    return [
        f"cell {i}: {output.evalue}"
        for i, cell in enumerate(nb.cells)
        for output in cell.get("outputs", [])
        if output.output_type == "error" and output.ename == "FigureRuleError"
    ]


class Progress:
    """The cell being run, and a watcher that says so when it takes long."""

    def __init__(self, path: Path, report_after: float) -> None:
        self.path, self.report_after = path, report_after
        self.cell: tuple[int, str] | None = None
        self.started = 0.0
        self.done = threading.Event()

    def start(self, cell, cell_index: int, **_) -> None:
        self.cell, self.started = (cell_index, cell_line(cell)), time.monotonic()

    def watch(self) -> None:
        reported = None
        while not self.done.wait(1.0):
            cell, elapsed = self.cell, time.monotonic() - self.started
            if cell is None or elapsed < self.report_after:
                continue
            if reported != (cell, int(elapsed // self.report_after)):
                reported = (cell, int(elapsed // self.report_after))
                print(f"  {self.here()} has run for {elapsed:.0f} s", flush=True)

    def here(self) -> str:
        if self.cell is None:
            return f"{cli.where(self.path)}, while starting its kernel"
        index, line = self.cell
        return f"{cli.where(self.path)}, cell {index} ({line})"


def cell_line(cell) -> str:
    """The cell's first line of code, to recognise it by."""
    lines = [line for line in cell.source.splitlines() if line.strip()]
    line = lines[0].strip() if lines else "empty"
    return line if len(line) <= 50 else line[:47] + "..."


def execute(
    path: Path, timeout: int = 600, report_after: float = 30.0
) -> nbio.nbformat.NotebookNode:
    """Run one notebook in a fresh kernel and return it with new outputs (the file is
    untouched). A failure is a ToolError naming the notebook and the cell."""
    # The kernel is this interpreter's: make sure a bare "python" resolves to it.
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    os.environ.update(figure_rules.kernel_environment())
    nb = nbio.read(path)
    progress = Progress(path, report_after)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        # The kernel's own log would warn on every start that it talks TCP on localhost.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        on_cell_start=progress.start,
    )
    watcher = threading.Thread(target=progress.watch, daemon=True)
    watcher.start()
    unchanged = f"{cli.where(path)} was not changed"
    # The kernel's own messages (not a cell's output, which comes back over its channels)
    # go to a log, so that a kernel stopped half-way cannot spill a traceback here.
    log = tempfile.TemporaryFile(mode="w+", prefix="kernel-", suffix=".log")
    # On Ctrl-C nbclient shuts the kernel down (its signal handler leaves a cleanup task
    # behind, in _async_cleanup_kernel_future) and the run then fails as if the kernel had
    # died: remember that Ctrl-C came, outside that handler too, and say so.
    interrupted = threading.Event()

    def on_interrupt(signum, frame) -> None:
        interrupted.set()
        signal.default_int_handler(signum, frame)

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        client.execute(stderr=log)
    except SystemExit:
        raise
    except BaseException as error:  # also asyncio's CancelledError, when Ctrl-C cancels a step
        # nbclient's polling tasks may fail after its cleanup; asyncio would log them at exit.
        logging.getLogger("asyncio").disabled = True
        if interrupted.is_set() or getattr(client, "_async_cleanup_kernel_future", None):
            raise cli.Interrupted(f"interrupted in {progress.here()}; {unchanged}") from None
        if isinstance(error, CellExecutionError) and error.ename == "FigureRuleError":
            raise UnreadableFigure(f"{path}: " + "\n".join(figure_rule_errors(nb))) from None
        raise cli.ToolError(
            f"{progress.here()}{_failure(error, timeout, log)} ({unchanged})"
        ) from None
    finally:
        signal.signal(signal.SIGINT, previous)
        progress.done.set()
        log.close()
    unreadable = figure_rule_errors(nb)  # a figure shown by display() fails no cell
    if unreadable:
        raise UnreadableFigure(f"{path}: " + "\n".join(unreadable))
    return nb


def _failure(error: BaseException, timeout: int, log) -> str:
    """What went wrong in a cell, after the words naming the notebook and the cell."""
    if isinstance(error, CellTimeoutError):
        return f" ran longer than {timeout} s and was stopped (--timeout SECONDS allows more)"
    if isinstance(error, CellExecutionError):
        return f" raised {error.ename}: {(error.evalue.strip().splitlines() or [''])[0]}"
    if isinstance(error, DeadKernelError):
        log.seek(0)
        last = [line.strip() for line in log if line.strip()]
        return f": the kernel died ({last[-1] if last else 'out of memory, perhaps'})"
    return f": {cli.explain(error)}"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all, in contents order")
    parser.add_argument(
        "--timeout", type=positive, default=600, help="seconds one cell may run (default 600)"
    )
    parser.add_argument(
        "--report-after", type=float, default=30.0, help="name a cell running this long (30 s)"
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C: KeyboardInterrupt again
    paths = args.notebooks or [
        nbio.NOTEBOOKS / entry["file"] for entry in load_contents()["notebooks"]
    ]
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            raise cli.ToolError(f"{cli.where(path)}: no such notebook (nothing was refreshed)")
    for path in paths:
        start = time.perf_counter()
        print(f"{cli.where(path)}: running ...", flush=True)
        changed = nbio.write(path, execute(path, args.timeout, args.report_after))
        elapsed = time.perf_counter() - start
        print(f"{path.name}: {'updated' if changed else 'unchanged'} ({elapsed:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
