"""Write the weekly canary's GitHub issue from the logs of its checks (workflow canary.yml).

    python -m tools.canary RESULTS --expect newest-torch colab --run-url URL --out issue.md

RESULTS holds one folder per check, named after it, with `log.txt` (everything the check
printed), `status` (its exit code) and, optionally, `about.txt` (what it ran against, e.g.
Colab's Python and torch). A notebook cell that fails shows in pytest's summary as
"FAILED notebooks/NN_name.ipynb::Cell K - reason", K counting the notebook's code cells
from 0 (as nbval does): the issue names the notebook, the cell and its first line.

Exit status 0 when every expected check passed (the file still says so), 1 when one
failed or left no result. Standard library only: the job that runs it installs nothing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKER = "<!-- weekly-canary -->"  # the workflow finds its issue again by this line
TITLES = {
    "newest-torch": "Under the newest torch the learners' layer admits",
    "colab": "Under Colab's current runtime",
}
FAILED = re.compile(
    r"^(?:FAILED|ERROR) (?P<path>\S+\.ipynb)::Cell (?P<cell>\d+)(?: - (?P<why>.*))?$"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
TAIL = 40  # lines of the log quoted when no notebook cell is named


@dataclass
class Check:
    name: str
    status: int | None  # None: the check left no result (its job stopped before it)
    about: str = ""
    failures: list[tuple[str, int, str]] = field(default_factory=list)  # path, cell, why
    tail: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.status == 0


def read_check(folder: Path) -> Check:
    status_file, log_file = folder / "status", folder / "log.txt"
    try:
        status = int(status_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        status = None
    about = folder / "about.txt"
    check = Check(
        folder.name, status, about.read_text(encoding="utf-8").strip() if about.exists() else ""
    )
    if log_file.exists():
        lines = [ANSI.sub("", line) for line in log_file.read_text(errors="replace").splitlines()]
        for line in lines:
            if match := FAILED.match(line.strip()):
                failure = (match["path"], int(match["cell"]), (match["why"] or "").strip())
                if failure not in check.failures:
                    check.failures.append(failure)
        check.tail = lines[-TAIL:]
    return check


def first_line(path: str, cell: int) -> str:
    """The first non-blank line of the notebook's code cell number `cell` (from 0), or ''."""
    candidates = [REPO / path, REPO / "notebooks" / Path(path).name]
    notebook = next((p for p in candidates if p.is_file()), None)
    if notebook is None:
        return ""
    cells = [
        c
        for c in json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        if c["cell_type"] == "code"
    ]
    if cell >= len(cells):
        return ""
    source = "".join(cells[cell]["source"])
    return next((line.strip() for line in source.splitlines() if line.strip()), "")


def notebook_name(path: str) -> str:
    return f"notebooks/{Path(path).name}"


def section(check: Check) -> list[str]:
    title = TITLES.get(check.name, check.name)
    lines = [f"### {title} (`{check.name}`)", ""]
    if check.about:
        lines += [check.about, ""]
    if check.passed:
        return lines + ["Every notebook passed.", ""]
    if check.status is None:
        return lines + ["No result: the job stopped before the check ran (see the run).", ""]
    if check.failures:
        lines += [
            "| Notebook | Cell | Its first line | What happened |",
            "| --- | --- | --- | --- |",
        ]
        for path, cell, why in check.failures:
            code = first_line(path, cell).replace("|", "\\|").replace("`", "'")
            lines.append(
                f"| {notebook_name(path)} | code cell {cell + 1} (nbval's Cell {cell}) "
                f"| `{code}` | {why or 'failed'} |"
            )
        lines.append("")
    else:
        lines += [
            f"The check failed (exit status {check.status}) before naming a notebook cell.",
            "",
        ]
    lines += ["<details><summary>The end of its log</summary>", "", "```text"]
    lines += [line.replace("```", "'''") for line in check.tail] + ["```", "", "</details>", ""]
    return lines


def report(checks: list[Check], run_url: str) -> str:
    broken = [c for c in checks if not c.passed]
    head = (
        "The weekly canary found notebooks that break."
        if broken
        else "The weekly canary passed: every notebook runs."
    )
    lines = [MARKER, f"{head} Run: {run_url}", ""]
    lines.append("Code cells are counted from 1, in the order the notebook shows them.")
    lines.append("")
    for check in checks:
        lines += section(check)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="one folder per check")
    parser.add_argument("--expect", nargs="+", required=True, help="the checks that must report")
    parser.add_argument("--run-url", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    checks = [read_check(args.results / name) for name in args.expect]
    text = report(checks, args.run_url)
    temporary = args.out.with_name(args.out.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(args.out)
    return 0 if all(c.passed for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
