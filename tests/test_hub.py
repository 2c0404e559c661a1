"""A class's JupyterHub, for real: an nbgitpuller link opens a notebook, and a second pull keeps
the student's edit.

Starts JupyterHub from this environment on 127.0.0.1 (its proxy, configurable-http-proxy,
from node_modules: `make node_modules/.installed`), with JupyterHub's test authenticator and each
user's server as a local process, and serves a clone of this repository with `git daemon`
on 127.0.0.1 (no GitHub). In Chromium, a student logs in through the link `make nav` writes
(tools/navigation.py, ``hub_url``), sees the notebook open in JupyterLab from a clone in
their home folder, and edits and saves it. Then the repository changes upstream, the student
clicks the same link again, and nbgitpuller's promise is checked: the upstream change has
arrived and the student's edit is kept.

Skipped without Chromium, Playwright, git or the proxy, unless REQUIRE_BROWSER=1 (set by
.ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from chromium import PANEL, browser_missing, launch, skip_unless_required

from tools import navigation, nbio

pytestmark = pytest.mark.browser


PROXY = nbio.REPO / "node_modules" / ".bin" / "configurable-http-proxy"
CONTENTS = navigation.load_contents()
NAME = CONTENTS["repository"].split("/")[1]  # the folder nbgitpuller clones into
OPENED, CHANGED = (e["file"] for e in CONTENTS["notebooks"][:2])  # student's, upstream's
BRANCH = "class"  # the hub_branch of this test's class
STUDENT = "student"
UPSTREAM_NOTE = "A note the instructor added after the class had started."
STUDENT_NOTE = "# my own note, written on the hub"


def missing() -> str | None:
    if reason := browser_missing():
        return reason
    if not PROXY.exists():
        return "JupyterHub's proxy is not installed (npm ci, which make unit and make hub run)"
    if shutil.which("git") is None:
        return "git is not installed"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=Instructor", "-c", "user.email=instructor@example.org", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
    )


def wait_for(url: str, process: subprocess.Popen, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not answer:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    """Stop a process and whatever it started (the hub's proxy and user servers included)."""
    import psutil

    try:
        started = psutil.Process(process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        started = []
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    for child in started:
        try:
            child.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(started, timeout=10)
    for child in alive:
        child.kill()


@dataclass
class Served:
    url: str  # what the hub link names
    upstream: Path  # a working clone that pushes to it


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> Path:
    skip_unless_required(missing())
    return tmp_path_factory.mktemp("hub")


@pytest.fixture(scope="module")
def served(tmp: Path) -> Iterator[Served]:
    """This repository's last commit as branch BRANCH, served by git daemon on 127.0.0.1."""
    base = tmp / "srv"
    bare = base / f"{NAME}.git"
    base.mkdir()
    git(
        "clone",
        "--quiet",
        "--bare",
        "--no-local",
        "--depth=1",
        nbio.REPO.as_uri(),
        str(bare),
        cwd=tmp,
    )
    git("branch", "--force", BRANCH, "HEAD", cwd=bare)
    upstream = tmp / "upstream"
    git("clone", "--quiet", "--branch", BRANCH, str(bare), str(upstream), cwd=tmp)
    port = free_port()
    log = tmp / "git-daemon.log"
    with log.open("w") as out:
        daemon = subprocess.Popen(
            ["git", "daemon", "--reuseaddr", "--export-all", "--listen=127.0.0.1",
             f"--port={port}", f"--base-path={base}", str(base)],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        url = f"git://127.0.0.1:{port}/{NAME}"
        deadline = time.monotonic() + 30
        while subprocess.run(["git", "ls-remote", url], capture_output=True).returncode:
            if daemon.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"git daemon did not serve {url}:\n{log.read_text()}")
            time.sleep(0.3)
        yield Served(url, upstream)
    finally:
        stop(daemon)


@pytest.fixture(scope="module")
def hub(tmp: Path) -> Iterator[str]:
    """The base URL of a JupyterHub on 127.0.0.1: test authenticator, local user servers."""
    port, hub_port, api_port = free_port(), free_port(), free_port()
    singleuser = Path(sys.executable).parent / "jupyterhub-singleuser"
    args = ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    quiet = {  # no news or update checks (the machine is offline), and every cell in the page
        "apputils-extension/notification": '{"fetchNews": "false", "checkForUpdates": false}',
        "notebook-extension/tracker": '{"windowingMode": "none"}',
    }
    for plugin, values in quiet.items():
        folder, name = plugin.split("/")
        (tmp / "lab-settings" / "@jupyterlab" / folder).mkdir(parents=True, exist_ok=True)
        (tmp / "lab-settings" / "@jupyterlab" / folder / f"{name}.jupyterlab-settings").write_text(
            values
        )
    config = f"""
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{api_port}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(tmp / "proxy.pid")!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allowed_users = {{{STUDENT!r}}}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(tmp / "home" / "{username}")!r}
c.Spawner.cmd = [{str(singleuser)!r}]
c.Spawner.args = {args!r}
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# On shutdown, the user's server gets a few seconds per signal, not 10 s for SIGINT alone.
c.LocalProcessSpawner.interrupt_timeout = 3
c.LocalProcessSpawner.term_timeout = 3
c.LocalProcessSpawner.kill_timeout = 3
c.Spawner.environment = {{"JUPYTERLAB_SETTINGS_DIR": {str(tmp / "lab-settings")!r}}}
c.JupyterHub.db_url = "sqlite:///{tmp / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(tmp / "cookie_secret")!r}
c.JupyterHub.pid_file = {str(tmp / "jupyterhub.pid")!r}
c.JupyterHub.cleanup_servers = True
"""
    (tmp / "jupyterhub_config.py").write_text(config)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    log = tmp / "jupyterhub.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "jupyterhub", "-f", str(tmp / "jupyterhub_config.py")],
            cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{url}/hub/api", process, log)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


def open_link(page, link: str, tmp: Path) -> None:
    """Follow the link (logging in when asked) until the notebook is on show in JupyterLab."""
    page.goto(link, wait_until="domcontentloaded")
    if page.locator("#username_input").count():
        page.fill("#username_input", STUDENT)
        page.fill("#password_input", "any password: the test authenticator takes it")
        page.click("#login_submit")
    try:
        page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=180_000)
    except Exception:
        log = (tmp / "jupyterhub.log").read_text()[-3000:]
        pytest.fail(f"the notebook did not open from {link}\nat {page.url}\nhub log:\n{log}")


def test_the_hub_link_opens_the_notebook_and_a_second_pull_keeps_the_students_edit(
    hub, served, browser, tmp
):
    contents = {**CONTENTS, "hub": hub, "hub_branch": BRANCH}
    link = navigation.hub_url(contents, OPENED, repo_url=served.url)
    clone = tmp / "home" / STUDENT / NAME
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    try:
        open_link(page, link, tmp)
        assert f"/user/{STUDENT}/lab/tree/{NAME}/notebooks/{OPENED}" in page.url
        title = nbio.read(nbio.NOTEBOOKS / OPENED).cells[0].source.splitlines()[1].lstrip("# ")
        shows = f"document.querySelector({PANEL!r}).innerText.includes({title!r})"
        page.wait_for_function(shows, timeout=30_000)
        assert (clone / ".git").is_dir()  # a clone of the served repository, not a download
        page.screenshot(path=str(tmp / "hub-first-pull.png"))

        # The student writes in the notebook and saves it.
        editor = page.locator(f"{PANEL} .jp-CodeCell .cm-content").last
        editor.click()
        page.keyboard.press("Control+End")
        page.keyboard.type(f"\n{STUDENT_NOTE}")
        page.keyboard.press("Control+s")
        saved = clone / "notebooks" / OPENED
        deadline = time.monotonic() + 30
        while STUDENT_NOTE not in saved.read_text(encoding="utf-8"):
            assert time.monotonic() < deadline, "the student's edit was not saved"
            time.sleep(0.5)

        # The instructor changes another notebook upstream.
        changed = served.upstream / "notebooks" / CHANGED
        nb = nbformat.read(changed, as_version=4)
        nb.cells.insert(1, nbformat.v4.new_markdown_cell(UPSTREAM_NOTE))
        nbformat.write(nb, changed)
        git("commit", "--quiet", "-am", "Add a note for the class", cwd=served.upstream)
        git("push", "--quiet", "origin", BRANCH, cwd=served.upstream)

        # The same link again: nbgitpuller pulls, merging, and opens the notebook.
        page.goto("about:blank")
        open_link(page, link, tmp)
        shows = f"document.querySelector({PANEL!r}).innerText.includes({STUDENT_NOTE!r})"
        page.wait_for_function(shows, timeout=30_000)
        page.screenshot(path=str(tmp / "hub-second-pull.png"))
    finally:
        page.close()
    assert UPSTREAM_NOTE in (clone / "notebooks" / CHANGED).read_text(encoding="utf-8")
    assert STUDENT_NOTE in (clone / "notebooks" / OPENED).read_text(encoding="utf-8")
