import numpy as np
import pandas as pd
import pytest
import torch

from skae import AutoencoderTransformer, DenoisingAE


def corrupt(estimator, X):
    """Apply a fitted DenoisingAE's corruption in training mode, as during fit."""
    corruption = estimator.module_.corruption.train()
    with torch.no_grad():
        out = corruption(torch.tensor(X)).numpy()
    corruption.eval()
    return out


@pytest.fixture(scope="module")
def uniform_data():
    return np.random.RandomState(0).uniform(1.0, 2.0, size=(4000, 25))


def fitted(noise, level, X):
    return DenoisingAE(
        4,
        noise=noise,
        noise_level=level,
        hidden_layer_sizes=(8,),
        max_iter=1,
        random_state=0,
    ).fit(X)


def test_gaussian_noise_has_the_requested_standard_deviation(uniform_data):
    noisy = corrupt(fitted("gaussian", 0.3, uniform_data), uniform_data)
    difference = noisy - uniform_data
    assert abs(difference.mean()) < 0.01
    assert difference.std() == pytest.approx(0.3, rel=0.02)


def test_masking_zeroes_the_requested_fraction(uniform_data):
    noisy = corrupt(fitted("masking", 0.25, uniform_data), uniform_data)
    zeroed = noisy == 0
    assert zeroed.mean() == pytest.approx(0.25, abs=0.01)
    np.testing.assert_array_equal(noisy[~zeroed], uniform_data[~zeroed])


def test_salt_and_pepper_uses_each_features_extremes_equally(uniform_data):
    noisy = corrupt(fitted("salt_and_pepper", 0.2, uniform_data), uniform_data)
    low, high = uniform_data.min(axis=0), uniform_data.max(axis=0)
    changed = noisy != uniform_data
    assert changed.mean() == pytest.approx(0.2, abs=0.01)
    is_low, is_high = np.isclose(noisy, low), np.isclose(noisy, high)
    assert np.all(is_low[changed] | is_high[changed])
    assert is_low[changed].mean() == pytest.approx(0.5, abs=0.03)


def test_corruption_is_off_outside_training_and_reproducible(digits):
    X = digits[0][:300]
    dae = DenoisingAE(
        8, noise="masking", noise_level=0.5, max_iter=3, random_state=0
    ).fit(X)
    np.testing.assert_array_equal(dae.transform(X), dae.transform(X))
    with torch.no_grad():
        clean_codes = dae.module_.encoder(torch.tensor(X)).numpy()
    np.testing.assert_allclose(dae.transform(X), clean_codes, rtol=1e-12)
    again = DenoisingAE(
        8, noise="masking", noise_level=0.5, max_iter=3, random_state=0
    ).fit(X)
    np.testing.assert_array_equal(again.transform(X), dae.transform(X))


def test_noise_level_above_one_is_refused_for_fractions():
    with pytest.raises(ValueError, match="fraction"):
        DenoisingAE(noise="masking", noise_level=1.5).fit(np.ones((4, 3)))


@pytest.mark.parametrize("noise, level", [("masking", 0.4), ("gaussian", 0.3)])
def test_denoising_beats_the_plain_autoencoder_on_corrupted_held_out_data(
    digits, noise, level
):
    X = digits[0]
    X_train, X_test = X[:1400], X[1400:]
    params = dict(
        n_components=32, hidden_layer_sizes=(128,), max_iter=60, random_state=0
    )
    dae = DenoisingAE(noise=noise, noise_level=level, **params).fit(X_train)
    ae = AutoencoderTransformer(**params).fit(X_train)
    noisy = corrupt(dae, X_test)
    error_dae = np.mean((dae.reconstruct(noisy) - X_test) ** 2)
    error_ae = np.mean((ae.reconstruct(noisy) - X_test) ** 2)
    assert error_dae < 0.8 * error_ae, f"DAE {error_dae:.4f} vs AE {error_ae:.4f}"


def test_masking_on_a_mixed_table_zeroes_whole_columns():
    """A masked cell of a mixed table looks like a missing one: all units of its column at 0 together."""
    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "size": rng.rand(3000),
            "city": pd.Categorical(rng.choice(["Lyon", "Oslo", "Rome", "Kyiv"], 3000)),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], 3000),
                categories=["low", "mid", "high"],
                ordered=True,
            ),
        }
    )
    dae = fitted("masking", 0.3, table)
    columns = dae._input_columns()
    np.testing.assert_array_equal(columns, [0, 1, 1, 1, 1, 2, 2])
    inputs = dae.schema_.encode(table).inputs
    noisy = corrupt(dae, inputs)
    for j in range(3):
        block_inputs, block_noisy = inputs[:, columns == j], noisy[:, columns == j]
        masked = (block_noisy == 0).all(axis=1) & (block_inputs != 0).any(axis=1)
        untouched = (block_noisy == block_inputs).all(axis=1)
        # Every row's block is either kept whole or zeroed whole, about 30 % zeroed.
        assert np.all(masked | untouched)
        assert masked.mean() == pytest.approx(0.3, abs=0.04)
