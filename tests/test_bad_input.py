"""Issue 19 (items 3 and 5): bad input to every public estimator gets a clear error or the documented behaviour.

Each case asserts the exception type and a fragment of the message that names
the problem or the remedy, so a raw torch / numpy / skorch error (or a silently
wrong result) fails it. The matrix runs every case on every estimator it
applies to: ``pytest tests/test_bad_input.py -q`` reports the count.
"""

import re
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import GradientNormClipping

from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

AUTOENCODERS = {
    "AutoencoderTransformer": AutoencoderTransformer,
    "DenoisingAE": DenoisingAE,
    "SparseAE": SparseAE,
    "ContractiveAE": ContractiveAE,
    "VAE": VAE,
}
ESTIMATORS = [*AUTOENCODERS, "AutoencoderOutlierDetector", "AutoencoderImputer"]
TINY = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": 0}
X = np.random.RandomState(0).randn(20, 4)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*maximum iterations")
        yield


def build(name, **params):
    """A tiny estimator; ``params`` go to the autoencoder (the wrappers' inner one)."""
    params = {"n_components": 2, **TINY, **params}
    if name in AUTOENCODERS:
        return AUTOENCODERS[name](**params)
    autoencoder = AutoencoderTransformer(**params)
    if name == "AutoencoderOutlierDetector":
        return AutoencoderOutlierDetector(autoencoder, n_trim_rounds=0)
    return AutoencoderImputer(autoencoder, n_rounds=1)


def inference_methods(name):
    """The public methods that take rows of features, per estimator."""
    if name in AUTOENCODERS:
        return ["transform", "reconstruct", "score_samples", "jacobian_norm"]
    if name == "AutoencoderOutlierDetector":
        return ["score_samples", "decision_function", "predict"]
    return ["transform"]


def inner_autoencoders(estimator):
    """The fitted autoencoders an estimator predicts with."""
    if isinstance(estimator, AutoencoderOutlierDetector):
        return estimator.estimators_
    if isinstance(estimator, AutoencoderImputer):
        return [estimator.autoencoder_]
    return [estimator]


@pytest.fixture(scope="module")
def fitted():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*maximum iterations")
        return {name: build(name).fit(X) for name in ESTIMATORS}


def with_value(value):
    X_bad = X.copy()
    X_bad[3, 1] = value
    return X_bad


# ------------------------------------------------------------- input at fit
FIT_INPUT = {
    "nan": (with_value(np.nan), ValueError, r"AutoencoderImputer"),
    "inf": (with_value(np.inf), ValueError, r"infinity.*finite values"),
    "empty": (X[:0], ValueError, r"0 sample"),
    "0-column": (X[:, :0], ValueError, r"0 feature"),
    "strings": (np.full((5, 3), "a"), ValueError, r"non-numeric.*OneHotEncoder"),
    "string-column": (
        pd.DataFrame({"a": [1.0, 2.0], "b": ["x", "y"]}),
        ValueError,
        r"non-numeric columns \['b'\]",
    ),
    "complex": (X + 1j, ValueError, r"complex numbers.*X\.real"),
    "3-D": (
        X.reshape(20, 2, 2),
        ValueError,
        r"dim 3.*reshape X to \(n_samples, n_features\)",
    ),
    "1-D": (X[:, 0], ValueError, r"Expected (a )?2D array.*[Rr]eshape"),
    "sparse": (
        sp.csr_matrix(X),
        TypeError,
        r"sparse.*OneHotEncoder\(sparse_output=False\)",
    ),
}


@pytest.mark.parametrize("case", FIT_INPUT)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_at_fit(name, case):
    X_bad, error, message = FIT_INPUT[case]
    if name == "AutoencoderImputer" and case == "nan":
        filled = build(name).fit_transform(
            X_bad
        )  # documented: NaN marks the cells to impute
        assert np.isfinite(filled).all() and filled[0].tolist() == X[0].tolist()
        return
    if case == "string-column":
        build(name).fit(
            X_bad
        )  # documented: a DataFrame with string columns is a mixed table (tests/test_mixed_*.py)
        return
    with pytest.raises(error, match=f"(?s){message}"):
        build(name).fit(X_bad)


def test_one_row_fits_and_predicts_finite_values():
    for name in ESTIMATORS:
        estimator = build(name).fit(X[:1])
        method = (
            "score_samples" if name == "AutoencoderOutlierDetector" else "transform"
        )
        assert np.isfinite(getattr(estimator, method)(X)).all(), name


# ------------------------------------------------------- input at prediction
PREDICT_INPUT = {
    "wrong-width": (
        X[:, :3],
        ValueError,
        r"X has 3 features, but \w+ is expecting 4 features",
    ),
    "nan": (with_value(np.nan), ValueError, r"contains NaN.*AutoencoderImputer"),
    "inf": (with_value(np.inf), ValueError, r"infinity"),
    "sparse": (sp.csr_matrix(X), TypeError, r"OneHotEncoder\(sparse_output=False\)"),
    "strings": (np.full((5, 4), "a"), ValueError, r"OneHotEncoder"),
    "empty": (X[:0], ValueError, r"0 sample"),
}


@pytest.mark.parametrize("case", PREDICT_INPUT)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_input_at_prediction(fitted, name, case):
    X_bad, error, message = PREDICT_INPUT[case]
    if name == "AutoencoderImputer" and case == "nan":
        assert np.isfinite(fitted[name].transform(X_bad)).all()  # documented: imputed
        return
    for method in inference_methods(name):
        with pytest.raises(error, match=message):
            getattr(fitted[name], method)(X_bad)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_unfitted_calls(name):
    estimator = build(name)
    methods = inference_methods(name) + (
        ["inverse_transform"] if name in AUTOENCODERS else []
    )
    for method in methods:
        with pytest.raises(NotFittedError, match=r"not fitted yet.*Call 'fit'"):
            getattr(estimator, method)(X)


def test_unfitted_vae_generation():
    for call in (lambda vae: vae.sample(2), lambda vae: vae.interpolate(X[0], X[1])):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            call(build("VAE"))


# ------------------------------------------- parameters changed after fit
# The docs say inference_batch_size and inference_device need no refit: they
# are validated when used, for every estimator (the wrappers' autoencoders).
AFTER_FIT = {
    "batch-negative": (
        {"inference_batch_size": -1},
        InvalidParameterError,
        "'inference_batch_size' parameter",
    ),
    "batch-zero": (
        {"inference_batch_size": 0},
        InvalidParameterError,
        "'inference_batch_size' parameter",
    ),
    "batch-float": (
        {"inference_batch_size": 2.5},
        InvalidParameterError,
        "'inference_batch_size' parameter",
    ),
    "batch-none": (
        {"inference_batch_size": None},
        InvalidParameterError,
        "'inference_batch_size' parameter",
    ),
    "batch-bool": (
        {"inference_batch_size": True},
        InvalidParameterError,
        "'inference_batch_size' parameter",
    ),
    "device-int": (
        {"inference_device": 3},
        InvalidParameterError,
        "'inference_device' parameter",
    ),
    "device-name": (
        {"inference_device": "gpu"},
        ValueError,
        "inference_device='gpu' is not a valid torch device",
    ),
}


@pytest.mark.parametrize("case", AFTER_FIT)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_parameters_changed_after_fit_are_validated_when_used(fitted, name, case):
    params, error, message = AFTER_FIT[case]
    estimator = fitted[name]
    inner = inner_autoencoders(estimator)
    saved = [autoencoder.get_params() for autoencoder in inner]
    try:
        for autoencoder in inner:
            autoencoder.set_params(**params)
        for method in inference_methods(name):
            with pytest.raises(error, match=re.escape(message)):
                getattr(estimator, method)(
                    with_value(np.nan) if name == "AutoencoderImputer" else X
                )
    finally:
        for autoencoder, params_before in zip(inner, saved):
            autoencoder.set_params(**params_before)


def test_inverse_transform_and_sample_validate_inference_batch_size(fitted):
    vae = fitted["VAE"]
    try:
        vae.set_params(inference_batch_size=0)
        for call in (
            lambda: vae.inverse_transform(np.zeros((2, 2))),
            lambda: vae.sample(3),
        ):
            with pytest.raises(
                InvalidParameterError, match="'inference_batch_size' parameter of VAE"
            ):
                call()
    finally:
        vae.set_params(inference_batch_size=8192)


def test_n_score_samples_after_fit_is_named(fitted):
    vae = fitted["VAE"]
    try:
        vae.set_params(n_score_samples=0)
        with pytest.raises(
            InvalidParameterError, match="'n_score_samples' parameter of VAE"
        ):
            vae.score_samples(X)
    finally:
        vae.set_params(n_score_samples=10)
    with pytest.raises(ValueError, match="n_samples must be a positive integer"):
        vae.score_samples(X, n_samples=0)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_rounds": 0}, "'n_rounds' parameter"),
        ({"missing_values": "?"}, "missing_values='?' cannot mark"),
        ({"sample_posterior": True}, "sample_posterior=True needs"),
        ({"n_rounds": True}, "'n_rounds' parameter"),
    ],
)
def test_imputer_parameters_read_by_transform_are_validated(fitted, params, message):
    imputer = fitted["AutoencoderImputer"]
    before = imputer.get_params(deep=False)
    try:
        imputer.set_params(**params)
        with pytest.raises(ValueError, match=re.escape(message)):
            imputer.transform(with_value(np.nan))
    finally:
        imputer.set_params(**before)


# ------------------------------------------------------ training parameters
TRAINING_PARAMS = {
    "callbacks-int": (
        {"callbacks": [1]},
        InvalidParameterError,
        r"'callbacks' parameter.*skorch.*callbacks\[0\]=1",
    ),
    "callbacks-tuple": (
        {"callbacks": [("clip", 1)]},
        InvalidParameterError,
        r"'callbacks' parameter.*\('clip', 1\)",
    ),
    "n_components-bool": (
        {"n_components": True},
        InvalidParameterError,
        r"'n_components' parameter.*Got True",
    ),
    "hidden-bool": (
        {"hidden_layer_sizes": True},
        InvalidParameterError,
        r"'hidden_layer_sizes' parameter.*Got True",
    ),
    "hidden-bool-layer": (
        {"hidden_layer_sizes": (True,)},
        InvalidParameterError,
        r"'hidden_layer_sizes'.*not bools",
    ),
    "max_iter-bool": (
        {"max_iter": True},
        InvalidParameterError,
        r"'max_iter' parameter.*Got True",
    ),
    "batch_size-bool": (
        {"batch_size": True},
        InvalidParameterError,
        r"'batch_size' parameter.*Got True",
    ),
    "alpha-overflow": (
        {"alpha": 1e300},
        InvalidParameterError,
        r"'alpha' parameter.*lower alpha",
    ),
}


@pytest.mark.parametrize("case", TRAINING_PARAMS)
@pytest.mark.parametrize("name", ESTIMATORS)
def test_bad_training_parameters(name, case):
    params, error, message = TRAINING_PARAMS[case]
    if name == "SparseAE" and "n_components" in params:
        params = {**params, "k": 1}
    with pytest.raises(error, match=message):
        build(name, **params).fit(X)


def test_callbacks_accept_instances_and_named_tuples():
    for callbacks in (
        [GradientNormClipping(1.0)],
        [("clip", GradientNormClipping(1.0))],
    ):
        assert build("AutoencoderTransformer", callbacks=callbacks).fit(X).n_iter_ == 2


@pytest.mark.parametrize(
    "params, message",
    [
        ({"max_features": True}, "'max_features' parameter"),
        ({"n_estimators": True}, "'n_estimators' parameter"),
        ({"n_trim_rounds": True}, "'n_trim_rounds' parameter"),
    ],
)
def test_detector_refuses_bools_for_integers(params, message):
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        build("AutoencoderOutlierDetector").set_params(**params).fit(X)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_misspelt_argument_names_the_class_called(name):
    cls = (
        AUTOENCODERS.get(name)
        or {
            "AutoencoderOutlierDetector": AutoencoderOutlierDetector,
            "AutoencoderImputer": AutoencoderImputer,
        }[name]
    )
    with pytest.raises(
        TypeError,
        match=rf"^{name}\.__init__\(\) got an unexpected keyword argument 'max_iterr'",
    ):
        cls(max_iterr=5)


def test_divergence_names_the_learning_rate():
    with pytest.raises(FloatingPointError, match="Lower learning_rate_init"):
        AutoencoderTransformer(
            2, learning_rate_init=1e30, max_iter=5, random_state=0
        ).fit(X * 1e10)


# ------------------------------------------------------------ observed masks
OBSERVED = {
    "strings": np.full(X.shape, "yes"),
    "nan": np.full(X.shape, np.nan),
    "twos": np.full(X.shape, 2),
    "wrong-shape": np.ones((20, 3), dtype=bool),
}


@pytest.mark.parametrize("case", OBSERVED)
@pytest.mark.parametrize("name", AUTOENCODERS)
def test_observed_masks_must_be_bool_or_0_1(name, case):
    message = (
        "observed has shape"
        if case == "wrong-shape"
        else "observed must be a boolean mask"
    )
    with pytest.raises(ValueError, match=message):
        build(name).fit(X, observed=OBSERVED[case])


def test_observed_as_0_and_1_is_the_bool_mask():
    mask = np.random.RandomState(1).rand(*X.shape) < 0.7
    as_bool = build("AutoencoderTransformer").fit(X, observed=mask)
    as_numbers = build("AutoencoderTransformer").fit(X, observed=mask.astype(float))
    np.testing.assert_array_equal(as_bool.transform(X), as_numbers.transform(X))


# --------------------------------------------------------------- out of core
class SlicedRows:
    """An out-of-core array-like (shape, dtype, row slicing) whose slices return ``extra`` rows too many or few."""

    def __init__(self, data, extra):
        self.data, self.extra = data, extra
        self.shape, self.dtype = data.shape, data.dtype

    def __getitem__(self, rows):
        part = self.data[rows]
        return (
            part[: len(part) + self.extra]
            if self.extra < 0
            else np.vstack([part, part[: self.extra]])
        )


def unknown_chunks():
    da = pytest.importorskip("dask.array", reason="dask is in the dask extra")

    data = da.from_array(X, chunks=5)
    return data[data[:, 0] > -np.inf]  # boolean indexing: shape (nan, 4)


OUT_OF_CORE = {
    "dask-unknown-chunks": (
        unknown_chunks,
        r"unknown chunk sizes.*compute_chunk_sizes\(\)",
    ),
    "short-reads": (lambda: SlicedRows(X, -1), r"returned \d+ rows instead of \d+"),
    "long-reads": (lambda: SlicedRows(X, 2), r"returned \d+ rows instead of \d+"),
}


@pytest.mark.parametrize("case", OUT_OF_CORE)
@pytest.mark.parametrize("name", AUTOENCODERS)
def test_out_of_core_input(name, case):
    make, message = OUT_OF_CORE[case]
    with pytest.raises(ValueError, match=message):
        build(name).fit(make())


def test_honest_array_like_trains_on_every_row():
    streamed = build("AutoencoderTransformer").fit(SlicedRows(X, 0))
    assert streamed.n_iter_ == 2 and np.isfinite(streamed.loss_curve_).all()


# --------------------------------------------------------------------- VAE
def test_interpolate_refuses_ends_of_several_rows(fitted):
    with pytest.raises(
        ValueError, match=r"x_start must be one row.*got shape \(2, 4\)"
    ):
        fitted["VAE"].interpolate(X[:2], X[2:4])
    with pytest.raises(ValueError, match=r"x_end must be one row"):
        fitted["VAE"].interpolate(X[0], X[2:4])


def test_interpolate_keeps_dataframe_feature_names():
    frame = pd.DataFrame(X, columns=list("abcd"))
    vae = build("VAE").fit(frame)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = vae.interpolate(
            frame.iloc[[0]], frame.iloc[1]
        )  # a one-row frame and a Series
    np.testing.assert_allclose(path, vae.interpolate(frame.iloc[[0]], frame.iloc[[1]]))


# ----------------------------------------------------------------- imputer
@pytest.mark.parametrize("missing_values", ["?", None])
def test_imputer_refuses_non_numeric_placeholders(missing_values):
    imputer = build("AutoencoderImputer").set_params(missing_values=missing_values)
    with pytest.raises(
        ValueError, match=r"cannot mark cells of numeric data.*na_values"
    ):
        imputer.fit(X)


def test_imputer_with_a_numeric_placeholder_names_nan_in_x():
    imputer = build("AutoencoderImputer").set_params(missing_values=-1)
    with pytest.raises(
        ValueError, match=r"contains NaN; missing_values=-1 marks the missing cells"
    ):
        imputer.fit(with_value(np.nan))


def test_imputer_warns_when_it_drops_empty_features():
    X_empty = X.copy()
    X_empty[:, 1] = np.nan
    with pytest.warns(
        UserWarning, match=r"Skipping features without any observed values: \[1\]"
    ):
        filled = build("AutoencoderImputer").fit_transform(X_empty)
    assert filled.shape == (20, 3)
    frame = pd.DataFrame(X_empty, columns=list("abcd"))
    with pytest.warns(
        UserWarning, match=r"Skipping features without any observed values: \['b'\]"
    ):
        build("AutoencoderImputer").fit(frame).transform(frame)
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Skipping features")
        kept = (
            build("AutoencoderImputer")
            .set_params(keep_empty_features=True)
            .fit_transform(X_empty)
        )
    assert kept.shape == (20, 4) and (kept[:, 1] == 0).all()


def test_imputer_verbose_reports_each_round(capsys):
    X_missing = with_value(np.nan)
    AutoencoderImputer(AutoencoderTransformer(2, **TINY), n_rounds=3, verbose=1).fit(
        X_missing
    )
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("[AutoencoderImputer]")
    ]
    assert [line.split(":")[0] for line in lines] == [
        f"[AutoencoderImputer] round {r}/3" for r in (1, 2, 3)
    ]
    assert all(
        re.search(r"2 epochs, loss [-+.\de]+, [.\d]+ s \(1 missing cells\)", line)
        for line in lines
    )
    AutoencoderImputer(AutoencoderTransformer(2, **TINY), n_rounds=1).fit(X_missing)
    assert capsys.readouterr().out == ""
