"""pytest's settings for the whole repository, tests/ and nbval's notebooks/ alike (a conftest
in tests/ would not be read by `pytest notebooks`, the single-thread pass)."""

from __future__ import annotations

import os

import pytest

from tools import figure_rules


def pytest_configure(config: pytest.Config) -> None:
    """Kernels started from here on (nbval's, JupyterLab's in the browser test, a refresh's)
    check every figure with the figure rules (tools/figure_rules.py). matplotlib is imported
    first, so that this process keeps its own backend: MPLBACKEND is read at its import."""
    import matplotlib  # noqa: F401

    os.environ.update(figure_rules.kernel_environment())
