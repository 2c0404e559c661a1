"""A real JupyterLab in a real browser: what a learner sees when opening each notebook.

Starts JupyterLab from this environment on 127.0.0.1 with a token, serving a temporary copy
of notebooks/ (so nothing in the repository can be autosaved over), and drives Debian's
Chromium through Playwright. For every notebook: the stored outputs are rendered, figures
load, no error or warning is shown. For notebook 03: clear all outputs, run all cells from
the menu, and check the size lines come back; then move the size explorer's controls and check
it shows what PyTorch gives for the new settings. A screenshot of each notebook is saved to a
temporary folder (its path is printed; set BROWSER_SCREENSHOTS to choose it).

Without Chromium or Playwright the test is skipped with a message, unless REQUIRE_BROWSER=1
(set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from chromium import PANEL, browser_missing, launch, skip_unless_required

from lenet_helpers import LeNet, count_parameters
from tools import nbio

pytestmark = pytest.mark.browser

# What a learner must see in each notebook's stored outputs, one line each.
EXPECTED = {
    "01_imports.ipynb": "tensor([2., 4., 6.])",
    "02_architecture.ipynb": "(fc1): Linear(in_features=400, out_features=120, bias=True)",
    "03_feed_forward.ipynb": "Size of output of fc3: torch.Size([10, 10])",
    "04_trainable_parameters.ipynb": "Total number of parameters: 61706",
    "05_shapes_and_pitfalls.ipynb": "6,400 values): no error, 16 rows of predictions",
    "06_lenet5_1998.ipynb": "60 map-to-map links × 25 weights + 16 biases = 1516 parameters",
    "07_training_preview.ipynb": "test accuracy of at least 98.5%: True",
    "solutions.ipynb": "05.4: correct, 82826.",
}
# JupyterLab extensions of packages that only the dev layer installs (nbgrader and the
# notebook it needs, for `make assignments` and `make grade`).
DEV_LAYER_EXTENSIONS = ("@jupyter/nbgrader", "@jupyter-notebook/lab-extension")


@pytest.fixture(scope="module")
def lab() -> Iterator[str]:
    """The base URL of a running JupyterLab (token included), serving a copy of notebooks/."""
    skip_unless_required(browser_missing())
    with tempfile.TemporaryDirectory(prefix="lenet-lab-") as tmp:
        tmp_path = Path(tmp)
        root = tmp_path / "notebooks"
        shutil.copytree(nbio.NOTEBOOKS, root)
        settings = tmp_path / "settings"
        quiet = {
            # no news or update checks (the machine is offline), and every cell in the page
            "@jupyterlab/apputils-extension/notification": {
                "fetchNews": "false",
                "checkForUpdates": False,
            },
            "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
        }
        for plugin, values in quiet.items():
            folder, name = plugin.rsplit("/", 1)
            (settings / folder).mkdir(parents=True, exist_ok=True)
            (settings / folder / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
        # The learners' layer has no nbgrader and no Jupyter Notebook: hide what the dev
        # layer's copies add to JupyterLab (menus, toolbar buttons), so a learner's view is shown.
        (tmp_path / "config" / "labconfig").mkdir(parents=True)
        (tmp_path / "config" / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {n: True for n in DEV_LAYER_EXTENSIONS}})
        )
        token = secrets.token_hex(16)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        }
        command = [
            sys.executable, "-m", "jupyterlab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        ]  # fmt: skip
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")  # JupyterLab refuses to run as root without it
        log = (tmp_path / "lab.log").open("w")
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(
                        f"{url}/api/status?token={token}", timeout=2
                    ) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:]
                    )
                time.sleep(0.5)
            yield f"{url}|{token}"
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
            log.close()


@pytest.fixture(scope="module")
def browser(lab):
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


def open_notebook(browser, lab: str, name: str):
    url, token = lab.split("|")
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    # ?reset: a fresh workspace, so tabs of earlier tests are not restored behind this one
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}", wait_until="domcontentloaded")
    page.wait_for_selector(f"{PANEL} .jp-Cell", timeout=60_000)
    # The kernel named in the notebook starts by itself: wait until it is idle.
    wait_until_idle(page)
    return page


def wait_until_idle(page, timeout: int = 60_000) -> None:
    page.wait_for_selector(
        f"{PANEL} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=timeout
    )


def visible_problems(page) -> list[str]:
    shown = page.locator(
        f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
    )
    dialogs = page.locator(".jp-Dialog")
    problems = [
        f"error or warning shown: {shown.nth(i).inner_text()[:200]}" for i in range(shown.count())
    ]
    problems += [
        f"dialog shown: {dialogs.nth(i).inner_text()[:200]}" for i in range(dialogs.count())
    ]
    return problems


def stored_png_count(name: str) -> int:
    nb = nbio.read(nbio.NOTEBOOKS / name)
    return sum(
        "image/png" in o.get("data", {})
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_stored_outputs_render_without_errors(browser, lab, screenshots, name):
    page = open_notebook(browser, lab, name)
    try:
        outputs = page.locator(f"{PANEL} .jp-OutputArea-output")
        outputs.first.wait_for(timeout=30_000)
        text = page.locator(PANEL).inner_text()
        assert EXPECTED[name] in text
        images = page.locator(f"{PANEL} .jp-OutputArea-output img")
        assert images.count() == stored_png_count(name)
        for i in range(images.count()):
            assert images.nth(i).evaluate("img => img.complete && img.naturalWidth > 0"), (
                f"figure {i} did not load"
            )
        assert visible_problems(page) == []
        page.screenshot(path=str(screenshots / f"{Path(name).stem}.png"))
    finally:
        page.close()


def test_notebook_03_runs_all_cells_from_the_menu(browser, lab, screenshots):
    page = open_notebook(browser, lab, "03_feed_forward.ipynb")
    try:
        panel = page.locator(PANEL)
        last_line = "Size of output of fc3: torch.Size([10, 10])"
        assert last_line in panel.inner_text()
        page.locator(".lm-MenuBar-itemLabel", has_text="Edit").click()
        page.get_by_text("Clear Outputs of All Cells", exact=True).click()
        shows = f"document.querySelector({PANEL!r}).innerText.includes({last_line!r})"
        page.wait_for_function(f"!{shows}")
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
        page.get_by_text("Run All Cells", exact=True).click()
        page.wait_for_function(shows, timeout=60_000)
        wait_until_idle(page)
        text = panel.inner_text()
        for batch in (1, 10):
            for layer, size in [("conv1", "6, 28, 28"), ("pool2", "16, 5, 5"), ("fc3", "10")]:
                assert f"Size of output of {layer}: torch.Size([{batch}, {size}])" in text
        assert "agrees" in text and "NO" not in text.split("agrees", 1)[1].split("\n\n", 1)[0]
        assert visible_problems(page) == []
        page.screenshot(path=str(screenshots / "03_feed_forward_after_run_all.png"))
    finally:
        page.close()


def explorer_figures(text: str) -> tuple[str, str]:
    """(fc1's input width, total parameters) as the explorer's table shows them now."""
    lines = {line.split("  ")[0]: line.split() for line in text.splitlines()}
    return lines["flatten (fc1's input)"][3], lines["total"][2]


def test_size_explorer_follows_its_controls(browser, lab, screenshots):
    page = open_notebook(browser, lab, "03_feed_forward.ipynb")
    try:
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
        page.get_by_text("Run All Cells", exact=True).click()
        explorer = page.locator(f"{PANEL} .lenet-explorer")
        # the live widget, not the stored text; all cells first, on a machine that may be busy
        explorer.wait_for(timeout=180_000)
        wait_until_idle(page)
        table = explorer.locator(".lenet-sizes")
        assert "Loading widget" not in page.locator(PANEL).inner_text()
        assert "Error displaying widget" not in page.locator(PANEL).inner_text()

        def expect(net: torch.nn.Module) -> None:
            wanted = (f"{net.fc1.in_features:,}", f"{count_parameters(net):,}")
            page.wait_for_function(
                "([el, text]) => el.innerText.includes(text)",
                arg=[table.element_handle(), f"{wanted[1]}  -"],
                timeout=20_000,
            )
            assert explorer_figures(table.inner_text()) == wanted

        expect(LeNet())
        readout = explorer.locator(".lenet-input_size .widget-readout")
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type("28")
        page.keyboard.press("Enter")
        expect(LeNet(input_size=28))  # unpadded 28x28 digits: fewer inputs for fc1
        padding = explorer.locator(".lenet-conv1_padding input")
        assert padding.input_value() == "0"
        padding.fill("2")
        padding.press("Enter")
        expect(LeNet(input_size=28, conv1_padding=2))
        assert explorer_figures(table.inner_text()) == ("400", "61,706")  # the lecture's again
        assert visible_problems(page) == []
        explorer.screenshot(path=str(screenshots / "03_size_explorer.png"))
    finally:
        page.close()
