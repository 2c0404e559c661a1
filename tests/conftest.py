"""Shared fixtures. The notebooks themselves are collected by nbval (see pyproject.toml)."""

from __future__ import annotations

import os

import pytest

from tools import figure_rules


def pytest_configure(config: pytest.Config) -> None:
    """Kernels started from here on (nbval's, JupyterLab's in the browser test, a refresh's)
    check every figure with the figure rules. matplotlib is imported first, so that in this
    process it keeps its own backend: MPLBACKEND is read only when matplotlib is imported."""
    import matplotlib  # noqa: F401

    os.environ.update(figure_rules.kernel_environment())


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Tests that build models get the same initial weights every run."""
    import torch

    torch.manual_seed(0)
