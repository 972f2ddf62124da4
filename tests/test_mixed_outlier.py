"""AutoencoderOutlierDetector on mixed tables (issue 21): one score per row in nats, and the columns behind it."""

import io
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning

from skae import VAE, AutoencoderOutlierDetector, AutoencoderTransformer


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def table(n=240, seed=0):
    """Floats, Int64 counts, string categories, ordered levels, booleans; NaN/None/pd.NA gaps."""
    rng = np.random.RandomState(seed)
    frame = pd.DataFrame(
        {
            "area": rng.normal(60, 10, n),
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


AUTOENCODERS = {
    "default": None,
    "VAE": VAE(3, hidden_layer_sizes=(16,), max_iter=20),
}


@pytest.fixture(scope="module", params=list(AUTOENCODERS))
def fitted(request):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return AutoencoderOutlierDetector(
            AUTOENCODERS[request.param], n_trim_rounds=1, random_state=0
        ).fit(table())


def test_fit_predict_score_samples_and_decision_function(fitted):
    X = table()
    before = X.copy()
    scores = fitted.score_samples(X)
    pd.testing.assert_frame_equal(X, before)  # input untouched
    assert scores.shape == (len(X),) and scores.dtype == np.float64
    assert np.isfinite(scores).all()
    inner = fitted.estimators_[0]
    # The score is the autoencoder's own log-likelihood of each row.
    np.testing.assert_array_equal(scores, inner.score_samples(X))
    assert fitted.scoring_ == ("elbo" if isinstance(inner, VAE) else "reconstruction")
    np.testing.assert_array_equal(fitted.decision_function(X), scores - fitted.offset_)
    labels = fitted.predict(X)
    assert set(labels) <= {-1, 1}
    np.testing.assert_array_equal(labels == -1, scores < fitted.offset_)
    assert fitted.n_features_in_ == 5
    assert list(fitted.feature_names_in_) == list(X.columns)


def test_per_column_scores_sum_to_score_samples(fitted):
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
    missing = X.isna().to_numpy()
    some_observed = ~missing.all(axis=1)
    # A missing cell adds nothing; in a row of nothing but gaps (row 0), a VAE's KL is all there is,
    # spread evenly over the columns.
    assert (per_column.to_numpy()[some_observed][missing[some_observed]] == 0).all()
    assert missing[0].all() and np.ptp(per_column.iloc[0].to_numpy()) == 0


@pytest.mark.parametrize("autoencoder", list(AUTOENCODERS))
def test_a_planted_outlier_scores_lowest_and_its_column_is_named(autoencoder):
    X = table(n=300).dropna().reset_index(drop=True)
    X.loc[11, "area"] = 400.0  # a valid number, thirty standard deviations out
    detector = AutoencoderOutlierDetector(
        AUTOENCODERS[autoencoder], n_trim_rounds=1, random_state=0
    ).fit(X)
    scores = detector.score_samples(X)
    assert np.argmin(scores) == 11 and detector.predict(X)[11] == -1
    assert detector.score_samples_per_column(X).iloc[11].idxmin() == "area"


def test_a_rare_level_combination_is_explained_by_its_columns():
    # city decides grade in the training data; a row that breaks the rule is unusual in those columns.
    rng = np.random.RandomState(0)
    city = rng.choice(["Lyon", "Oslo", "Rome"], 400)
    X = pd.DataFrame(
        {
            "city": city,
            "grade": pd.Categorical(
                pd.Series(city).map({"Lyon": "low", "Oslo": "mid", "Rome": "high"}),
                ["low", "mid", "high"],
                ordered=True,
            ),
            "area": rng.uniform(50, 70, 400),
        }
    )
    X.loc[5, "grade"] = "high" if X.loc[5, "city"] != "Rome" else "low"
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, hidden_layer_sizes=(16,), max_iter=200),
        n_trim_rounds=0,
        random_state=0,
    ).fit(X)
    assert np.argmin(detector.score_samples(X)) == 5
    assert detector.score_samples_per_column(X).iloc[5].idxmin() in ("city", "grade")


def test_kinds_reach_the_autoencoder():
    rng = np.random.RandomState(0)
    X = np.column_stack([rng.randint(0, 3, 120), rng.normal(size=120)])
    kinds = ["categorical", "real"]
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, max_iter=5), kinds=kinds, n_trim_rounds=0
    ).fit(X)
    inner = detector.estimators_[0]
    assert inner.kinds == kinds
    assert [column.kind for column in inner.schema_.columns_] == kinds
    np.testing.assert_array_equal(detector.score_samples(X), inner.score_samples(X))
    # A DataFrame's inferred kinds are overridden by name.
    frame = table().assign(floor=rng.randint(0, 4, 240))
    inner = (
        AutoencoderOutlierDetector(kinds={"floor": "categorical"}, n_trim_rounds=0)
        .fit(frame)
        .estimators_[0]
    )
    assert inner.schema_.columns_[-1].kind == "categorical"


def test_zero_weights_drop_rows_as_on_numbers():
    X = table()
    weights = np.r_[np.zeros(30), np.ones(len(X) - 30)]
    detector = AutoencoderOutlierDetector(n_trim_rounds=1, random_state=0)
    weighted = clone(detector).fit(X, sample_weight=weights)
    subset = clone(detector).fit(X.iloc[30:])
    np.testing.assert_array_equal(weighted.score_samples(X), subset.score_samples(X))
    assert weighted.offset_ == subset.offset_


def test_options_that_need_numbers_are_refused_on_a_mixed_table():
    X = table()
    with pytest.raises(
        ValueError, match="scoring='likelihood' reads numeric residuals"
    ):
        AutoencoderOutlierDetector(scoring="likelihood").fit(X)
    with pytest.raises(ValueError, match="scoring='elbo' reads numeric residuals"):
        AutoencoderOutlierDetector(scoring="elbo").fit(X)  # not a VAE
    with pytest.raises(ValueError, match="max_features=0.5 .feature bagging."):
        AutoencoderOutlierDetector(max_features=0.5).fit(X)
    numeric = np.random.RandomState(0).normal(size=(60, 4))
    bagged = AutoencoderOutlierDetector(
        n_estimators=2, max_features=0.5, n_trim_rounds=0, random_state=0
    ).fit(numeric)
    with pytest.raises(ValueError, match="no per-column breakdown"):
        bagged.score_samples_per_column(numeric)


@pytest.mark.parametrize("scoring", ["reconstruction", "likelihood", "elbo"])
def test_per_column_scores_on_numbers_sum_to_score_samples(scoring):
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(size=(200, 4)), [[0.0, 9.0, 0.0, 0.0]]])
    for dtype in (np.float64, np.float32):
        detector = AutoencoderOutlierDetector(
            VAE(2, max_iter=20) if scoring == "elbo" else None,
            scoring=scoring,
            n_estimators=2,
            n_trim_rounds=0,
            random_state=0,
        ).fit(X.astype(dtype))
        scores = detector.score_samples(X.astype(dtype))
        assert scores.dtype == dtype  # numbers keep their float dtype
        per_column = detector.score_samples_per_column(X.astype(dtype))
        assert list(per_column.columns) == [f"x{j}" for j in range(4)]
        np.testing.assert_allclose(
            per_column.sum(axis=1).to_numpy(),
            scores,
            rtol=1e-5 if dtype == np.float32 else 1e-10,
        )
        assert per_column.iloc[-1].idxmin() == "x1"


def test_a_bernoulli_cell_outside_the_unit_interval_is_minus_infinity():
    X = np.random.RandomState(0).rand(60, 3)
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, likelihood="bernoulli", max_iter=5),
        n_trim_rounds=0,
    ).fit(X)
    odd = X[:1].copy()
    odd[0, 2] = 1.5
    per_column = detector.score_samples_per_column(odd)
    assert (
        per_column.iloc[0, 2] == -np.inf and np.isfinite(per_column.iloc[0, :2]).all()
    )
    assert detector.score_samples(odd)[0] == -np.inf


def test_clone_and_get_params_are_untouched():
    detector = AutoencoderOutlierDetector(kinds={"rooms": "count"}, n_trim_rounds=0)
    params = detector.get_params()
    detector.fit(table())
    assert detector.get_params() == params
    assert clone(detector).get_params()["kinds"] == {"rooms": "count"}


def test_a_mixed_detector_saves_with_skops_and_pickle_and_loads_identical(fitted):
    skops_io = pytest.importorskip("skops.io")
    import skae

    X = table()
    for loaded in (
        pickle.loads(pickle.dumps(fitted)),
        skae.load(io.BytesIO(skops_io.dumps(fitted))),
    ):
        np.testing.assert_array_equal(loaded.score_samples(X), fitted.score_samples(X))
        np.testing.assert_array_equal(loaded.predict(X), fitted.predict(X))
        pd.testing.assert_frame_equal(
            loaded.score_samples_per_column(X), fitted.score_samples_per_column(X)
        )
