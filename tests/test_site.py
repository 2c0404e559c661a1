"""The static site: built from the notebooks' stored outputs, and read in a real browser.

The site is built once per run into _build/site/ (as `make site` does, warnings as errors).
Without a browser: every page shows exactly the outputs stored in its notebook (a changed
output in a notebook shows on the page, and a page that no longer matches its notebook is
caught), the navigation cells are gone, and the launch buttons point at the repository in
notebooks/contents.toml.

With Debian's Chromium (marker `browser`): the site is served on 127.0.0.1 and every page is
opened at desktop (1280 px) and phone (375 px) width. The lecture's lines are where they
belong, every figure loads and has alt text, every internal link resolves, no request leaves
127.0.0.1, nothing scrolls sideways on the phone, and the offline search finds 61706. At
desktop width every figure is shown at least as wide as tools/figure_rules.py assumes.
Screenshots go to a temporary folder (printed; BROWSER_SCREENSHOTS chooses it). Without
Chromium these tests are skipped with a message, unless REQUIRE_BROWSER=1 (set by .ci/run).

Accessibility: axe-core (pinned in package.json, installed into node_modules/ by `npm ci`,
which the Makefile runs; loaded into each page from this disk) checks every page at both
widths, in the light and in the dark theme, against WCAG 2.0, 2.1 and 2.2 A/AA and axe's best
practices. Any violation fails the test, with its page, rule and elements, unless it is in
ACCEPTED_VIOLATIONS with the reason it stays; serious and critical ones can never be accepted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import http.server
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import nbformat
import pytest
import torch
from bs4 import BeautifulSoup
from chromium import browser_missing, launch, skip_unless_required

from lenet_helpers import LeNet
from tools import figure_rules, navigation, nbio
from tools import site as site_tool

REPO = nbio.REPO
SITE = site_tool.SITE
CONTENTS = navigation.load_contents()
NOTEBOOKS = [entry["file"] for entry in CONTENTS["notebooks"]]
PAGES = ["site/index.html", "site/glossary.html", "site/instructors.html"] + [
    f"notebooks/{Path(f).stem}.html" for f in NOTEBOOKS
]


# --- the build, and what the pages show --------------------------------------------------


def page_soup(site: Path, page: str) -> BeautifulSoup:
    return BeautifulSoup((site / page).read_text(encoding="utf-8"), "html.parser")


def shown_outputs(site: Path, page: str) -> list[list[str]]:
    """For each code cell on the page, its outputs: texts as shown, figures by content hash."""
    cells = []
    for cell in page_soup(site, page).select("div.cell"):
        outputs = []
        for block in cell.select(".cell_output pre, .cell_output img"):
            if block.name == "img":
                data = (site / page).parent.joinpath(unquote(block["src"])).read_bytes()
                outputs.append("figure " + hashlib.sha256(data).hexdigest())
            else:
                outputs.append(block.get_text().strip("\n"))
        cells.append(outputs)
    return cells


def stored_outputs(nb: nbformat.NotebookNode) -> list[list[str]]:
    """The same, from the notebook's stored outputs, for the cells the site shows."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type != "code" or navigation.NAV_TAG in cell.metadata.get("tags", []):
            continue
        outputs = []
        for output in cell.outputs:
            data = output.get("data", {})
            if output.output_type == "stream":
                outputs.append(output.text.strip("\n"))
            elif "image/png" in data:
                png = base64.b64decode(data["image/png"])
                outputs.append("figure " + hashlib.sha256(png).hexdigest())
            elif "text/html" in data:  # the page shows the HTML; compare its preformatted text
                html = BeautifulSoup(data["text/html"], "html.parser")
                outputs += [pre.get_text().strip("\n") for pre in html.select("pre")]
            elif "text/markdown" in data:  # the page renders it: compare its code blocks
                blocks = re.findall(r"```\w*\n(.*?)\n```", data["text/markdown"], re.S)
                outputs += [block.strip("\n") for block in blocks]
            elif "text/plain" in data:
                outputs.append(data["text/plain"].strip("\n"))
        cells.append(outputs)
    return cells


def mismatches(notebook: Path, site: Path) -> list[str]:
    """Where the notebook's page does not show exactly the notebook's stored outputs."""
    page = f"notebooks/{notebook.stem}.html"
    stored, shown = stored_outputs(nbio.read(notebook)), shown_outputs(site, page)
    if len(stored) != len(shown):
        return [f"{page}: {len(shown)} code cells shown, the notebook has {len(stored)}"]
    return [
        f"{page}, code cell {i}: shows {s!r}, the notebook stores {n!r}"
        for i, (n, s) in enumerate(zip(stored, shown, strict=True))
        if n != s
    ]


def test_site_builds_with_warnings_as_errors(built_site):
    for page in PAGES:
        assert (built_site / page).exists(), page
    assert "-W" in site_tool.command()


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_each_page_shows_exactly_the_notebooks_stored_outputs(built_site, notebook):
    assert mismatches(nbio.NOTEBOOKS / notebook, built_site) == []


def test_a_page_that_no_longer_matches_its_notebook_is_caught(built_site, tmp_path):
    nb = nbio.read(nbio.NOTEBOOKS / "04_trainable_parameters.ipynb")
    changed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if "Total number of parameters: 61706" in output.get("text", ""):
                output.text = output.text.replace("61706", "61707")
                changed += 1
    assert changed == 1
    nbformat.write(nb, tmp_path / "04_trainable_parameters.ipynb")
    found = mismatches(tmp_path / "04_trainable_parameters.ipynb", built_site)
    assert len(found) == 1 and "61707" in found[0]


def repository_copy(tmp_path: Path) -> Path:
    """The parts of the repository the site is built from, copied to tmp_path."""
    for folder in ("notebooks", "site", "tools"):
        shutil.copytree(
            REPO / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def test_a_changed_stored_output_and_release_show_on_the_rebuilt_site(tmp_path):
    root = repository_copy(tmp_path / "repo")
    path = root / "notebooks" / "04_trainable_parameters.ipynb"
    path.write_text(path.read_text().replace("parameters: 61706", "parameters: 99999"))
    table = root / "notebooks" / "contents.toml"
    text, found = re.subn(r'^release = ".*"$', 'release = "v9"', table.read_text(), flags=re.M)
    assert found == 1
    table.write_text(text)
    result = site_tool.build(root, tmp_path / "site")
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "notebooks" / "04_trainable_parameters.html").read_text()
    assert "parameters: 99999" in page and "parameters: 61706" not in page
    assert mismatches(path, tmp_path / "site") == []
    assert mismatches(nbio.NOTEBOOKS / path.name, tmp_path / "site") != []
    assert f"/v2/gh/{CONTENTS['repository']}/v9?urlpath=" in page
    assert f"/{CONTENTS['repository']}/blob/v9/LICENSE" in page  # the footer's MIT link


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_navigation_cells_are_left_out_but_the_title_and_time_span_stay(built_site, notebook):
    entry = CONTENTS["notebooks"][NOTEBOOKS.index(notebook)]
    soup = page_soup(built_site, f"notebooks/{Path(notebook).stem}.html")
    article = soup.select_one("article")
    assert article.select_one("h1").get_text().rstrip("#") == navigation.label(entry)
    text = article.get_text()
    assert f"Video time: {entry['lecture']}." in text
    assert "google.colab" not in text and "nav:" not in str(article)
    assert not article.select("img[src*='badge']")


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_launch_buttons_open_this_notebook_from_the_one_repository_address(built_site, notebook):
    soup = page_soup(built_site, f"notebooks/{Path(notebook).stem}.html")
    links = {
        a["href"] for a in soup.select(".dropdown-launch-buttons a, .dropdown-download-buttons a")
    }
    assert navigation.binder_url(CONTENTS, notebook) in links
    assert navigation.colab_url(CONTENTS, notebook) in links
    download = next(h for h in links if h.endswith(".ipynb") and not h.startswith("http"))
    served = (built_site / "notebooks" / download).resolve()
    assert served.read_bytes() == (nbio.NOTEBOOKS / notebook).read_bytes()


def test_every_page_footer_names_and_links_both_licences(built_site):
    mit = f"https://github.com/{CONTENTS['repository']}/blob/{CONTENTS['release']}/LICENSE"
    for page in PAGES:
        footer = page_soup(built_site, page).select_one("footer.bd-footer-content")
        assert footer is not None, f"{page} has no footer"
        links = {a.get_text(strip=True): a["href"] for a in footer.select("a")}
        assert links.get("CC BY-NC-SA 4.0") == navigation.CC_BY_NC_SA, (page, links)
        assert links.get("MIT") == mit, (page, links)


def test_home_page_lists_every_notebook_with_its_time_span_in_order(built_site):
    rows = page_soup(built_site, "site/index.html").select("article table tbody tr")
    shown = [[td.get_text(" ", strip=True) for td in row.select("td")] for row in rows]
    assert shown == [[navigation.label(e), e["lecture"]] for e in CONTENTS["notebooks"]]


# --- in a real browser --------------------------------------------------------------------

DESKTOP, PHONE = 1280, 375
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# Moderate or minor axe violations that stay, as {rule id: "the reason, and the upstream issue"}.
# None today: every one axe found has been fixed (see site/_templates, site/_static, companion.py).
ACCEPTED_VIOLATIONS: dict[str, str] = {}
# The reader's pages: the home and instructors pages, every notebook, and search with results.
AXE_PAGES = PAGES + ["search.html?q=61706"]


def size_lines(batch: int) -> list[str]:
    """The feed-forward lines of the lecture (slides at 19:09 and 21:53), from PyTorch itself."""
    net, x = LeNet(), torch.zeros(batch, 1, 32, 32)
    lines = []
    with torch.no_grad():
        for name in ("conv1", "pool1", "conv2", "pool2"):
            x = getattr(net, name)(x)
            lines.append(f"Size of output of {name}: {x.size()}")
        x = x.view(batch, -1)
        lines.append(f"Size of flattened response: {x.size()}")
        for name in ("fc1", "fc2", "fc3"):
            x = getattr(net, name)(x)
            lines.append(f"Size of output of {name}: {x.size()}")
    return lines


def lecture_lines() -> dict[str, list[tuple[str, list[str]]]]:
    """Per page: (the section's heading, the lines one output in that section must show)."""
    parameters = sum(p.numel() for p in LeNet().parameters())
    return {
        "notebooks/02_architecture.html": [("The printout", str(LeNet()).splitlines())],
        "notebooks/03_feed_forward.html": [
            ("One image through the network", size_lines(1)),
            ("Ten images at once", size_lines(10)),
        ],
        "notebooks/04_trainable_parameters.html": [
            ("The lecture's count", [f"Total number of parameters: {parameters}"])
        ],
    }


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def served(built_site) -> Iterator[str]:
    """The base URL of _build/site/ served on 127.0.0.1."""
    handler = functools.partial(QuietHandler, directory=str(built_site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser(served):
    skip_unless_required(browser_missing())
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def screenshots() -> Path:
    folder = Path(
        os.environ.get("BROWSER_SCREENSHOTS") or tempfile.mkdtemp(prefix="lenet-screenshots-")
    )
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder}")
    return folder


def offline_page(browser, served: str, width: int):
    """A page in which every request to a host other than the site's fails and is recorded."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.foreign = []
    site_host = urlparse(served).netloc

    def route(route):
        if urlparse(route.request.url).netloc == site_host:
            route.continue_()
        else:
            page.foreign.append(route.request.url)
            route.abort()

    page.route("**/*", route)
    return page


def internal_links_resolve(site: Path, page: str, hrefs: list[str]) -> list[str]:
    """Links on `page` to the site itself whose file, or anchor in it, does not exist."""
    broken = []
    base = f"http://site/{page}"
    for href in hrefs:
        url = urlparse(urljoin(base, href))
        if url.scheme != "http" or url.netloc != "site":
            continue
        target = site / unquote(url.path.lstrip("/"))
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file():
            broken.append(f"{href}: no file {target.relative_to(site)}")
        elif url.fragment and target.suffix == ".html":
            ids = {
                tag["id"] for tag in page_soup(site, str(target.relative_to(site))).select("[id]")
            }
            if url.fragment not in ids:
                broken.append(f"{href}: no anchor #{url.fragment} in {target.name}")
    return broken


@pytest.mark.browser
@pytest.mark.parametrize("page_path", PAGES)
def test_page_reads_well_offline_on_desktop_and_phone(
    browser, served, built_site, screenshots, page_path
):
    expected = lecture_lines().get(page_path, [])
    name = page_path.replace("/", "_").removesuffix(".html")
    for width in (DESKTOP, PHONE):
        page = offline_page(browser, served, width)
        try:
            page.goto(served + page_path, wait_until="load")
            article = page.locator("article.bd-article")
            assert article.locator("h1").count() == 1
            for heading, lines in expected:
                section = article.locator("section", has=page.locator(f"h2:has-text({heading!r})"))
                outputs = section.locator(".cell_output").all_inner_texts()
                assert any(all(line in out for line in lines) for out in outputs), (
                    f"{page_path}: the lines of '{heading}' are not in one of its outputs"
                )
            images = page.locator("img")
            for i in range(images.count()):
                image = images.nth(i)
                src = image.get_attribute("src")
                assert image.evaluate("i => i.complete && i.naturalWidth > 0"), f"{src} not loaded"
                alt = (image.get_attribute("alt") or "").strip()
                # without alt text of its own, an image gets its file's address as alt
                assert alt and Path(alt).name != Path(src).name, f"{src} has no alt text"
            if width == DESKTOP:  # the figure rules assume figures are shown this large
                for natural, shown in page.eval_on_selector_all(
                    ".cell_output img",
                    "is => is.map(i => [i.naturalWidth, i.getBoundingClientRect().width])",
                ):
                    assert shown >= min(natural, figure_rules.SHOWN_WIDTH) - 0.5, (
                        f"{page_path}: a figure {natural} px wide is shown {shown:.0f} px wide, "
                        f"narrower than tools/figure_rules.py assumes"
                    )
            hrefs = page.eval_on_selector_all(
                "a[href]", "as => as.map(a => a.getAttribute('href'))"
            )
            assert internal_links_resolve(built_site, page_path, hrefs) == []
            if width == PHONE:
                scroll = page.evaluate("document.documentElement.scrollWidth")
                assert scroll <= PHONE, f"{page_path} is {scroll} px wide on a {PHONE} px phone"
            page.screenshot(path=str(screenshots / f"site_{name}_{width}.png"), full_page=True)
            assert page.foreign == [], f"{page_path} requested {page.foreign}"
        finally:
            page.context.close()


@pytest.fixture(scope="module")
def axe_script() -> Path:
    """axe-core's script, as `npm ci` installed it from package-lock.json."""
    if not AXE.is_file():
        skip_unless_required(
            "axe-core is not installed: run `npm ci` in the repository (make does it)"
        )
    return AXE


# Waits until the theme's colour transitions have ended (the dark theme fades in after load,
# and a check in between would measure colours no reader is left with; 5 s at most), then
# runs axe.
RUN_AXE = """async tags => {
    await new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)));
    const finite = document.getAnimations().filter(
        a => a.effect && a.effect.getComputedTiming().endTime !== Infinity);
    const ended = Promise.all(finite.map(a => a.finished.catch(() => null)));
    await Promise.race([ended, new Promise(done => setTimeout(done, 5000))]);
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return {version: axe.version, violations: result.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.map(n => n.target.join(" "))}))};
}"""


def axe_violations(page, axe_script: Path) -> list[dict]:
    """What axe finds on the loaded page, after checking that it is the pinned axe."""
    page.add_script_tag(path=str(axe_script))  # inlined into the page: no request is made
    result = page.evaluate(RUN_AXE, AXE_TAGS)
    pinned = json.loads(axe_script.parent.joinpath("package.json").read_text())["version"]
    assert result["version"] == pinned
    return result["violations"]


def unaccepted(violations: list[dict], where: str) -> list[str]:
    """One line per violation that fails the test: serious and critical ones always."""
    return [
        f"{where}: {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'][:5])}"
        for v in violations
        if v["impact"] in ("serious", "critical") or v["id"] not in ACCEPTED_VIOLATIONS
    ]


def test_axe_core_is_pinned_and_make_installs_it_from_the_lock():
    package = json.loads((REPO / "package.json").read_text())
    lock = json.loads((REPO / "package-lock.json").read_text())
    version = package["devDependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "pin one exact version"
    locked = lock["packages"]["node_modules/axe-core"]
    assert locked["version"] == version and locked["integrity"].startswith("sha512-")
    if shutil.which("make"):  # the test target runs `npm ci` when the lock is newer
        plan = subprocess.run(
            ["make", "-n", "-W", "package-lock.json", "unit"],
            cwd=REPO,
            capture_output=True,
            text=True,
        )
        assert "npm ci" in plan.stdout, plan.stdout + plan.stderr


def test_accepted_violations_say_why_they_stay():
    for rule, reason in ACCEPTED_VIOLATIONS.items():
        assert re.fullmatch(r"[a-z0-9-]+", rule), rule
        assert "github.com/" in reason, f"{rule}: name the upstream issue"


@pytest.mark.browser
@pytest.mark.parametrize("page_path", AXE_PAGES)
def test_axe_finds_no_violation_in_either_theme_at_either_width(
    browser, served, axe_script, page_path
):
    found = []
    for theme in ("light", "dark"):
        for width in (DESKTOP, PHONE):
            context = browser.new_context(
                viewport={"width": width, "height": 900}, color_scheme=theme
            )
            try:
                page = context.new_page()
                page.goto(served + page_path, wait_until="load")
                if page_path.startswith("search.html"):  # results come after the load
                    page.locator("#search-results p.search-summary").wait_for(timeout=30_000)
                # The theme follows the reader's system setting until its toggle is used.
                assert page.locator(".theme-switch-button").count() > 0, "no theme toggle"
                assert page.evaluate("document.documentElement.dataset.theme") == theme
                found += unaccepted(axe_violations(page, axe_script), f"{theme}, {width} px")
            finally:
                context.close()
    assert found == [], f"axe on {page_path}:\n" + "\n".join(found)


@pytest.mark.browser
def test_the_site_root_leads_to_the_home_page(browser, served):
    page = offline_page(browser, served, DESKTOP)
    try:
        page.goto(served, wait_until="load")
        page.wait_for_url("**/site/index.html")
        assert page.locator("article h1").inner_text().startswith("LeNet, Lecture 28")
        assert page.foreign == []
    finally:
        page.context.close()


@pytest.mark.browser
def test_offline_search_for_the_parameter_count_finds_the_parameters_page(
    browser, served, screenshots
):
    page = offline_page(browser, served, DESKTOP)
    try:
        page.goto(served + "search.html?q=61706", wait_until="load")
        page.locator("#search-results p.search-summary").wait_for(timeout=30_000)
        results = page.locator("#search-results ul.search li a")
        hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
        assert any("notebooks/04_trainable_parameters.html" in h for h in hrefs), hrefs
        page.screenshot(path=str(screenshots / "site_search_61706.png"))
        assert page.foreign == []
    finally:
        page.context.close()
