"""matplotlib's inline backend, with the figure rules of tools/figure_rules.py.

Selected as MPLBACKEND=module://tools.figure_backend by tools/refresh.py and tests/conftest.py
(figure_rules.kernel_environment) for the kernels they start, and by nothing else. It shows
figures exactly as matplotlib_inline does, and checks each one on the way:

* plt.show() checks every open figure first; one that breaks a rule raises FigureRuleError
  in the cell, which fails it (nbval names the notebook and cell; so does the refresh);
* any other way a figure reaches the notebook (display(fig), a figure left open at the end of
  a cell) goes through IPython's PNG formatter, which checks it too: the error is shown in
  the cell's output, which nbval reports as a changed output and the refresh refuses.

Why a backend, and not an IPython startup file or a hook in the notebooks: a backend is one
environment variable away, touches no notebook and no profile, and is the one place every
figure passes through before it is shown.
"""

from __future__ import annotations

import matplotlib
from IPython.core.getipython import get_ipython
from matplotlib._pylab_helpers import Gcf
from matplotlib.figure import Figure
from matplotlib_inline import backend_inline as inline
from matplotlib_inline.backend_inline import (  # noqa: F401 (the backend's interface)
    FigureCanvas,
    flush_figures,
    new_figure_manager,
    new_figure_manager_given_figure,
)

from tools import figure_rules


class FigureRuleError(Exception):
    """A figure a notebook is about to show breaks a figure rule."""


def check(fig: Figure) -> None:
    found = figure_rules.problems(fig)
    if found:
        titles = [t for t in [fig.get_suptitle()] + [ax.get_title() for ax in fig.axes] if t]
        name = f"the figure titled {titles[0]!r}" if titles else "a figure"
        raise FigureRuleError(f"{name} cannot be read by everyone:\n- " + "\n- ".join(found))


def show(close: bool | None = None, block: bool | None = None) -> None:
    """plt.show(): check every open figure, then show them as the inline backend does."""
    figures = [manager.canvas.figure for manager in Gcf.get_all_fig_managers()]
    try:
        for fig in figures:
            check(fig)
    except FigureRuleError:
        matplotlib.pyplot.close("all")  # not shown again at the end of the cell
        raise
    _just_checked.update(map(id, figures))  # the PNG formatter need not check them again
    try:
        inline.show(close, block)
    finally:
        _just_checked.clear()


_just_checked: set[int] = set()


def _checked(format_png):
    def png(fig: Figure, *args, **kwargs):
        if id(fig) not in _just_checked:
            check(fig)
        return format_png(fig, *args, **kwargs)

    return png


def _enable() -> None:
    """What matplotlib_inline does when it is the backend, and the PNG formatter's check."""
    shell = get_ipython()
    if shell is None:
        return
    from IPython.core.pylabtools import activate_matplotlib

    def configure(*args) -> None:
        activate_matplotlib(figure_rules.BACKEND)
        inline.configure_inline_support(shell, "inline")
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type(Figure, _checked(formatter.lookup_by_type(Figure)))

    try:
        configure()
    except (ImportError, AttributeError):  # pyplot half-imported: as matplotlib_inline does

        def configure_once(*args) -> None:
            configure()
            shell.events.unregister("post_run_cell", configure_once)

        shell.events.register("post_run_cell", configure_once)


_enable()
