"""Notebook hygiene: the faults that strict output checking and learners trip over first.

    python -m tools.hygiene                  # every notebook in notebooks/
    python -m tools.hygiene path/to/x.ipynb

Each rule is a function from a notebook (and its path) to a list of problems; an empty list
means the rule holds. tests/test_hygiene.py runs every rule on every notebook, and on a
deliberately broken copy for each rule.
"""

from __future__ import annotations

import base64
import getpass
import json
import re
import socket
import struct
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat

from tools import nbio

MAX_NOTEBOOK_BYTES = 1_000_000  # about 1 MB per notebook
MAX_IMAGE_BYTES = 150_000  # per embedded PNG, decoded
MAX_IMAGE_PIXELS = 1200  # per side: figures at a modest resolution (80 dpi is the house style)
EXPECTS_ERROR = {"raises-exception", "nbval-raises-exception"}
# Paths that only exist on someone's machine: home folders, the root account, temp and
# build folders, and Windows user profiles.
MACHINE_PATH = re.compile(
    r"(/home/\w|/Users/\w|/root/|/tmp/|/var/folders/|/private/var/|/work/|[A-Za-z]:\\\\?Users\\\\?)"
)
COMMON_NAMES = {"root", "user", "jovyan", "runner", "admin", "localhost", "ubuntu", "python"}

Notebook = nbformat.NotebookNode
Rule = Callable[[Notebook, Path], list[str]]


def code_cells(nb: Notebook) -> list[Notebook]:
    return [c for c in nb.cells if c.cell_type == "code" and c.source.strip()]


def expects_error(cell: Notebook) -> bool:
    tags = set(cell.metadata.get("tags", []))
    return bool(tags & EXPECTS_ERROR) or "# NBVAL_RAISES_EXCEPTION" in cell.source


def executed_in_order(nb: Notebook, path: Path) -> list[str]:
    counts = [c.execution_count for c in code_cells(nb)]
    if counts != list(range(1, len(counts) + 1)):
        return [
            f"execution counts {counts} are not 1..{len(counts)}: "
            "run it top to bottom with `make refresh`"
        ]
    return []


def no_unexpected_errors(nb: Notebook, path: Path) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or expects_error(cell):
            continue
        for output in cell.outputs:
            if output.output_type == "error":
                problems.append(
                    f"cell {i}: error output {output.ename} in a cell not marked as expecting one"
                )
            elif output.output_type == "stream" and output.name == "stderr":
                problems.append(
                    f"cell {i}: stderr output (a warning?): {output.text.strip()[:80]!r}"
                )
    return problems


def python3_kernel(nb: Notebook, path: Path) -> list[str]:
    spec = nb.metadata.get("kernelspec", {})
    if spec.get("name") != "python3" or spec.get("language") != "python":
        return [f"kernelspec is {dict(spec)}, expected name 'python3', language 'python'"]
    return []


def _texts(nb: Notebook) -> list[tuple[str, str]]:
    """(where, text) for all notebook and cell metadata and every textual output."""
    found = [("notebook metadata", json.dumps(nb.metadata))]
    for i, cell in enumerate(nb.cells):
        found.append((f"cell {i} metadata", json.dumps(cell.metadata)))
        for output in cell.get("outputs", []):
            data = {k: v for k, v in output.get("data", {}).items() if not k.startswith("image/")}
            text = json.dumps({**output, "data": data})
            found.append((f"cell {i} output", text))
    return found


def no_machine_details(nb: Notebook, path: Path) -> list[str]:
    names = {getpass.getuser(), socket.gethostname()} - COMMON_NAMES
    names = {n for n in names if len(n) >= 4}
    problems = []
    for where, text in _texts(nb):
        if match := MACHINE_PATH.search(text):
            problems.append(f"{where}: a path of this machine ({match.group(0)!r}...)")
        for name in names:
            # Only where a name leaks (a home folder, user@host), not as an ordinary word:
            # a contributor may well log in as "batch" or "digit".
            n = re.escape(name)
            if re.search(rf"[/\\](?:home|Users)[/\\]{n}\b|\b{n}@|@{n}\b", text):
                problems.append(f"{where}: the user or host name {name!r}")
    return problems


def no_editor_residue(nb: Notebook, path: Path) -> list[str]:
    problems = []
    extra = set(nb.metadata) - {"kernelspec", "language_info"}
    if extra:
        problems.append(f"notebook metadata has {sorted(extra)} (widget state or editor residue)")
    if "version" in nb.metadata.get("language_info", {}):
        problems.append("language_info has the Python version of one machine")
    for i, cell in enumerate(nb.cells):
        extra = set(cell.metadata) - set(nbio.CELL_METADATA_KEYS)
        if extra:
            problems.append(f"cell {i} metadata has {sorted(extra)}")
    return problems


def _png_size(data: bytes) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    return struct.unpack(">II", data[16:24])


def within_size_budget(nb: Notebook, path: Path) -> list[str]:
    problems = []
    size = path.stat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        problems.append(f"{size:,} bytes, over the budget of {MAX_NOTEBOOK_BYTES:,}")
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if "image/png" not in output.get("data", {}):
                continue
            png = base64.b64decode(output.data["image/png"])
            width, height = _png_size(png)
            if len(png) > MAX_IMAGE_BYTES or max(width, height) > MAX_IMAGE_PIXELS:
                problems.append(
                    f"cell {i}: a {width}×{height} figure of {len(png):,} bytes (budget "
                    f"{MAX_IMAGE_PIXELS} px a side, {MAX_IMAGE_BYTES:,} bytes): "
                    "lower its size or dpi"
                )
    return problems


def has_title_and_onward_link(nb: Notebook, path: Path) -> list[str]:
    problems = []
    first, last = (nb.cells[0], nb.cells[-1]) if nb.cells else (None, None)
    lines = (
        []
        if first is None
        else [line for line in first.source.splitlines() if not line.startswith("<!--")]
    )
    if first is None or first.cell_type != "markdown" or not lines or not lines[0].startswith("# "):
        problems.append("the first cell is not a markdown title ('# ...')")
    if last is None or last.cell_type != "markdown" or not re.search(r"\]\([^)]+\)", last.source):
        problems.append("the last cell is not a markdown cell with a link onward")
    return problems


def figures_have_alt_text(nb: Notebook, path: Path) -> list[str]:
    """Every figure says what it shows, for readers who cannot see it (the site's alt text)."""
    problems = []
    for i, cell in enumerate(nb.cells):
        images = [
            mime
            for output in cell.get("outputs", [])
            for mime in output.get("data", {})
            if mime.startswith("image/")
        ]
        if not images:
            continue
        alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
        if not isinstance(alt, str) or not alt.strip():
            problems.append(
                f"cell {i}: a figure without alt text: add cell metadata "
                '{"mystnb": {"image": {"alt": "what the figure shows"}}}'
            )
    return problems


# A cell that picks matplotlib's backend would take its figures past the figure rules
# (tools/figure_rules.py), which check every figure as the kernel of a refresh or test draws it.
BACKEND_CHOICE = re.compile(r"^\s*%matplotlib\b|\bmatplotlib\.use\(|\bswitch_backend\(", re.M)


def figures_are_checked(nb: Notebook, path: Path) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (found := BACKEND_CHOICE.search(cell.source)):
            problems.append(
                f"cell {i}: {found.group(0).strip()!r} picks matplotlib's backend, which would "
                "keep its figures from the figure rules (tools/figure_rules.py): leave it out"
            )
    return problems


RULES: dict[str, Rule] = {
    "executed in order": executed_in_order,
    "no unexpected errors": no_unexpected_errors,
    "python3 kernel": python3_kernel,
    "no machine details": no_machine_details,
    "no editor residue": no_editor_residue,
    "within size budget": within_size_budget,
    "title and onward link": has_title_and_onward_link,
    "figures have alt text": figures_have_alt_text,
    "figures are checked": figures_are_checked,
}


def problems(path: Path) -> list[str]:
    nb = nbio.read(path)
    return [f"{path.name}: {rule}: {p}" for rule, check in RULES.items() for p in check(nb, path)]


def main(argv: list[str] | None = None) -> int:
    paths = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or sorted(
        nbio.NOTEBOOKS.glob("*.ipynb")
    )
    found = [p for path in paths for p in problems(path)]
    print("\n".join(found) if found else f"{len(paths)} notebook(s): no hygiene problems")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
