"""Issue 11 (items 1 and 4): the contract gaps a new user hit, one test per case."""

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

AUTOENCODERS = [AutoencoderTransformer, DenoisingAE, SparseAE, ContractiveAE, VAE]


@pytest.fixture(scope="module")
def small():
    X = load_digits().data[:200] / 16
    X_missing = X.copy()
    X_missing[np.random.RandomState(0).rand(*X.shape) < 0.2] = np.nan
    return X, X_missing


# ------------------------------------------------------------- item 1: defaults
def test_the_design_card_line_works_as_written():
    X, y = load_digits(return_X_y=True)
    X, y = X[:300], y[:300]
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", SparseAE(k=25, max_iter=4, random_state=0)),
            ("clf", LogisticRegression(max_iter=500)),
        ]
    )
    pipe.fit(X, y)
    assert pipe.named_steps["ae"].n_components_ >= 25
    assert (
        (pipe[:-1].transform(X) != 0).sum(axis=1) == 2 * 25
    ).all()  # transform_k_factor=2


def test_grid_search_over_k_keeps_every_candidate():
    # Issue 11: with n_components=10 by default every k=25 candidate raised and was silently dropped.
    from sklearn.model_selection import GridSearchCV

    X, y = load_digits(return_X_y=True)
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", SparseAE(max_iter=3, random_state=0)),
            ("clf", LogisticRegression(max_iter=200)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__k": [10, 25]}, cv=2, error_score="raise").fit(
        X[:200], y[:200]
    )
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# -------------------------------------------- item 4: wrappers validate what they wrap
@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"n_components": -1},
            "The 'n_components' parameter of AutoencoderTransformer must be an int in the range",
        ),
        (
            {"activation": "foo"},
            "The 'activation' parameter of AutoencoderTransformer must be a str among",
        ),
        (
            {"max_iter": 0},
            "The 'max_iter' parameter of AutoencoderTransformer must be an int in the range",
        ),
        (
            {"batch_size": 0},
            "The 'batch_size' parameter of AutoencoderTransformer must be a str among",
        ),
        (
            {"learning_rate_init": 0},
            "The 'learning_rate_init' parameter of AutoencoderTransformer must be a float",
        ),
    ],
)
def test_imputer_validates_its_autoencoder_with_the_autoencoders_own_message(
    small, params, message
):
    X, X_missing = small
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        AutoencoderTransformer(**params).fit(X)
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        AutoencoderImputer(AutoencoderTransformer(**params)).fit(X_missing)


def test_imputer_accepts_a_bernoulli_vae_on_unit_interval_data(small):
    X, X_missing = small
    assert X.min() >= 0 and X.max() <= 1
    for sample_posterior in (False, True):
        imputer = AutoencoderImputer(
            VAE(4, likelihood="bernoulli", max_iter=5),
            sample_posterior=sample_posterior,
            random_state=0,
        )
        filled = imputer.fit_transform(X_missing)
        observed = ~np.isnan(X_missing)
        np.testing.assert_array_equal(filled[observed], X_missing[observed])
        assert filled.min() >= 0 and filled.max() <= 1


def test_imputer_with_a_bernoulli_vae_quotes_the_values_the_user_passed(small):
    _, X_missing = small
    X_bad = X_missing * 2  # in [0, 2]
    with pytest.raises(
        ValueError, match=re.escape("needs X in [0, 1], got values in [0, 2]")
    ):
        AutoencoderImputer(VAE(4, likelihood="bernoulli", max_iter=2)).fit(X_bad)


def test_wrappers_preserve_float32(small):
    X, X_missing = small
    X32 = X.astype(np.float32)
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(3, max_iter=3), n_trim_rounds=0
    ).fit(X32)
    assert detector.score_samples(X32).dtype == np.float32
    assert detector.decision_function(X32).dtype == np.float32
    imputer = AutoencoderImputer(AutoencoderTransformer(3, max_iter=3), n_rounds=1).fit(
        X_missing.astype(np.float32)
    )
    assert imputer.transform(X_missing.astype(np.float32)).dtype == np.float32
    assert imputer.transform(X_missing).dtype == np.float64


@pytest.mark.parametrize(
    "estimator",
    [
        SparseAE(8, k=3, max_iter=3),
        VAE(3, max_iter=3),
        AutoencoderOutlierDetector(AutoencoderTransformer(3, max_iter=3)),
    ],
    ids=lambda est: type(est).__name__,
)
def test_fitting_on_a_dataframe_emits_no_feature_name_warning(small, estimator):
    frame = pd.DataFrame(small[0], columns=[f"pixel{i}" for i in range(64)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=3 on purpose
        estimator.fit(frame)
        estimator.score_samples(frame)


def test_detector_takes_non_numeric_columns(small):
    # A mixed table (issue 21): scored as it is, not refused (tests/test_mixed_outlier.py).
    frame = pd.DataFrame(small[0][:, :3], columns=["a", "b", "c"]).assign(city="Paris")
    detector = AutoencoderOutlierDetector(
        AutoencoderTransformer(2, max_iter=2), n_trim_rounds=0
    ).fit(frame)
    assert detector.score_samples(frame).shape == (len(frame),)


def test_imputer_takes_non_numeric_columns(small):
    # A mixed table (issue 21): imputed as it is, not refused (tests/test_mixed_tables.py).
    frame = pd.DataFrame(small[0][:, :3], columns=["a", "b", "c"]).assign(city="Paris")
    frame.loc[0, "a"] = np.nan
    filled = AutoencoderImputer(
        AutoencoderTransformer(2, max_iter=2), n_rounds=1
    ).fit_transform(frame)
    assert (
        list(filled.columns) == ["a", "b", "c", "city"]
        and not filled.isna().any().any()
    )


@pytest.fixture(scope="module")
def vae(small):
    return VAE(3, max_iter=3, random_state=0).fit(small[0])


@pytest.mark.parametrize("n_samples", [-1, 0, 1.5, True])
def test_sample_validates_n_samples(vae, n_samples):
    with pytest.raises(
        ValueError,
        match=re.escape(
            f"n_samples must be an integer of at least 1, got {n_samples!r}."
        ),
    ):
        vae.sample(n_samples)


@pytest.mark.parametrize("n_steps", [-1, 1, 2.0])
def test_interpolate_validates_n_steps(vae, small, n_steps):
    X = small[0]
    with pytest.raises(
        ValueError,
        match=re.escape(f"n_steps must be an integer of at least 2, got {n_steps!r}."),
    ):
        vae.interpolate(X[0], X[1], n_steps=n_steps)


def test_sample_reconstruction_is_the_public_posterior_draw(vae, small):
    X = small[0]
    draws = vae.sample_reconstruction(X[:10], random_state=0)
    assert draws.shape == (10, 64) and draws.dtype == X.dtype
    np.testing.assert_array_equal(
        draws, vae.sample_reconstruction(X[:10], random_state=0)
    )
    assert not np.array_equal(draws, vae.sample_reconstruction(X[:10], random_state=1))


def test_fit_observed_mask_is_validated_and_all_true_is_plain_fit(small):
    X = small[0]
    with pytest.raises(
        ValueError,
        match=re.escape("observed has shape (200, 3) but X has shape (200, 64)"),
    ):
        AutoencoderTransformer(2, max_iter=1).fit(
            X, observed=np.ones((200, 3), dtype=bool)
        )
    plain = AutoencoderTransformer(2, max_iter=3, random_state=0).fit(X)
    masked = AutoencoderTransformer(2, max_iter=3, random_state=0).fit(
        X, observed=np.ones(X.shape, dtype=bool)
    )
    assert plain.loss_curve_ == masked.loss_curve_


def test_unobserved_cells_are_never_a_target(small):
    # Only the targets change between the two fits (the inputs of unobserved
    # cells are the same placeholders), so training must be identical.
    X = small[0]
    observed = np.random.RandomState(1).rand(*X.shape) > 0.3
    model = AutoencoderTransformer(2, max_iter=3, random_state=0)
    first = model.fit(X, observed=observed).loss_curve_
    assert first == model.fit(X, observed=observed).loss_curve_
    everything = (
        AutoencoderTransformer(2, max_iter=3, random_state=0).fit(X).loss_curve_
    )
    assert first != everything


# -------------------------------------------------- one rule for n_components > n_features
@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=lambda cls: cls.__name__)
def test_every_autoencoder_accepts_an_overcomplete_code(estimator):
    X = np.random.RandomState(0).normal(size=(30, 4))
    codes = estimator(9, max_iter=2, random_state=0).fit(X).transform(X)
    assert codes.shape == (30, 9)


# ------------------------------------------------------------------- no warnings
def test_contractive_projection_emits_no_torch_warning():
    X = np.random.RandomState(0).normal(size=(50, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ContractiveAE(
            4,
            hidden_layer_sizes=(8,),
            jacobian="projection",
            max_iter=2,
            tol=1.0,
            n_iter_no_change=1,
        ).fit(X)


@pytest.mark.parametrize("n_samples", [1000, 142], ids=["1000_rows", "142_rows"])
@pytest.mark.parametrize("estimator", AUTOENCODERS, ids=lambda cls: cls.__name__)
def test_default_fit_on_ordinary_data_stops_by_its_own_rule(estimator, n_samples):
    # Standardised tabular data (13 features on 4 factors plus noise): the stopping rule, not max_iter, ends the fit.
    # 142 rows is one batch of MLPRegressor's min(200, n): ContractiveAE then reached max_iter.
    rng = np.random.RandomState(0)
    X = StandardScaler().fit_transform(
        rng.normal(size=(n_samples, 4)) @ rng.normal(size=(4, 13))
        + 0.3 * rng.normal(size=(n_samples, 13))
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = estimator(random_state=0).fit(X)
    assert model.n_iter_ < model.max_iter


def test_default_contractive_fit_on_wine_sized_real_data_stops_by_its_own_rule(
    shared_data,
):
    # 142 rows of ODDS pima (a development set; wine has 142 training rows per fold): with one
    # batch per epoch (MLPRegressor's min(200, n)) ContractiveAE reached max_iter=1000 here;
    # with the "auto" rule's 4 batches it stops at epoch 860.
    data = np.load(shared_data / "outliers" / "pima.npz")
    X = StandardScaler().fit_transform(data["X"][:142])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = ContractiveAE(random_state=0).fit(X)
    assert model.n_iter_ < model.max_iter


@pytest.mark.parametrize(
    "n_samples, batch_size, batches",
    [
        (20, "auto", 1),
        (100, "auto", 4),
        (142, "auto", 4),
        (799, "auto", 4),
        (800, "auto", 4),
        (1000, "auto", 5),
        (142, 200, 1),
        (142, 50, 3),
    ],
)
def test_auto_batch_size_gives_small_data_several_steps_per_epoch(
    n_samples, batch_size, batches
):
    class CountBatches(Callback):
        def on_train_begin(self, net, **kwargs):
            self.per_epoch = []

        def on_epoch_begin(self, net, **kwargs):
            self.per_epoch.append(0)

        def on_batch_end(self, net, training=False, **kwargs):
            self.per_epoch[-1] += training

    counter = CountBatches()
    X = np.random.RandomState(0).normal(size=(n_samples, 3))
    AutoencoderTransformer(
        2, batch_size=batch_size, max_iter=2, callbacks=[("count", counter)]
    ).fit(X)
    assert counter.per_epoch == [batches, batches]


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_user_callbacks_get_every_per_batch_hook_with_its_arguments():
    # The engine notifies per-batch hooks only to callbacks that define them;
    # one that does must still get each of them, gradients included.
    class Record(Callback):
        def on_train_begin(self, net, **kwargs):
            self.calls = []

        def on_batch_begin(self, net, batch=None, training=False, **kwargs):
            self.calls.append(("begin", training, len(batch[0])))

        def on_grad_computed(
            self, net, named_parameters, batch=None, training=False, **kwargs
        ):
            grads = {name: parameter.grad for name, parameter in named_parameters}
            self.calls.append(
                (
                    "grad",
                    all(
                        g is not None and bool(g.abs().sum() > 0)
                        for g in grads.values()
                    ),
                    len(grads),
                )
            )

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            self.calls.append(("end", training, float(kwargs["loss"].detach()) > 0))

    recorder = Record()
    X = np.random.RandomState(0).normal(size=(60, 3))
    # Seeded: about 1 seed in 100 leaves a ReLU unit dead at init, whose gradient is exactly zero.
    ae = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(4,),
        batch_size=30,
        max_iter=2,
        random_state=0,
        callbacks=[("record", recorder)],
    ).fit(X)
    n_tensors = len(list(ae.module_.parameters()))
    assert (
        recorder.calls
        == [("begin", True, 30), ("grad", True, n_tensors), ("end", True, True)] * 4
    )
    assert ae.n_iter_ == 2


# ------------------------------------------------------------- README usage block
@pytest.mark.slow
def test_readme_usage_block_runs_as_written():
    # slow: the block fits a grid search on the full digits data as a user would.
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    usage = readme.split("## Usage", 1)[1]
    code = re.search(r"```python\n(.*?)```", usage, re.S).group(1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
