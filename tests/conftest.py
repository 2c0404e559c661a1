"""Shared fixtures. The notebooks themselves are collected by nbval (see pyproject.toml)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Tests that build models get the same initial weights every run."""
    import torch

    torch.manual_seed(0)
