"""Table: rows of named values printed as aligned plain text (introduced in 03).

The tables of the lecture's helpers (size_rule_table, parameter_table) and of the size
explorer are Tables. It is imported from lenet_helpers in the notebooks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lenet_extras import checks


class Table:
    """Rows of named values that print as an aligned plain-text table (introduced in 03).

    ``table.rows`` is a list of dicts, so a notebook can assert on any column; a value left
    out of a row prints as "-". ``notes`` are sentences printed under the table.
    """

    def __init__(
        self, columns: Sequence[str], rows: Sequence[dict[str, Any]], *, notes: Sequence[str] = ()
    ) -> None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns):
            raise TypeError(f"columns must be a list of names, got {checks.describe(columns)}")
        self.columns = list(columns)
        if len(set(self.columns)) < len(self.columns):
            raise ValueError(f"columns must differ from each other, got {self.columns}")
        self.rows = []
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                raise TypeError(
                    f"row {i} must be a dict of column: value, got {checks.describe(row)}"
                )
            unknown = [key for key in row if key not in self.columns]
            if unknown:
                raise ValueError(
                    f"row {i} has {unknown}, which is not among the columns {self.columns}"
                )
            self.rows.append(dict(row))
        self.notes = [str(note) for note in notes]

    def column(self, name: str) -> list[Any]:
        """All values of one column, top to bottom."""
        if name not in self.columns:
            raise KeyError(f"no column {name!r}; the columns are {self.columns}")
        return [row.get(name) for row in self.rows]

    def __repr__(self) -> str:
        columns = self.columns
        cells = [[_cell_text(row.get(c)) for c in columns] for row in self.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(self.columns)]
        numeric = [all(_is_number(v) for v in self.column(c) if v is not None) for c in columns]

        def line(values: Sequence[str]) -> str:
            aligned = zip(values, widths, numeric, strict=True)
            return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in aligned).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([line(self.columns), rule, *(line(r) for r in cells), *self.notes])


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _cell_text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
