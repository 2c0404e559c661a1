"""Shared fixtures. The notebooks themselves are collected by nbval (see pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import nbio


def lesson_notebooks() -> list[Path]:
    """Every notebook of the repository, in contents order where listed."""
    return sorted(nbio.NOTEBOOKS.glob("*.ipynb"))


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Tests that build models get the same initial weights every run."""
    import torch

    torch.manual_seed(0)
