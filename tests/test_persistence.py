"""Saving and loading: skops through skae.load, pickle, versions, warm starts."""

import functools
import os
import pickle
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import skae
import skae.nn
from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)
from skae._skops import trusted_loaders
from skae.exceptions import InconsistentVersionWarning, UntrustedTypesError

FAST = dict(n_components=2, hidden_layer_sizes=(8,), max_iter=3, random_state=0)

# Every public estimator, plus the variants with state of their own (buffers,
# top-k, a Bernoulli decoder, wrappers around a VAE).
ESTIMATORS = [
    AutoencoderTransformer(**FAST),
    DenoisingAE(**FAST, noise="salt_and_pepper"),
    SparseAE(**{**FAST, "n_components": 4}, k=2),
    ContractiveAE(**FAST),
    VAE(**FAST),
    VAE(**FAST, likelihood="bernoulli"),
    AutoencoderOutlierDetector(VAE(**FAST)),
    AutoencoderOutlierDetector(
        AutoencoderTransformer(**FAST), n_estimators=2, max_features=0.8, random_state=0
    ),
    AutoencoderImputer(
        AutoencoderTransformer(**FAST), add_indicator=True, random_state=0
    ),
    AutoencoderImputer(VAE(**FAST), sample_posterior=True, random_state=0),
]


def _data(estimator):
    X = np.random.RandomState(0).rand(60, 5)
    if isinstance(estimator, AutoencoderImputer):
        X[::4, 1] = np.nan
        X[1::5, 3] = np.nan
    return X


def _outputs(estimator, X):
    """Every output of the estimator that could change if the model were not restored exactly."""
    names = [
        "transform",
        "inverse_transform",
        "reconstruct",
        "score_samples",
        "decision_function",
        "predict",
    ]
    outputs = {}
    for name in names:
        if not hasattr(estimator, name):
            continue
        data = estimator.transform(X) if name == "inverse_transform" else X
        outputs[name] = getattr(estimator, name)(data)
    if isinstance(estimator, ContractiveAE):
        outputs["jacobian_norm"] = estimator.jacobian_norm(X)
    if isinstance(estimator, VAE):
        outputs["iwae"] = estimator.score_samples(X, n_samples=5)
        outputs["sample"] = estimator.sample(3, random_state=0)
    return outputs


def _assert_same_outputs(loaded, fitted, X):
    expected, actual = _outputs(fitted, X), _outputs(loaded, X)
    assert expected.keys() == actual.keys()
    for name in expected:
        np.testing.assert_array_equal(actual[name], expected[name], err_msg=name)


@pytest.fixture(scope="module", params=ESTIMATORS, ids=lambda est: repr(est)[:70])
def fitted(request):
    estimator = request.param
    return estimator.__class__(**estimator.get_params(deep=False)).fit(
        _data(estimator)
    ), _data(estimator)


def test_skops_round_trip_through_skae_load(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    estimator, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(estimator, path)
    # skops alone trusts none of skae's types; skae.load trusts exactly those the state holds.
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and set(untrusted) <= set(trusted_loaders()), untrusted
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same version: no warning
        loaded = skae.load(path)
    assert type(loaded) is type(estimator)
    _assert_same_outputs(loaded, estimator, X)


def test_pickle_round_trip_gives_identical_outputs(fitted):
    estimator, X = fitted
    _assert_same_outputs(pickle.loads(pickle.dumps(estimator)), estimator, X)


def test_loaded_module_is_rebuilt_on_cpu_in_float64_without_touching_the_callers_rng(
    digits,
):
    model = VAE(**FAST).fit(digits[0][:100])
    state = torch.get_rng_state()
    loaded = pickle.loads(pickle.dumps(model))
    assert torch.equal(torch.get_rng_state(), state)
    assert loaded.module_ is not model.module_ and not loaded.module_.training
    assert {(p.device.type, p.dtype) for p in loaded.module_.state_dict().values()} == {
        ("cpu", torch.float64)
    }
    # The saved state holds no torch object at all.
    saved = model.__getstate__()
    assert isinstance(saved["module_"], dict) and all(
        isinstance(v, np.ndarray) for v in saved["module_"].values()
    )


def test_warm_start_continues_identically_after_loading(digits):
    X = digits[0][:200]
    model = AutoencoderTransformer(**{**FAST, "warm_start": True}).fit(X)
    loaded = pickle.loads(pickle.dumps(model))
    model.fit(X)
    loaded.fit(X)  # needs the optimizer's moments, restored from numpy
    np.testing.assert_array_equal(loaded.loss_curve_, model.loss_curve_)
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))


def _saved_by(version, monkeypatch, tmp_path):
    """A fitted model and its pickle and skops file, as skae ``version`` would write them."""
    sio = pytest.importorskip("skops.io")
    X = np.random.RandomState(0).rand(30, 4)
    with monkeypatch.context() as patch:
        patch.setattr(skae._version, "__version__", version)
        model = AutoencoderTransformer(**FAST).fit(X)
        sio.dump(model, tmp_path / "model.skops")
        return model, X, pickle.dumps(model), tmp_path / "model.skops"


def test_the_version_lives_in_its_own_module():
    assert skae.__version__ is skae._version.__version__
    assert (
        "from . import __version__" not in Path(skae._persistence.__file__).read_text()
    )


def test_a_file_from_another_patch_release_loads_with_a_warning(monkeypatch, tmp_path):
    major, minor, patch = skae.__version__.split(".")[:3]
    other = f"{major}.{minor}.{int(patch) + 7}"
    model, X, pickled, path = _saved_by(other, monkeypatch, tmp_path)
    message = (
        rf"This AutoencoderTransformer was saved by skae {re.escape(other)} and is loaded by skae "
        rf"{re.escape(skae.__version__)}, another patch release"
    )
    for load in (lambda: pickle.loads(pickled), lambda: skae.load(path)):
        with pytest.warns(InconsistentVersionWarning, match=message) as record:
            loaded = load()
        assert (
            record[0].message.original_version == other
            and record[0].message.current_version == skae.__version__
        )
        np.testing.assert_array_equal(loaded.transform(X), model.transform(X))


@pytest.mark.parametrize("release", ["minor", "major"])
def test_a_file_from_another_minor_or_major_release_is_refused_naming_both(
    release, monkeypatch, tmp_path
):
    major, minor = map(int, skae.__version__.split(".")[:2])
    other = f"{major}.{minor + 1}.0" if release == "minor" else f"{major + 1}.{minor}.0"
    _, _, pickled, path = _saved_by(other, monkeypatch, tmp_path)
    message = (
        rf"This AutoencoderTransformer was saved by skae {re.escape(other)}; this is skae "
        rf"{re.escape(skae.__version__)}, which loads only files written by skae {major}\.{minor}\.x .* "
        rf"Load it with skae {re.escape(other)}, or refit it"
    )
    with pytest.raises(ValueError, match=message):
        pickle.loads(pickled)
    with pytest.raises(ValueError, match=message):
        skae.load(path)
    with monkeypatch.context() as patch:
        patch.setattr(skae._version, "__version__", other)
        detector = pickle.dumps(AutoencoderOutlierDetector())
    with pytest.raises(
        ValueError,
        match=rf"This AutoencoderOutlierDetector was saved by skae {re.escape(other)}; ",
    ):
        pickle.loads(detector)


def test_a_state_without_a_version_is_refused():
    # Pickled before versions were recorded, or not written by skae.
    state = dict(
        AutoencoderTransformer(**FAST)
        .fit(np.random.RandomState(0).rand(30, 4))
        .__getstate__()
    )
    del state["_skae_version"]
    with pytest.raises(
        ValueError,
        match=r"saved by an unknown skae version \(before 0\.1\.0\).*Refit it\.",
    ):
        AutoencoderTransformer.__new__(AutoencoderTransformer).__setstate__(state)
    state["_skae_version"] = ["not", "a", "version"]
    with pytest.raises(
        ValueError, match=r"saved by an unknown skae version \['not'.*Refit it\."
    ):
        AutoencoderTransformer.__new__(AutoencoderTransformer).__setstate__(state)


def test_parameters_changed_after_fitting_give_a_clear_error_on_load():
    model = AutoencoderTransformer(**FAST).fit(np.random.RandomState(0).rand(30, 4))
    model.set_params(n_components=3)
    with pytest.raises(
        ValueError,
        match=r"saved weights do not fit the AutoencoderTransformer.*set_params after fitting\? Refit",
    ):
        pickle.loads(pickle.dumps(model))
    model.set_params(activation="nonsense")
    with pytest.raises(
        ValueError,
        match=r"The 'activation' parameter of AutoencoderTransformer must be",
    ):
        pickle.loads(pickle.dumps(model))


def test_skaes_convolutional_builders_load_through_skae_load(tmp_path):
    sio = pytest.importorskip("skops.io")
    X = np.random.RandomState(0).rand(20, 64)
    image = dict(image_shape=(1, 8, 8), channels=(4,))
    model = AutoencoderTransformer(
        2,
        encoder=functools.partial(skae.nn.ConvEncoder, **image),
        decoder=functools.partial(skae.nn.ConvDecoder, **image),
        max_iter=2,
        random_state=0,
    ).fit(X)
    sio.dump(model, tmp_path / "conv.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "conv.skops")
    assert set(untrusted) == {
        "functools.partial",
        "skae._vanilla.AutoencoderTransformer",
        "skae.nn.ConvDecoder",
        "skae.nn.ConvEncoder",
    }
    loaded = skae.load(tmp_path / "conv.skops")
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    # What a partial wraps is checked on its own: a partial of os.system is refused as such.
    sio.dump(
        AutoencoderTransformer(encoder=functools.partial(os.system, "echo owned")),
        tmp_path / "evil.skops",
    )
    with pytest.raises(UntrustedTypesError, match=r"does not trust: \w+\.system\."):
        skae.load(tmp_path / "evil.skops")


def _linear_encoder(n_features, n_components, bias=True):
    return torch.nn.Linear(n_features, n_components, bias=bias)


def test_user_networks_are_not_silently_trusted_by_skops(tmp_path):
    sio = pytest.importorskip("skops.io")
    X = np.random.RandomState(0).rand(30, 5)
    builder = functools.partial(_linear_encoder, bias=False)
    model = AutoencoderTransformer(2, encoder=builder, max_iter=2, random_state=0).fit(
        X
    )
    sio.dump(model, tmp_path / "user.skops")
    untrusted = sio.get_untrusted_types(file=tmp_path / "user.skops")
    assert "functools.partial" in untrusted and any(
        name.endswith("_linear_encoder") for name in untrusted
    ), untrusted
    builder_name = next(name for name in untrusted if name.endswith("_linear_encoder"))
    with pytest.raises(
        UntrustedTypesError, match=rf"does not trust: {re.escape(builder_name)}\."
    ):
        skae.load(tmp_path / "user.skops")
    # The caller may trust a builder it reviewed (its own, in a file it wrote).
    loaded = skae.load(tmp_path / "user.skops", trusted=[builder_name])
    np.testing.assert_array_equal(loaded.transform(X), model.transform(X))
    # Pickle (for files you trust) keeps user networks, instances included.
    instance = AutoencoderTransformer(
        2,
        encoder=torch.nn.Sequential(torch.nn.Linear(5, 2)),
        max_iter=2,
        random_state=0,
    ).fit(X)
    np.testing.assert_array_equal(
        pickle.loads(pickle.dumps(instance)).transform(X), instance.transform(X)
    )


_LOADER = """
import pickle, sys
import numpy as np, torch, skae
folder = sys.argv[1]
assert not torch.cuda.is_available()
X = np.load(folder + "/X.npy")
path = folder + "/model.skops"
from_skops = skae.load(path)
with open(folder + "/model.pkl", "rb") as file:
    from_pickle = pickle.load(file)
np.save(folder + "/outputs.npy", np.stack([
    np.hstack([model.transform(X), model.score_samples(X)[:, None]]) for model in (from_skops, from_pickle)
]))
"""


def outputs_loaded_in_a_fresh_process_without_cuda(model, X, folder):
    """transform and score_samples of ``model`` saved with skops and pickle, loaded where CUDA is hidden.

    Returns an array of shape (2, n_samples, n_components + 1): skops, then pickle.
    """
    sio = pytest.importorskip("skops.io")
    folder = Path(folder)
    sio.dump(model, folder / "model.skops")
    (folder / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(folder / "X.npy", X)
    repository = str(Path(__file__).resolve().parents[1] / "src")
    # The repository goes first; the caller's PYTHONPATH (where dependencies may live) is kept.
    python_path = os.pathsep.join(
        filter(None, [repository, os.environ.get("PYTHONPATH")])
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "PYTHONPATH": python_path}
    subprocess.run(
        [sys.executable, "-c", _LOADER, str(folder)],
        check=True,
        env=env,
        cwd=repository,
        timeout=300,
    )
    return np.load(folder / "outputs.npy")


def test_a_model_loads_in_a_fresh_process_with_identical_outputs(digits, tmp_path):
    pytest.importorskip("skops.io")
    X = digits[0][:20]
    model = VAE(**FAST).fit(digits[0][:200])
    expected = np.hstack([model.transform(X), model.score_samples(X)[:, None]])
    loaded = outputs_loaded_in_a_fresh_process_without_cuda(model, X, tmp_path)
    np.testing.assert_array_equal(loaded[0], expected)
    np.testing.assert_array_equal(loaded[1], expected)
