"""Shared fixtures. The notebooks themselves are collected by nbval (see pyproject.toml)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Tests that build models get the same initial weights every run."""
    import torch

    torch.manual_seed(0)


@pytest.fixture(scope="session")
def built_site() -> Path:
    """_build/site/, freshly built from the repository's notebooks (warnings are errors); shared
    by the site's tests and the glossary's."""
    from tools import site as site_tool

    start = time.monotonic()
    result = site_tool.build()
    print(f"\nsite built in {time.monotonic() - start:.1f} s")
    assert result.returncode == 0, f"the site build failed:\n{result.stdout}\n{result.stderr}"
    return site_tool.SITE
