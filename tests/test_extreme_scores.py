"""Rows far from the data, and rows a Bernoulli model cannot produce, score below every training row, never NaN.

Far out the networks' arithmetic overflows (``inf - inf`` is NaN, and ``NaN < threshold`` is False), so these
tests go to the edge of the float range: rows 1e2 to 1e300 standard deviations away, in float32 and float64.
float32 cannot hold 1e155 or 1e300 (validation refuses the inf they become), so those pairs are not generated.
"""

import functools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skae import (
    VAE,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

N_FEATURES = 4
DISTANCES = [1e2, 1e4, 1e20, 1e155, 1e300]
DTYPES = [np.float64, np.float32]
COMMON = dict(max_iter=15, random_state=0)

MODELS = {
    "vanilla": lambda: AutoencoderTransformer(2, **COMMON),
    "bernoulli": lambda: AutoencoderTransformer(2, likelihood="bernoulli", **COMMON),
    "denoising": lambda: DenoisingAE(2, **COMMON),
    "sparse": lambda: SparseAE(2, **COMMON),
    "contractive": lambda: ContractiveAE(2, **COMMON),
    "vae": lambda: VAE(2, **COMMON),
    "vae_bernoulli": lambda: VAE(2, likelihood="bernoulli", **COMMON),
}
BERNOULLI = ["bernoulli", "vae_bernoulli"]
# The detector's own default autoencoder, and a detector on each model above.
ESTIMATORS = ["detector_default", *MODELS, *(f"detector_{name}" for name in MODELS)]


def _is_bernoulli(name):
    return any(name.endswith(model) for model in BERNOULLI)


@functools.cache
def _training_data(bernoulli, dtype):
    rng = np.random.RandomState(0)
    if bernoulli:
        return (rng.uniform(size=(150, N_FEATURES)) < 0.3).astype(dtype)
    # Not standard: each feature has its own location and scale.
    return (
        rng.normal(size=(150, N_FEATURES)) * [1.0, 2.0, 0.5, 3.0]
        + [3.0, -1.0, 0.0, 10.0]
    ).astype(dtype)


@functools.cache
def _fitted(name, dtype):
    X = _training_data(_is_bernoulli(name), dtype)
    if name == "detector_default":
        estimator = AutoencoderOutlierDetector(n_trim_rounds=0, random_state=0)
    elif name.startswith("detector_"):
        estimator = AutoencoderOutlierDetector(
            MODELS[name.removeprefix("detector_")](), n_trim_rounds=0, random_state=0
        )
    else:
        estimator = MODELS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X)
    return estimator, estimator.score_samples(X)


def _far_rows(X, distance):
    """Rows ``distance`` standard deviations from the mean, in fixed directions (largest coordinate 1)."""
    directions = np.vstack(
        [
            np.ones(N_FEATURES),
            [1, -1, 1, -1],
            [-1, 0, 0, 0],
            np.random.RandomState(1).uniform(-1, 1, N_FEATURES),
        ]
    )
    X64 = X.astype(np.float64)
    return X64.mean(axis=0) + distance * X64.std(axis=0) * directions


def _check_flagged(name, dtype, rows):
    estimator, training_scores = _fitted(name, dtype)
    scores = estimator.score_samples(rows)
    assert scores.dtype == dtype
    assert not np.isnan(scores).any(), scores
    assert (scores < training_scores.min()).all(), (scores, training_scores.min())
    if name.startswith("detector"):
        assert (estimator.predict(rows) == -1).all()
        assert (estimator.decision_function(rows) < 0).all()


FAR = pytest.mark.parametrize(
    "dtype, distance",
    [
        (dtype, distance)
        for dtype in DTYPES
        for distance in DISTANCES
        if distance * 10 < float(np.finfo(dtype).max)
    ],
    ids=lambda value: f"{value:g}" if isinstance(value, float) else value.__name__,
)


@FAR
@pytest.mark.parametrize("name", ESTIMATORS)
def test_far_rows_score_below_every_training_row(name, dtype, distance):
    X = _training_data(_is_bernoulli(name), dtype)
    rows = _far_rows(X, distance)
    _check_flagged(name, dtype, rows.astype(dtype))


@FAR
@pytest.mark.parametrize("name", ["vae", "vae_bernoulli"])
def test_importance_weighted_bound_of_far_rows(name, dtype, distance):
    estimator, _ = _fitted(name, dtype)
    X = _training_data(_is_bernoulli(name), dtype)
    training_scores = estimator.score_samples(X, n_samples=3)
    scores = estimator.score_samples(_far_rows(X, distance).astype(dtype), n_samples=3)
    assert not np.isnan(scores).any(), scores
    assert (scores < training_scores.min()).all(), (scores, training_scores.min())


OUT_OF_SUPPORT = {
    "one_cell_above": [0.0, 1.5, 0.0, 1.0],
    "one_cell_below": [0.0, 0.0, -0.25, 1.0],
    "just_above_one": [1.0, 1.0, 1.0, 1.001],
    "all_two": [2.0, 2.0, 2.0, 2.0],
    "large": [1e4, 0.0, 0.0, 0.0],
}


@pytest.mark.parametrize("row", OUT_OF_SUPPORT.values(), ids=OUT_OF_SUPPORT.keys())
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda dtype: dtype.__name__)
@pytest.mark.parametrize("name", [name for name in ESTIMATORS if _is_bernoulli(name)])
def test_rows_outside_bernoulli_support_are_impossible(name, dtype, row):
    rows = np.array([row], dtype=dtype)
    estimator, _ = _fitted(name, dtype)
    if not name.startswith("detector"):
        # Probability zero under the model: -inf exactly, not merely low.
        assert estimator.score_samples(rows)[0] == -np.inf
    _check_flagged(name, dtype, rows)


@pytest.mark.parametrize("scoring", ["reconstruction", "likelihood"])
def test_every_detector_rule_flags_impossible_rows(scoring):
    X = _training_data(True, np.float64)
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, likelihood="bernoulli", **COMMON),
        scoring=scoring,
        n_trim_rounds=0,
    ).fit(X)
    rows = np.vstack([[2.0, 0.0, 0.0, 0.0], _far_rows(X, 1e300)])
    assert (detector.score_samples(rows) == -np.inf).all()
    assert (detector.predict(rows) == -1).all()


def test_bernoulli_fit_still_refuses_out_of_support_rows():
    """The documented split: training on an impossible row is an error, scoring one gives -inf."""
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        VAE(2, likelihood="bernoulli", max_iter=1).fit(
            np.array([[0.0, 2.0], [1.0, 0.0]])
        )


def test_thresholds_from_scores_with_minus_inf_stay_finite():
    """A quantile between -inf and a finite score interpolates to NaN; the detector's threshold must not."""
    from skae._scores import at_least_lowest_float

    scores = np.array([-np.inf, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0])
    with np.errstate(invalid="ignore"):
        assert np.isnan(np.percentile(scores, 5))
    threshold = np.percentile(at_least_lowest_float(scores), 5)
    assert np.isfinite(threshold) and threshold < 0.0
    assert -np.inf < threshold


def test_trimmed_refits_with_an_impossible_training_score():
    """A gross outlier inside the training data scores -inf and is flagged, with trimmed refits and a quantile."""
    X = np.vstack(
        [
            _training_data(False, np.float64),
            _far_rows(_training_data(False, np.float64), 1e4)[:1],
        ]
    )
    detector = AutoencoderOutlierDetector(
        contamination=0.05, n_trim_rounds=1, random_state=0
    ).fit(X)
    scores = detector.score_samples(X)
    assert not np.isnan(scores).any()
    assert np.isfinite(detector.offset_)
    assert detector.predict(X)[-1] == -1
    assert np.argmin(scores) == len(X) - 1


# ---------------------------------------------------------------- property-based
_AUTOENCODERS = [
    lambda k: AutoencoderTransformer(k, activation="relu", max_iter=5),
    lambda k: AutoencoderTransformer(k, activation="tanh", max_iter=5),
    lambda k: DenoisingAE(k, max_iter=5),
    lambda k: VAE(k, max_iter=5),
    lambda k: VAE(k, hidden_layer_sizes=(8, 8), max_iter=5),
]


@st.composite
def _problems(draw):
    n_features = draw(st.integers(1, 6))
    return dict(
        n_features=n_features,
        n_components=draw(st.integers(1, max(1, n_features - 1))),
        n_rows=draw(st.integers(10, 60)),
        location=draw(st.floats(-1e3, 1e3)),
        log_scale=draw(st.floats(-3, 3)),
        dtype=draw(st.sampled_from(DTYPES)),
        autoencoder=draw(st.sampled_from(range(len(_AUTOENCODERS)))),
        n_trim_rounds=draw(st.integers(0, 1)),
        seed=draw(st.integers(0, 2**16)),
        log_distance=draw(st.floats(3, 300)),
        direction=draw(
            st.lists(st.floats(-1, 1), min_size=n_features, max_size=n_features)
        ),
    )


def _check_property(problem):
    rng = np.random.RandomState(problem["seed"])
    dtype = problem["dtype"]
    scale = 10.0 ** problem["log_scale"]
    X = (
        problem["location"]
        + scale * rng.normal(size=(problem["n_rows"], problem["n_features"]))
    ).astype(dtype)
    direction = np.asarray(problem["direction"], dtype=np.float64)
    direction = (
        direction / np.abs(direction).max()
        if np.abs(direction).max() > 0
        else np.ones_like(direction)
    )
    distance = 10.0 ** problem["log_distance"]
    far = X.astype(np.float64).mean(axis=0) + distance * scale * direction
    # Beyond float32's range a row cannot be represented at all: go to the edge of it instead.
    limit = float(np.finfo(dtype).max) / 2
    far = np.clip(far, -limit, limit).astype(dtype)[None, :]

    autoencoder = _AUTOENCODERS[problem["autoencoder"]](problem["n_components"])
    detector = AutoencoderOutlierDetector(
        autoencoder,
        n_trim_rounds=problem["n_trim_rounds"],
        random_state=problem["seed"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        detector.fit(X)
    training_scores = detector.score_samples(X)
    far_score = detector.score_samples(far)
    model_scores = detector.estimators_[0].score_samples(np.vstack([X, far]))
    assert not np.isnan(training_scores).any() and not np.isnan(model_scores).any()
    assert not np.isnan(far_score).any()
    assert far_score[0] < training_scores.min()
    assert detector.predict(far)[0] == -1


@settings(
    max_examples=8,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(_problems())
def test_property_no_nan_and_gross_outliers_flagged(problem):
    _check_property(problem)


@pytest.mark.slow
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_problems())
def test_property_no_nan_and_gross_outliers_flagged_many(problem):
    _check_property(problem)
