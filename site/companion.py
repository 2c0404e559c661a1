"""The Sphinx extension behind the static site: what makes it this companion's site.

* Notebooks are read from notebooks/ as they are committed (MyST-NB, execution off); on the
  way in, the cells tools/navigation.py writes (tag "nav") are left out: the site has its own
  navigation and launch buttons. Of the header only the title and the lecture time span stay.
* The home page's lecture map and table of contents come from notebooks/contents.toml, and
  the glossary page's entries from site/glossary.toml.
* Mathematics is turned into MathML at build time, so pages need no script or font from
  elsewhere to show it.
* Accessibility: an empty header cell (the corner of a table whose first column names its
  rows) is written as an ordinary cell, since it heads nothing; see also _templates/ and
  _static/companion.js.
* Search finds numbers: Sphinx leaves words made of digits out of its index and out of the
  query, but a learner looks for 61706 or 400. Both sides are widened here.
* The whole companion as one zip (tools/archive.py, built into the site by tools/site.py) is
  offered where `<!-- download -->` stands on a page, in every page's download menu, and on
  each notebook's page with one line saying what else that notebook needs to run.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import nbformat
from docutils import nodes
from latex2mathml.converter import convert as latex_to_mathml
from myst_parser.slugs import github_slugify
from sphinx.application import Sphinx
from sphinx.errors import ExtensionError
from sphinx.search.en import SearchEnglish

from tools.archive import HELPERS, archive_name, notebook_needs
from tools.navigation import NAV_TAG, label, load_contents

REPO = Path(__file__).resolve().parents[1]
LECTURE_MAP = "<!-- lecture-map -->"  # replaced on the home page by the generated map
GLOSSARY = "<!-- glossary -->"  # replaced on the glossary page by its entries
DOWNLOAD = "<!-- download -->"  # replaced by the link to the whole companion's zip


def archive_link(contents: dict[str, Any], outdir: Path) -> str:
    """An HTML link, from a page one folder deep, to the zip, with its size once it is built."""
    name = f"{archive_name(contents)}.zip"
    zip_path = outdir / name
    size = f" ({zip_path.stat().st_size / 1e6:.0f} MB)" if zip_path.exists() else ""
    return f'<a href="../{name}" download>{name}</a>{size}'


def download_paragraph(contents: dict[str, Any], outdir: Path) -> str:
    """What the home and instructors pages say where `<!-- download -->` stands."""
    return (
        f"**The whole companion, for a machine with no clone**: {archive_link(contents, outdir)}"
        " holds every notebook with its outputs, the helper code (`lenet_helpers`,"
        " `lenet_extras`), the MNIST files, the requirements files, the README and the"
        " licences. Unzip it and follow its README to install it."
    )


def needs_line(nb: nbformat.NotebookNode, contents: dict[str, Any], outdir: Path) -> str:
    """The notebook page's one line: what the notebook needs besides itself, and where it is."""
    modules, data = notebook_needs(nb)
    helpers = [h for h in HELPERS if any(m.split(".")[0] == h for m in modules)]
    parts = [" and ".join(f"`{h}`" for h in helpers)] if helpers else []
    parts += [f"the MNIST files of `{folder}`" for folder in data]
    needs = ", and ".join(parts) if parts else "nothing of the companion's own"
    return (
        f"*To run this notebook on your own machine:* besides the `.ipynb` it needs {needs},"
        f" all in the whole companion, {archive_link(contents, outdir)}; its README says how"
        " to install it."
    )


def site_notebook(nb: nbformat.NotebookNode, needs: str | None = None) -> nbformat.NotebookNode:
    """The notebook as the site shows it: navigation cells out, the header's title kept, and
    `needs` (the line saying what else the notebook needs) as a paragraph right after it."""
    cells = []
    for cell in nb.cells:
        if NAV_TAG not in cell.metadata.get("tags", []):
            cells.append(cell)
            continue
        # The header is the one with a title: keep its prose, drop the marker and the badges.
        lines = [line for line in cell.source.splitlines() if not line.startswith("<!--")]
        if cell.cell_type == "markdown" and any(line.startswith("# ") for line in lines):
            kept = "\n".join(line for line in lines if "![" not in line).strip()
            cells.append(nbformat.from_dict({**cell, "source": kept}))
            if needs:
                cells.append(nbformat.v4.new_markdown_cell(needs, id="site-needs"))
    nb.cells = cells
    return nb


def lecture_map(contents: dict[str, Any], from_dir: str = "site") -> str:
    """The home page's table (notebook, title, time span) and its table of contents."""
    rows = ["| Notebook | Lecture 28 video |", "| --- | --- |"]
    entries = []
    for entry in contents["notebooks"]:
        target = f"../notebooks/{entry['file']}"
        rows.append(f"| [{label(entry)}]({target}) | {entry['lecture']} |")
        entries.append(target.removesuffix(".ipynb"))
    toctree = ["```{toctree}", ":hidden:", ":caption: The notebooks", "", *entries, "```"]
    return "\n".join(rows + [""] + toctree)


def load_glossary(root: Path = REPO) -> list[dict[str, str]]:
    """The glossary's entries, in the order of site/glossary.toml."""
    with (root / "site" / "glossary.toml").open("rb") as f:
        return tomllib.load(f)["term"]


def section_anchor(section: str) -> str:
    """The anchor MyST gives a notebook's heading (GitHub's rule, on the text without markup)."""
    return github_slugify(section.replace("`", ""))


def glossary(contents: dict[str, Any], entries: list[dict[str, str]]) -> str:
    """The glossary page's entries, alphabetically, each linked to where it is first explained."""
    titles = {entry["file"]: label(entry) for entry in contents["notebooks"]}
    lines = []
    for entry in sorted(entries, key=lambda e: e["term"].lower()):
        target = f"../notebooks/{entry['notebook']}#{section_anchor(entry['section'])}"
        where = f"{titles[entry['notebook']]}: {entry['section']}"
        term, definition = entry["term"], entry["definition"]
        lines.append(f"- **{term}**: {definition} First met in [{where}]({target}).")
    return "\n".join(lines)


def on_source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    if app.env.doc2path(docname).suffix == ".ipynb":
        nb = nbformat.reads(source[0], as_version=4)
        needs = needs_line(nb, load_contents(Path(app.srcdir)), Path(app.outdir))
        source[0] = nbformat.writes(site_notebook(nb, needs))
        return
    if DOWNLOAD in source[0]:
        paragraph = download_paragraph(load_contents(Path(app.srcdir)), Path(app.outdir))
        source[0] = source[0].replace(DOWNLOAD, paragraph)
    if LECTURE_MAP in source[0]:
        contents = load_contents(Path(app.srcdir))
        source[0] = source[0].replace(LECTURE_MAP, lecture_map(contents))
    elif GLOSSARY in source[0]:
        root = Path(app.srcdir)
        source[0] = source[0].replace(GLOSSARY, glossary(load_contents(root), load_glossary(root)))


def offer_archive(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add the zip to the page's download menu (the book theme's group "download-buttons")."""
    name = f"{archive_name(load_contents(Path(app.srcdir)))}.zip"
    for button in context.get("header_buttons", []):
        if button.get("label") == "download-buttons":
            button["buttons"].append(
                {
                    "type": "link",
                    "url": context["pathto"](name, 1),
                    "text": ".zip",
                    "icon": "fas fa-file-zipper",
                    "tooltip": "Download the whole companion: notebooks, helper code, MNIST",
                    "label": "download-archive-button",
                }
            )


def visit_math(self, node: nodes.math) -> None:
    self.body.append(latex_to_mathml(node.astext()))
    raise nodes.SkipNode


def visit_math_block(self, node: nodes.math_block) -> None:
    mathml = latex_to_mathml(node.astext(), display="block")
    # A wide formula scrolls inside its own box on a phone, not the page.
    self.body.append(f'<div class="math-wrapper">{mathml}</div>')
    raise nodes.SkipNode


# How docutils writes a header cell with nothing in it, and what it becomes: screen readers
# announce a header cell before each cell it heads, and an empty one would announce nothing
# (axe: empty-table-header). The W3C's tables tutorial leaves such a corner cell a <td>.
EMPTY_HEADER_CELL = '<th class="head"><p></p></th>'


def no_empty_header_cells(app: Sphinx, pagename: str, templatename: str, context, doctree) -> None:
    if "body" in context:
        context["body"] = context["body"].replace(EMPTY_HEADER_CELL, "<td></td>")


class SearchWithNumbers(SearchEnglish):
    """English search whose index keeps numbers (Sphinx's own drops every digit-only word)."""

    def word_filter(self, word: str) -> bool:
        return word not in self.stopwords


# The line of Sphinx's searchtools.js that drops digit-only words from a query.
NUMBER_SKIP = "if (stopwords.has(queryTermLower) || queryTerm.match(/^\\d+$/)) return;"


def let_search_find_numbers(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.name != "html":
        return
    script = Path(app.outdir) / "_static" / "searchtools.js"
    text = script.read_text(encoding="utf-8")
    if NUMBER_SKIP not in text:
        raise ExtensionError(
            f"{script}: the line that skips numbers in a query was not found (a new Sphinx?): "
            "update NUMBER_SKIP in site/companion.py"
        )
    kept = NUMBER_SKIP.replace(" || queryTerm.match(/^\\d+$/)", "")
    script.write_text(text.replace(NUMBER_SKIP, kept), encoding="utf-8")


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("source-read", on_source_read)
    app.connect("html-page-context", offer_archive, priority=502)  # after the theme's 501
    app.add_search_language(SearchWithNumbers)
    app.connect("build-finished", let_search_find_numbers)
    app.connect("html-page-context", no_empty_header_cells)
    app.add_html_math_renderer("mathml", (visit_math, None), (visit_math_block, None))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
