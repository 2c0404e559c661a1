"""Write the navigation of every notebook, and the README's lecture map, from one table.

    python -m tools.navigation          # rewrite what is out of date
    python -m tools.navigation --check  # only report it (exit status 1 if anything is)

The table is notebooks/contents.toml. Each notebook gets three cells, found again by the
marker on their first line (header, footer) or by their cell tag (the Colab cell, whose
source a learner reads), so running the tool twice changes nothing:
  * a header, first (title, Binder and Colab badges, the lecture time span),
  * a Colab set-up cell after the introduction, the first code cell: collapsed, a no-op but
    on Colab, where it clones the release named in the table (`release`, a git tag), so the
    notebook and the helper module it imports come from the same release,
  * a footer, last (previous | contents | next).
All three carry the cell tag "nav" (NAV_TAG): the static site (site/) leaves them out, as it
has navigation and launch buttons of its own, and keeps only the header's title and time span.
All links point at that release too.
The README's badges and lecture map sit between marker comments and are rewritten likewise.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import nbformat

from tools import nbio

CONTENTS = "notebooks/contents.toml"
WRITTEN_BY = "written by tools/navigation.py: edit notebooks/contents.toml, not this cell"
HEADER, FOOTER = "<!-- nav:header", "<!-- nav:footer"
COLAB_TAG = "colab-setup"  # the Colab cell's tag: how the tool finds it again
OLD_COLAB = "# nav:colab"  # how it was found before it had a tag
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
NAV_TAG = "nav"  # on every cell this tool writes; the site filters on it (site/companion.py)
# What the notebooks import that Colab's runtime lacks (tools/colab_check.py checks it): the
# Colab cell of a notebook that imports one installs it there, at the lock's version. Never
# torch or anything Colab has: replacing Colab's own packages would break its runtime.
COLAB_LACKS = ("torchinfo",)


def load_contents(root: Path = nbio.REPO) -> dict[str, Any]:
    """The table, checked for the fields every entry needs."""
    path = root / CONTENTS
    with path.open("rb") as f:
        contents = tomllib.load(f)
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", contents.get("repository", "")):
        raise ValueError(
            f"{path}: repository must be 'owner/name', got {contents.get('repository')!r}"
        )
    if not re.fullmatch(r"[\w.-]+", contents.get("release", "")):
        raise ValueError(
            f"{path}: release must be a git tag or branch, such as 'v2.0', "
            f"got {contents.get('release')!r}"
        )
    for entry in contents["notebooks"]:
        missing = {"file", "title", "lecture"} - entry.keys()
        if missing:
            raise ValueError(f"{path}: entry {entry} lacks {sorted(missing)}")
    return contents


def binder_url(contents: dict[str, Any], file: str | None = None) -> str:
    url = f"https://mybinder.org/v2/gh/{contents['repository']}/{contents['release']}"
    return url + (f"?urlpath=lab/tree/notebooks/{file}" if file else "")


def colab_url(contents: dict[str, Any], file: str) -> str:
    return f"https://colab.research.google.com/github/{contents['repository']}/blob/{contents['release']}/notebooks/{file}"


def label(entry: dict[str, Any]) -> str:
    number = entry["file"].split("_")[0]
    return f"{number} · {entry['title']}" if number.isdigit() else entry["title"]


def header_source(contents: dict[str, Any], entry: dict[str, Any]) -> str:
    file = entry["file"]
    return "\n".join(
        [
            f"{HEADER} · {WRITTEN_BY} -->",
            f"# {label(entry)}",
            "",
            f"[![Open in Binder]({BINDER_BADGE})]({binder_url(contents, file)}) "
            f"[![Open in Colab]({COLAB_BADGE})]({colab_url(contents, file)})",
            "",
            '*Lecture 28, "LeNet Definition", of Deep Learning for Visual Computing'
            f" (IIT Kharagpur). Video time: {entry['lecture']}.*",
        ]
    )


def colab_installs(nb: nbformat.NotebookNode) -> list[str]:
    """'name==version' for each package of COLAB_LACKS that the notebook's code imports."""
    from tools.layers import lock_pins  # only when a notebook is written

    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code" and not is_colab_cell(c))
    wanted = [n for n in COLAB_LACKS if re.search(rf"^\s*(import|from)\s+{n}\b", code, re.M)]
    pins = lock_pins() if wanted else {}
    return [f"{name}=={pins[name]}" for name in wanted]


def colab_source(contents: dict[str, Any], installs: list[str] = ()) -> str:
    """Short enough to read at a glance; git's own message, in one line, if the clone fails;
    nothing fetched again when it is run twice; pip silent unless it fails."""
    name, release = contents["repository"].split("/")[1], contents["release"]
    title = "fetch the lecture's helper module and data"
    pip = [f"    !pip install -qq {' '.join(installs)}"] if installs else []
    if installs:
        title += f"; install {', '.join(i.split('==')[0] for i in installs)}"
    return "\n".join(
        [
            f"# @title On Colab only: {title}",
            "import sys",
            "",
            'if "google.colab" in sys.modules:',
            f'    url = "https://github.com/{contents["repository"]}"',
            f"    ![ -d {name} ] || git clone -q --depth 1 -b {release} {{url}} 2>&1 | tail -n1",
            *pip,
            f'    sys.path.insert(0, "{name}")',
        ]
    )


def footer_source(contents: dict[str, Any], index: int) -> str:
    entries = contents["notebooks"]
    links = []
    if index > 0:
        links.append(f"[← {label(entries[index - 1])}]({entries[index - 1]['file']})")
    links.append("[Contents](../README.md#lecture-map)")
    if index + 1 < len(entries):
        links.append(f"[Next: {label(entries[index + 1])} →]({entries[index + 1]['file']})")
    return "\n".join([f"{FOOTER} · {WRITTEN_BY} -->", "---", " | ".join(links)])


def _marked(cell: dict[str, Any], marker: str) -> bool:
    return cell["source"].startswith(marker)


def is_colab_cell(cell: dict[str, Any]) -> bool:
    return cell["cell_type"] == "code" and (
        COLAB_TAG in cell.get("metadata", {}).get("tags", []) or _marked(cell, OLD_COLAB)
    )


def navigate(
    nb: nbformat.NotebookNode, contents: dict[str, Any], index: int
) -> nbformat.NotebookNode:
    """The notebook with its header, Colab and footer cells written (a new object)."""
    nb = nbformat.from_dict(nb)
    old_colab = next((c for c in nb.cells if is_colab_cell(c)), None)
    body = [
        c
        for c in nb.cells
        if not is_colab_cell(c) and not any(_marked(c, m) for m in (HEADER, FOOTER))
    ]
    tagged = {"tags": [NAV_TAG]}
    header = nbformat.v4.new_markdown_cell(
        header_source(contents, contents["notebooks"][index]), id="nav-header", metadata=tagged
    )
    colab = nbformat.v4.new_code_cell(
        colab_source(contents, colab_installs(nb)),
        id="nav-colab",
        # collapsed: in JupyterLab (source_hidden) and on Colab (a form shows only its title)
        metadata={
            "cellView": "form",
            "jupyter": {"source_hidden": True},
            "tags": [COLAB_TAG, NAV_TAG],
        },
    )
    if old_colab is not None:  # keep its run: the cell prints nothing, only its count matters
        colab.execution_count, colab.outputs = old_colab.execution_count, old_colab.outputs
    footer = nbformat.v4.new_markdown_cell(
        footer_source(contents, index), id="nav-footer", metadata=tagged
    )
    # The Colab cell follows the introduction (the first cell, when it is prose), so it is
    # read after what the notebook is for, and before any section that refers to code below.
    after = 1 if body and body[0].cell_type == "markdown" else 0
    nb.cells = [header, *body[:after], colab, *body[after:], footer]
    return nb


def readme_blocks(contents: dict[str, Any]) -> dict[str, str]:
    """The README's generated blocks, by marker name."""
    first = contents["notebooks"][0]["file"]
    badges = (
        f"[![Open in Binder]({BINDER_BADGE})]({binder_url(contents, first)}) "
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(contents, first)})"
    )
    rows = ["| Notebook | Lecture 28 video | Open online |", "| --- | --- | --- |"]
    for entry in contents["notebooks"]:
        file = entry["file"]
        rows.append(
            f"| [{label(entry)}](notebooks/{file}) | {entry['lecture']} "
            f"| [Binder]({binder_url(contents, file)}) · [Colab]({colab_url(contents, file)}) |"
        )
    return {"badges": badges, "lecture-map": "\n".join(rows)}


def render_readme(text: str, contents: dict[str, Any]) -> str:
    for name, block in readme_blocks(contents).items():
        pattern = re.compile(rf"(<!-- {name}:start[^>]*-->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ValueError(
                f"README.md lacks the markers <!-- {name}:start --> ... <!-- {name}:end -->"
            )
        text = pattern.sub(lambda m, block=block: m.group(1) + block + "\n" + m.group(2), text)
    return text


def planned_changes(root: Path = nbio.REPO) -> dict[Path, str]:
    """Every file under ``root`` the tool would change, with the text it would write."""
    contents = load_contents(root)
    notebooks = root / "notebooks"
    changes: dict[Path, str] = {}
    for index, entry in enumerate(contents["notebooks"]):
        path = notebooks / entry["file"]
        if not path.exists():
            raise FileNotFoundError(f"{entry['file']} is listed in {CONTENTS} but does not exist")
        text = nbio.dumps(nbio.normalise(navigate(nbio.read(path), contents, index)))
        if text != path.read_text(encoding="utf-8"):
            changes[path] = text
    listed = {entry["file"] for entry in contents["notebooks"]}
    unlisted = sorted(p.name for p in notebooks.glob("*.ipynb") if p.name not in listed)
    if unlisted:
        raise ValueError(f"notebooks missing from {CONTENTS}: {', '.join(unlisted)}")
    readme_path = root / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    new_readme = render_readme(readme, contents)
    if new_readme != readme:
        changes[readme_path] = new_readme
    return changes


def write_navigation(root: Path = nbio.REPO) -> list[Path]:
    """Write every out-of-date file; return their paths (none on a second run)."""
    changes = planned_changes(root)
    for path, text in changes.items():
        path.write_text(text, encoding="utf-8", newline="\n")
    return list(changes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="report out-of-date files, change nothing"
    )
    args = parser.parse_args(argv)
    paths = list(planned_changes()) if args.check else write_navigation()
    for path in paths:
        print(f"{'out of date' if args.check else 'updated'}: {path.relative_to(nbio.REPO)}")
    if not paths:
        print("navigation is up to date")
    return 1 if args.check and paths else 0


if __name__ == "__main__":
    sys.exit(main())
