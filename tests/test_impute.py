import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skae import VAE, AutoencoderImputer, AutoencoderTransformer


def with_missing(X, fraction=0.2, seed=0):
    rng = np.random.RandomState(seed)
    mask = rng.rand(*X.shape) < fraction
    X_missing = X.copy()
    X_missing[mask] = np.nan
    return X_missing, mask


def fast_imputer(**params):
    return AutoencoderImputer(
        AutoencoderTransformer(8, hidden_layer_sizes=(32,), max_iter=30),
        random_state=0,
        **params,
    )


def test_observed_cells_unchanged_and_input_untouched(digits):
    X_missing, mask = with_missing(digits[0][:300])
    snapshot = X_missing.copy()
    filled = fast_imputer().fit_transform(X_missing)
    assert not np.isnan(filled).any()
    np.testing.assert_array_equal(filled[~mask], X_missing[~mask])
    np.testing.assert_array_equal(np.isnan(X_missing), np.isnan(snapshot))
    np.testing.assert_array_equal(X_missing[~mask], snapshot[~mask])


def test_beats_mean_imputation_on_correlated_data(digits):
    X = digits[0]
    X_missing, mask = with_missing(X)
    imputer = AutoencoderImputer(random_state=0)  # the default autoencoder
    filled = imputer.fit_transform(X_missing)
    rmse = np.sqrt(np.mean((filled[mask] - X[mask]) ** 2))
    mean_rmse = np.sqrt(
        np.mean((SimpleImputer().fit_transform(X_missing)[mask] - X[mask]) ** 2)
    )
    assert rmse < 0.7 * mean_rmse, f"AE {rmse:.4f} vs mean {mean_rmse:.4f}"


def test_features_are_scaled_by_their_observed_range_so_units_do_not_matter(digits):
    X_missing, mask = with_missing(digits[0][:300])
    imputer = fast_imputer().fit(X_missing)
    span = np.nanmax(X_missing, axis=0) - np.nanmin(X_missing, axis=0)
    np.testing.assert_allclose(imputer.scale_, np.where(span > 0, span, 1.0))
    units = np.random.RandomState(1).uniform(0.001, 1000, size=X_missing.shape[1])
    filled_in_other_units = fast_imputer().fit_transform(X_missing * units - 5.0)
    np.testing.assert_allclose(
        filled_in_other_units,
        imputer.transform(X_missing) * units - 5.0,
        rtol=1e-4,
        atol=1e-3,
    )


def test_empty_features_rows_and_constant_columns():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    X[:, 1] = 3.0  # constant
    X[:, 2] = np.nan  # entirely missing
    X[5] = np.nan  # entirely missing row
    X[7, 0] = np.nan
    # Dropped with scikit-learn's warning, as SimpleImputer does (issue 19).
    with pytest.warns(
        UserWarning, match=r"Skipping features without any observed values: \[2\]"
    ):
        dropped = fast_imputer().fit(X)
    with pytest.warns(UserWarning, match="keep_empty_features=True"):
        out = dropped.transform(X)
    assert out.shape == (60, 3) and not np.isnan(out).any()
    assert np.allclose(out[:, 1], 3.0, atol=1e-6)
    np.testing.assert_array_equal(dropped.get_feature_names_out(), ["x0", "x1", "x3"])
    np.testing.assert_array_equal(dropped.observed_features_, [True, True, False, True])
    np.testing.assert_array_equal(
        dropped.constant_features_, [False, True, True, False]
    )
    # Missing cells start at the observed mean: zero in the model's (centred) units.
    np.testing.assert_array_equal(dropped.placeholder_, np.zeros(4))
    np.testing.assert_array_equal(dropped.offset_, dropped.mean_)
    kept = fast_imputer(keep_empty_features=True).fit_transform(X)
    assert kept.shape == (60, 4) and np.all(kept[:, 2] == 0)


def test_indicator_names_and_other_missing_value_markers():
    X = pd.DataFrame({"a": [1.0, -1, 3, 4, 5, 6], "b": [2.0, 4, -1, 8, 10, 12]})
    imputer = fast_imputer(missing_values=-1, add_indicator=True)
    out = imputer.fit_transform(X)
    assert out.shape == (6, 4)
    np.testing.assert_array_equal(
        out[:, 2:], [[0, 0], [1, 0], [0, 1], [0, 0], [0, 0], [0, 0]]
    )
    assert list(imputer.get_feature_names_out()) == [
        "a",
        "b",
        "missingindicator_a",
        "missingindicator_b",
    ]
    assert -1 not in out[:, :2]


def test_sample_posterior_draws_multiple_imputations(digits):
    X_missing, mask = with_missing(digits[0][:300])
    vae = VAE(8, hidden_layer_sizes=(32,), max_iter=20)
    draws = [
        AutoencoderImputer(vae, sample_posterior=True, random_state=seed).fit_transform(
            X_missing
        )
        for seed in (0, 0, 1)
    ]
    np.testing.assert_array_equal(draws[0], draws[1])
    assert not np.allclose(draws[0][mask], draws[2][mask])
    np.testing.assert_array_equal(draws[2][~mask], X_missing[~mask])
    with pytest.raises(ValueError, match="use skae.VAE"):
        fast_imputer(sample_posterior=True).fit(X_missing)


def test_in_a_pipeline_inside_grid_search(digits):
    X, y = digits[0][:400], digits[1][:400]
    X_missing, _ = with_missing(X)
    pipe = Pipeline(
        [("impute", fast_imputer()), ("clf", LogisticRegression(max_iter=500))]
    )
    search = GridSearchCV(pipe, {"impute__n_rounds": [1, 2]}, cv=2).fit(X_missing, y)
    assert search.score(X_missing, y) > 0.8
