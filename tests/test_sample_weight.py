"""Issue 21, item 3: row weights (``fit(X, sample_weight=...)``) and metadata routing of ``sample_weight`` / ``observed``."""

import numpy as np
import pytest
import sklearn
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import Pipeline

from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

SMALL = dict(n_components=3, hidden_layer_sizes=(8,), max_iter=15, random_state=0)
FULL_BATCH = dict(SMALL, batch_size=10_000)


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    X = rng.rand(40, 6) + np.outer(rng.rand(40), np.arange(6))
    garbage = 100 * rng.randn(7, 6)  # rows that would move any model they reached
    return X, garbage


def _parameters(estimator):
    return np.concatenate(
        [p.detach().numpy().ravel() for p in estimator.module_.parameters()]
    )


# Deterministic models: nothing is drawn per row, so weight 2 and a repeated row are the same fit.
DETERMINISTIC = [
    AutoencoderTransformer(**FULL_BATCH),
    AutoencoderTransformer(**FULL_BATCH, likelihood="bernoulli"),
    SparseAE(**{**FULL_BATCH, "n_components": 6}, k=2),
    SparseAE(**FULL_BATCH, sparsity_penalty="kl"),
    ContractiveAE(**{**FULL_BATCH, "hidden_layer_sizes": ()}),
    ContractiveAE(**FULL_BATCH, jacobian="exact"),
]


@pytest.mark.parametrize("estimator", DETERMINISTIC, ids=lambda est: type(est).__name__)
def test_a_weight_of_two_is_a_repeated_row(data, estimator):
    X, _ = data
    X = X / X.max()  # in [0, 1] for the Bernoulli loss
    weights = np.ones(len(X))
    weights[[3, 17]] = [2, 3]
    repeated = np.vstack([X, X[[3]], X[[17, 17]]])
    weighted = clone(estimator).fit(X, sample_weight=weights)
    plain = clone(estimator).fit(repeated)
    # Same initialisation (it depends on the seed and the width only), one batch per epoch, so the same
    # steps up to float32 summation order.
    np.testing.assert_allclose(_parameters(weighted), _parameters(plain), atol=1e-5)
    np.testing.assert_allclose(weighted.loss_curve_, plain.loss_curve_, rtol=1e-5)
    # And the weights matter: unweighted differs.
    assert (
        np.abs(_parameters(clone(estimator).fit(X)) - _parameters(plain)).max() > 1e-4
    )


def test_integer_weights_are_repetitions_for_the_detector(data):
    X, _ = data
    weights = np.random.RandomState(1).randint(0, 4, len(X))
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(**FULL_BATCH), contamination=0.1, random_state=0
    )
    weighted = clone(detector).fit(X, sample_weight=weights)
    plain = clone(detector).fit(np.repeat(X, weights, axis=0))
    # Trimming keeps the same weight, the statistics and the threshold are frequency-weighted.
    np.testing.assert_allclose(
        weighted.score_samples(X), plain.score_samples(X), rtol=1e-5
    )
    assert weighted.offset_ == pytest.approx(plain.offset_, rel=1e-5)


ALL = [
    AutoencoderTransformer(**SMALL),
    DenoisingAE(**SMALL),
    SparseAE(**SMALL, k=2),
    SparseAE(**SMALL, sparsity_penalty="l2"),
    ContractiveAE(**SMALL),
    VAE(**SMALL),
    VAE(**SMALL, early_stopping=True),
]


@pytest.mark.parametrize("estimator", ALL, ids=lambda est: type(est).__name__)
def test_rows_of_weight_zero_change_nothing(data, estimator):
    # Mini-batches, noise and posterior draws included: such rows are left out before training.
    X, garbage = data
    with_garbage = np.vstack([X[:20], garbage, X[20:]])
    weights = np.r_[np.ones(20), np.zeros(len(garbage)), np.ones(20)]
    weighted = clone(estimator).fit(with_garbage, sample_weight=weights)
    plain = clone(estimator).fit(X, sample_weight=np.ones(len(X)))
    np.testing.assert_array_equal(_parameters(weighted), _parameters(plain))
    np.testing.assert_array_equal(weighted.score_samples(X), plain.score_samples(X))
    # Fitted statistics (a VAE's input standardisation and noise variance, a SparseAE's dead units) too.
    for name in ("n_active_units_", "dead_units_fraction_"):
        assert getattr(weighted, name, None) == getattr(plain, name, None)


def test_rows_of_weight_zero_change_nothing_in_the_wrappers(data):
    X, garbage = data
    with_garbage = np.vstack([X, garbage])
    weights = np.r_[np.ones(len(X)), np.zeros(len(garbage))]
    detector = AutoencoderOutlierDetector(VAE(**SMALL), random_state=0)
    weighted, plain = (
        clone(detector).fit(with_garbage, sample_weight=weights),
        clone(detector).fit(X),
    )
    assert weighted.offset_ == pytest.approx(plain.offset_, rel=1e-12)
    np.testing.assert_allclose(
        weighted.score_samples(X), plain.score_samples(X), rtol=1e-12
    )

    X_missing = X.copy()
    X_missing[np.random.RandomState(0).rand(*X.shape) < 0.2] = np.nan
    garbage_missing = garbage.copy()
    garbage_missing[:, 0] = np.nan
    imputer = AutoencoderImputer(
        AutoencoderTransformer(**SMALL), n_rounds=2, random_state=0
    )
    weighted = clone(imputer)
    filled = weighted.fit_transform(
        np.vstack([X_missing, garbage_missing]), sample_weight=weights
    )
    plain = clone(imputer).fit(X_missing)
    np.testing.assert_allclose(weighted.mean_, plain.mean_, rtol=1e-12)
    np.testing.assert_allclose(weighted.scale_, plain.scale_, rtol=1e-12)
    np.testing.assert_allclose(filled[: len(X)], plain.transform(X_missing), rtol=1e-12)
    assert filled.shape == (
        len(X) + len(garbage),
        X.shape[1],
    )  # every row imputed, weight zero included
    assert not np.isnan(filled).any()


def test_the_imputer_weights_its_means(data):
    X, _ = data
    weights = np.r_[np.full(20, 3.0), np.ones(20)]
    imputer = AutoencoderImputer(AutoencoderTransformer(**SMALL), n_rounds=1).fit(
        X, sample_weight=weights
    )
    np.testing.assert_allclose(imputer.mean_, np.average(X, axis=0, weights=weights))


def test_vae_terms_are_weighted_as_repeated_rows(data):
    X, _ = data
    vae = VAE(**SMALL).fit(X)
    module = vae.module_.float().train()
    x = torch.tensor(X[:5], dtype=torch.float32)
    weights = torch.tensor([1.0, 2.0, 1.0, 3.0, 1.0])
    repeated = torch.repeat_interleave(x, weights.long(), dim=0)
    output = x + 0.1 * torch.arange(30, dtype=torch.float32).reshape(5, 6) / 30
    repeated_output = torch.repeat_interleave(output, weights.long(), dim=0)
    # The reconstruction term, with the batch's noise variance, and the KL term (per-row means) are weighted.
    with torch.no_grad():
        nll = vae._mean_nll(module, output, x, None, weights)
        assert float(nll) == pytest.approx(
            float(vae._mean_nll(module, repeated_output, repeated)), rel=1e-5
        )
        kl = vae._penalty(module, x, module.posterior(x), weights)
        assert float(kl) == pytest.approx(
            float(vae._penalty(module, repeated, module.posterior(repeated))), rel=1e-5
        )


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (-np.ones(40), "Negative values in data passed to `sample_weight`"),
        (np.r_[np.nan, np.ones(39)], "Input sample_weight contains NaN"),
        (np.ones(39), r"sample_weight.shape == \(39,\), expected \(40,\)"),
        (np.zeros(40), "Sample weights must contain at least one non-zero number"),
    ],
)
@pytest.mark.parametrize(
    "estimator",
    [
        AutoencoderTransformer(max_iter=1),
        AutoencoderOutlierDetector(AutoencoderTransformer(max_iter=1)),
        AutoencoderImputer(AutoencoderTransformer(max_iter=1)),
    ],
    ids=lambda est: type(est).__name__,
)
def test_bad_weights_get_a_clear_error(data, estimator, sample_weight, message):
    X, _ = data
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(X, sample_weight=sample_weight)


def test_weights_need_x_in_memory(data, tmp_path):
    X, _ = data
    stored = np.lib.format.open_memmap(
        tmp_path / "X.npy", mode="w+", dtype=np.float64, shape=X.shape
    )
    stored[:] = X
    with pytest.raises(
        ValueError, match="sample_weight needs X in memory, got a memmap"
    ):
        AutoencoderTransformer(max_iter=1).fit(stored, sample_weight=np.ones(len(X)))


def test_caller_weights_are_not_modified(data):
    X, _ = data
    weights = np.linspace(0, 3, len(X))
    before = weights.copy()
    AutoencoderTransformer(**SMALL).fit(X, sample_weight=weights)
    np.testing.assert_array_equal(weights, before)


# ------------------------------------------------------------ metadata routing
def _half(X):
    """Weights that zero the second half of the rows, and a mask that hides a few cells."""
    weights = np.r_[np.ones(len(X) // 2), np.zeros(len(X) - len(X) // 2)]
    observed = np.random.RandomState(0).rand(*X.shape) > 0.2
    return weights, observed


def test_pipeline_routes_weights_and_observed(data):
    X, _ = data
    weights, observed = _half(X)
    first = len(X) // 2
    expected = AutoencoderTransformer(**SMALL).fit(X[:first], observed=observed[:first])
    with sklearn.config_context(enable_metadata_routing=True):
        autoencoder = AutoencoderTransformer(**SMALL).set_fit_request(
            sample_weight=True, observed=True
        )
        pipe = Pipeline([("ae", autoencoder)]).fit(
            X, sample_weight=weights, observed=observed
        )
    np.testing.assert_array_equal(_parameters(pipe[-1]), _parameters(expected))
    unweighted = Pipeline([("ae", AutoencoderTransformer(**SMALL))]).fit(X)
    assert not np.array_equal(_parameters(unweighted[-1]), _parameters(expected))


def test_pipeline_step_parameters_work_without_routing(data):
    X, _ = data
    weights, observed = _half(X)
    first = len(X) // 2
    expected = AutoencoderTransformer(**SMALL).fit(X[:first], observed=observed[:first])
    with sklearn.config_context(enable_metadata_routing=False):
        pipe = Pipeline([("ae", AutoencoderTransformer(**SMALL))])
        pipe.fit(X, ae__sample_weight=weights, ae__observed=observed)
    np.testing.assert_array_equal(_parameters(pipe[-1]), _parameters(expected))


def test_grid_search_routes_weights_to_every_fit(data):
    X, _ = data
    weights = (np.arange(len(X)) % 2 == 0).astype(
        float
    )  # every fold keeps rows of positive weight
    with sklearn.config_context(enable_metadata_routing=True):
        autoencoder = AutoencoderTransformer(**SMALL).set_fit_request(
            sample_weight=True
        )
        search = GridSearchCV(
            autoencoder, {"n_components": [2, 3]}, cv=KFold(2), error_score="raise"
        )
        search.fit(X, sample_weight=weights)
    best = search.best_estimator_
    expected = AutoencoderTransformer(
        **{**SMALL, "n_components": best.n_components}
    ).fit(X[::2])
    np.testing.assert_array_equal(_parameters(best), _parameters(expected))


def test_cross_validate_routes_weights_to_each_fold(data):
    X, _ = data
    weights = np.random.RandomState(2).randint(0, 3, len(X)).astype(float)
    cv = KFold(2)
    with sklearn.config_context(enable_metadata_routing=True):
        autoencoder = AutoencoderTransformer(**SMALL).set_fit_request(
            sample_weight=True
        )
        result = cross_validate(
            autoencoder,
            X,
            cv=cv,
            params={"sample_weight": weights},
            return_estimator=True,
        )
    for estimator, (train, _) in zip(result["estimator"], cv.split(X)):
        expected = AutoencoderTransformer(**SMALL).fit(
            X[train], sample_weight=weights[train]
        )
        np.testing.assert_array_equal(_parameters(estimator), _parameters(expected))


@pytest.mark.parametrize("wrapper", [AutoencoderOutlierDetector, AutoencoderImputer])
def test_wrappers_take_routed_weights(data, wrapper):
    X, _ = data
    weights, _ = _half(X)
    first = len(X) // 2
    model = wrapper(AutoencoderTransformer(**SMALL), random_state=0)
    expected = clone(model).fit(X[:first])
    with sklearn.config_context(enable_metadata_routing=True):
        pipe = Pipeline(
            [("model", clone(model).set_fit_request(sample_weight=True))]
        ).fit(X, sample_weight=weights)
    fitted = pipe[-1]
    if wrapper is AutoencoderOutlierDetector:
        assert fitted.offset_ == pytest.approx(expected.offset_, rel=1e-12)
        np.testing.assert_array_equal(
            _parameters(fitted.estimators_[0]), _parameters(expected.estimators_[0])
        )
    else:
        np.testing.assert_allclose(fitted.mean_, expected.mean_, rtol=1e-12)
        np.testing.assert_array_equal(
            _parameters(fitted.autoencoder_), _parameters(expected.autoencoder_)
        )


def test_validation_loss_and_early_stopping_are_weighted(data):
    from skae._batches import split_rows
    from skae._random import fit_seeds

    X, _ = data
    weights = X.sum(axis=1) ** 3  # larger rows, with larger errors, weigh more
    # Several validation batches: their weighted means are combined by their weights.
    model = AutoencoderTransformer(
        **{**SMALL, "max_iter": 1},
        batch_size=3,
        early_stopping=True,
        validation_fraction=0.5,
    )
    model.fit(X, sample_weight=weights)
    # The rows the fit held out (its split seed is the third of random_state's seeds).
    _, valid = split_rows(len(X), 0.5, np.random.RandomState(fit_seeds(0, 3)[2]))
    per_row = ((X[valid] - model.reconstruct(X[valid])) ** 2).sum(axis=1)
    assert -model.validation_scores_[0] == pytest.approx(
        np.average(per_row, weights=weights[valid]), rel=1e-4
    )
    assert -model.validation_scores_[0] != pytest.approx(per_row.mean(), rel=0.1)


def test_partial_fit_takes_weights(data):
    X, garbage = data
    weights = np.r_[np.linspace(1, 3, len(X)), np.zeros(len(garbage))]
    weighted = AutoencoderTransformer(**SMALL).partial_fit(
        np.vstack([X, garbage]), sample_weight=weights
    )
    plain = AutoencoderTransformer(**SMALL).partial_fit(
        X, sample_weight=weights[: len(X)]
    )
    np.testing.assert_array_equal(_parameters(weighted), _parameters(plain))
    assert not np.array_equal(
        _parameters(AutoencoderTransformer(**SMALL).partial_fit(X)), _parameters(plain)
    )


@pytest.mark.parametrize(
    "estimator", [AutoencoderTransformer(**SMALL), VAE(**SMALL)], ids=["AE", "VAE"]
)
def test_rows_of_weight_zero_change_nothing_on_a_mixed_table(estimator):
    """The schema (standardisation, level frequencies, levels) is fitted without them too: a
    zero-weight row may hold an extreme value or a level seen nowhere else."""
    import pandas as pd

    rng = np.random.RandomState(0)
    table = pd.DataFrame(
        {
            "size": rng.rand(40),
            "city": rng.choice(["Lyon", "Oslo"], 40).astype(object),
        }
    )
    garbage = pd.DataFrame({"size": [1e4, -50.0], "city": ["Rome", "Rome"]})
    with_garbage = pd.concat([table.iloc[:20], garbage, table.iloc[20:]])
    weights = np.r_[np.ones(20), np.zeros(2), np.ones(20)]
    weighted = clone(estimator).fit(with_garbage, sample_weight=weights)
    plain = clone(estimator).fit(table)
    assert weighted.schema_.columns_[1].levels == plain.schema_.columns_[1].levels
    np.testing.assert_array_equal(_parameters(weighted), _parameters(plain))
    np.testing.assert_array_equal(
        weighted.score_samples(table), plain.score_samples(table)
    )
