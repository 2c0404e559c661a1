"""Headless Chromium for the tests that drive a browser (JupyterLab, the static site, the
navigation links, the class hub): where Debian installs it, how it is launched offline, and
what a test does when something it needs is missing.

Imported by name from the test modules beside it (pytest puts tests/ on the path).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",  # the machine is offline: no calls home
    "--disable-component-update",
    "--disable-sync",
]
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # JupyterLab's notebook tab on show


def browser_missing() -> str | None:
    """Why no browser can be driven here, or None."""
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -r requirements-lock.txt)"
    return None


def skip_unless_required(reason: str | None) -> None:
    """Skip the test for ``reason``; fail instead under REQUIRE_BROWSER=1 (set by .ci/run)."""
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
        pytest.skip(reason)


def launch(playwright: Any) -> Any:
    """Chromium, headless and offline, from a running ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
