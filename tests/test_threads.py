"""Fits on threads of one process: each reproducible under its own random_state, the caller's torch RNG untouched."""

import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback
from torch import nn

from skae import VAE, AutoencoderTransformer, ContractiveAE, DenoisingAE


class WaitForAll(Callback):
    """Holds every fit at the start of its first epoch until all have started, so their training overlaps."""

    def __init__(self, barrier):
        self.barrier = barrier

    def on_epoch_begin(self, net, **kwargs):
        if self.barrier is not None and len(net.history) == 1:
            self.barrier.wait()


def _noisy_estimators(barrier=None):
    """Four fits whose training draws noise: corruption, reparameterisation, random projections."""
    common = dict(hidden_layer_sizes=(16,), max_iter=8, callbacks=[WaitForAll(barrier)])
    return [
        DenoisingAE(4, noise="gaussian", noise_level=0.3, random_state=0, **common),
        DenoisingAE(4, noise="masking", noise_level=0.3, random_state=1, **common),
        VAE(4, random_state=2, **common),
        ContractiveAE(4, jacobian="projection", random_state=3, **common),
    ]


def _fit_transform(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X).transform(X)


def _concurrently(estimators, X):
    with ThreadPoolExecutor(max_workers=len(estimators)) as pool:
        return list(
            pool.map(lambda estimator: _fit_transform(estimator, X), estimators)
        )


@pytest.fixture
def X(digits):
    return digits[0][:300]


def test_concurrent_fits_equal_the_same_fits_one_after_another(X):
    one_after_another = [
        _fit_transform(estimator, X) for estimator in _noisy_estimators()
    ]
    side_by_side = _concurrently(_noisy_estimators(threading.Barrier(4, timeout=60)), X)
    for serial, concurrent in zip(one_after_another, side_by_side):
        np.testing.assert_array_equal(concurrent, serial)


def test_concurrent_fits_leave_the_callers_torch_rng_alone(X):
    torch.manual_seed(123)
    expected = torch.rand(5)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    _concurrently(_noisy_estimators(threading.Barrier(4, timeout=60)), X)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(torch.rand(5), expected)


def _dropout_encoder(n_features, n_components):
    # nn.Dropout draws from torch's global generator, not skae's per-fit one.
    return nn.Sequential(
        nn.Linear(n_features, 16),
        nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(16, n_components),
    )


class NoisyEncoder(nn.Module):
    """A user's layer class whose forward draws from torch's global generator."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.linear = nn.Linear(n_features, n_components)

    def forward(self, x):
        return self.linear(x + 0.3 * torch.randn_like(x) if self.training else x)


@pytest.mark.parametrize("encoder", [_dropout_encoder, NoisyEncoder])
def test_a_network_drawing_from_the_global_generator_is_reproducible_also_on_threads(
    X, encoder
):
    def estimator(random_state):
        return AutoencoderTransformer(
            4, encoder=encoder, max_iter=8, random_state=random_state
        )

    torch.manual_seed(7)
    state = torch.get_rng_state()
    first, again = (_fit_transform(estimator(0), X) for _ in range(2))
    np.testing.assert_array_equal(again, first)
    other = _fit_transform(estimator(1), X)
    assert not np.allclose(other, first)
    side_by_side = _concurrently([estimator(0), estimator(1)] * 2, X)
    for concurrent, serial in zip(side_by_side, [first, other] * 2):
        np.testing.assert_array_equal(concurrent, serial)
    assert torch.equal(torch.get_rng_state(), state)


def test_the_noise_comes_from_the_fit_not_from_torchs_global_generator(X):
    # Seeding torch's global generator differently changes nothing in a seeded fit.
    results = []
    for global_seed in (0, 1):
        torch.manual_seed(global_seed)
        results.append(_fit_transform(_noisy_estimators()[0], X))
    np.testing.assert_array_equal(results[0], results[1])
