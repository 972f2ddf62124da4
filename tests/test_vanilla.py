"""Behaviour of the shared base estimator, seen through AutoencoderTransformer."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from scipy.linalg import subspace_angles
from sklearn.datasets import load_breast_cancer, make_s_curve
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback, LRScheduler

from skae import AutoencoderTransformer


def linear_ae(n_components, **params):
    defaults = dict(
        hidden_layer_sizes=(),
        activation="identity",
        alpha=0.0,
        learning_rate_init=1e-2,
        batch_size=64,
        max_iter=200,
        tol=1e-6,
        n_iter_no_change=50,
        random_state=0,
    )
    return AutoencoderTransformer(n_components, **{**defaults, **params})


def mse(estimator, X):
    return np.mean((estimator.inverse_transform(estimator.transform(X)) - X) ** 2)


@pytest.mark.parametrize("dataset, n_components", [("digits", 4), ("breast_cancer", 6)])
def test_linear_autoencoder_spans_the_pca_subspace(digits, dataset, n_components):
    if dataset == "digits":
        X = digits[0]
    else:
        X = StandardScaler().fit_transform(load_breast_cancer().data)
    pca = PCA(n_components).fit(X)
    ae = linear_ae(n_components).fit(X)

    ratio = mse(ae, X) / mse(pca, X)
    assert ratio <= 1.02, f"linear AE reconstruction MSE is {ratio:.4f}x PCA's"
    # An unregularised decoder's columns are not the principal axes, but they span them.
    decoder_columns = ae.module_.decoder[0].weight.detach().numpy()
    angle = np.degrees(subspace_angles(decoder_columns, pca.components_.T)).max()
    assert angle <= 3.0, (
        f"largest principal angle to PCA's subspace is {angle:.2f} degrees"
    )


def test_nonlinear_autoencoder_beats_pca_on_a_curved_manifold():
    X, _ = make_s_curve(1500, noise=0.02, random_state=0)
    X = StandardScaler().fit_transform(X)
    pca = PCA(2).fit(X)
    ae = AutoencoderTransformer(
        2,
        hidden_layer_sizes=(64, 64),
        activation="tanh",
        learning_rate_init=3e-3,
        max_iter=150,
        random_state=0,
    ).fit(X)
    ratio = mse(ae, X) / mse(pca, X)
    assert ratio < 0.3, f"nonlinear AE MSE is {ratio:.3f}x PCA's on the S-curve"


def fast_ae(**params):
    return AutoencoderTransformer(
        **{
            "n_components": 3,
            "hidden_layer_sizes": (16,),
            "max_iter": 5,
            "random_state": 0,
            **params,
        }
    )


def test_same_random_state_same_model_bit_for_bit(digits):
    X = digits[0][:300]
    first = fast_ae(random_state=7).fit(X).transform(X)
    second = fast_ae(random_state=7).fit(X).transform(X)
    other = fast_ae(random_state=8).fit(X).transform(X)
    np.testing.assert_array_equal(first, second)
    assert not np.allclose(first, other)


def test_fit_leaves_the_callers_random_state_alone(digits):
    X = digits[0][:200]
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()
    fast_ae(random_state=0).fit(X)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert after[0] == numpy_state[0] and np.array_equal(after[1], numpy_state[1])


def test_fit_restores_the_callers_thread_count(digits):
    before = torch.get_num_threads()
    fast_ae().fit(digits[0][:100])
    assert torch.get_num_threads() == before


def test_pickle_round_trip_keeps_the_model(digits):
    X = digits[0][:200]
    ae = fast_ae().fit(X)
    loaded = pickle.loads(pickle.dumps(ae))
    np.testing.assert_array_equal(loaded.transform(X), ae.transform(X))
    np.testing.assert_array_equal(loaded.score_samples(X), ae.score_samples(X))
    assert next(loaded.module_.parameters()).device.type == "cpu"


def test_output_follows_the_input_float_dtype_and_input_is_not_modified(digits):
    X64 = digits[0][:100].copy()
    X32 = X64.astype(np.float32)
    ae = fast_ae().fit(X64)
    snapshot = X64.copy()
    assert ae.transform(X64).dtype == np.float64
    assert ae.transform(X32).dtype == np.float32
    assert ae.inverse_transform(ae.transform(X32)).dtype == np.float32
    np.testing.assert_array_equal(X64, snapshot)


def test_pandas_output_and_feature_names(digits):
    X = pd.DataFrame(digits[0][:100], columns=[f"pixel{i}" for i in range(64)])
    ae = fast_ae().set_output(transform="pandas").fit(X)
    codes = ae.transform(X)
    assert isinstance(codes, pd.DataFrame)
    assert list(codes.columns) == [
        "autoencodertransformer0",
        "autoencodertransformer1",
        "autoencodertransformer2",
    ]
    assert list(ae.feature_names_in_) == list(X.columns)
    with pytest.warns(UserWarning, match="feature names"):
        ae.transform(X.to_numpy())


def test_pipeline_grid_search_over_n_components_needs_no_scorer(digits):
    X = digits[0][:400]
    # Small batches and a larger step train enough to separate the widths for any
    # seed (at 20 one-batch epochs the model had barely moved and the order was luck).
    pipe = Pipeline(
        [
            ("scale", StandardScaler()),
            ("ae", fast_ae(max_iter=20, batch_size=32, learning_rate_init=0.01)),
        ]
    )
    search = GridSearchCV(pipe, {"ae__n_components": [2, 16]}, cv=2).fit(X)
    # More code units reconstruct better, so score (minus the error) must prefer 16.
    assert search.best_params_ == {"ae__n_components": 16}
    assert search.transform(X).shape == (400, 16)


def test_score_is_minus_the_mean_squared_error_summed_over_features(digits):
    X = digits[0][:100]
    ae = fast_ae().fit(X)
    expected = -np.sum((ae.reconstruct(X) - X) ** 2, axis=1)
    np.testing.assert_allclose(ae.score_samples(X), expected, rtol=1e-5, atol=1e-6)
    assert ae.score(X) == pytest.approx(expected.mean(), rel=1e-5)


def test_alpha_decays_weights_but_not_biases(digits):
    X = digits[0][:300]
    strong = linear_ae(2, alpha=10.0, max_iter=100, tol=0.0).fit(X)
    weak = linear_ae(2, alpha=0.0, max_iter=100, tol=0.0).fit(X)

    def weight_norm(model):
        return sum(
            p.norm().item()
            for name, p in model.module_.named_parameters()
            if "weight" in name
        )

    assert weight_norm(strong) < 0.5 * weight_norm(weak)
    # Biases are exempt, as in scikit-learn's MLP: a decayed bias would pull the
    # reconstruction of data far from the origin toward zero.
    names = [name for name, _ in strong.module_.named_parameters()]
    n_params_by_decay = {}
    for group in strong._optimizer_state["param_groups"]:
        n_params_by_decay[group["weight_decay"]] = n_params_by_decay.get(
            group["weight_decay"], 0
        ) + len(group["params"])
    n_biases = sum(name.endswith("bias") for name in names)
    assert n_params_by_decay == {0.0: n_biases, 10.0: len(names) - n_biases}


def test_one_sample_and_batch_size_larger_than_the_data(digits):
    ae = fast_ae(batch_size=1000).fit(digits[0][:1])
    assert ae.transform(digits[0][:1]).shape == (1, 3)


def test_bernoulli_likelihood_reconstructs_in_the_unit_interval(digits):
    X = digits[0][:300]
    ae = fast_ae(likelihood="bernoulli").fit(X)
    reconstruction = ae.reconstruct(X)
    assert reconstruction.min() >= 0 and reconstruction.max() <= 1
    with pytest.raises(ValueError, match=r"needs X in \[0, 1\]"):
        fast_ae(likelihood="bernoulli").fit(X * 2 - 0.5)


def test_early_stopping_holds_out_validation_data_and_stops():
    X, _ = make_s_curve(400, random_state=0)
    ae = fast_ae(early_stopping=True, max_iter=500, n_iter_no_change=3, tol=1.0).fit(X)
    assert ae.n_iter_ < 500
    assert len(ae.validation_scores_) == ae.n_iter_ == len(ae.loss_curve_)
    assert ae.best_validation_score_ == max(ae.validation_scores_)


def test_convergence_warning_when_max_iter_is_reached(digits):
    with pytest.warns(ConvergenceWarning, match="maximum iterations"):
        fast_ae(max_iter=2, tol=0.0).fit(digits[0][:100])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        fast_ae(max_iter=50, tol=1e9, n_iter_no_change=2).fit(digits[0][:100])


def test_warm_start_and_partial_fit_continue_training(digits):
    X = digits[0][:200]
    ae = fast_ae(warm_start=True, max_iter=3, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(X)
        first_weights = ae.module_.encoder[0].weight.detach().clone()
        ae.fit(X)
    assert ae.n_iter_ == 6 and len(ae.loss_curve_) == 6
    assert ae.loss_curve_[-1] < ae.loss_curve_[0]
    assert not torch.equal(first_weights, ae.module_.encoder[0].weight)

    incremental = fast_ae()
    for _ in range(4):
        incremental.partial_fit(X)
    assert (
        incremental.n_iter_ == 4
        and incremental.loss_curve_[-1] < incremental.loss_curve_[0]
    )


def test_skorch_callbacks_pass_through(digits):
    class CountEpochs(Callback):
        def initialize(self):
            self.epochs_ = 0
            return self

        def on_epoch_end(self, net, **kwargs):
            self.epochs_ += 1

    counter = CountEpochs()
    scheduler = LRScheduler(policy="StepLR", step_size=1, gamma=0.5)
    ae = fast_ae(max_iter=4, tol=0.0, callbacks=[("count", counter), scheduler])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ae.fit(digits[0][:100])
    assert counter.epochs_ == 4
    # StepLR halved Adam's learning rate after each of the 4 epochs.
    assert ae._optimizer_state["param_groups"][0]["lr"] == pytest.approx(1e-3 * 0.5**4)


def test_verbose_prints_the_loss_per_epoch_and_a_progress_bar(digits, capsys):
    fast_ae(max_iter=3, verbose=1, tol=0.0).fit(digits[0][:100])
    lines = capsys.readouterr().out.splitlines()
    losses = (
        fast_ae(max_iter=3, tol=0.0).fit(digits[0][:100]).loss_curve_
    )  # the same fit, silent
    assert capsys.readouterr().out == ""
    assert [line.split("  ")[:2] for line in lines] == [
        [f"epoch {n}/3", f"train_loss {losses[n - 1]:.6g}"] for n in (1, 2, 3)
    ]
    fast_ae(max_iter=2, verbose=2, tol=0.0, batch_size=10).fit(digits[0][:100])
    assert (
        "/10 [" in capsys.readouterr().err
    )  # a tqdm bar over the 10 batches of an epoch


def test_diverging_loss_raises_a_clear_error(digits):
    X = digits[0][:100] * 1e25
    with pytest.raises(
        FloatingPointError,
        match=r"diverged\. Lower learning_rate_init.*beyond about 1e15.*StandardScaler",
    ):
        fast_ae().fit(X)
    ae = fast_ae()
    with pytest.raises(FloatingPointError, match="at epoch 1"):
        ae.fit(X)
    with pytest.raises(NotFittedError):
        ae.transform(X)
    # A warm start that diverges leaves the fitted model as it was.
    fitted = fast_ae(warm_start=True).fit(digits[0][:100])
    codes, n_iter = fitted.transform(digits[0][:5]), fitted.n_iter_
    with pytest.raises(FloatingPointError):
        fitted.fit(X)
    np.testing.assert_array_equal(fitted.transform(digits[0][:5]), codes)
    assert fitted.n_iter_ == n_iter


def test_device_resolution():
    X = np.random.RandomState(0).rand(20, 4)
    assert fast_ae(device="auto").fit(X).device_ in ("cpu", "cuda", "mps")
    assert fast_ae(device=torch.device("cpu")).fit(X).device_ == "cpu"
    with pytest.raises(ValueError, match="not a valid torch device"):
        fast_ae(device="gpu-please").fit(X)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            fast_ae(device="cuda").fit(X)


BAD_INPUTS = [
    (
        np.array([[1.0, np.nan], [2.0, 3.0]]),
        ValueError,
        r"(?s)Input X contains NaN.*imputer",
    ),
    (np.array([[1.0, np.inf], [2.0, 3.0]]), ValueError, "Input X contains infinity"),
    # A string column makes a mixed table (tests/test_mixed_tables.py); a date column has no kind.
    (
        pd.DataFrame(
            {"a": [1.0, 2.0], "day": pd.to_datetime(["2024-01-01", "2024-01-02"])}
        ),
        TypeError,
        r"Column 'day' has dtype datetime64.*which no column kind models",
    ),
    (np.empty((0, 3)), ValueError, "0 sample"),
    (np.array([1.0, 2.0, 3.0]), ValueError, "Expected 2D array"),
    (np.ones((2, 2, 2)), ValueError, "dim 3"),
    (np.array([[1 + 1j, 2.0]]), ValueError, "Complex data not supported"),
    (sp.csr_matrix(np.eye(3)), TypeError, "[Ss]parse"),
]


@pytest.mark.parametrize(
    "X, error, message",
    BAD_INPUTS,
    ids=["nan", "inf", "strings", "empty", "1d", "3d", "complex", "sparse"],
)
def test_bad_input_gets_a_clear_error(X, error, message):
    with pytest.raises(error, match=message):
        fast_ae().fit(X)


def test_wrong_number_of_features_after_fit(digits):
    ae = fast_ae().fit(digits[0][:50])
    for method in (ae.transform, ae.score_samples, ae.reconstruct):
        with pytest.raises(
            ValueError,
            match="X has 10 features, but AutoencoderTransformer is expecting 64",
        ):
            method(digits[0][:5, :10])
    with pytest.raises(ValueError, match="expecting 3 features"):
        ae.inverse_transform(np.zeros((2, 5)))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_components": 0}, "n_components"),
        ({"activation": "swish2"}, "activation"),
        ({"learning_rate_init": -1.0}, "learning_rate_init"),
        ({"hidden_layer_sizes": (8, 0)}, "positive integers"),
    ],
)
def test_bad_parameters_get_clear_errors(params, message):
    with pytest.raises(ValueError, match=message):
        fast_ae(**params).fit(np.ones((5, 3)))


def test_denormals_are_flushed_during_training_and_not_after(digits):
    class SeeDenormals(Callback):
        def initialize(self):
            self.flushed_ = []
            return self

        def on_epoch_begin(self, net, **kwargs):
            self.flushed_.append(
                float(torch.tensor([1e-320], dtype=torch.float64)[0]) == 0.0
            )

    seen = SeeDenormals()
    fast_ae(max_iter=2, callbacks=[seen]).fit(digits[0][:50])
    assert seen.flushed_ == [True, True]
    assert float(torch.tensor([1e-320], dtype=torch.float64)[0]) != 0.0


def test_column_transformer_and_clone_need_no_glue(digits):
    from sklearn.base import clone
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder

    frame = pd.DataFrame(digits[0][:120, :8], columns=[f"p{i}" for i in range(8)])
    frame["city"] = ["a", "b", "c"] * 40
    columns = ColumnTransformer(
        [
            ("ae", fast_ae(), [f"p{i}" for i in range(8)]),
            ("city", OneHotEncoder(sparse_output=False), ["city"]),
        ]
    ).set_output(transform="pandas")
    out = columns.fit_transform(frame)
    assert list(out.columns) == [f"ae__autoencodertransformer{i}" for i in range(3)] + [
        "city__city_a",
        "city__city_b",
        "city__city_c",
    ]
    twin = clone(fast_ae(callbacks=[LRScheduler(policy="StepLR", step_size=1)]))
    assert twin.get_params()["n_components"] == 3 and not hasattr(twin, "module_")
