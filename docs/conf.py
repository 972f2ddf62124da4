"""Sphinx configuration for skae's documentation.

Build (from the repository root)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html

Warnings are errors: a broken cross-reference, a docstring numpydoc cannot
parse or that misses a parameter, or a gallery example that raises fails the
build.
"""

import os
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # for _intersphinx
sys.path.insert(
    0, str(DOCS.parent / "src")
)  # document this checkout's skae, not an installed one

import _intersphinx  # noqa: E402

import skae  # noqa: E402

project = "skae"
author = "the skae developers"
copyright = "2026, the skae developers"
release = skae.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "matplotlib.sphinxext.plot_directive",
]

templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "design.md",
    "auto_examples/*.ipynb",
    "auto_examples/*.py",
    "**.zip",
]
root_doc = "index"
default_role = "literal"  # `x` in a page is code, as in docstrings
pygments_style = "sphinx"

# -- API reference -----------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc sections carry the types
# Inherited scikit-learn methods (get_params, set_output, ...) are listed as
# scikit-learn lists them; torch.nn.Module's dozens of methods are not.
autodoc_default_options = {"members": True, "inherited-members": "Module"}
autodoc_member_order = "groupwise"

# numpydoc renders the docstrings and checks them. Every check below is a
# warning, and -W makes it an error, so a parameter added to __init__ without
# a docstring entry, an unknown section or a missing docstring fails the build.
numpydoc_show_class_members = False  # autodoc lists the methods (see _templates)
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {
    "of",
    "or",
    "shape",
    "default",
    "optional",
    "instance",
    "and",
    "to",
    "the",
}
numpydoc_xref_aliases = {
    "array-like": ":term:`array-like <array_like>`",
    "estimator": ":term:`estimator`",
    "RandomState": ":class:`~numpy.random.RandomState`",
    "ndarray": ":class:`numpy.ndarray`",
    "DataFrame": ":class:`pandas.DataFrame`",
    "torch.nn.Module": ":class:`torch.nn.Module`",
    "torch.device": ":class:`torch.device`",
    "Tensor": ":class:`torch.Tensor`",
}
numpydoc_validation_checks = {
    "GL06",  # unknown section
    "GL07",  # sections in the wrong order
    "GL08",  # no docstring
    "PR01",  # a parameter is not documented
    "PR02",  # a documented parameter does not exist
    "PR07",  # a parameter has no description
    "PR10",  # "name: type" instead of "name : type"
    # Not checked: PR03 (order; every parameter but the first is keyword-only)
    # and RT02 (scikit-learn names its returns, "self : object").
}
# Methods inherited from scikit-learn keep scikit-learn's docstrings, which
# follow its own conventions; skae does not re-check them.
numpydoc_validation_exclude = {
    r"\.(get_params|set_params|set_output|get_metadata_routing|fit_transform|fit_predict)$",
    r"\.set_\w+_request$",
    r"\.get_feature_names_out$",
    r"\.__init__$",
}

# -- Links to other projects ---------------------------------------------------
# The build machine has no network. Each project is linked through a small
# local inventory (docs/_intersphinx.py: the objects referenced here, with their
# real addresses), so the build neither fails nor warns offline and the links
# point where the published inventories would. SKAE_DOCS_ONLINE=1 tries the
# published inventories first and falls back to the local ones.
_local = _intersphinx.write(DOCS / "_build" / "inventories")
_online = os.environ.get("SKAE_DOCS_ONLINE") == "1"
intersphinx_mapping = {
    name: (root, (None, _local[name]) if _online else _local[name])
    for name, (root, _, _) in _intersphinx.PROJECTS.items()
}
intersphinx_timeout = 10
intersphinx_disabled_reftypes = ["std:doc"]

# -- Gallery ---------------------------------------------------------------
# Every examples/plot_*.py is executed at build time, except those named
# plot_mnist_*.py, which need MNIST: they run only when SKAE_DATA points to a
# folder holding mnist.npz, and are otherwise rendered without their output.
_mnist = Path(os.environ.get("SKAE_DATA", "/nonexistent")) / "mnist.npz"
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_" if _mnist.is_file() else r"/plot_(?!mnist_)",
    # Only plot_*.py files are gallery examples; helper modules may sit beside them.
    "ignore_pattern": r"^(?!plot_)",  # matched against the file name
    "doc_module": ("skae",),
    "backreferences_dir": "generated/backreferences",
    "within_subsection_order": "FileNameSortKey",
    "show_memory": False,
    "download_all_examples": False,
    "remove_config_comments": True,
    "plot_gallery": "True",
    "matplotlib_animations": False,
    "image_scrapers": ("matplotlib",),
    "min_reported_time": 1,
    "abort_on_example_error": False,
    "only_warn_on_example_error": False,
}
os.environ.setdefault("MPLBACKEND", "agg")
warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")

# -- Figures in the user guide ---------------------------------------------------
# ``.. plot::`` blocks run their code at build time and show it above the figure,
# as scikit-learn's user guide does; each trains for a few seconds on the digits.
plot_include_source = True
plot_html_show_source_link = False
plot_html_show_formats = False
plot_formats = [("png", 96)]
plot_pre_code = ""  # the shown code is the whole program
plot_rcparams = {"figure.dpi": 96}

# -- HTML --------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"skae {release}"
html_static_path = []
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "header_links_before_dropdown": 6,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
}
html_show_sourcelink = False
html_sidebars = {"index": []}
