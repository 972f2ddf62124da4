"""Inference on the chosen device, in the input's float dtype, in batches of a settable size."""

import pickle
import warnings

import numpy as np
import pytest
import torch

from skae import VAE, AutoencoderTransformer, ContractiveAE, SparseAE


@pytest.fixture(scope="module")
def fitted(digits):
    return AutoencoderTransformer(
        6, hidden_layer_sizes=(16,), max_iter=5, random_state=0
    ).fit(digits[0])


def _outputs(model, X, codes):
    return {
        "transform": model.transform(X),
        "inverse_transform": model.inverse_transform(codes),
        "reconstruct": model.reconstruct(X),
        "score_samples": model.score_samples(X),
        "jacobian_norm": model.jacobian_norm(X),
    }


def test_float32_input_is_computed_in_float32_and_matches_float64(fitted, digits):
    X64 = digits[0][:200]
    codes64 = fitted.transform(X64)
    X32, codes32 = X64.astype(np.float32), codes64.astype(np.float32)
    out64, out32 = _outputs(fitted, X64, codes64), _outputs(fitted, X32, codes32)
    for name in out64:
        assert out64[name].dtype == np.float64 and out32[name].dtype == np.float32, name
        scale = np.abs(out64[name]).max()
        np.testing.assert_allclose(
            out32[name], out64[name], rtol=1e-5, atol=1e-5 * scale, err_msg=name
        )
    # Computed in float32, not in float64 and rounded at the end: the rounding
    # of the intermediate products shows in the last bits.
    assert not np.array_equal(
        out32["reconstruct"], out64["reconstruct"].astype(np.float32)
    )


def test_batch_size_bounds_each_forward_pass_and_does_not_change_results(
    fitted, digits
):
    X = digits[0][:100]
    batch_sizes = []
    hook = fitted.module_.encoder.register_forward_hook(
        lambda module, args, output: batch_sizes.append(len(args[0]))
    )
    try:
        small = AutoencoderTransformer(
            **{**fitted.get_params(), "inference_batch_size": 7}
        )
        small.module_, small.n_features_in_, small.device_ = (
            fitted.module_,
            fitted.n_features_in_,
            fitted.device_,
        )
        codes = small.transform(X)
    finally:
        hook.remove()
    assert batch_sizes == [7] * 14 + [2]
    np.testing.assert_allclose(codes, fitted.transform(X), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(
        small.score_samples(X), fitted.score_samples(X), rtol=1e-12
    )


def test_copies_follow_in_place_changes_of_the_fitted_module(digits):
    X = digits[0][:50].astype(np.float32)
    model = AutoencoderTransformer(
        4, hidden_layer_sizes=(8,), max_iter=2, random_state=0
    ).fit(digits[0])
    before = model.transform(X)  # builds the float32 copy
    with torch.no_grad():
        model.module_.encoder[0].bias.add_(1.0)
    after = model.transform(X)
    assert not np.allclose(after, before)
    np.testing.assert_allclose(
        after, model.transform(X.astype(np.float64)), rtol=1e-5, atol=1e-5
    )


def test_copies_are_not_pickled(fitted, digits):
    size = len(pickle.dumps(fitted))
    fitted.transform(digits[0][:10].astype(np.float32))
    assert len(pickle.dumps(fitted)) == size


def test_model_trained_on_a_missing_gpu_predicts_on_cpu_after_loading(
    fitted, digits, monkeypatch
):
    X = digits[0][:20]
    expected = fitted.transform(X)
    trained_on_gpu = pickle.loads(pickle.dumps(fitted))
    trained_on_gpu.device, trained_on_gpu.device_ = "cuda", "cuda:0"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(pickle.dumps(trained_on_gpu))
    np.testing.assert_array_equal(loaded.transform(X), expected)
    assert loaded.score_samples(X.astype(np.float32)).dtype == np.float32
    loaded.set_params(inference_device="cuda")
    with pytest.raises(
        ValueError,
        match="inference_device='cuda' was requested but CUDA is not available",
    ):
        loaded.transform(X)


def test_invalid_inference_device_is_refused_with_its_name(fitted, digits):
    model = pickle.loads(pickle.dumps(fitted)).set_params(inference_device="tpu")
    with pytest.raises(
        ValueError, match="inference_device='tpu' is not a valid torch device"
    ):
        model.transform(digits[0][:5])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_read_only_input_is_used_without_warning_and_left_unchanged(
    fitted, digits, dtype
):
    X = digits[0][:30].astype(dtype)
    X.setflags(write=False)
    original = X.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        reconstruction = fitted.reconstruct(X)
    assert reconstruction.dtype == dtype
    np.testing.assert_array_equal(X, original)


@pytest.mark.parametrize("estimator", [SparseAE(8, k=3), ContractiveAE(4)])
def test_variants_infer_in_float32(estimator, digits):
    X = digits[0][:100]
    model = estimator.set_params(max_iter=2, random_state=0).fit(X)
    codes32, codes64 = model.transform(X.astype(np.float32)), model.transform(X)
    assert codes32.dtype == np.float32
    np.testing.assert_allclose(
        codes32, codes64, rtol=1e-5, atol=1e-5 * np.abs(codes64).max()
    )


@pytest.mark.parametrize("likelihood", ["gaussian", "bernoulli"])
def test_vae_bounds_in_float32_and_independent_of_the_batch_size(likelihood, digits):
    X = digits[0][:120]
    vae = VAE(
        4, likelihood=likelihood, hidden_layer_sizes=(16,), max_iter=3, random_state=0
    ).fit(digits[0])
    for n_samples in (None, 5):
        scores64 = vae.score_samples(X, n_samples=n_samples)
        scores32 = vae.score_samples(X.astype(np.float32), n_samples=n_samples)
        assert scores32.dtype == np.float32
        np.testing.assert_allclose(scores32, scores64, rtol=1e-5, atol=1e-4)
        # 10 draws per row: 3 rows per pass.
        small = vae.set_params(inference_batch_size=30).score_samples(
            X, n_samples=n_samples
        )
        vae.set_params(inference_batch_size=8192)
        np.testing.assert_allclose(small, scores64, rtol=1e-12)


def test_version_stamp_moves_with_every_in_place_change():
    # Inference's module copies and partial_fit's kept engine are reused while
    # version_stamp is unchanged; it reads torch's private tensor._version, so
    # this test fails if torch stops moving it with in-place updates.
    from skae._torch_utils import unchanged, version_stamp

    module = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(module.parameters(), lr=0.1)
    stamp = version_stamp(module)
    assert unchanged(module, stamp)
    changes = [
        lambda: module.weight.fill_(0.5),
        lambda: module.bias.copy_(torch.ones(2)),
        lambda: module.load_state_dict(torch.nn.Linear(3, 2).state_dict()),
        lambda: (module(torch.ones(1, 3)).sum().backward(), optimizer.step()),
        lambda: setattr(module.weight, "data", torch.zeros(2, 3)),
    ]
    for change in changes:
        with torch.no_grad() if change is not changes[3] else torch.enable_grad():
            change()
        assert not unchanged(module, stamp)
        stamp = version_stamp(module)


def test_a_float32_copy_follows_changes_to_module_(fitted, digits):
    X = digits[0][:20].astype(np.float32)
    before = fitted.transform(X)
    with torch.no_grad():
        next(fitted.module_.parameters()).mul_(2.0)
    try:
        after = fitted.transform(X)
        assert not np.allclose(after, before)
        np.testing.assert_allclose(
            after, fitted.transform(X.astype(np.float64)), rtol=1e-4, atol=1e-5
        )
    finally:
        with torch.no_grad():
            next(fitted.module_.parameters()).mul_(0.5)
