"""Sphinx configuration of the book: the notebook series as a static, fully offline website.

Build it with ``make book`` (the site goes to ``build/book/``; open ``build/book/index.html``). The command is

    python -m sphinx -b html -c docs -W --keep-going -E -q . build/book

The source directory is the repository's root, so that the notebooks stay where they are and their relative links
(``../README.md#the-notebooks``, ``solutions/...``) resolve in the book as they do on a repository browser;
``include_patterns`` keeps the book to ``docs/``, ``README.md`` and the notebooks. Every page is made from files in
the repository: the committed, executed notebooks (never executed here), ``docs/*.md``, ``docs/api.rst``, and what
:func:`write_generated_pages` writes on every build (into ``docs/api/`` and ``docs/_generated/``, both git-ignored):
one API page per public module, the table of ``bk.*`` names, the engines table from the registry, and the landing
page's reading order (notebooks found by glob, described by the README's table). New notebooks, modules and
docstrings appear without editing anything here.

Offline: MathJax is served from the site itself (``sphinx-mathjax-offline``), the theme bundles its fonts and
scripts, and there is no intersphinx; ``tests/test_book.py`` opens every page in headless Chromium and fails on any
request that leaves the site.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
GENERATED = DOCS / "_generated"  # pieces included by docs/*.md and docs/api.rst
API = DOCS / "api"  # one page per module
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

project = "bayeskit"
author = "the bayeskit authors"
copyright = "the bayeskit authors"
html_title = "bayeskit: Bayesian computation, by doing it"

root_doc = "docs/index"
# The book is docs/, the README and the notebooks; every other folder of the repository is pruned from the
# source walk (exclude_patterns also stops Sphinx from descending into .venv, build/ or executed/).
include_patterns = ["docs/**", "README.md", "notebooks/*.ipynb", "notebooks/solutions/*.ipynb"]
exclude_patterns = [
    path.name for path in ROOT.iterdir() if path.is_dir() and path.name not in {"docs", "notebooks"}
] + ["**/.ipynb_checkpoints", "docs/_root"]

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax 3 copied into _static/mathjax and used from there: no CDN
]

# --- notebooks: rendered from their committed outputs, never executed by the book -------------------------------
nb_execution_mode = "off"
# A stored stderr output is a sampler log or a warning, which the series must not store (DESIGN.md): fail on it.
nb_output_stderr = "warn"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
# anchors for ## and ### headings, so that links such as ../README.md#the-notebooks resolve
myst_heading_anchors = 3

# --- the API pages: autodoc on the package's modules, numpydoc-style docstrings read by napoleon -----------------
autodoc_default_options = {
    "members": True,
    "undoc-members": True,
    "show-inheritance": True,
    # document each object once, on the page of the module that defines it (bayeskit/__init__.py and the
    # subpackages re-export names through __all__; their pages link to the defining module instead)
    "ignore-module-all": True,
}
autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True
# The package is annotated (DESIGN.md), and has no "# type:" comments: without this, autodoc re-reads and parses the
# source of each of the ~1000 documented functions once more, looking for such comments.
autodoc_use_type_comments = False
autosummary_generate = False  # summary tables only; the pages themselves are written below
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
# Parameter types as plain text, not cross-references: numpydoc types such as "numpy.ndarray, shape (n, ndim)" would
# make every word a link, and short words like "n" match attributes of several classes (an ambiguity warning).
napoleon_use_param = False
napoleon_use_keyword = False
napoleon_use_ivar = True  # "Attributes" as a field list: autodoc already documents each attribute once

# --- HTML -----------------------------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": True,  # the page's source (.ipynb, .md) from the site itself
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
}
# a mode for the theme's first visit: without one, pydata-sphinx-theme logs a console error ("Got invalid theme
# mode") before it falls back to "auto"
html_context = {"default_mode": "auto"}
html_static_path: list[str] = []
html_extra_path = ["_root"]  # (relative to docs/) index.html at the site's root, forwarding to docs/index.html
html_last_updated_fmt = None
html_copy_source = True
html_show_sourcelink = False
suppress_warnings: list[str] = []


# --- pages written from the package and the notebooks on every build -------------------------------------------
def _public_modules(package: str = "bayeskit") -> list[str]:
    """The package and every module or subpackage under it whose dotted name has no part starting with '_'."""
    top = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(top.__path__, prefix=f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def _first_line(obj: object) -> str:
    doc = inspect.getdoc(obj) or ""
    return doc.strip().split("\n\n")[0].replace("\n", " ")


def _module_page(name: str) -> str:
    """reST for one module: its docstring, a summary table of what it defines, then each definition in full."""
    module = importlib.import_module(name)
    own = [
        member
        for member, obj in vars(module).items()
        if not member.startswith("_")
        and (inspect.isfunction(obj) or inspect.isclass(obj))
        and getattr(obj, "__module__", None) == name
    ]
    lines = [name, "=" * len(name), "", f".. automodule:: {name}", ""]
    if own:
        lines += ["   .. rubric:: Defined here", "", "   .. autosummary::", "      :nosignatures:", ""]
        lines += [f"      {member}" for member in own]
        lines += [""]
    children = [m for m in _public_modules() if m.rpartition(".")[0] == name]
    if children:
        lines += ["   .. rubric:: Modules", "", "   .. autosummary::", ""]
        # relative to the current module (autosummary resolves them in it, and refuses the full name)
        lines += [f"      {child.rpartition('.')[2]}" for child in children]
        lines += [""]
    return "\n".join(lines)


def _top_level_table() -> str:
    """A table of ``import bayeskit as bk``'s names, each linked to where it is defined and documented."""
    import bayeskit

    documented = set(_public_modules())
    rows = []
    for name in bayeskit.__all__:
        obj = getattr(bayeskit, name)
        if inspect.ismodule(obj):
            target, role = obj.__name__, "mod"
        else:
            target, role = f"{obj.__module__}.{obj.__qualname__}", "obj"
            if obj.__module__ not in documented:
                LOGGER.warning(f"bk.{name} is defined in {obj.__module__}, which has no API page (a private "
                               "module): its link would be dead", type="bayeskit", subtype="api")
        summary = _first_line(obj).replace("|", "\\|")
        rows += [f"   * - :py:{role}:`bk.{name} <{target}>`", f"     - {summary}"]
    head = [".. list-table::", "   :header-rows: 1", "   :widths: 25 75", "", "   * - name", "     - what it is"]
    return "\n".join(head + rows) + "\n"


def _engines_table() -> str:
    """The engines as the registry declares them (name, what it is, what it accepts)."""
    from bayeskit.engines.registry import ENGINES

    def yes(flag: bool) -> str:
        return "yes" if flag else "no"

    head = [".. list-table::", "   :header-rows: 1", "   :widths: 14 56 10 10 10", "",
            "   * - engine", "     - what it is", "     - discrete parameters", "     - minibatches",
            "     - needs a PyMC model"]
    rows = []
    for name, engine in ENGINES.items():
        rows += [f"   * - ``{name}``", f"     - {engine.summary}", f"     - {yes(engine.discrete)}",
                 f"     - {yes(engine.minibatch)}", f"     - {yes(engine.needs_pymc)}"]
    return "\n".join(head + rows) + "\n"


def _readme_summaries() -> dict[str, str]:
    """The README's table of notebooks: file name -> what you learn."""
    rows = re.findall(r"^\|\s*`([0-9][^`]*\.ipynb)`\s*\|(.+)\|\s*$", (ROOT / "README.md").read_text(), re.MULTILINE)
    return {file: text.strip() for file, text in rows}


def _reading_order() -> str:
    """The landing page's reading order: every notebook (by glob, in order), what it teaches (the README's
    table), and its worked solutions."""
    summaries = _readme_summaries()
    rows = ["| | notebook | what you learn | exercises |", "|---|---|---|---|"]
    for path in sorted(NOTEBOOKS.glob("[0-9]*.ipynb")):
        if path.name not in summaries:
            LOGGER.warning(f"README.md's table of notebooks has no row for {path.name}: add one (the book's "
                           "landing page shows it)", type="bayeskit", subtype="readme")
        solutions = NOTEBOOKS / "solutions" / f"{path.stem}_solutions.ipynb"
        solved = f"{{doc}}`solutions </notebooks/solutions/{solutions.stem}>`" if solutions.exists() else ""
        number = path.name.split("_")[0]
        rows.append(f"| {number} | {{doc}}`/notebooks/{path.stem}` | {summaries.get(path.name, '')} | {solved} |")
    return "\n".join(rows) + "\n"


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def write_generated_pages(app=None) -> None:
    """Write docs/api/ (one page per public module) and docs/_generated/ (the top-level table, the reading order)."""
    modules = _public_modules()
    wanted = {API / f"{name}.rst": _module_page(name) for name in modules}
    wanted[GENERATED / "bk_table.rst.inc"] = _top_level_table()
    wanted[GENERATED / "engines.rst.inc"] = _engines_table()
    wanted[GENERATED / "reading_order.md.inc"] = _reading_order()
    for path, text in wanted.items():
        _write_if_changed(path, text)
    for stale in API.glob("*.rst"):  # a module that was removed or renamed
        if stale not in wanted:
            stale.unlink()


def setup(app):
    app.connect("builder-inited", write_generated_pages)
    return {"parallel_read_safe": True}
