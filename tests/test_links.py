"""The navigation links (previous, contents, next), followed where a notebook is opened.

* GitHub shows a notebook at https://github.com/<repository>/blob/<release>/<path> and
  resolves its relative links against that address: any file of the repository opens.
* Colab opens a notebook from GitHub at https://colab.research.google.com/github/<repository>/
  blob/<release>/<path>, and a relative link resolves against that address too; what it
  opens there must be a notebook, as Colab shows nothing else (a link to README.md is a
  dead end on Colab: that is why the contents are a notebook, contents.ipynb).
* JupyterLab (a clone, the unzipped archive, Binder) serves the repository's folder and opens
  a relative link as the file it names, relative to the notebook's folder: a notebook opens
  as a notebook. Followed in a real JupyterLab too, when Chromium is there (marker browser).
* The static site leaves the notebooks' own navigation cells out and has its own: previous
  and next at the foot of each page, and the home page's lecture map as the contents.
"""

from __future__ import annotations

import os
import posixpath
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest
from bs4 import BeautifulSoup
from chromium import browser_missing, launch, skip_unless_required

from tools import navigation, nbio

REPO = nbio.REPO
CONTENTS = navigation.load_contents()
FILES = [f"notebooks/{entry['file']}" for entry in CONTENTS["notebooks"]]
BLOB = f"{CONTENTS['repository']}/blob/{CONTENTS['release']}/"
GITHUB = f"https://github.com/{BLOB}"
COLAB = f"https://colab.research.google.com/github/{BLOB}"
LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


def exists(path: str) -> bool:
    return (REPO / path).is_file()


def on_github(page: str, href: str) -> str:
    """The repository file GitHub opens for a link in `page`, or why it opens none."""
    url = urljoin(GITHUB + page, href)
    if not url.startswith(GITHUB):
        return f"leaves the release on GitHub: {url}"
    path = unquote(urlparse(url).path).removeprefix(urlparse(GITHUB).path)
    return path if exists(path) else f"no file {path} in the repository"


def on_colab(page: str, href: str) -> str:
    """The notebook Colab opens for a link in `page`, or why it opens none."""
    url = urljoin(COLAB + page, href)
    if not url.startswith(COLAB):
        return f"leaves the release on Colab: {url}"
    path = unquote(urlparse(url).path).removeprefix(urlparse(COLAB).path)
    if not path.endswith(".ipynb"):
        return f"{path} is not a notebook: Colab cannot show it"
    return path if exists(path) else f"no notebook {path} in the repository"


def in_jupyterlab(page: str, href: str) -> str:
    """The file JupyterLab, serving the repository's folder, opens for a link in `page`."""
    if urlparse(href).scheme or href.startswith("/"):
        return f"not a relative link: {href}"
    path = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(href)))
    if path.startswith("../"):
        return f"{href} leaves the folder JupyterLab serves"
    if "#" in href and not path.endswith(".ipynb"):
        return f"{href}: JupyterLab opens {path} as text, without the anchor"
    return path if exists(path.split("#")[0]) else f"no file {path}"


FORMS = {"GitHub": on_github, "Colab": on_colab, "JupyterLab": in_jupyterlab}


def footer_links(path: str) -> dict[str, str]:
    """previous / contents / next -> href, from the notebook's footer cell."""
    lines = nbio.read(REPO / path).cells[-1].source.splitlines()
    navigation_line = lines[lines.index("---") + 1]  # then, after a blank line, the licence
    found = {}
    for text, href in LINK.findall(navigation_line):
        kind = "previous" if text.startswith("←") else "next" if "→" in text else text.lower()
        found[kind] = href
    return found


def expected_neighbours(index: int) -> dict[str, str]:
    wanted = {"contents": navigation.CONTENTS_NOTEBOOK}
    if index > 0:
        wanted["previous"] = FILES[index - 1]
    if index + 1 < len(FILES):
        wanted["next"] = FILES[index + 1]
    return wanted


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("index", range(len(FILES)), ids=[Path(f).stem for f in FILES])
def test_footer_leads_to_previous_contents_and_next(form, index):
    links = footer_links(FILES[index])
    assert set(links) == set(expected_neighbours(index)), links
    for kind, target in expected_neighbours(index).items():
        assert FORMS[form](FILES[index], links[kind]) == target, (FILES[index], kind)


@pytest.mark.parametrize("form", FORMS)
def test_the_contents_notebook_leads_to_every_notebook_in_order(form):
    cells = nbio.read(REPO / navigation.CONTENTS_NOTEBOOK).cells
    assert [c.cell_type for c in cells] == ["markdown"]
    relative = [href for _, href in LINK.findall(cells[0].source) if "://" not in href]
    followed = [FORMS[form](navigation.CONTENTS_NOTEBOOK, href) for href in relative]
    assert followed == FILES


def test_the_contents_notebook_launches_each_notebook_online():
    source = nbio.read(REPO / navigation.CONTENTS_NOTEBOOK).cells[0].source
    online = [href for _, href in LINK.findall(source) if "://" in href]
    files = [entry["file"] for entry in CONTENTS["notebooks"]]
    wanted = [
        u
        for f in files
        for u in (navigation.binder_url(CONTENTS, f), navigation.colab_url(CONTENTS, f))
    ]
    assert online == wanted


def test_a_link_to_the_readme_works_on_github_but_not_on_colab():
    """What the footers had before: the forms tell it apart."""
    page, href = FILES[2], "../README.md#lecture-map"
    assert on_github(page, href) == "README.md"
    assert "not a notebook" in on_colab(page, href)
    assert "without the anchor" in in_jupyterlab(page, href)


def test_the_readme_lecture_map_opens_every_notebook_on_github():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- lecture-map:start")[1].split("<!-- lecture-map:end")[0]
    relative = [href for _, href in LINK.findall(block) if "://" not in href]
    assert [on_github("README.md", href) for href in relative] == FILES


# --- the static site ----------------------------------------------------------------------


def site_page(file: str) -> str:
    return file.removesuffix(".ipynb") + ".html"


def followed(site: Path, page: str, selector: str) -> str | None:
    """The page (relative to the site) that the first link matching `selector` leads to."""
    soup = BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")
    link = soup.select_one(selector)
    if link is None:
        return None
    target = urljoin(f"http://site/{page}", link["href"])
    return unquote(urlparse(target).path).lstrip("/")


@pytest.mark.parametrize("index", range(len(FILES)), ids=[Path(f).stem for f in FILES])
def test_site_pages_lead_to_previous_next_and_the_contents(built_site, index):
    page = site_page(FILES[index])
    previous = site_page(FILES[index - 1]) if index > 0 else "site/index.html"
    assert followed(built_site, page, ".prev-next-area a.left-prev") == previous
    if index + 1 < len(FILES):
        assert followed(built_site, page, ".prev-next-area a.right-next") == site_page(
            FILES[index + 1]
        )
    assert followed(built_site, page, "a.navbar-brand") == "site/index.html"


def test_the_site_home_page_is_the_lecture_map(built_site):
    soup = BeautifulSoup((built_site / "site/index.html").read_text(), "html.parser")
    rows = soup.select("article table tbody tr td:first-child a")
    pages = [urlparse(urljoin("http://site/site/index.html", a["href"])).path for a in rows]
    assert [unquote(p).lstrip("/") for p in pages] == [site_page(f) for f in FILES]


# --- in a real JupyterLab -----------------------------------------------------------------

CURRENT_TAB = "#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel"


@pytest.fixture(scope="module")
def lab_on_a_copy(tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving a copy of the repository's notebooks and contents, as
    `make lab` serves the repository's folder; yields (base URL, token)."""
    skip_unless_required(browser_missing())
    root = tmp_path_factory.mktemp("lab")
    shutil.copytree(nbio.NOTEBOOKS, root / "notebooks")
    shutil.copy(REPO / navigation.CONTENTS_NOTEBOOK, root)
    token = secrets.token_hex(16)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = root.parent / f"{root.name}-settings"
    plugin = settings / "@jupyterlab" / "notebook-extension"
    plugin.mkdir(parents=True)  # every cell in the page, the footers included
    (plugin / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(settings / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(settings / "runtime")}  # fmt: skip
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}"]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start")
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=20)


@pytest.mark.browser
def test_jupyterlab_follows_next_contents_a_notebook_and_previous(lab_on_a_copy):
    from playwright.sync_api import sync_playwright

    url, token = lab_on_a_copy
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(f"{url}/lab/tree/{FILES[2]}?reset&token={token}")

            def click_then_expect(link_text: str, opens: str) -> None:
                panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
                panel.locator(".jp-RenderedMarkdown a", has_text=link_text).first.click()
                page.wait_for_function(
                    f"document.querySelector({CURRENT_TAB!r})?.innerText === {opens!r}",
                    timeout=30_000,
                )

            page.wait_for_selector(".jp-RenderedMarkdown a:has-text('Next:')", timeout=60_000)
            click_then_expect("Next:", Path(FILES[3]).name)
            click_then_expect("Contents", navigation.CONTENTS_NOTEBOOK)
            click_then_expect(navigation.label(CONTENTS["notebooks"][5]), Path(FILES[5]).name)
            click_then_expect("←", Path(FILES[4]).name)
        finally:
            browser.close()
