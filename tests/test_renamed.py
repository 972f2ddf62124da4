"""``loss`` renamed ``likelihood``: the new name works everywhere, the old one warns and fits the same model."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.utils._param_validation import InvalidParameterError

from skae import (
    VAE,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

RENAMED = [AutoencoderTransformer, DenoisingAE, SparseAE, ContractiveAE]
OLD_TO_NEW = [("squared_error", "gaussian"), ("binary_crossentropy", "bernoulli")]
FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=4, random_state=0)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).random((60, 5))


def fast(cls, **params):
    return cls(**FAST, **({"k": 1} if cls is SparseAE else {}), **params)


@pytest.mark.parametrize("cls", RENAMED, ids=lambda cls: cls.__name__)
def test_the_likelihood_parameter_chooses_the_decoder(cls, X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        gaussian = fast(cls, likelihood="gaussian").fit(X)
        bernoulli = fast(cls, likelihood="bernoulli").fit(X)
    assert gaussian.loss_curve_ != bernoulli.loss_curve_
    # A Bernoulli decoder's output is logits, reconstructed through a sigmoid.
    reconstruction = bernoulli.reconstruct(X * 100 - 50)
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    with pytest.raises(ValueError, match="likelihood='bernoulli' needs X in"):
        fast(cls, likelihood="bernoulli").fit(X + 1)


@pytest.mark.parametrize("old, new", OLD_TO_NEW)
@pytest.mark.parametrize("cls", RENAMED, ids=lambda cls: cls.__name__)
def test_the_old_name_warns_and_fits_the_same_model(cls, old, new, X):
    expected = fast(cls, likelihood=new).fit(X)
    message = rf"`loss` was renamed `likelihood`.*removed in 0\.3.*likelihood='{new}'"
    with pytest.warns(FutureWarning, match=message):
        old_name = fast(cls, loss=old).fit(X)
    assert old_name.loss_curve_ == expected.loss_curve_
    np.testing.assert_array_equal(old_name.score_samples(X), expected.score_samples(X))
    # Given together and agreeing, the old name still only warns.
    with pytest.warns(FutureWarning, match=message):
        both = fast(cls, loss=old, likelihood=new).fit(X)
    assert both.loss_curve_ == expected.loss_curve_


def test_partial_fit_warns_about_the_old_name_too(X):
    with pytest.warns(FutureWarning, match="likelihood='bernoulli'"):
        model = fast(AutoencoderTransformer, loss="binary_crossentropy").partial_fit(X)
    expected = fast(AutoencoderTransformer, likelihood="bernoulli").partial_fit(X)
    assert model.loss_curve_ == expected.loss_curve_


@pytest.mark.parametrize("cls", RENAMED, ids=lambda cls: cls.__name__)
def test_contradicting_names_are_refused(cls, X):
    model = fast(cls, loss="squared_error", likelihood="bernoulli")
    with pytest.raises(ValueError, match="contradict.*Set likelihood only"):
        model.fit(X)


def test_the_old_name_is_validated_and_the_vae_never_took_it(X):
    with pytest.raises(InvalidParameterError, match="'loss' parameter"):
        fast(AutoencoderTransformer, loss="gaussian").fit(X)
    with pytest.raises(InvalidParameterError, match="'likelihood' parameter"):
        fast(AutoencoderTransformer, likelihood="binary_crossentropy").fit(X)
    assert "loss" not in VAE().get_params()


def test_the_detector_reads_the_old_name(X):
    # The wrappers decide Bernoulli from public parameters: a row outside
    # [0, 1] has probability zero under the old name's Bernoulli model too.
    autoencoder = fast(AutoencoderTransformer, loss="binary_crossentropy")
    with pytest.warns(FutureWarning):
        detector = AutoencoderOutlierDetector(autoencoder, random_state=0).fit(X)
    assert detector.score_samples(np.vstack([X[:1], X[:1] + 2]))[1] == -np.inf


def test_get_params_clone_and_grid_search_take_the_new_name(X):
    model = fast(DenoisingAE, likelihood="bernoulli")
    assert model.get_params()["likelihood"] == "bernoulli"
    assert model.get_params()["loss"] == "deprecated"
    assert clone(model).likelihood == "bernoulli"
    search = GridSearchCV(
        fast(DenoisingAE), {"likelihood": ["gaussian", "bernoulli"]}, cv=2
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # the default is the sentinel
        search.fit(X)
    assert list(search.cv_results_["param_likelihood"]) == ["gaussian", "bernoulli"]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.best_estimator_.likelihood == search.best_params_["likelihood"]
