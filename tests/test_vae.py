import copy

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skae import VAE, AutoencoderTransformer
from skae._inference import inference_copy
from skae.losses import LOG_2PI, kl_standard_normal


def test_closed_form_kl_matches_monte_carlo():
    torch.manual_seed(0)
    mean, log_var = (
        torch.randn(4, 3, dtype=torch.float64),
        torch.randn(4, 3, dtype=torch.float64),
    )
    n = 200_000
    z = mean + torch.exp(0.5 * log_var) * torch.randn(n, 4, 3, dtype=torch.float64)
    log_q = -0.5 * (LOG_2PI + log_var + (z - mean) ** 2 / log_var.exp()).sum(-1)
    log_p = -0.5 * (LOG_2PI + z**2).sum(-1)
    samples = log_q - log_p
    monte_carlo, standard_error = samples.mean(0), samples.std(0) / np.sqrt(n)
    assert torch.all(
        (monte_carlo - kl_standard_normal(mean, log_var)).abs() < 4 * standard_error
    )


@pytest.fixture(scope="module")
def bernoulli_vae(digits):
    return VAE(
        8, likelihood="bernoulli", hidden_layer_sizes=(64,), max_iter=30, random_state=0
    ).fit(digits[0][:1000])


def test_elbo_below_importance_weighted_bounds_that_tighten(bernoulli_vae, digits):
    X = digits[0][1000:1300]
    # Every row shares the draws, so one draw set's error does not average out
    # over rows: the ordering, true in expectation, is checked over draw sets.
    model = copy.deepcopy(bernoulli_vae)
    bounds = []
    for seed in range(5):
        model._score_seed = seed
        bounds.append(
            [model.score_samples(X, n_samples=k).mean() for k in (None, 10, 200)]
        )
    elbo, iwae_10, iwae_200 = np.mean(bounds, axis=0)
    assert elbo < iwae_10 < iwae_200, (elbo, iwae_10, iwae_200)
    assert iwae_200 < 0  # a log-probability of binary-ish data in nats


@pytest.mark.parametrize("n_samples", [None, 7], ids=["elbo", "importance_weighted"])
def test_a_rows_score_does_not_depend_on_the_other_rows(
    bernoulli_vae, digits, n_samples
):
    X = digits[0][:300]
    scores = bernoulli_vae.score_samples(X, n_samples=n_samples)
    alone = np.array(
        [
            bernoulli_vae.score_samples(X[[i]], n_samples=n_samples)[0]
            for i in (0, 17, 299)
        ]
    )
    np.testing.assert_allclose(alone, scores[[0, 17, 299]], rtol=1e-12)
    order = np.random.RandomState(0).permutation(len(X))
    np.testing.assert_allclose(
        bernoulli_vae.score_samples(X[order], n_samples=n_samples),
        scores[order],
        rtol=1e-12,
    )
    # Fixed at fit time: the same on every call, even for a model fitted with random_state=None.
    unseeded = VAE(4, likelihood="bernoulli", hidden_layer_sizes=(16,), max_iter=2).fit(
        X
    )
    np.testing.assert_array_equal(
        unseeded.score_samples(X[:5], n_samples=n_samples),
        unseeded.score_samples(X[:5], n_samples=n_samples),
    )


def test_scores_are_reproducible_under_random_state_and_use_common_draws(
    bernoulli_vae, digits
):
    X = digits[0][:300]
    refit = VAE(**bernoulli_vae.get_params()).fit(digits[0][:1000])
    np.testing.assert_array_equal(
        refit.score_samples(X), bernoulli_vae.score_samples(X)
    )
    assert bernoulli_vae.score(X) == pytest.approx(
        bernoulli_vae.score_samples(X).mean()
    )
    noise = bernoulli_vae.score_draws(50)
    assert noise.shape == (50, 1, 8)
    # A larger number of draws extends the same sequence; draws are spread like N(0, 1).
    np.testing.assert_array_equal(bernoulli_vae.score_draws(10), noise[:10])
    assert abs(float(noise.mean())) < 0.1 and abs(float(noise.std()) - 1) < 0.1


def test_scores_fall_back_to_independent_normal_draws_beyond_sobols_dimensions(
    bernoulli_vae, digits, monkeypatch
):
    monkeypatch.setattr(torch.quasirandom.SobolEngine, "MAXDIM", 4)
    noise = bernoulli_vae.score_draws(10)
    assert noise.shape == (10, 1, 8)
    generator = torch.Generator().manual_seed(bernoulli_vae._score_seed)
    np.testing.assert_array_equal(
        noise, torch.randn((10, 1, 8), generator=generator, dtype=torch.float64)
    )
    X = digits[0][:50]
    np.testing.assert_allclose(
        bernoulli_vae.score_samples(X[:1]),
        bernoulli_vae.score_samples(X)[:1],
        rtol=1e-12,
    )


def test_linear_gaussian_vae_matches_probabilistic_pca():
    X = StandardScaler().fit_transform(load_digits().data)
    X_train, X_test = train_test_split(X, random_state=0)
    pca = PCA(8).fit(X_train)
    vae = VAE(
        8,
        hidden_layer_sizes=(),
        activation="identity",
        learning_rate_init=3e-3,
        max_iter=300,
        random_state=0,
    ).fit(X_train)
    pca_scores, vae_scores = (
        pca.score_samples(X_test),
        vae.score_samples(X_test, n_samples=100),
    )
    # The linear VAE's bound approaches pPCA's exact log-likelihood from below.
    relative_gap = abs(vae_scores.mean() - pca_scores.mean()) / abs(pca_scores.mean())
    assert relative_gap < 0.01, (
        f"held-out mean {vae_scores.mean():.2f} vs pPCA {pca_scores.mean():.2f}"
    )
    assert np.corrcoef(vae_scores, pca_scores)[0, 1] > 0.99


def test_sample_and_interpolate_shapes_dtypes_and_reproducibility(
    bernoulli_vae, digits
):
    samples = bernoulli_vae.sample(6, random_state=3)
    assert samples.shape == (6, 64) and samples.dtype == np.float64
    assert samples.min() >= 0 and samples.max() <= 1
    np.testing.assert_array_equal(samples, bernoulli_vae.sample(6, random_state=3))
    assert not np.allclose(samples, bernoulli_vae.sample(6, random_state=4))

    a, b = digits[0][0].astype(np.float32), digits[0][1].astype(np.float32)
    path = bernoulli_vae.interpolate(a, b, n_steps=5)
    assert path.shape == (5, 64) and path.dtype == np.float32
    ends = bernoulli_vae.inverse_transform(bernoulli_vae.transform(np.vstack([a, b])))
    np.testing.assert_allclose(path[[0, -1]], ends, rtol=1e-5, atol=1e-6)


def test_sample_and_interpolate_run_through_the_inference_path(bernoulli_vae, digits):
    # Like transform: in batches of inference_batch_size, in the input's dtype.
    vae = copy.deepcopy(bernoulli_vae).set_params(inference_batch_size=4)
    recorded = []
    for dtype in (np.float32, np.float64):
        module = inference_copy(vae.module_, torch.device("cpu"), dtype)[0]
        module.decoder.register_forward_hook(
            lambda m, args, out: recorded.append((len(args[0]), args[0].dtype))
        )
    samples = vae.sample(10, random_state=3)
    assert recorded == [(4, torch.float64), (4, torch.float64), (2, torch.float64)]
    np.testing.assert_allclose(
        samples, bernoulli_vae.sample(10, random_state=3), rtol=1e-12
    )
    a, b = digits[0][0].astype(np.float32), digits[0][1].astype(np.float32)
    recorded.clear()
    path = vae.interpolate(a, b, n_steps=3)
    assert path.dtype == np.float32 and recorded == [(3, torch.float32)]
    np.testing.assert_allclose(
        path,
        bernoulli_vae.interpolate(
            a.astype(np.float64), b.astype(np.float64), n_steps=3
        ),
        rtol=1e-5,
    )
    # Naming the CPU changes nothing on a CPU-trained model.
    on_cpu = copy.deepcopy(bernoulli_vae).set_params(inference_device="cpu")
    np.testing.assert_array_equal(
        on_cpu.sample(10, random_state=3), bernoulli_vae.sample(10, random_state=3)
    )
    X = digits[0][:6]
    np.testing.assert_array_equal(
        on_cpu.sample_reconstruction(X, random_state=1),
        bernoulli_vae.sample_reconstruction(X, random_state=1),
    )


def test_gradients_reach_mean_and_variance_through_the_reparameterisation(digits):
    vae = VAE(4, hidden_layer_sizes=(16,), beta=0.0, max_iter=1, random_state=0).fit(
        digits[0][:50]
    )
    module = vae.module_.float().train()
    loss = vae._objective(module, torch.tensor(digits[0][:50], dtype=torch.float32))
    loss.backward()
    # beta=0 removes the KL, so the variance head learns only through z = mu + sigma * eps.
    assert module.mean_head.weight.grad.abs().sum() > 0
    assert module.log_var_head.weight.grad.abs().sum() > 0


def test_transform_is_the_posterior_mean_and_bernoulli_rejects_data_outside_unit_interval(
    bernoulli_vae, digits
):
    X = digits[0][:5]
    with torch.no_grad():
        mean, _ = bernoulli_vae.module_.posterior(torch.tensor(X))
    np.testing.assert_allclose(bernoulli_vae.transform(X), mean.numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match=r"likelihood='bernoulli' needs X in \[0, 1\]"):
        VAE(likelihood="bernoulli").fit(X * 3)


def test_default_vae_on_digits_keeps_several_active_units(digits):
    vae = VAE(random_state=0).fit(digits[0])
    assert vae.n_active_units_ >= 3, f"only {vae.n_active_units_} active latent units"


def test_grid_search_selects_by_held_out_likelihood(digits):
    X = digits[0]
    search = GridSearchCV(
        VAE(hidden_layer_sizes=(32,), max_iter=60, random_state=0),
        {"n_components": [1, 8]},
        cv=2,
    ).fit(X)
    assert search.best_params_ == {"n_components": 8}


def test_gaussian_vae_trains_alike_on_any_scale():
    # N(0, s^2) data diverged on the first batch for s >= 300 at any learning
    # rate (the log-variance head's exp overflowed); now fitting s * X is the
    # same optimisation as fitting X, with likelihoods in X's units.
    X = np.random.RandomState(0).normal(size=(300, 5))
    params = dict(n_components=2, hidden_layer_sizes=(16,), max_iter=15, random_state=0)
    reference = VAE(**params).fit(X)
    for s in (1e-4, 300.0, 1e4, 1e18):
        vae = VAE(**params).fit(s * X)
        shift = 5 * np.log(s)  # n_features * log(s) nats
        np.testing.assert_allclose(
            vae.loss_curve_,
            np.array(reference.loss_curve_) + shift,
            rtol=1e-5,
            atol=1e-4,
        )
        np.testing.assert_allclose(
            vae.transform(s * X), reference.transform(X), rtol=1e-4, atol=1e-4
        )
        np.testing.assert_allclose(
            vae.score_samples(s * X),
            reference.score_samples(X) - shift,
            rtol=1e-5,
            atol=1e-3,
        )
        np.testing.assert_allclose(
            vae.reconstruct(s * X[:5]),
            s * reference.reconstruct(X[:5]),
            rtol=1e-4,
            atol=1e-4 * s,
        )


def test_divergence_message_recommends_what_works():
    X = np.random.RandomState(0).normal(size=(300, 5))
    with pytest.raises(
        FloatingPointError,
        match=r"training diverged\. Lower learning_rate_init \(now 10\.0\)",
    ):
        VAE(
            2,
            hidden_layer_sizes=(16,),
            learning_rate_init=10.0,
            max_iter=5,
            random_state=0,
        ).fit(X)
    VAE(
        2, hidden_layer_sizes=(16,), learning_rate_init=1e-3, max_iter=5, random_state=0
    ).fit(X)
    # Squared errors of values near 1e18 overflow float32 at any learning rate; scaling X helps.
    with pytest.raises(
        FloatingPointError,
        match=r"beyond about 1e15, whose squares overflow float32, scale it first",
    ):
        AutoencoderTransformer(
            2,
            hidden_layer_sizes=(16,),
            learning_rate_init=1e-6,
            max_iter=5,
            random_state=0,
        ).fit(1e18 * X)
    AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_iter=5, random_state=0).fit(
        StandardScaler().fit_transform(1e18 * X)
    )


def test_gaussian_vae_on_constant_data_has_finite_scores_above_the_noise_floor():
    X = np.full((40, 3), 5.0)
    vae = VAE(2, hidden_layer_sizes=(8,), max_iter=3, random_state=0).fit(X)
    assert float(vae.module_.input_scale) == 1.0  # no spread to divide by
    np.testing.assert_array_equal(vae.module_.input_shift.numpy(), [5.0, 5.0, 5.0])
    assert np.isfinite(float(vae.module_.log_noise_var)) and float(
        vae.module_.log_noise_var
    ) >= np.log(1e-6)
    assert np.isfinite(vae.score_samples(X)).all()
