"""Every public estimator through scikit-learn's common checks.

Fast settings for every estimator live in one table, ``FAST``. Checks that
cannot apply are listed in ``EXPECTED_FAILED_CHECKS`` with the reason.
"""

import pytest
from sklearn.utils.estimator_checks import check_param_validation, parametrize_with_checks

from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0)

ESTIMATORS = [
    AutoencoderTransformer(**FAST),
    DenoisingAE(**FAST),
    DenoisingAE(**FAST, noise="salt_and_pepper"),
    SparseAE(**FAST, k=1),
    SparseAE(**FAST, sparsity_penalty="kl"),
    ContractiveAE(**FAST),
    ContractiveAE(**{**FAST, "hidden_layer_sizes": ()}),
    VAE(**FAST),
    AutoencoderOutlierDetector(AutoencoderTransformer(**FAST), contamination=0.1),
    AutoencoderOutlierDetector(VAE(**FAST)),
    AutoencoderImputer(AutoencoderTransformer(**FAST)),
    AutoencoderImputer(VAE(**FAST), sample_posterior=True, add_indicator=True, random_state=0),
]

# A VAE's score_samples is a Monte Carlo estimate with independent draws per row
# (shared draws would make its error systematic across rows), so a row's score
# depends on where it sits in X; everything built on that score inherits this.
_MONTE_CARLO = "score_samples is a Monte Carlo bound whose draws depend on the row's position in X"
VAE_SCORE_CHECKS = {
    "check_methods_subset_invariance": _MONTE_CARLO,
    "check_methods_sample_order_invariance": _MONTE_CARLO,
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, VAE):
        return VAE_SCORE_CHECKS
    if isinstance(estimator, AutoencoderOutlierDetector) and isinstance(estimator.autoencoder, VAE):
        return VAE_SCORE_CHECKS
    return {}


def _id(estimator):
    return f"{type(estimator).__name__}({estimator.get_params()!r})"


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
