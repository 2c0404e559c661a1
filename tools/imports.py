"""Check that everything the notebooks import can be imported here (`make lab` runs it first).

    python -m tools.imports                     # every notebook in notebooks/
    python -m tools.imports notebooks/03_*.ipynb

Reads every code cell of every notebook as IPython does (a `!` line is a shell command),
and imports each module named in an `import` statement in this interpreter. A module that
cannot be imported is named in one line, with the notebook that needs it and the cause,
and the exit status is 1, before JupyterLab would open a notebook that cannot run.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

from tools import cli, nbio


def imported_modules(source: str) -> list[str]:
    """The modules a cell imports, by their full dotted names, in order."""
    from IPython.core.inputtransformer2 import TransformerManager

    names: list[str] = []
    for node in ast.walk(ast.parse(TransformerManager().transform_cell(source))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
    return names


def needed(paths: list[Path]) -> dict[str, str]:
    """Each module the notebooks import, with the first notebook that imports it."""
    found: dict[str, str] = {}
    for path in paths:
        for cell in nbio.read(path).cells:
            if cell.cell_type == "code":
                for name in imported_modules(cell.source):
                    found.setdefault(name, cli.where(path))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all in notebooks/")
    args = parser.parse_args(argv)
    modules = needed(args.notebooks or sorted(nbio.NOTEBOOKS.glob("*.ipynb")))
    for name, notebook in modules.items():
        try:
            importlib.import_module(name)
        except Exception as error:  # whatever importing it raises is the reason it cannot run
            cause = (str(error).strip().splitlines() or [""])[0]
            raise cli.ToolError(
                f"{notebook} imports {name}, which {sys.executable} cannot import "
                f"({type(error).__name__}: {cause}); make the environment again: "
                "rm -rf .venv && make lab"
            ) from None
    print(f"the notebooks' {len(modules)} imports work in {sys.executable}")
    return 0


if __name__ == "__main__":
    sys.exit(cli.run(main))
