"""The API reference is complete: every public name has a page, every fitted attribute a line.

The docs build (``python -m sphinx -W ...``) checks that parameters are
documented (numpydoc validation); what it cannot see is a fitted attribute
missing from "Attributes" or a public name missing from ``docs/api.rst``.
"""

import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import skae
import skae.losses
import skae.nn

API_RST = Path(__file__).resolve().parents[1] / "docs" / "api.rst"


def _public_names(module, kinds):
    return {
        name
        for name, obj in vars(module).items()
        if not name.startswith("_")
        and isinstance(obj, kinds)
        and getattr(obj, "__module__", "") == module.__name__
    }


@pytest.mark.skipif(not API_RST.is_file(), reason="docs/ not in this checkout")
@pytest.mark.parametrize(
    "module", [skae, skae.nn, skae.losses], ids=lambda m: m.__name__
)
def test_every_public_name_is_in_the_api_reference(module):
    if module is skae:
        names = {name for name in skae.__all__ if not name.startswith("__")}
    else:
        names = _public_names(module, (type, type(_public_names)))
    listed = set(re.findall(r"^   (\w+)$", API_RST.read_text(), flags=re.MULTILINE))
    missing = sorted(names - listed)
    assert not missing, f"add {missing} to an autosummary list in docs/api.rst"


ESTIMATORS = {
    "AutoencoderTransformer": lambda: skae.AutoencoderTransformer(
        2, hidden_layer_sizes=(4,), max_iter=2
    ),
    "DenoisingAE": lambda: skae.DenoisingAE(2, hidden_layer_sizes=(4,), max_iter=2),
    "SparseAE": lambda: skae.SparseAE(4, k=2, hidden_layer_sizes=(4,), max_iter=2),
    "ContractiveAE": lambda: skae.ContractiveAE(2, max_iter=2),
    "VAE": lambda: skae.VAE(2, hidden_layer_sizes=(4,), max_iter=2),
    "AutoencoderOutlierDetector": lambda: skae.AutoencoderOutlierDetector(
        skae.AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=2),
        n_trim_rounds=0,
    ),
    "AutoencoderImputer": lambda: skae.AutoencoderImputer(
        skae.AutoencoderTransformer(2, hidden_layer_sizes=(4,), max_iter=2)
    ),
}


def test_the_table_covers_every_estimator():
    assert set(ESTIMATORS) == {
        name for name in skae.__all__ if inspect.isclass(getattr(skae, name))
    }


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_fitted_attribute_is_documented(name):
    docscrape = pytest.importorskip(
        "numpydoc.docscrape", reason="numpydoc is in the docs extra"
    )
    estimator = ESTIMATORS[name]().set_params(random_state=0)
    X = np.random.RandomState(0).rand(30, 5)
    if name == "AutoencoderImputer":
        X[::4, 1] = np.nan
    estimator.fit(X)
    fitted = {
        attr
        for attr in vars(estimator)
        if attr.endswith("_") and not attr.startswith("_")
    }
    documented = set()
    for entry in docscrape.ClassDoc(type(estimator))["Attributes"]:
        documented.update(part.strip() for part in entry.name.split(","))
    missing = sorted(fitted - documented)
    assert not missing, (
        f"{name}: document {missing} under 'Attributes' in its docstring"
    )
