"""Every public estimator through scikit-learn's common checks.

Fast settings for every estimator live in one table, ``FAST``. Every check
passes: none is marked as an expected failure.
"""

from functools import partial

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
from skae.nn import ConvDecoder, ConvEncoder

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0)
# The checks feed rows of their own widths (1 to 10 features), so the
# convolutional model sees them as 1-D signals: image_shape (1, 1, -1).
CONV = dict(
    encoder=partial(ConvEncoder, image_shape=(1, 1, -1), channels=(4, 8)),
    decoder=partial(ConvDecoder, image_shape=(1, 1, -1), channels=(4, 8)),
)

ESTIMATORS = [
    AutoencoderTransformer(**FAST),
    DenoisingAE(**FAST),
    DenoisingAE(**FAST, noise="salt_and_pepper"),
    SparseAE(**FAST, k=1),
    # Width from k (n_components=None); some checks set n_components=1 < k.
    SparseAE(k=2, hidden_layer_sizes=(8,), max_iter=5, random_state=0),
    SparseAE(**FAST, sparsity_penalty="kl"),
    ContractiveAE(**FAST),
    ContractiveAE(**{**FAST, "hidden_layer_sizes": ()}),
    VAE(**FAST),
    AutoencoderTransformer(**FAST, **CONV),
    VAE(**FAST, **CONV),
    AutoencoderOutlierDetector(AutoencoderTransformer(**FAST), contamination=0.1),
    AutoencoderOutlierDetector(VAE(**FAST)),
    AutoencoderImputer(AutoencoderTransformer(**FAST)),
    AutoencoderImputer(VAE(**FAST), sample_posterior=True, add_indicator=True, random_state=0),
]

def _id(estimator):
    return f"{type(estimator).__name__}({estimator.get_params()!r})"


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda est: type(est).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)
