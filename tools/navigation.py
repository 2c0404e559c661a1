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
Every link in them is relative (a sibling notebook, or ../contents.ipynb) or absolute, so that
it opens where the notebook is: JupyterLab and Binder open the file, GitHub shows it, and Colab,
which opens a notebook's relative links as notebooks of the same release on GitHub, opens it
too. Colab can show nothing but notebooks, so the contents are a notebook of their own,
contents.ipynb at the repository root (CONTENTS_NOTEBOOK), written from the same table.
All three carry the cell tag "nav" (NAV_TAG): the static site (site/) leaves them out, as it
has navigation and launch buttons of its own, and keeps only the header's title and time span.
All links point at that release too. The footer ends with the licence line (licence_line).
The README's badges, lecture map and "Cite" line sit between marker comments and are
rewritten likewise; the Cite line comes from CITATION.cff, whose version and repository
address the tool keeps equal to the table's release and repository. So are the class hub's
links (an nbgitpuller link per notebook, when the table names a `hub`) in the README and on
the site's instructors page (site/instructors.md).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import nbformat
import yaml

from tools import atomic, cli, nbio
from tools.cli import ToolError
from tools.contents import load_contents

WRITTEN_BY = "written by tools/navigation.py: edit notebooks/contents.toml, not this cell"
HEADER, FOOTER = "<!-- nav:header", "<!-- nav:footer"
COLAB_TAG = "colab-setup"  # the Colab cell's tag: how the tool finds it again
OLD_COLAB = "# nav:colab"  # how it was found before it had a tag
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
NAV_TAG = "nav"  # on every cell this tool writes; the site filters on it (site/companion.py)
CONTENTS_NOTEBOOK = "contents.ipynb"  # at the repository root: the footers' "Contents"
CONTENTS_MARK = "<!-- nav:contents"
CITATION = "CITATION.cff"
CC_BY_NC_SA = "https://creativecommons.org/licenses/by-nc-sa/4.0/"
INSTRUCTORS = "site/instructors.md"  # the site's page for instructors: it lists the hub links
# What the notebooks import that Colab's runtime lacks (tools/colab_check.py checks it): the
# Colab cell of a notebook that imports one installs it there, at the lock's version. Never
# torch or anything Colab has: replacing Colab's own packages would break its runtime.
COLAB_LACKS = ("torchinfo",)


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
    nothing fetched again when it is run twice; pip silent unless it fails. Anywhere, when the
    helper module cannot be imported, one sentence (MISSING_HELPERS) says where to get the
    companion and how to install it, and stops a run of all cells there, instead of a
    traceback further down."""
    name, release = contents["repository"].split("/")[1], contents["release"]
    pip = [f"    !pip install -qq {' '.join(installs)}"] if installs else []
    where = "fetched on Colab"
    if installs:
        where += f", with {', '.join(i.split('==')[0] for i in installs)}"
    return "\n".join(
        [
            f"# @title Set-up: the lecture's helper module and data ({where})",
            "import importlib.util",
            "import sys",
            "",
            f'url = "https://github.com/{contents["repository"]}"',
            'if "google.colab" in sys.modules:',
            f"    ![ -d {name} ] || git clone -q --depth 1 -b {release} {{url}} 2>&1 | tail -n1",
            *pip,
            f'    sys.path.insert(0, "{name}")',
            'if importlib.util.find_spec("lenet_helpers") is None:',
            "",
            "    class HelpersMissing(Exception):",
            "        def _render_traceback_(self):  # Jupyter shows the message, no traceback",
            "            return [str(self)]",
            "",
            "    raise HelpersMissing(",
            *(f"        {line}" for line in missing_helpers_lines(release)),
            "    )",
        ]
    )


def missing_helpers_lines(release: str) -> list[str]:
    """The one sentence of the set-up cell when the helper module is missing, as string lines."""
    return [
        '"This notebook needs the lecture\'s helper module (lenet_helpers), which this "',
        '"Python cannot import: download the whole companion, "',
        f'f"{{url}}/archive/refs/tags/{release}.zip, unzip it, install it with "',
        '"`python -m pip install -r requirements.txt` in its folder (its README shows "',
        '"how), and open the notebook from there."',
    ]


def footer_source(contents: dict[str, Any], index: int) -> str:
    entries = contents["notebooks"]
    links = []
    if index > 0:
        links.append(f"[← {label(entries[index - 1])}]({entries[index - 1]['file']})")
    links.append(f"[Contents](../{CONTENTS_NOTEBOOK})")
    if index + 1 < len(entries):
        links.append(f"[Next: {label(entries[index + 1])} →]({entries[index + 1]['file']})")
    return "\n".join(
        [f"{FOOTER} · {WRITTEN_BY} -->", "---", " | ".join(links), "", licence_line(contents)]
    )


def licence_line(contents: dict[str, Any]) -> str:
    """The footer's last line: the notebook's licence, the helper code's, and the credit for
    the lecture's slide code it quotes. Absolute links, so that they work on Colab too."""
    mit = f"https://github.com/{contents['repository']}/blob/{contents['release']}/LICENSE"
    return (
        f"*Licence: this notebook [CC BY-NC-SA 4.0]({CC_BY_NC_SA}), the helper code it imports"
        f" [MIT]({mit}); the lecture's slide code and printed lines, where quoted, are from"
        " Lecture 28 (Prof. Debdoot Sheet, IIT Kharagpur, NPTEL), under CC BY-NC-SA.*"
    )


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


def lecture_map_rows(contents: dict[str, Any]) -> list[str]:
    """The lecture map: each notebook (linked from the repository root), its video time span,
    and where to open it online."""
    rows = ["| Notebook | Lecture 28 video | Open online |", "| --- | --- | --- |"]
    for entry in contents["notebooks"]:
        file = entry["file"]
        rows.append(
            f"| [{label(entry)}](notebooks/{file}) | {entry['lecture']} "
            f"| [Binder]({binder_url(contents, file)}) · [Colab]({colab_url(contents, file)}) |"
        )
    return rows


def contents_notebook(contents: dict[str, Any]) -> nbformat.NotebookNode:
    """contents.ipynb: the lecture map as a notebook, where every footer's "Contents" leads."""
    source = "\n".join(
        [
            f"{CONTENTS_MARK} · {WRITTEN_BY} -->",
            "# LeNet, line by line: contents",
            "",
            'The notebooks of the companion to Lecture 28, "LeNet Definition", of Deep Learning'
            " for Visual Computing (IIT Kharagpur), in the order of the lecture. A notebook's"
            " name opens it where you are; Binder and Colab open it online.",
            "",
            *lecture_map_rows(contents),
        ]
    )
    cell = nbformat.v4.new_markdown_cell(source, id="nav-contents", metadata={"tags": [NAV_TAG]})
    return nbformat.v4.new_notebook(cells=[cell])


def readme_blocks(contents: dict[str, Any]) -> dict[str, str]:
    """The README's generated blocks, by marker name."""
    first = contents["notebooks"][0]["file"]
    badges = (
        f"[![Open in Binder]({BINDER_BADGE})]({binder_url(contents, first)}) "
        f"[![Open in Colab]({COLAB_BADGE})]({colab_url(contents, first)})"
    )
    return {
        "badges": badges,
        "lecture-map": "\n".join(lecture_map_rows(contents)),
        "hub-links": hub_block(contents),
    }


def parse_citation(text: str) -> dict[str, Any]:
    """CITATION.cff's fields, checked for those the Cite line needs."""
    try:
        cff = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValueError(f"{CITATION}: not valid YAML: {error}") from None
    missing = {"authors", "title", "version", "repository-code"} - set(cff or {})
    if missing:
        raise ValueError(f"{CITATION} lacks {sorted(missing)}")
    return cff


def citation_line(cff: dict[str, Any]) -> str:
    """The README's Cite line: authors, title, version, address."""
    names = [
        a.get("name") or " ".join(filter(None, (a.get("given-names"), a.get("family-names"))))
        for a in cff["authors"]
    ]
    return (
        f"{', '.join(names)}. *{cff['title']}*, version {cff['version']}. "
        f"<{cff['repository-code']}>"
    )


def synced_citation(text: str, contents: dict[str, Any]) -> str:
    """CITATION.cff's text with its version and address taken from the table (a release
    tag "v2.0" is version "2.0"); every other line is left as written."""
    fields = {
        "version": contents["release"].removeprefix("v"),
        "repository-code": f"https://github.com/{contents['repository']}",
    }
    for key, value in fields.items():
        text, found = re.subn(rf"^{key}:.*$", f'{key}: "{value}"', text, count=1, flags=re.M)
        if not found:
            raise ValueError(f"{CITATION} lacks a top-level '{key}:' line")
    return text


def planned_citation(root: Path, contents: dict[str, Any]) -> tuple[str | None, str]:
    """CITATION.cff's new text (None when it is up to date) and the README's Cite line."""
    path = root / CITATION
    if not path.exists():
        raise FileNotFoundError(f"{CITATION} does not exist: the README's Cite line comes from it")
    text = path.read_text(encoding="utf-8")
    synced = synced_citation(text, contents)
    return (synced if synced != text else None), citation_line(parse_citation(synced))


def render_readme(text: str, contents: dict[str, Any], cite: str | None = None) -> str:
    blocks = readme_blocks(contents) | ({"cite": cite} if cite is not None else {})
    for name, block in blocks.items():
        pattern = re.compile(rf"(<!-- {name}:start[^>]*-->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
        if not pattern.search(text):
            raise ToolError(
                f"README.md lacks the markers <!-- {name}:start --> ... <!-- {name}:end -->; "
                "nothing was written"
            )
        text = pattern.sub(lambda m, block=block: m.group(1) + block + "\n" + m.group(2), text)
    return text


def planned_changes(root: Path = nbio.REPO) -> dict[Path, str]:
    """Every file under ``root`` the tool would change, with the text it would write. The
    table and every notebook are read and checked before anything is written."""
    contents = load_contents(root)
    notebooks = root / "notebooks"
    changes: dict[Path, str] = {}
    for index, entry in enumerate(contents["notebooks"]):
        path = notebooks / entry["file"]
        text = nbio.dumps(nbio.normalise(navigate(nbio.read(path), contents, index)))
        if text != path.read_text(encoding="utf-8"):
            changes[path] = text
    contents_path = root / CONTENTS_NOTEBOOK
    text = nbio.dumps(nbio.normalise(contents_notebook(contents)))
    if not contents_path.exists() or text != contents_path.read_text(encoding="utf-8"):
        changes[contents_path] = text
    new_citation, cite = planned_citation(root, contents)
    if new_citation is not None:
        changes[root / CITATION] = new_citation
    changes.update(instructors_page_changes(root, contents))
    readme_path = root / "README.md"
    readme = readme_path.read_text(encoding="utf-8")
    new_readme = render_readme(readme, contents, cite)
    if new_readme != readme:
        changes[readme_path] = new_readme
    return changes


def write_navigation(root: Path = nbio.REPO) -> list[Path]:
    """Write every out-of-date file, each atomically; return their paths (none on a second
    run)."""
    changes = planned_changes(root)
    for path, text in changes.items():
        atomic.write_text(path, text)
    return list(changes)


# --- the class's JupyterHub: an nbgitpuller link per notebook ------------------------------


def hub_url(contents: dict[str, Any], file: str, repo_url: str | None = None) -> str:
    """nbgitpuller's link: on the first click the hub clones the repository's ``hub_branch``
    into the student's home, on every later click it pulls, keeping the student's edits; then
    it opens the notebook in JupyterLab. ``repo_url`` replaces the GitHub address (tests)."""
    name = contents["repository"].split("/")[1]
    query = {
        "repo": repo_url or f"https://github.com/{contents['repository']}",
        "branch": contents["hub_branch"],
        "urlpath": f"lab/tree/{name}/notebooks/{file}",
    }
    return f"{contents['hub']}/hub/user-redirect/git-pull?{urlencode(query)}"


def hub_block(contents: dict[str, Any]) -> str:
    """The hub links as a table, or how to get them when no hub is set."""
    if "hub" not in contents:
        return (
            "No class hub is set. Put its address in `notebooks/contents.toml`"
            ' (`hub = "https://hub.example.edu"`) with the branch the class follows'
            " (`hub_branch`), run `make nav`, and a link per notebook appears here."
        )
    rows = [
        f"On the class hub, {contents['hub']}, from branch `{contents['hub_branch']}` of"
        f" `{contents['repository']}`:",
        "",
        "| Notebook | Class hub |",
        "| --- | --- |",
    ]
    rows += [
        f"| {label(e)} | [open]({hub_url(contents, e['file'])}) |" for e in contents["notebooks"]
    ]
    return "\n".join(rows)


def _rewrite_block(text: str, name: str, block: str, where: str) -> str:
    pattern = re.compile(rf"(<!-- {name}:start[^>]*-->\n)(?:.*?\n)?(<!-- {name}:end -->)", re.S)
    if not pattern.search(text):
        raise ValueError(f"{where} lacks the markers <!-- {name}:start --> ... <!-- {name}:end -->")
    return pattern.sub(lambda m: m.group(1) + block + "\n" + m.group(2), text)


def with_release(text: str, contents: dict[str, Any]) -> str:
    """The instructors page's worked example brought to the table's release and repository, so
    that a fork's page names its own tag: in the code that sets the release, runs git or names
    the zip (inline code, and lines of code blocks that start with git), and nowhere else. The
    page's release is the one in its `release = "..."` step."""
    from tools.archive import archive_name  # only when a page is written

    found = re.search(r'`release = "([^"`]+)"`', text)
    if found is None:
        raise ValueError(f'{INSTRUCTORS} lacks its step `release = "..."`')
    new = contents["release"]
    # the release as a word: v2.0 in lecture28-lenet-v2.0.zip, but not in v2.0.1
    old = re.compile(rf"(?<![\w.]){re.escape(found.group(1))}(?!\w|\.\d)")

    def example(code: re.Match) -> str:
        span = code.group(0)
        if not re.search(r"\bgit |release = |\.zip\b", span):
            return span
        span = old.sub(new, span)
        return re.sub(rf"[\w.-]+-{re.escape(new)}\.zip", f"{archive_name(contents)}.zip", span)

    return re.sub(r"`[^`\n]+`|^ *git .*$", example, text, flags=re.M)


def instructors_page_changes(root: Path, contents: dict[str, Any]) -> dict[Path, str]:
    """The site's instructors page with its hub links and worked example rewritten, if they
    changed."""
    path = root / INSTRUCTORS
    if not path.exists():  # a checkout without the site
        return {}
    text = path.read_text(encoding="utf-8")
    new = _rewrite_block(
        with_release(text, contents), "hub-links", hub_block(contents), INSTRUCTORS
    )
    return {path: new} if new != text else {}


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
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
    sys.exit(cli.run(main))
