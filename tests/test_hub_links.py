"""The class hub's links, written by `make nav` from notebooks/contents.toml (tools/navigation.py).

Whether such a link really opens a notebook and pulls again on a JupyterHub is
tests/test_hub.py; this file checks what is written, and where.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tools import navigation, nbio
from tools.cli import ToolError
from tools.contents import CONTENTS

REPO = nbio.REPO
HUB = 'hub = "https://hub.example.edu"\nhub_branch = "class"\n'


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The parts of the repository the tool reads and writes, the instructors page included."""
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks")
    for name in ("README.md", "CITATION.cff", navigation.CONTENTS_NOTEBOOK):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / "site").mkdir()
    shutil.copy(REPO / navigation.INSTRUCTORS, tmp_path / navigation.INSTRUCTORS)
    return tmp_path


RELEASE = navigation.load_contents()["release"]  # the table's, whatever a fork has set
RELEASE_LINE = f'release = "{RELEASE}"\n'


def with_keys(checkout: Path, keys: str) -> None:
    table = checkout / CONTENTS
    text = table.read_text()
    assert RELEASE_LINE in text
    table.write_text(text.replace(RELEASE_LINE, RELEASE_LINE + keys))


def hub_links(text: str) -> list[str]:
    block = text.split("<!-- hub-links:start", 1)[1].split("<!-- hub-links:end -->", 1)[0]
    return [line.split("](", 1)[1].rstrip(") |") for line in block.splitlines() if "](" in line]


def test_without_a_hub_both_pages_say_how_to_get_the_links():
    for path in (REPO / "README.md", REPO / navigation.INSTRUCTORS):
        text = path.read_text(encoding="utf-8")
        assert hub_links(text) == []
        assert "No class hub is set" in text.split("<!-- hub-links:start", 1)[1]


def test_a_hub_gets_an_nbgitpuller_link_per_notebook_on_both_pages(checkout):
    with_keys(checkout, HUB)
    changed = {p.relative_to(checkout).as_posix() for p in navigation.write_navigation(checkout)}
    assert changed == {"README.md", navigation.INSTRUCTORS}  # the notebooks are untouched
    contents = navigation.load_contents(checkout)
    name = contents["repository"].split("/")[1]
    for page in ("README.md", navigation.INSTRUCTORS):
        links = hub_links((checkout / page).read_text(encoding="utf-8"))
        assert len(links) == len(contents["notebooks"])
        for link, entry in zip(links, contents["notebooks"], strict=True):
            url = urlsplit(link)
            assert f"{url.scheme}://{url.netloc}" == "https://hub.example.edu"
            assert url.path == "/hub/user-redirect/git-pull"  # nbgitpuller, for whoever logs in
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            assert query == {
                "repo": f"https://github.com/{contents['repository']}",
                "branch": "class",
                "urlpath": f"lab/tree/{name}/notebooks/{entry['file']}",
            }
            assert (checkout / "notebooks" / entry["file"]).exists()
    assert navigation.write_navigation(checkout) == []  # a second run changes nothing


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        ('hub = "https://hub.example.edu"\n', f"hub needs hub_branch.*release = {RELEASE!r}"),
        ('hub = "hub.example.edu"\nhub_branch = "class"\n', "hub must be the hub's address"),
        ('hub = "https://hub.example.edu/"\nhub_branch = "c"\n', "no trailing slash"),
        ('hub = "https://hub.example.edu"\nhub_branch = "a b"\n', "got 'a b'"),
    ],
)
def test_a_hub_without_a_branch_or_with_a_bad_address_is_refused_by_name(checkout, keys, message):
    with_keys(checkout, keys)
    with pytest.raises(ToolError, match=message) as error:
        navigation.load_contents(checkout)
    assert "contents.toml" in str(error.value)


def test_a_page_without_the_markers_is_named(checkout):
    with_keys(checkout, HUB)
    page = checkout / navigation.INSTRUCTORS
    page.write_text(page.read_text().replace("<!-- hub-links:end -->", ""))
    with pytest.raises(ValueError, match="site/instructors.md lacks the markers <!-- hub-links"):
        navigation.planned_changes(checkout)


@pytest.mark.parametrize("release", ["v7.1", "1", "test"])
def test_a_forks_release_and_name_reach_the_instructors_pages_worked_example(checkout, release):
    """The page's steps set, tag and push the release and name the zip: after `make nav` in a
    fork with another repository and release, every one of them is the fork's, and nothing else
    on the page changed, even for a release that is also a number or a word on it; going back
    to the old release gives the old page."""
    table = checkout / CONTENTS
    text = table.read_text()
    assert RELEASE_LINE in text
    old_name = f'repository = "{navigation.load_contents()["repository"]}"'
    table.write_text(
        text.replace(RELEASE_LINE, f'release = "{release}"\n').replace(
            old_name, 'repository = "you/our-class"'
        )
    )
    page_path = checkout / navigation.INSTRUCTORS
    before = page_path.read_text(encoding="utf-8")
    navigation.write_navigation(checkout)
    page = page_path.read_text(encoding="utf-8")
    for wanted in (f'`release = "{release}"`', f"git tag {release}\n",
                   f"git push origin main {release}\n", f"`our-class-{release}.zip`",
                   f"git branch -f class {release} &&"):  # fmt: skip
        assert wanted in page
    changed = [
        (a, b)
        for a, b in zip(before.splitlines(), page.splitlines(), strict=True)
        if a != b and not re.search(r"\bgit |release = |\.zip", a)
    ]
    assert changed == []
    assert navigation.write_navigation(checkout) == []  # a second run changes nothing
    table.write_text(text)
    navigation.write_navigation(checkout)
    assert page_path.read_text(encoding="utf-8") == before


def test_a_page_without_its_release_step_is_named(checkout):
    page = checkout / navigation.INSTRUCTORS
    page.write_text(page.read_text().replace("`release = ", "`release: "))
    with pytest.raises(ValueError, match='site/instructors.md lacks its step `release = "..."`'):
        navigation.planned_changes(checkout)
