"""Sphinx configuration of the ntk_toolkit documentation.

Build with ``sphinx-build -W docs docs/_build/html`` after ``pip install ".[docs]"``.
The build needs no network access. The notebooks in ``notebooks/`` are copied
into ``docs/notebooks/`` (generated, git-ignored) and executed at build time in
the quick mode of the toolkit (``NTK_TOOLKIT_QUICK=1``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))

# Notebooks run at small sizes during the build; set before any kernel starts.
os.environ.setdefault("NTK_TOOLKIT_QUICK", "1")

import ntk_toolkit  # noqa: E402

# -- project ----------------------------------------------------------------
project = "ntk_toolkit"
author = "ntk_toolkit contributors"
copyright = "ntk_toolkit contributors"
release = ntk_toolkit.__version__
version = release

# -- extensions -------------------------------------------------------------
extensions = [
    "myst_nb",  # MyST markdown and notebooks (includes myst_parser)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_click",
    "ntk_docs",  # docs/_ext: checks catalogue, notebooks, links to docs/theory.md
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_templates", "scripts", "Thumbs.db", ".DS_Store", "**.ipynb_checkpoints",
                    "_generated/*.md"]
templates_path = ["_templates"]

# -- MyST ---------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_dmath_double_inline = True
myst_heading_anchors = 3

# -- notebooks (myst-nb) ------------------------------------------------------
nb_execution_mode = "cache"
nb_execution_cache_path = str(DOCS / "_build" / ".jupyter_cache")
nb_execution_timeout = 600
nb_execution_raise_on_error = True
nb_execution_show_tb = True
nb_merge_streams = True

# -- API reference ------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = False
add_module_names = False

# -- HTML ---------------------------------------------------------------------
html_theme = "furo"
html_title = f"ntk_toolkit {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "source_directory": "docs/",
    "navigation_with_keys": True,
}
html_show_sourcelink = False

# -- misc -----------------------------------------------------------------------
math_eqref_format = "({number})"
