"""The pinned stack: exact pins, Binder in step with requirements.txt, every import pinned."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tools import nbio

REPO = nbio.REPO
PIN = re.compile(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)")
# Import name -> distribution name, where they differ.
DISTRIBUTION = {"nbformat": "nbformat", "yaml": "PyYAML", "bs4": "beautifulsoup4"}
STANDARD = {"tomllib"}


def pins(path: Path) -> dict[str, str]:
    """name -> version for every `name==version` line; follows `-r other.txt`."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line.startswith("-r "):
            found.update(pins(path.parent / line[3:].strip()))
        elif match := PIN.match(line):
            found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_every_requirement_is_pinned_exactly():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (REPO / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r ", "-e ")):
                assert PIN.match(line), f"{name}: not pinned exactly: {line!r}"


def test_torch_is_pinned_to_the_release_on_this_disk():
    assert pins(REPO / "requirements.txt")["torch"] == "2.13.0"


def test_binder_pins_match_requirements():
    binder, learners = pins(REPO / "binder" / "requirements.txt"), pins(REPO / "requirements.txt")
    assert (
        binder.pop("torch") == learners.pop("torch") + "+cpu"
    )  # the CPU-only wheel of the same release
    assert binder == learners


def test_binder_takes_torch_from_the_cpu_index_and_python_311():
    text = (REPO / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in text
    assert (REPO / "binder" / "runtime.txt").read_text().strip() == "python-3.11"


def imported_modules(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_everything_the_notebooks_and_helpers_import_is_pinned():
    import sys

    helpers = [REPO / "lenet_helpers.py", *sorted((REPO / "lenet_extras").glob("*.py"))]
    sources = [path.read_text() for path in helpers]
    for path in nbio.NOTEBOOKS.glob("*.ipynb"):
        sources += [c.source for c in nbio.read(path).cells if c.cell_type == "code"]
    for folder in ("tests", "tools", "site"):
        sources += [path.read_text() for path in REPO.glob(f"{folder}/*.py")]
    modules = set().union(*(imported_modules(s) for s in sources))
    third_party = {m for m in modules if m not in sys.stdlib_module_names and m not in STANDARD}
    third_party -= {"lenet_helpers", "lenet_extras", "tools", "companion"}  # companion: site/
    pinned = pins(REPO / "requirements-dev.txt")
    missing = {m for m in third_party if DISTRIBUTION.get(m, m).lower() not in pinned}
    assert not missing, f"imported but not pinned: {sorted(missing)}"
