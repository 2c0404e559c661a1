"""notebooks/contents.toml, the one table behind the navigation: read, and checked whole.

Every field of every entry is checked (types, one line of text, duplicates, the notebook
files it names and those it leaves out) before any tool writes from it; a fault is one
line naming the table and the entry.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tools.cli import REPO, ToolError

CONTENTS = "notebooks/contents.toml"


ENTRY_KEYS = ("file", "title", "lecture")
TABLE_KEYS = {"repository", "release", "notebooks", "hub", "hub_branch"}


def load_contents(root: Path = REPO) -> dict[str, Any]:
    """The table, with every field of every entry checked before anything is written: types,
    duplicates, and (under ``root``) the notebooks it names and the ones it leaves out. A
    fault is a ToolError naming the table and the entry, with how many more there are."""
    path = root / CONTENTS
    try:
        with path.open("rb") as f:
            contents = tomllib.load(f)
    except FileNotFoundError:
        raise ToolError(f"{CONTENTS}: no such file") from None
    except tomllib.TOMLDecodeError as error:
        raise ToolError(f"{CONTENTS}: not valid TOML: {error}; nothing was written") from None
    problems = table_problems(contents, root / "notebooks")
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ToolError(f"{CONTENTS}: {problems[0]}{more}; nothing was written")
    return contents


def table_problems(contents: dict[str, Any], notebooks: Path) -> list[str]:
    """Every fault of the table, one sentence each."""
    problems = [f"unknown key {k!r}" for k in contents if k not in TABLE_KEYS]
    problems += hub_problems(contents)
    repository, release = contents.get("repository"), contents.get("release")
    if not isinstance(repository, str) or not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        problems.append(f"repository must be 'owner/name', got {repository!r}")
    if not isinstance(release, str) or not re.fullmatch(r"[\w.-]+", release):
        problems.append(f"release must be a git tag or branch, such as 'v2.0', got {release!r}")
    entries = contents.get("notebooks")
    if (
        not isinstance(entries, list)
        or not entries
        or not all(isinstance(e, dict) for e in entries)
    ):
        return [*problems, "it needs [[notebooks]] entries, each with file, title and lecture"]
    seen: dict[tuple[str, str], int] = {}
    for number, entry in enumerate(entries, 1):
        name = f"entry {number} ({entry.get('file', 'no file')})"
        for key in entry.keys() - set(ENTRY_KEYS):
            problems.append(f"{name}: unknown key {key!r}; the keys are {', '.join(ENTRY_KEYS)}")
        for key in ENTRY_KEYS:
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                problems.append(f"{name}: {key} must be one line of text, got {value!r}")
            elif (key, value) in seen:
                problems.append(f"{name}: {key} {value!r} is already entry {seen[key, value]}'s")
            else:
                seen[key, value] = number
        file = entry.get("file")
        if isinstance(file, str) and not re.fullmatch(r"[\w.-]+\.ipynb", file):
            problems.append(f"{name}: file must be a notebook's name in notebooks/, got {file!r}")
        elif isinstance(file, str) and not (notebooks / file).is_file():
            problems.append(f"{name}: notebooks/{file} does not exist")
    listed = {e.get("file") for e in entries}
    unlisted = sorted(p.name for p in notebooks.glob("*.ipynb") if p.name not in listed)
    if unlisted:
        problems.append(f"notebooks missing from the table: {', '.join(unlisted)}")
    return problems


def hub_problems(contents: dict[str, Any]) -> list[str]:
    """The optional hub keys: the class hub's address, and the branch its copies follow."""
    if "hub" not in contents:
        return []
    hub, branch = contents["hub"], contents.get("hub_branch")
    problems = []
    if not isinstance(hub, str) or not re.fullmatch(r"https?://[\w.-]+(:\d+)?(/[\w.~-]+)*", hub):
        problems.append(
            "hub must be the hub's address, such as 'https://hub.example.edu'"
            f" (no trailing slash), got {hub!r}"
        )
    if not isinstance(branch, str) or not re.fullmatch(r"[\w.-]+(/[\w.-]+)*", branch):
        problems.append(
            "hub needs hub_branch, the branch the class's copies follow (nbgitpuller clones a"
            f" tag such as release = {contents.get('release')!r} once, then every later pull"
            f" fails), got {branch!r}"
        )
    return problems
