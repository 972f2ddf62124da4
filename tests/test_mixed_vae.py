"""VAE on mixed tables (issue 21): the ELBO over each column's likelihood, the table back in its own kinds."""

import io
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skae import VAE


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def table(n=160, seed=0):
    """Float (float32 and float64), Int64 counts, string categories, ordered levels, booleans; NaN/None/pd.NA gaps."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "area": rng.normal(60, 10, n),
            "price": rng.normal(3, 1, n).astype(np.float32),
            "rooms": pd.array(rng.poisson(3, n), dtype="Int64"),
            "city": pd.Series(rng.choice(["Lyon", "Oslo", "Rome"], n), dtype=object),
            "grade": pd.Categorical(
                rng.choice(["low", "mid", "high"], n),
                ["low", "mid", "high"],
                ordered=True,
            ),
            "owner": pd.array(rng.rand(n) > 0.5, dtype="boolean"),
        }
    )
    frame.loc[::6, "area"] = np.nan
    frame.loc[::7, "city"] = None
    frame.loc[::5, "rooms"] = pd.NA
    frame.loc[::8, "grade"] = np.nan
    frame.loc[::9, "owner"] = pd.NA
    return frame


def small(**params):
    return VAE(3, hidden_layer_sizes=(16,), max_iter=20, random_state=0, **params)


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return small().fit(table())


def test_fit_transform_and_inverse_transform_give_the_table_in_its_kinds(fitted):
    X = table()
    before = X.copy()
    codes = fitted.transform(X)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert codes.shape == (len(X), 3) and np.isfinite(codes).all()
    for decoded in (
        fitted.inverse_transform(codes),
        fitted.reconstruct(X),
        fitted.sample(25, random_state=0),
        fitted.sample_reconstruction(X, random_state=0),
        fitted.interpolate(X.iloc[1], X.iloc[2], n_steps=4),
    ):
        assert list(decoded.columns) == list(X.columns)
        assert decoded.dtypes.to_dict() == X.dtypes.to_dict()
        assert decoded["price"].dtype == np.float32  # the float32 column stays float32
        assert set(decoded["city"]) <= {"Lyon", "Oslo", "Rome"}
        assert set(decoded["grade"]) <= {"low", "mid", "high"}
        assert (decoded["rooms"] >= 0).all() and not decoded.isna().any().any()


def test_sample_reconstruction_draws_from_each_columns_likelihood(fitted):
    X = table()
    first, again = (
        fitted.sample_reconstruction(X, random_state=seed) for seed in (1, 1)
    )
    pd.testing.assert_frame_equal(first, again)  # seeded
    other = fitted.sample_reconstruction(X, random_state=2)
    assert not first.equals(other)  # draws, not the point prediction
    # Draws of a categorical column visit more than its most likely level.
    assert (
        first["city"].nunique() > fitted.reconstruct(X)["city"].nunique()
        or (first["city"] != fitted.reconstruct(X)["city"]).any()
    )


def test_scores_are_finite_bounds_in_nats(fitted):
    X = table()
    elbo = fitted.score_samples(X)
    assert elbo.shape == (len(X),) and elbo.dtype == np.float64
    assert np.isfinite(elbo).all()
    assert fitted.score(X) == pytest.approx(elbo.mean())
    bound = fitted.score_samples(X, n_samples=64)
    assert np.isfinite(bound).all()
    # The importance-weighted bound is at least the ELBO on average.
    assert bound.mean() >= elbo.mean()
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        fitted.score_samples(X, n_samples=0)


def test_per_column_shares_sum_to_the_elbo_and_spread_the_kl_over_observed_cells(
    fitted,
):
    X = table()
    per_column = fitted.score_samples_per_column(X)
    assert list(per_column.columns) == list(X.columns)
    assert per_column.index.equals(X.index)
    np.testing.assert_allclose(
        per_column.sum(axis=1).to_numpy(),
        fitted.score_samples(X),
        rtol=1e-10,
        atol=1e-10,
    )
    # A missing cell adds nothing, not even a share of the KL.
    assert (per_column.to_numpy()[X.isna().to_numpy()] == 0).all()
    assert np.isfinite(per_column.to_numpy()).all()


def test_missing_cells_are_left_out_of_the_likelihood(fitted):
    X = table()
    row = X.iloc[[1]].copy()
    assert not row.isna().any().any()
    gapped = row.copy()
    gapped["area"] = np.nan
    shares, gapped_shares = (
        fitted.score_samples_per_column(frame) for frame in (row, gapped)
    )
    assert gapped_shares["area"].iloc[0] == 0 and shares["area"].iloc[0] != 0
    # Fewer observed cells, fewer terms: a gap is not scored as if it were a value.
    assert fitted.score_samples(gapped)[0] != fitted.score_samples(row)[0]


def test_per_column_shares_of_a_numeric_vae_sum_to_the_elbo():
    X = np.random.RandomState(0).normal(size=(80, 4))
    model = VAE(2, max_iter=10, random_state=0).fit(X)
    per_column = model.score_samples_per_column(X)
    assert list(per_column.columns) == [f"x{j}" for j in range(4)]
    np.testing.assert_allclose(
        per_column.sum(axis=1).to_numpy(), model.score_samples(X), rtol=1e-10
    )


def test_a_planted_extreme_value_scores_lowest_and_its_column_is_named():
    X = table(n=300).dropna().reset_index(drop=True)
    model = VAE(3, hidden_layer_sizes=(32,), max_iter=100, random_state=0).fit(X)
    planted = X.copy()
    planted.loc[7, "area"] = 400.0
    scores = model.score_samples(planted)
    assert np.argmin(scores) == 7
    assert model.score_samples_per_column(planted).iloc[7].idxmin() == "area"


def test_likelihood_bernoulli_contradicts_a_mixed_table():
    with pytest.raises(ValueError, match="likelihood='bernoulli'.*kinds=\\{column"):
        VAE(2, likelihood="bernoulli", max_iter=2).fit(table())
    # Numbers in [0, 1] given as a mixed table by kinds: the kinds decide.
    X = np.random.RandomState(0).randint(0, 2, size=(40, 3)).astype(float)
    model = VAE(2, max_iter=2, random_state=0, kinds=["binary"] * 3).fit(X)
    assert set(np.unique(model.reconstruct(X))) <= {0.0, 1.0}


def test_an_unseen_level_is_refused_naming_its_column(fitted):
    X = table().assign(city="Paris")
    for method in ("transform", "score_samples", "score_samples_per_column"):
        with pytest.raises(ValueError, match="'city'"):
            getattr(fitted, method)(X)


def test_sample_weight_and_partial_fit_take_a_mixed_table():
    X = table()
    weights = np.r_[np.zeros(40), np.ones(len(X) - 40)]
    weighted = small().fit(X, sample_weight=weights)
    # The weights reach training (the schema's statistics are fitted on every row, as for the other
    # autoencoders, so the fit is not that of the subset bit for bit).
    scores = weighted.score_samples(X)
    assert np.isfinite(scores).all()
    assert not np.allclose(scores, small().fit(X).score_samples(X))
    model = small().partial_fit(X).partial_fit(X)
    assert model.n_iter_ == 2 and np.isfinite(model.score_samples(X)).all()


def test_clone_and_get_params_are_untouched():
    model = small(kinds={"rooms": "count"})
    params = model.get_params()
    model.fit(table())
    assert model.get_params() == params
    copy = clone(model)
    assert copy.get_params() == params and not hasattr(copy, "schema_")


def test_a_mixed_vae_saves_with_skops_and_pickle_and_loads_identical(fitted):
    skops_io = pytest.importorskip("skops.io")
    import skae

    X = table()
    for loaded in (
        pickle.loads(pickle.dumps(fitted)),
        skae.load(io.BytesIO(skops_io.dumps(fitted))),
    ):
        np.testing.assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))
        np.testing.assert_array_equal(
            loaded.score_samples(X, n_samples=8), fitted.score_samples(X, n_samples=8)
        )
        pd.testing.assert_frame_equal(
            loaded.score_samples_per_column(X), fitted.score_samples_per_column(X)
        )
        pd.testing.assert_frame_equal(loaded.reconstruct(X), fitted.reconstruct(X))
        pd.testing.assert_frame_equal(
            loaded.sample(5, random_state=0), fitted.sample(5, random_state=0)
        )


def test_a_row_of_gaps_scores_its_kl_spread_over_every_column(fitted):
    X = table().iloc[:1].copy()
    for name in X.columns:
        X[name] = X[name].where(np.zeros(1, dtype=bool))  # missing, in its own dtype
    per_column = fitted.score_samples_per_column(X)
    score = fitted.score_samples(X)[0]
    assert score < 0  # minus the KL: nothing observed, nothing to explain but the code
    np.testing.assert_allclose(
        per_column.iloc[0].to_numpy(), score / X.shape[1], rtol=1e-12
    )
