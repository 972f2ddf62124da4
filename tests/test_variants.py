"""Variants compose: each is the base's parameters plus its own, and the base's ``noise`` works in every one."""

import inspect
import pickle

import numpy as np
import pytest

from skae import VAE, AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE
from skae._base import BaseAutoencoder

DROPPED = object()

# Each variant's own parameters, and the base parameters it changes on purpose:
# {name: its default} for another default, DROPPED for a parameter it does not take.
VARIANTS = {
    AutoencoderTransformer: ([], {}),
    DenoisingAE: (
        [],
        {"noise": "gaussian"},
    ),  # the named entry point: noise on by default
    SparseAE: (
        [
            "k",
            "transform_k_factor",
            "k_selection",
            "k_anneal_fraction",
            "sparsity_penalty",
            "sparsity_target",
            "sparsity_weight",
        ],
        {"n_components": None},  # None: 4 * k units
    ),
    ContractiveAE: (
        ["contractive_weight", "jacobian", "n_projections"],
        {
            "hidden_layer_sizes": (),
            "activation": "sigmoid",
        },  # the paper's one-layer sigmoid encoder
    ),
    VAE: (
        ["beta", "n_score_samples"],
        {"loss": DROPPED},
    ),  # never had the deprecated name of likelihood
}


def parameters(cls):
    signature = inspect.signature(cls.__init__)
    return {
        name: (p.kind, p.default)
        for name, p in signature.parameters.items()
        if name != "self"
    }


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda cls: cls.__name__)
def test_every_variant_signature_is_the_base_plus_its_own_parameters(variant):
    own, differences = VARIANTS[variant]
    expected = parameters(BaseAutoencoder)
    for name, default in differences.items():
        if default is DROPPED:
            del expected[name]
        else:
            expected[name] = (expected[name][0], default)
    actual = parameters(variant)
    assert {name: actual[name] for name in actual if name not in own} == expected
    assert set(own) <= set(actual)
    assert set(variant._parameter_constraints) == set(actual)


@pytest.mark.parametrize(
    "variant", [SparseAE, ContractiveAE, VAE], ids=lambda cls: cls.__name__
)
def test_noise_makes_any_variant_a_denoising_one(variant, digits):
    X = digits[0][:300]
    params = dict(n_components=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    if variant is SparseAE:
        params["k"] = 4
    clean = variant(**params).fit(X)
    noisy = variant(**params, noise="salt_and_pepper", noise_level=0.3).fit(X)
    assert type(noisy.module_.corruption).__name__ == "SaltAndPepper"
    assert not np.allclose(
        clean.loss_curve_, noisy.loss_curve_
    )  # trained on corrupted input
    # Inference sees clean input, and the corruption's fitted extremes survive pickling.
    np.testing.assert_array_equal(noisy.transform(X), noisy.transform(X))
    loaded = pickle.loads(pickle.dumps(noisy))
    np.testing.assert_array_equal(loaded.transform(X), noisy.transform(X))
    np.testing.assert_allclose(
        loaded.module_.corruption.high.numpy(), X.max(axis=0), rtol=1e-6
    )


def test_denoising_ae_is_the_base_with_noise_on(digits):
    X = digits[0][:300]
    params = dict(n_components=8, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    named = DenoisingAE(**params).fit(X)
    composed = AutoencoderTransformer(**params, noise="gaussian").fit(X)
    assert named.loss_curve_ == composed.loss_curve_
    np.testing.assert_array_equal(named.transform(X), composed.transform(X))


def test_a_fraction_above_one_is_refused_for_every_variant(digits):
    with pytest.raises(ValueError, match="noise_level is a fraction"):
        SparseAE(k=4, noise="masking", noise_level=1.5, max_iter=1).fit(digits[0][:50])
