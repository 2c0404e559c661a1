"""The whole companion as one zip, for lab machines with no clone of the repository.

    python -m tools.archive [FOLDER]     # default: _build/; `make site` puts it in the site

The zip holds every file of the repository as git tracks it (the notebooks with their stored
outputs, the helper package, data/mnist, the requirements files, the README, the licences, the
tests and tools), read from the working tree, under one folder named after the repository and
the release of notebooks/contents.toml (lecture28-lenet-v2.0/). Outside a git checkout (an
unpacked archive, say) it takes every file but those .gitignore names. Entries are sorted and
dated 1 January 2000, so the same files always give the same bytes. The file is written next to
its final place and then renamed over it: a failure leaves no half-written zip.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from tools import nbio
from tools.navigation import load_contents

DATE = (2000, 1, 1, 0, 0, 0)
STORED = (".gz", ".png", ".zip")  # already compressed: deflating them again gains nothing
HELPERS = ("lenet_helpers", "lenet_extras")  # the companion's own importable code
DATA = {"lenet_extras.mnist": "data/mnist/"}  # module -> the data folder it reads


def archive_name(contents: dict[str, Any]) -> str:
    """The zip's name without .zip, which is also its top folder: <repository name>-<release>."""
    return f"{contents['repository'].split('/')[1]}-{contents['release']}"


def tracked_files(root: Path) -> list[str] | None:
    """The files git tracks under root that exist in the working tree; None outside a checkout."""
    try:
        result = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z"], capture_output=True, check=False
        )
    except OSError:  # no git on this machine
        return None
    if result.returncode != 0:
        return None
    names = [n for n in result.stdout.decode("utf-8").split("\0") if n]
    return sorted(n for n in names if (root / n).is_file())


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether a path matches one of .gitignore's lines (the simple forms this repository uses)."""
    parts = relative.split("/")
    for pattern in patterns:
        if pattern.endswith("/"):  # a folder, at any depth
            if any(fnmatch.fnmatch(p, pattern[:-1]) for p in parts[:-1]):
                return True
        elif any(fnmatch.fnmatch(p, pattern) for p in parts):
            return True
    return False


def walked_files(root: Path) -> list[str]:
    """Every file under root but .git/ and what .gitignore names."""
    gitignore = root / ".gitignore"
    lines = gitignore.read_text(encoding="utf-8").splitlines() if gitignore.exists() else []
    patterns = [".git/", *(line.strip() for line in lines)]
    patterns = [p for p in patterns if p and not p.startswith("#")]
    found = (p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return sorted(name for name in found if not ignored(name, patterns))


def companion_files(root: Path = nbio.REPO) -> list[str]:
    files = tracked_files(root)
    return walked_files(root) if files is None else files


def build(root: Path = nbio.REPO, folder: Path | None = None) -> Path:
    """Write <folder>/<archive_name>.zip from the files under root; return its path."""
    folder = folder or root / "_build"
    top = archive_name(load_contents(root))
    files = companion_files(root)
    if not files:
        raise ValueError(f"{root}: no files to put in the archive")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{top}.zip"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{top}-", suffix=".zip.part")
    os.close(handle)
    try:
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in files:
                path = root / name
                entry = zipfile.ZipInfo(f"{top}/{name}", date_time=DATE)
                entry.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
                entry.compress_type = (
                    zipfile.ZIP_STORED if name.endswith(STORED) else zipfile.ZIP_DEFLATED
                )
                archive.writestr(entry, path.read_bytes())
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a web server must read it
        os.replace(temporary, target)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return target


def imported_modules(source: str) -> set[str]:
    """The modules a code cell imports, read as IPython runs the cell (`!` lines are calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    names: set[str] = set()
    for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def notebook_needs(nb: Any) -> tuple[list[str], list[str]]:
    """(the companion's modules the notebook imports, the data folders they read)."""
    modules: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type == "code":
            modules |= imported_modules(cell.source)
    own = sorted(m for m in modules if m.split(".")[0] in HELPERS)
    return own, sorted({DATA[m] for m in own if m in DATA})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, help="where to write it (_build/)")
    parser.add_argument("--debug", action="store_true", help="show the traceback of a failure")
    args = parser.parse_args(argv)
    try:
        path = build(folder=args.folder.resolve() if args.folder else None)
    except (OSError, ValueError) as error:
        if args.debug:
            raise
        print(f"tools.archive: {error}", file=sys.stderr)
        return 1
    print(f"{path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
