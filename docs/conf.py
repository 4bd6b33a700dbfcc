"""Sphinx configuration of the autotrader documentation.

Build (warnings are errors): ``sphinx-build -W --keep-going -b html docs build/docs``, or
``nox -s docs``.  The API reference is generated from the installed packages' docstrings, so the
core (and the paper plugin) must be importable in the building environment.
"""

from __future__ import annotations

import importlib.util

import autotrader

project = "autotrader"
author = "autotrader developers"
copyright = "autotrader developers, MIT licence"
release = autotrader.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

root_doc = "index"
exclude_patterns = ["_build"]
templates_path: list[str] = []

# ---------------------------------------------------------------- autodoc
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    "member-order": "bysource",
}
autodoc_typehints = "signature"
autodoc_class_signature = "mixed"
autodoc_preserve_defaults = True
autoclass_content = "class"
napoleon_google_docstring = True
napoleon_numpy_docstring = False
napoleon_use_rtype = False

# ---------------------------------------------------------------- HTML
html_theme = "furo" if importlib.util.find_spec("furo") is not None else "alabaster"
html_title = f"autotrader {release}"
html_static_path: list[str] = []
