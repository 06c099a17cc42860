"""Sphinx configuration of the bluepaid-plugins documentation.

Built offline (no intersphinx): names of the standard library and of other
projects are left as plain text, names of this project must resolve, so a
renamed class or a misspelt reference fails the build (``-W``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent / "_ext")]

project = "bluepaid-plugins"
author = "bluepaid-plugins contributors"
copyright = "the bluepaid-plugins contributors"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "bluepaid_docs",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext"]
language = "en"

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
autodoc_preserve_defaults = True
# Only our own words: no docstring borrowed from object, requests or pluggy.
autodoc_inherit_docstrings = False
python_use_unqualified_type_names = True
add_module_names = False
# The sidebar lists the sections of a page, not every object documented in it.
toc_object_entries = False

nitpicky = True
# Offline, nothing outside the project can be linked; our own names must resolve.
nitpick_ignore_regex = [
    (r"py:.*", r"(builtins|collections|contextlib|datetime|decimal|enum|email|http|json|logging)(\..*)?"),
    (r"py:.*", r"(pathlib|re|socket|types|typing|typing_extensions|urllib)(\..*)?"),
    (
        r"py:.*",
        r"(click|cryptography|flask|pluggy|pytest|_pytest|requests|responses|sqlalchemy|werkzeug)\..*",
    ),
    (r"py:.*", r"(str|bytes|int|float|bool|dict|list|tuple|set|frozenset|type|object|None|Any|Callable)"),
    (r"py:.*", r"(Exception|BaseException|TypeError|ValueError|OSError|NotImplementedError)"),
    # The hub's own internals and the sandbox are not part of this reference.
    (r"py:.*", r"hub\.(?!testing\.).*"),
    (r"py:.*", r"sandbox\..*"),
]

html_theme = "alabaster"
html_title = "bluepaid-plugins"
html_theme_options = {"description": "Connect e-shops to the Bluepaid hosted payment page"}
html_static_path: list[str] = []
