"""ONNX export: onnxruntime computes what skae computes, alone and inside scikit-learn pipelines."""

from functools import partial

import numpy as np
import pytest

pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")

import onnx  # noqa: E402
import skl2onnx  # noqa: E402
import torch  # noqa: E402
from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from torch import nn  # noqa: E402

from skae import (  # noqa: E402
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)
from skae.nn import ConvDecoder, ConvEncoder  # noqa: E402
from skae.onnx import to_onnx  # noqa: E402

FAST = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
AUTOENCODERS = {
    "AutoencoderTransformer": lambda: AutoencoderTransformer(4, **FAST),
    "DenoisingAE": lambda: DenoisingAE(4, noise="masking", noise_level=0.2, **FAST),
    "SparseAE": lambda: SparseAE(8, k=2, **FAST),
    "ContractiveAE": lambda: ContractiveAE(4, **FAST),
    "VAE": lambda: VAE(4, **FAST),
}
DTYPES = [np.float32, np.float64]
BATCHES = [1, 1000]


def tolerance(dtype):
    return 1e-5 if dtype == np.float32 else 1e-10


def run(onnx_model, X):
    session = ort.InferenceSession(
        onnx_model.SerializeToString(), providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def assert_close(actual, expected, dtype, relative=False):
    """Equal to the dtype's tolerance: absolute, or relative to the largest value for scores."""
    scale = max(1.0, float(np.abs(expected).max())) if relative else 1.0
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=0, atol=tolerance(dtype) * scale)


@pytest.fixture(scope="module")
def data(digits):
    X, y = digits
    return X[:400], y[:400], X[400:1400]


@pytest.fixture(scope="module")
def fitted(data):
    X, y, _ = data
    models = {}
    for name, make in AUTOENCODERS.items():
        models[name] = make().fit(X)
        pipeline = Pipeline(
            [
                ("scale", StandardScaler()),
                ("ae", make()),
                ("clf", LogisticRegression(max_iter=50)),
            ]
        )
        models[name, "pipeline"] = pipeline.fit(X, y)
    return models


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "pipeline"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", AUTOENCODERS)
def test_autoencoders_match_in_onnxruntime(fitted, data, name, dtype, in_pipeline):
    held_out = data[2].astype(dtype)
    model = fitted[name, "pipeline"] if in_pipeline else fitted[name]
    onnx_model = skl2onnx.to_onnx(
        model, held_out[:1], options={"zipmap": False} if in_pipeline else None
    )
    for batch in BATCHES:
        rows = held_out[:batch]
        if in_pipeline:
            labels, probabilities = run(onnx_model, rows)
            np.testing.assert_array_equal(labels, model.predict(rows))
            assert_close(probabilities, model.predict_proba(rows).astype(dtype), dtype)
        else:
            assert_close(run(onnx_model, rows)[0], model.transform(rows), dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", ["SparseAE", "VAE"])
def test_inverse_transform_is_a_separate_export(fitted, data, name, dtype):
    model = fitted[name]
    codes = model.transform(data[2].astype(dtype))
    onnx_model = to_onnx(model, codes[:1], options={"inverse_transform": True})
    assert_close(run(onnx_model, codes)[0], model.inverse_transform(codes), dtype)


def test_bernoulli_decoder_exports_probabilities(data):
    X, _, held_out = data
    model = AutoencoderTransformer(4, likelihood="bernoulli", **FAST).fit(X)
    codes = model.transform(held_out)
    assert_close(
        run(to_onnx(model, codes[:1], options={"inverse_transform": True}), codes)[0],
        model.inverse_transform(codes),
        np.float64,
    )


DETECTORS = {
    "likelihood": lambda: AutoencoderOutlierDetector(
        AutoencoderTransformer(4, **FAST), contamination=0.1, random_state=0
    ),
    "elbo": lambda: AutoencoderOutlierDetector(
        VAE(4, **FAST), contamination=0.1, n_trim_rounds=1, random_state=0
    ),
    "bagged-reconstruction": lambda: AutoencoderOutlierDetector(
        AutoencoderTransformer(4, **FAST),
        scoring="reconstruction",
        n_estimators=2,
        max_features=0.5,
        n_trim_rounds=0,
        contamination=0.1,
        random_state=0,
    ),
}


@pytest.fixture(scope="module")
def detectors(data):
    X = data[0]
    fitted = {name: make().fit(X) for name, make in DETECTORS.items()}
    fitted["pipeline"] = Pipeline(
        [("scale", StandardScaler()), ("detect", DETECTORS["likelihood"]())]
    ).fit(X)
    return fitted


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [*DETECTORS, "pipeline"])
def test_detector_labels_and_scores_match(detectors, data, name, dtype):
    detector = detectors[name]
    held_out = data[2].astype(dtype)
    options = {AutoencoderOutlierDetector: {"score_samples": True}}
    onnx_model = to_onnx(detector, held_out[:1], options=options)
    for batch in BATCHES:
        rows = held_out[:batch]
        labels, decision, scores = run(onnx_model, rows)
        assert labels.dtype == np.int64 and decision.shape == (batch, 1)
        np.testing.assert_array_equal(labels, detector.predict(rows))
        assert_close(
            decision[:, 0], detector.decision_function(rows), dtype, relative=True
        )
        assert_close(scores[:, 0], detector.score_samples(rows), dtype, relative=True)
    assert (labels == -1).any()  # the threshold is exercised, not only its safe side


def test_detector_has_two_outputs_by_default(detectors, data):
    onnx_model = to_onnx(detectors["likelihood"], data[2][:1])
    assert [output.name for output in onnx_model.graph.output] == ["label", "scores"]


@pytest.fixture(scope="module")
def imputers(data):
    X, y, _ = data
    X_missing = with_missing(X, seed=0)
    imputer = AutoencoderImputer(
        AutoencoderTransformer(8, **FAST),
        n_rounds=2,
        add_indicator=True,
        random_state=0,
    )
    pipeline = Pipeline(
        [
            ("impute", AutoencoderImputer(DenoisingAE(8, **FAST), random_state=0)),
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=50)),
        ]
    )
    return imputer.fit(X_missing), pipeline.fit(X_missing, y)


def with_missing(X, seed, fraction=0.2):
    X = X.copy()
    X[np.random.RandomState(seed).rand(*X.shape) < fraction] = np.nan
    return X


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_imputer_fills_like_transform_and_passes_observed_cells(imputers, data, dtype):
    imputer = imputers[0]
    held_out = with_missing(data[2], seed=1).astype(dtype)
    onnx_model = to_onnx(imputer, held_out[:1])
    for batch in BATCHES:
        rows = held_out[:batch]
        filled = run(onnx_model, rows)[0]
        expected = imputer.transform(rows)
        assert_close(filled, expected, dtype)
        # Every feature had observed cells in fit, so the first columns are the features, then the indicator.
        observed = ~np.isnan(rows)
        np.testing.assert_array_equal(
            filled[:, : rows.shape[1]][observed], rows[observed]
        )
        assert filled.shape[1] > rows.shape[1]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_imputer_in_a_pipeline(imputers, data, dtype):
    pipeline = imputers[1]
    held_out = with_missing(data[2], seed=2).astype(dtype)
    onnx_model = to_onnx(pipeline, held_out[:1], options={"zipmap": False})
    for batch in BATCHES:
        labels, probabilities = run(onnx_model, held_out[:batch])
        np.testing.assert_array_equal(labels, pipeline.predict(held_out[:batch]))
        assert_close(
            probabilities, pipeline.predict_proba(held_out[:batch]).astype(dtype), dtype
        )


def test_sample_posterior_is_refused(data):
    X = with_missing(data[0], seed=3)
    imputer = AutoencoderImputer(
        VAE(4, **FAST), n_rounds=1, sample_posterior=True, random_state=0
    ).fit(X)
    with pytest.raises(
        ValueError, match=r"sample_posterior=True\) draws .* no deterministic ONNX form"
    ):
        to_onnx(imputer, X[:1])


def test_column_transformer_around_a_skae_step(fitted, data):
    X, y, held_out = data
    columns = ColumnTransformer(
        [
            ("ae", SparseAE(8, k=2, **FAST), list(range(32))),
            ("rest", "passthrough", [40, 41]),
        ]
    )
    pipeline = Pipeline(
        [("columns", columns), ("clf", LogisticRegression(max_iter=50))]
    ).fit(X, y)
    labels, probabilities = run(
        to_onnx(pipeline, held_out[:1], options={"zipmap": False}), held_out
    )
    np.testing.assert_array_equal(labels, pipeline.predict(held_out))
    assert_close(probabilities, pipeline.predict_proba(held_out), np.float64)


@pytest.fixture(scope="module")
def conv_model(data):
    networks = dict(image_shape=(1, 8, 8), channels=(4, 8))
    return SparseAE(
        8,
        k=2,
        encoder=partial(ConvEncoder, **networks),
        decoder=partial(ConvDecoder, **networks),
        max_iter=3,
        random_state=0,
    ).fit(data[0])


def test_convolutional_model_exports(conv_model, data):
    rows = data[2].astype(np.float32)
    assert_close(
        run(to_onnx(conv_model, rows[:1]), rows)[0],
        conv_model.transform(rows),
        np.float32,
    )


def test_float64_convolution_is_valid_onnx_that_onnxruntime_cpu_lacks(conv_model, data):
    # Documented in the user guide: onnxruntime's CPU provider has float32 convolutions only.
    onnx_model = to_onnx(conv_model, data[2][:1])
    onnx.checker.check_model(onnx_model, full_check=True)
    with pytest.raises(Exception, match="Could not find an implementation for Conv"):
        run(onnx_model, data[2])


class UserEncoder(nn.Module):
    """A user's own module: a residual MLP with a layer norm."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.hidden = nn.Linear(n_features, n_features)
        self.norm = nn.LayerNorm(n_features)
        self.out = nn.Linear(n_features, n_components)

    def forward(self, x):
        return self.out(self.norm(x + torch.tanh(self.hidden(x))))


class Untraceable(nn.Module):
    """Branches in Python on a tensor's value, which torch.export cannot trace."""

    def __init__(self, n_features, n_components):
        super().__init__()
        self.linear = nn.Linear(n_features, n_components)

    def forward(self, x):
        code = self.linear(x)
        return code if code.sum() > 0 else -code


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_user_module_exports(data, dtype):
    X, _, held_out = data
    model = VAE(4, encoder=UserEncoder, max_iter=3, random_state=0).fit(X)
    rows = held_out.astype(dtype)
    assert_close(run(to_onnx(model, rows[:1]), rows)[0], model.transform(rows), dtype)


def test_untraceable_module_gets_a_clear_error(data):
    model = AutoencoderTransformer(
        4, encoder=Untraceable, max_iter=2, random_state=0
    ).fit(data[0])
    with pytest.raises(
        ValueError,
        match="cannot trace the network of AutoencoderTransformer .*encoder=Untraceable",
    ):
        to_onnx(model, data[2][:1])


@pytest.mark.parametrize(
    "estimator",
    [SparseAE(k=2), AutoencoderOutlierDetector(), AutoencoderImputer()],
    ids=lambda e: type(e).__name__,
)
def test_unfitted_estimator_is_refused(estimator, data):
    with pytest.raises(NotFittedError):
        to_onnx(estimator, data[2][:1])


def test_integer_input_is_refused_with_the_remedy(fitted):
    with pytest.raises(TypeError, match="cast X to a float dtype"):
        to_onnx(fitted["SparseAE"], np.zeros((1, 64), dtype=np.int64))
