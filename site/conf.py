"""Sphinx configuration of the companion's static site: `make site` (python -m tools.site).

The source directory is the repository root, so that the pages are built from the
notebooks in notebooks/ themselves (never a copy), with their stored outputs: nothing is
executed. This folder holds the configuration, the home and instructors pages, and
companion.py (the extension that filters navigation cells and writes the lecture map).

Offline: every page works with no network at all. Nothing is loaded from elsewhere: no
web fonts, no MathJax (formulas become MathML at build time), no widget scripts, no
analytics. Links to Binder, Colab and the repository are only links.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path[:0] = [str(REPO), str(HERE)]

from tools.navigation import CC_BY_NC_SA, load_contents  # noqa: E402

contents = load_contents(REPO)
# A tagged release, when the table names one, is what learners should launch.
ref = contents.get("release") or contents["branch"]

# Every page names both licences (the README's Licence section says which covers what).
licence_footer = (
    f'<p class="licences">Notebooks and pages: <a href="{CC_BY_NC_SA}" rel="license">'
    "CC BY-NC-SA 4.0</a>, like the lecture's slide code they quote (NPTEL). Code: "
    f'<a href="https://github.com/{contents["repository"]}/blob/{ref}/LICENSE" rel="license">'
    "MIT</a>. MNIST: "
    '<a href="https://creativecommons.org/licenses/by-sa/3.0/">CC BY-SA 3.0</a>.</p>'
)

project = "LeNet, Lecture 28: a companion"
author = "The companion's authors"
copyright = "the companion's authors"
html_title = project

extensions = ["myst_nb", "companion"]
root_doc = "site/index"
include_patterns = ["site/*.md", "notebooks/*.ipynb"]
exclude_patterns = ["_build", ".venv", ".git", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]
html_static_path = ["_static"]
html_css_files = ["companion.css"]
html_js_files = ["companion.js"]  # keyboard access to wide formulas
# The theme's sidebar, with the site's name in a banner landmark (_templates/sidebar-banner.html;
# the theme's top bar is hidden) and a search button named by all its text (_templates).
html_sidebars = {
    "**": [
        "sidebar-banner.html",
        "icon-links.html",
        "search-button-field.html",
        "sbt-sidebar-nav.html",
    ]
}
# The home page lives at site/index.html; the root of the site sends the browser there.
html_additional_pages = {"index": "redirect.html"}

# Build from the stored outputs: never execute a notebook.
nb_execution_mode = "off"
nb_ipywidgets_js = {}  # no widget outputs here; MyST-NB's default loads scripts from a CDN
nb_output_stderr = "show"
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3  # the glossary links to sections down to ###
smartquotes = False  # show the notebooks' text as written, as JupyterLab does
html_math_renderer = "mathml"  # companion.py: formulas as MathML, no MathJax download

html_theme = "sphinx_book_theme"
html_copy_source = True
html_sourcelink_suffix = ""  # the download button hands out the .ipynb itself
html_show_sourcelink = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": f"https://github.com/{contents['repository']}",
    "repository_branch": ref,
    "path_to_docs": "",  # the source directory is the repository root
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "use_edit_page_button": False,
    "launch_buttons": {
        "binderhub_url": "https://mybinder.org",
        "colab_url": "https://colab.research.google.com",
        "notebook_interface": "jupyterlab",
    },
    "home_page_in_toc": True,
    # The footer credits the lecture and names the licences, instead of a generic author and
    # copyright line.
    "footer_content_items": ["extra-footer"],
    "extra_footer": (
        '<p>An independent companion to Lecture 28, "LeNet Definition", of '
        "<em>Deep Learning for Visual Computing</em> (Prof. Debdoot Sheet, IIT Kharagpur).</p>"
        + licence_footer
    ),
    "show_toc_level": 2,
    "navigation_with_keys": False,
}
