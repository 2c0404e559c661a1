"""How every tool ends when something goes wrong: one line on stderr that names the file and
the cause, and a non-zero exit status; the traceback only with --debug; "interrupted" on
Ctrl-C (exit status 130).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class ToolError(Exception):
    """A failure put in words: where (a file, a place in it) and what is wrong."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with where the tool was and what it left as it was."""


def parser(doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose description is the module's first line, with --debug."""
    made = argparse.ArgumentParser(description=(doc or "").strip().splitlines()[0])
    made.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    return made


def where(path: str | Path) -> str:
    """A path as the person at the repository's root would type it."""
    path = Path(path).resolve()
    return str(path.relative_to(REPO)) if path.is_relative_to(REPO) else str(path)


def explain(error: BaseException) -> str:
    """One line: the file and the cause."""
    if isinstance(error, ToolError | Interrupted):
        return str(error)
    if isinstance(error, OSError) and error.filename:
        return f"{where(error.filename)}: {error.strerror or error}"
    first = (str(error).strip().splitlines() or [""])[0]
    return f"{type(error).__name__}: {first} (run again with --debug for the traceback)"


def run(main: Callable[[list[str]], int], argv: list[str] | None = None) -> int:
    """Call ``main(argv)`` and turn a failure into one line and an exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    module = main.__module__
    name = Path(sys.argv[0]).stem if module == "__main__" else module.rsplit(".", 1)[-1]
    try:
        return main(args)
    except KeyboardInterrupt as error:
        if "--debug" in args:
            raise
        print(f"{name}: {explain(error) if str(error) else 'interrupted'}", file=sys.stderr)
        return 130
    except Exception as error:
        if "--debug" in args:
            raise
        print(f"{name}: {explain(error)}", file=sys.stderr)
        return 1
