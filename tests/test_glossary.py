"""The glossary (site/glossary.toml, shown on the site's glossary page): every term is explained
where a learner first meets it, and the page links to that place.

"First meets" is read from the notebooks' prose in lecture order: the text of markdown cells,
without the navigation cells, the introduction before a notebook's first section heading
(which only previews what is coming) and fenced code blocks (the quoted slide code).
"""

from __future__ import annotations

import re
import sys

import pytest
from bs4 import BeautifulSoup

from tools import navigation, nbio

sys.path.insert(0, str(nbio.REPO / "site"))  # the site's extension, as site/conf.py loads it
from companion import glossary, load_glossary, section_anchor  # noqa: E402

CONTENTS = navigation.load_contents()
ENTRIES = load_glossary(nbio.REPO)
FENCED = re.compile(r"```.*?```", re.S)
HEADING = re.compile(r"^#{2,3} (.+)$", re.M)


def sections() -> list[tuple[str, str, str]]:
    """(notebook, section heading, prose) for every section of every notebook, in order."""
    found = []
    for entry in CONTENTS["notebooks"]:
        if not entry["file"][:2].isdigit():
            continue  # the solutions come after everything they solve
        section = None
        for cell in nbio.read(nbio.NOTEBOOKS / entry["file"]).cells:
            if cell.cell_type != "markdown" or navigation.NAV_TAG in cell.metadata.get("tags", []):
                continue
            text = FENCED.sub("", cell.source)
            parts = HEADING.split(text)  # [before, heading, text, heading, text, ...]
            if section is not None:
                found.append((entry["file"], section, parts[0]))
            for heading, body in zip(parts[1::2], parts[2::2], strict=True):
                section = heading.strip()
                found.append((entry["file"], section, body))
    return found


def pattern(entry: dict[str, str]) -> re.Pattern:
    return re.compile(rf"\b(?:{entry.get('match', re.escape(entry['term']))})\b", re.I)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["term"])
def test_the_term_is_first_met_where_the_glossary_says(entry):
    first = next(((nb, sec) for nb, sec, text in sections() if pattern(entry).search(text)), None)
    assert first == (entry["notebook"], entry["section"]), (
        f"{entry['term']!r} is first mentioned in {first}, the glossary says "
        f"{(entry['notebook'], entry['section'])}"
    )


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["term"])
def test_the_term_is_in_italics_where_it_is_explained(entry):
    text = "".join(
        body for nb, sec, body in sections() if (nb, sec) == (entry["notebook"], entry["section"])
    )
    emphasised = re.findall(r"(?<![*\w])\*([^*\n]+)\*(?![*\w])", text)
    assert any(pattern(entry).fullmatch(e.strip()) for e in emphasised), (
        f"{entry['notebook']}, section {entry['section']!r}: write *{entry['term']}* in italics "
        "in the sentence that explains it"
    )


def test_every_entry_is_complete_and_listed_once():
    terms = [e["term"].lower() for e in ENTRIES]
    assert len(terms) == len(set(terms))
    for entry in ENTRIES:
        assert {"term", "notebook", "section", "definition"} <= entry.keys(), entry
        assert entry["definition"].endswith("."), entry["term"]


def test_the_page_links_each_term_to_its_section():
    page = glossary(CONTENTS, ENTRIES)
    for entry in ENTRIES:
        link = f"../notebooks/{entry['notebook']}#{section_anchor(entry['section'])}"
        assert f"**{entry['term']}**: {entry['definition']}" in page
        assert f"]({link})" in page


def test_the_built_page_lists_every_term_with_a_working_link(built_site):
    soup = BeautifulSoup((built_site / "site" / "glossary.html").read_text("utf-8"), "html.parser")
    items = soup.select("article li")
    assert [li.strong.get_text() for li in items] == sorted(
        (e["term"] for e in ENTRIES), key=str.lower
    )
    for li in items:
        href = li.select("a.reference")[-1]["href"]
        path, anchor = href.split("#")
        target = BeautifulSoup(
            (built_site / "site" / path).resolve().read_text("utf-8"), "html.parser"
        )
        assert target.find(id=anchor) is not None, f"{href}: no such anchor"
