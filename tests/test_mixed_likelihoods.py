"""The per-column likelihoods: closed forms, the raw-output layout, masks, points and draws."""

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats
from scipy.special import expit, log_softmax, softplus

from skae._columns import ColumnSchema
from skae._likelihoods import (
    MixedLikelihood,
    bernoulli_log_prob,
    categorical_log_prob,
    gaussian_log_prob,
    lognormal_log_prob,
    ordered_cutpoints,
    ordered_logit_log_prob,
    poisson_log_prob,
)

D = torch.distributions


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def t(array):
    return torch.as_tensor(np.asarray(array), dtype=torch.float64)


def test_closed_forms_match_torch_distributions(rng):
    mean, log_scale = t(rng.normal(size=50)), t(rng.normal(size=50))
    x = t(rng.normal(size=50) * 3)
    expected = D.Normal(mean, log_scale.exp()).log_prob(x)
    torch.testing.assert_close(
        gaussian_log_prob(x, mean, log_scale), expected, rtol=0, atol=1e-6
    )
    y = t(rng.lognormal(size=50))
    expected = D.LogNormal(mean, log_scale.exp()).log_prob(y)
    torch.testing.assert_close(
        lognormal_log_prob(y, mean, log_scale), expected, rtol=0, atol=1e-6
    )
    k = t(rng.poisson(4.0, size=50))
    torch.testing.assert_close(
        poisson_log_prob(k, mean), D.Poisson(mean.exp()).log_prob(k), rtol=0, atol=1e-6
    )
    b = t(rng.integers(0, 2, size=50))
    torch.testing.assert_close(
        bernoulli_log_prob(b, mean),
        D.Bernoulli(logits=mean).log_prob(b),
        rtol=0,
        atol=1e-6,
    )
    logits, levels = (
        t(rng.normal(size=(50, 6))),
        torch.as_tensor(rng.integers(0, 6, size=50)),
    )
    expected = D.Categorical(logits=logits).log_prob(levels)
    torch.testing.assert_close(
        categorical_log_prob(levels, logits), expected, rtol=0, atol=1e-6
    )


def test_ordered_logit_matches_logistic_cdf_differences(rng):
    location, raw = rng.normal(size=200) * 3, rng.normal(size=(200, 4))
    cutpoints = ordered_cutpoints(t(raw)).numpy()
    assert (np.diff(cutpoints, axis=1) > 0).all()
    levels = rng.integers(0, 5, size=200)
    bounds = (
        np.column_stack([np.full(200, -np.inf), cutpoints, np.full(200, np.inf)])
        - location[:, None]
    )
    rows = np.arange(200)
    expected = np.log(
        stats.logistic.cdf(bounds[rows, levels + 1])
        - stats.logistic.cdf(bounds[rows, levels])
    )
    got = ordered_logit_log_prob(torch.as_tensor(levels), t(location), t(cutpoints))
    np.testing.assert_allclose(got.numpy(), expected, rtol=0, atol=1e-6)


def test_ordered_logit_is_finite_when_cutpoints_merge_in_float32():
    # A level between two cut-points that float32 rounds to the same number: very unlikely, not impossible.
    cutpoints = torch.tensor(
        [[10.0, 10.0, 12.0]], dtype=torch.float32, requires_grad=True
    )
    location = torch.zeros(1, dtype=torch.float32, requires_grad=True)
    log_prob = ordered_logit_log_prob(torch.tensor([1]), location, cutpoints)
    log_prob.sum().backward()
    assert torch.isfinite(log_prob).all() and float(log_prob.detach()) < -20
    assert torch.isfinite(location.grad).all() and torch.isfinite(cutpoints.grad).all()


def test_ordered_logit_is_finite_with_finite_gradients_far_out():
    location = t([-50.0, 0.0, 50.0]).requires_grad_()
    cutpoints = ordered_cutpoints(t([[0.0, 1.0, -3.0]] * 3)).requires_grad_()
    log_prob = ordered_logit_log_prob(torch.tensor([3, 0, 0]), location, cutpoints)
    log_prob.sum().backward()
    assert torch.isfinite(location.grad).all() and torch.isfinite(cutpoints.grad).all()


def mixed_frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "height": rng.normal(170, 10, n),
            "income": np.round(
                rng.lognormal(3, 1, n) - 1 * (rng.random(n) < 0.2), 2
            ).clip(0),
            "visits": rng.poisson(3, n),
            "smoker": rng.random(n) < 0.3,
            "city": rng.choice(["Lyon", "Oslo", "Rome"], n).astype(object),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], n),
                categories=["low", "mid", "high"],
                ordered=True,
            ),
        }
    )
    frame.loc[rng.random(n) < 0.2, "height"] = np.nan
    frame.loc[rng.random(n) < 0.2, "city"] = None
    return frame


@pytest.fixture
def fitted():
    frame = mixed_frame()
    schema = ColumnSchema(kinds={"income": "positive"}).fit(frame)
    return frame, schema, MixedLikelihood(schema, min_scale=0.0)


def reference_nll(column, raw, x):
    """The negative log-likelihood of one column's observed values from scipy, in the table's units."""
    counts = np.asarray(column.level_counts, dtype=float) + 0.5
    log_p = np.log(counts / counts.sum())
    if column.kind in ("real", "positive"):
        mean, scale = (
            column.loc + column.scale * raw[:, 0],
            column.scale * np.exp(raw[:, 1]),
        )
        if column.kind == "real":
            return -stats.norm.logpdf(x, mean, scale)
        return -stats.lognorm.logpdf(x, s=scale, loc=-1, scale=np.exp(mean))
    if column.kind == "count":
        return -stats.poisson.logpmf(x, column.mean * np.exp(raw[:, 0]))
    if column.kind == "binary":
        return -stats.bernoulli.logpmf(x, expit(raw[:, 0] + log_p[1] - log_p[0]))
    if column.kind == "categorical":
        return -log_softmax(raw + log_p, axis=1)[np.arange(len(x)), x]
    cumulative = np.log(np.cumsum(np.exp(log_p))[:-1]) - np.log1p(
        -np.cumsum(np.exp(log_p))[:-1]
    )
    cut_raw = raw[:, 1:] + np.r_[cumulative[0], np.log(np.expm1(np.diff(cumulative)))]
    cutpoints = (
        cut_raw[:, :1]
        + np.r_["1", np.zeros((len(x), 1)), np.cumsum(softplus(cut_raw[:, 1:]), axis=1)]
    )
    cdf = stats.logistic.cdf(
        np.c_[np.full(len(x), -np.inf), cutpoints, np.full(len(x), np.inf)] - raw[:, :1]
    )
    return -np.log(cdf[np.arange(len(x)), x + 1] - cdf[np.arange(len(x)), x])


def test_each_column_is_scored_in_its_own_units_as_scipy_does(fitted, rng):
    frame, schema, likelihood = fitted
    encoded = schema.encode(frame)
    raw = rng.normal(scale=0.7, size=(len(frame), likelihood.n_outputs))
    nll = likelihood(
        t(raw), t(encoded.targets), torch.as_tensor(encoded.observed)
    ).numpy()
    for j, column in enumerate(schema.columns_):
        seen = encoded.observed[:, j]
        x = (
            encoded.targets[seen, j].astype(int)
            if column.kind in ("binary", "categorical", "ordinal")
            else None
        )
        if x is None:
            x = frame.iloc[:, j].to_numpy(dtype=float)[seen]
        expected = reference_nll(column, raw[seen][:, likelihood.output_slices[j]], x)
        np.testing.assert_allclose(
            nll[seen, j], expected, rtol=1e-9, atol=1e-6, err_msg=column.name
        )


def test_zero_output_is_each_columns_training_marginal(fitted):
    frame, schema, likelihood = fitted
    raw = torch.zeros(1, likelihood.n_outputs, dtype=torch.float64)
    point = likelihood.point(raw).numpy()[0]
    decoded = schema.decode(point[None])
    assert decoded["height"][0] == pytest.approx(frame["height"].mean())
    assert point[2] == pytest.approx(frame["visits"].mean())
    assert decoded["smoker"][0] == bool(frame["smoker"].mean() > 0.5)
    assert decoded["city"][0] == frame["city"].mode()[0]
    assert (
        decoded["grade"][0] == frame["grade"].sort_values().iloc[(len(frame) - 1) // 2]
    )


def test_row_total_is_the_sum_of_columns_and_missing_cells_add_nothing(fitted, rng):
    frame, schema, likelihood = fitted
    encoded = schema.encode(frame)
    raw = t(rng.normal(size=(len(frame), likelihood.n_outputs)))
    targets, observed = t(encoded.targets), torch.as_tensor(encoded.observed)
    nll = likelihood(raw, targets, observed)
    assert (nll[~observed] == 0).all() and (~observed).any()
    # Any garbage in a missing cell's target changes nothing.
    garbage = torch.where(observed, targets, torch.nan)
    torch.testing.assert_close(
        likelihood(raw, garbage, observed).sum(dim=1), nll.sum(dim=1)
    )
    # Weights scale each cell's term; a weight of 2 counts the cell twice.
    torch.testing.assert_close(likelihood(raw, targets, 2.0 * observed), 2 * nll)


def test_gradients_are_finite_with_missing_cells(fitted, rng):
    frame, schema, likelihood = fitted
    encoded = schema.encode(frame)
    raw = t(
        rng.normal(scale=5, size=(len(frame), likelihood.n_outputs))
    ).requires_grad_()
    likelihood(
        raw, t(encoded.targets), torch.as_tensor(encoded.observed)
    ).sum().backward()
    assert torch.isfinite(raw.grad).all()


def test_float32_output_gives_float32_terms(fitted):
    frame, schema, likelihood = fitted
    encoded = schema.encode(frame, dtype=np.float32)
    raw = torch.zeros(len(frame), likelihood.n_outputs)
    nll = likelihood(
        raw, torch.as_tensor(encoded.targets), torch.as_tensor(encoded.observed)
    )
    assert nll.dtype == torch.float32 and torch.isfinite(nll).all()


def test_min_scale_floors_the_scale():
    schema = ColumnSchema().fit(pd.DataFrame({"x": [0.0, 1.0, 2.0]}))
    raw = t([[0.0, -30.0]])
    floored = MixedLikelihood(schema, min_scale=0.1)(
        raw, t([[0.0]]), torch.tensor([[True]])
    )
    expected = -stats.norm.logpdf(1.0, 1.0, schema.columns_[0].scale * 0.1)
    assert float(floored) == pytest.approx(expected, abs=1e-6)


def test_draws_follow_the_predicted_distribution(fitted):
    _, schema, likelihood = fitted
    raw = torch.zeros(4000, likelihood.n_outputs, dtype=torch.float64)
    draws = likelihood.sample(raw, torch.Generator().manual_seed(0)).numpy()
    counts = schema.columns_[5].level_counts
    expected = (np.asarray(counts) + 0.5) / (sum(counts) + 1.5)
    np.testing.assert_allclose(
        np.bincount(draws[:, 5].astype(int), minlength=3) / 4000, expected, atol=0.03
    )
    assert draws[:, 2].mean() == pytest.approx(schema.columns_[2].mean, rel=0.05)
    assert draws[:, 0].std() == pytest.approx(1.0, rel=0.05)


def test_output_layout_widths(fitted):
    likelihood = fitted[2]
    widths = [s.stop - s.start for s in likelihood.output_slices]
    assert widths == [2, 2, 1, 1, 3, 3]
    assert likelihood.n_outputs == 12


def test_a_fixed_scale_is_each_columns_training_standard_deviation(fitted, rng):
    """learn_scale=False: one output per real or positive column, scored as scipy does with the
    column's training standard deviation (of log1p for positive ones) as the scale."""
    frame, schema, _ = fitted
    likelihood = MixedLikelihood(schema, learn_scale=False)
    assert [s.stop - s.start for s in likelihood.output_slices] == [1, 1, 1, 1, 3, 3]
    encoded = schema.encode(frame)
    raw = rng.normal(scale=0.7, size=(len(frame), likelihood.n_outputs))
    nll = likelihood(
        t(raw), t(encoded.targets), torch.as_tensor(encoded.observed)
    ).numpy()
    for j in (0, 1):
        column, seen = schema.columns_[j], encoded.observed[:, j]
        x = frame.iloc[:, j].to_numpy(dtype=float)[seen]
        unit_scale = np.c_[raw[seen, likelihood.output_slices[j]], np.zeros(seen.sum())]
        np.testing.assert_allclose(
            nll[seen, j], reference_nll(column, unit_scale, x), rtol=1e-9, atol=1e-6
        )


def test_the_autoencoders_fix_the_scale_and_the_vae_learns_it():
    from skae import VAE, AutoencoderTransformer

    frame = mixed_frame(60)
    for estimator, learned in ((AutoencoderTransformer(2), False), (VAE(2), True)):
        estimator.set_params(max_iter=2, random_state=0).fit(frame)
        widths = [s.stop - s.start for s in estimator.module_.likelihood.output_slices]
        assert widths[:2] == ([2, 2] if learned else [1, 1])
