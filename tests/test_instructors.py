"""The instructors page (site/instructors.md) tells the truth about the repository.

Every span of code on the page is read as what it is and checked against the repository:
a command (`make` targets in the Makefile, `python -m` modules that exist, `git tag` and
`git push` of the release in notebooks/contents.toml), a key of contents.toml, a module, a
file or folder (in the repository, or one that `make site` writes), or an address on this
machine; a span that is none of these fails, so a key that does not exist (`branch`) cannot
be named. Python versions must be the ones the Makefile accepts, the PyTorch release the
lock's; the publishing steps must come in the order the tools need them; the tables of
memory and time must list every notebook of contents.toml, in order; and the time table's
counts and estimates must be what the notebooks give now (the memory figures need a run of
every notebook under two torch builds: benchmarks/class_needs.py measures them).
"""

from __future__ import annotations

import importlib.util
import re
import shlex

import pytest
from packaging.utils import canonicalize_name

from tools import archive, assignments, grading, layers, navigation, nbio
from tools import site as site_tool
from tools.contents import ENTRY_KEYS, TABLE_KEYS

REPO = nbio.REPO
PAGE = REPO / "site" / "instructors.md"
CONTENTS = navigation.load_contents()
GIT = {"add", "branch", "clone", "commit", "push", "tag"}
STUDENT_SOLUTION = ("student", "solution", "nbgrader")  # what `make assignments` writes
# What `make site` and `make env` write: named on the page, absent from a fresh clone.
WRITTEN = {
    site_tool.SITE.relative_to(REPO).as_posix(),
    f"{archive.archive_name(CONTENTS)}.zip",
    ".venv",
    *(f"{assignments.OUT.relative_to(REPO).as_posix()}/{part}" for part in STUDENT_SOLUTION),
    grading.GRADEBOOK.relative_to(REPO).as_posix(),
    f"{grading.WORK.relative_to(REPO).as_posix()}/autograded",
}


def code_spans(text: str) -> list[str]:
    """Inline code, and every line of fenced code blocks, outside HTML comments."""
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    blocks = re.findall(r"^ *```[^\n]*\n(.*?)^ *```", text, flags=re.S | re.M)
    spans = [line.split(" #")[0].strip() for block in blocks for line in block.splitlines()]
    outside = re.sub(r"^ *```[^\n]*\n.*?^ *```", "", text, flags=re.S | re.M)
    return [s for s in spans + re.findall(r"`([^`\n]+)`", outside) if s]


MAKEFILE = (REPO / "Makefile").read_text()
LEARNER_MODULES = {"torch", "numpy", "matplotlib", "torchinfo"}  # packages of requirements.txt


def make_targets() -> set[str]:
    return set(re.findall(r"^([\w.-]+):", (REPO / "Makefile").read_text(), flags=re.M))


def makefile_python_range() -> tuple[int, int]:
    """The minor versions of Python 3 the Makefile accepts (its VERSION_OK line)."""
    low, high = re.search(
        r"\(3, (\d+)\) <= sys.version_info\[:2\] <= \(3, (\d+)\)", (REPO / "Makefile").read_text()
    ).groups()
    return int(low), int(high)


def contents_keys() -> set[str]:
    """Every key the table may have (tools/contents.py refuses any other)."""
    return (TABLE_KEYS - {"notebooks"}) | set(ENTRY_KEYS)


def looks_like_path(word: str) -> bool:
    return "/" in word or bool(re.fullmatch(r"[\w.-]+\.(txt|toml|ipynb|md|py|zip|cfg)", word))


def path_problem(path: str) -> str | None:
    if path.rstrip("/") in WRITTEN or (REPO / path).exists():
        return None
    return f"no file or folder {path} in the repository"


def command_problem(words: list[str], branches: list[str] = ()) -> str | None:
    first = words[0]
    if first == "make":
        targets = [w for w in words[1:] if "=" not in w]
        unknown = [t for t in targets if t not in make_targets()]
        return f"no make target {unknown}" if unknown else None
    if first in ("python", "python3") and words[1:2] == ["-m"]:
        module = words[2]
        found = (REPO / (module.replace(".", "/") + ".py")).exists() or (
            importlib.util.find_spec(module) is not None
        )
        if not found:
            return f"no module {module}"
        return next(filter(None, (path_problem(w) for w in words[3:] if looks_like_path(w))), None)
    if first == "git":
        if words[1] not in GIT:
            return f"git {words[1]} is not a step of publishing"
        if words[1] == "tag" and words[2:] != [CONTENTS["release"]]:
            return f"tags {words[2:]}, the release in contents.toml is {CONTENTS['release']}"
        if words[1] == "branch" and words[2:3] == ["-f"] and words[-1] != CONTENTS["release"]:
            release = CONTENTS["release"]
            return f"puts a branch at {words[-1]}, the release in contents.toml is {release}"
        pushed = CONTENTS["release"] in words or (words[-1] in branches and len(words) == 4)
        if words[1] == "push" and not pushed:
            return f"does not push the release {CONTENTS['release']} (or a branch made at it)"
        return None
    if first == "jupyter":
        return path_problem(words[-1])
    return f"not a command of this repository: {first}"


def span_problem(span: str, branches: list[str] = ()) -> str | None:
    """Why a span of code on the page names nothing of the repository, or None. ``branches``:
    the branches made at the release earlier in the same line, which it may push."""
    if "&&" in span:  # commands run one after the other: each must hold
        parts = [part.strip() for part in span.split("&&")]
        made = [
            p.split()[-2] for p in parts if p.startswith("git branch -f ") and len(p.split()) == 5
        ]
        problems = (span_problem(part, made) for part in parts)
        return next(filter(None, problems), None)
    if span.rstrip("/") in WRITTEN or (REPO / span).is_file():
        return None
    words = shlex.split(span)
    if words[0] in ("make", "python", "python3", "git", "jupyter"):
        return command_problem(words, branches)
    if re.fullmatch(r"[A-Z_]+", span):  # a make variable: the Makefile must use it
        return None if f"$({span})" in MAKEFILE else f"the Makefile uses no variable {span}"
    if re.fullmatch(r"\w+(\.\w+)+", span) and span.split(".")[0] in LEARNER_MODULES:
        module, _, name = span.rpartition(".")
        found = hasattr(importlib.import_module(module), name)
        return None if found else f"{span} does not exist"
    if match := re.fullmatch(r"(\w+) = .+", span):
        key = match.group(1)
        return None if key in contents_keys() else f"{key} is no key of contents.toml"
    if span in contents_keys() or span == "[[notebooks]]":
        return None
    if canonicalize_name(span) in layers.direct_needs(layers.read(layers.LEARNERS)):
        return None  # a package of requirements.txt
    if re.fullmatch(r"\w+", span):
        exists = (REPO / f"{span}.py").exists() or (REPO / span / "__init__.py").exists()
        return None if exists else f"{span} is no key of contents.toml and no module here"
    if span.startswith("http://127.0.0.1"):
        return None
    if looks_like_path(span.split()[0]):
        return path_problem(span.split()[0])
    return f"{span!r} names nothing of the repository"


def version_problems(text: str) -> list[str]:
    low, high = makefile_python_range()
    problems = []
    for minor in map(int, re.findall(r"Python 3\.(\d+)", text)):
        if not low <= minor <= high:
            problems.append(f"Python 3.{minor}: the Makefile accepts 3.{low} to 3.{high}")
    for phrase in re.findall(r"Python 3\.\d+(?:\.x)? (?:or newer|or later|and (?:up|above))", text):
        problems.append(f"{phrase!r}: the Makefile accepts 3.{low} to 3.{high} only")
    spans = re.findall(r"Python (3\.\d+)(?: to |–|-| or )(3\.\d+)", text)
    for first, last in spans:
        if (first, last) != (f"3.{low}", f"3.{high}"):
            problems.append(f"Python {first} to {last}: the Makefile accepts 3.{low} to 3.{high}")
    torch = layers.lock_pins()["torch"]
    for version in re.findall(r"PyTorch (\d+\.\d+\.\d+)", text):
        if version != torch:
            problems.append(f"PyTorch {version}: the lock and the stored outputs have {torch}")
    return problems


def page_problems(text: str) -> list[str]:
    found = [f"`{s}`: {p}" for s in code_spans(text) if (p := span_problem(s))]
    return found + version_problems(text)


def section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


# The publishing steps, in the order the tools need them: the table names the release; the
# notebooks' links and Colab cells are written from it; checked; committed; the tag put on
# that commit and pushed (Binder builds it, Colab clones it); the image built once; then the
# site and its archive built from the tagged files, and uploaded.
PUBLISHING = [
    ("name the release in the table", r"`release = "),
    ("rewrite the links", r"^\s*make nav$"),
    ("check", r"^\s*make test$"),
    ("commit", r"^\s*git commit "),
    ("tag the release", r"^\s*git tag "),
    ("push the tag", r"^\s*git push origin main "),
    ("build Binder's image once", r"[Oo]pen the Binder link"),
    ("build the site and the archive", r"^\s*make site$"),
    ("upload", r"[Uu]pload the folder `_build/site/`"),
]


def publishing_order(text: str) -> list[str]:
    """The steps of the numbered list under "Publish a copy", in the order the page has them."""
    items = re.split(r"^\d+\. ", section(text, "Publish a copy"), flags=re.M)[1:]
    found, missing = [], []
    for name, pattern in PUBLISHING:
        where = [
            (i, m.start()) for i, item in enumerate(items) if (m := re.search(pattern, item, re.M))
        ]
        (found.append((min(where), name)) if where else missing.append(f"missing: {name}"))
    return missing + [name for _, name in sorted(found)]


def table_rows(text: str) -> list[str]:
    return [line.split("|")[1].strip() for line in text.splitlines() if line.startswith("| ")]


# --- the page -----------------------------------------------------------------------------

TEXT = PAGE.read_text(encoding="utf-8")


def test_every_command_key_file_and_version_on_the_page_exists_as_named():
    assert page_problems(TEXT) == []


def test_the_publishing_steps_come_in_the_order_the_tools_need():
    assert publishing_order(TEXT) == [name for name, _ in PUBLISHING]


def repeated_parts(text: str) -> list[str]:
    """Headings and table header rows that occur more than once on a page."""
    lines = [line.strip() for line in text.splitlines()]
    parts = [line for line in lines if line.startswith(("#", "| notebook"))]
    return sorted({part for part in parts if parts.count(part) > 1})


def test_every_section_and_table_is_on_the_page_once():
    """A section pasted again with older figures would leave the reader two answers."""
    assert repeated_parts(TEXT) == []


def test_a_section_pasted_twice_is_caught():
    part = "### Time\n\n| notebook | words to read |\n| --- | --- |\n| 01 | 1,057 |\n"
    assert repeated_parts(part + "\n" + part) == ["### Time", "| notebook | words to read |"]
    assert repeated_parts(part) == []


@pytest.mark.parametrize("table", ["Memory", "Time"])
def test_the_tables_of_a_class_list_every_notebook_in_order(table):
    rows = table_rows(section(TEXT, "Teaching a class at once").split(f"**{table}")[1])
    names = [row for row in rows if row not in ("notebook", "---")]
    wanted = [navigation.label(e).split(" · ")[0] for e in CONTENTS["notebooks"]]
    assert names[: len(wanted)] == wanted


# --- the checks catch what the page used to say -------------------------------------------


def test_the_old_pages_mistakes_are_caught():
    old = (
        "From a clone, with Python 3.11 or newer and `make`:\n"
        '(`repository = "owner/name"`, and `branch`; a `release` key, when present, ...)\n'
        "```bash\nmake nav\nmake publish\ngit tag v1.0\n```\n"
    )
    problems = page_problems(old)
    assert any(p.startswith("`branch`:") for p in problems), problems
    assert any("or newer" in p for p in problems), problems
    assert any("make publish" in p for p in problems), problems
    assert any("git tag v1.0" in p for p in problems), problems
    assert not any("`make`" in p or "repository =" in p or "`release`" in p for p in problems)


def test_steps_out_of_order_are_caught():
    commands = ["make site", "make nav", "make test", "git commit -am x", "git tag v2",
                "git push origin main v2"]  # fmt: skip
    steps = '\n## Publish a copy\nA git tag, then make nav.\n1. Set `release = "v2"`.\n'
    steps += "".join(f"{n}. Run:\n\n   {c}\n" for n, c in enumerate(commands, 2))
    steps += "8. Open the Binder link.\n9. Upload the folder `_build/site/`.\n"
    order = publishing_order(steps)
    assert "missing" not in " ".join(order)
    assert order.index("build the site and the archive") < order.index("rewrite the links")
    assert order != [name for name, _ in PUBLISHING]


def expected_time_rows() -> list[list[str]]:
    """The Time table's rows as the counts give them (benchmarks/class_needs.py's arithmetic)."""
    from benchmarks.class_needs import READING_RATE, exercise_minutes, exercises, reading_counts

    kinds, rows = exercises(), []
    for entry in CONTENTS["notebooks"]:
        number = entry["file"][:2]
        own = kinds.get(number, []) if number.isdigit() else []
        words = sum(reading_counts(nbio.read(nbio.NOTEBOOKS / entry["file"])).values())
        reading = int(words / READING_RATE + 0.5)
        total = int(words / READING_RATE + exercise_minutes(own) + 0.5)
        code = sum(kind == "code" for kind in own)
        rows.append(
            [
                navigation.label(entry).split(" · ")[0],
                f"{words:,}",
                f"{reading} min",
                f"{len(own)} ({code})" if own else "0",
                f"{total} min",
            ]
        )
    return rows


def test_the_time_table_is_what_the_counts_give():
    """Words, exercises and estimates come from the notebooks as they are now."""
    table = section(TEXT, "Teaching a class at once").split("**Time")[1]
    rows = [
        [cell.strip() for cell in line.split("|")[1:-1]]
        for line in table.splitlines()
        if line.startswith("| ") and not line.startswith(("| notebook", "| ---"))
    ]
    shown = [row[:4] + [row[4].split(",")[0]] for row in rows]  # "10 min, and the training"
    wanted = expected_time_rows()
    paste = "\n".join("| " + " | ".join(row) + " |" for row in wanted)
    assert shown == wanted, f"the notebooks changed: the Time table's rows are now\n{paste}"
