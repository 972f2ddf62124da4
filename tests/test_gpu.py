"""device="cuda": really trains on the GPU, and the fitted model loads without one."""

import pickle
from functools import partial

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skae import VAE, AutoencoderTransformer
from skae._inference import inference_copy, inference_device
from skae.nn import ConvDecoder, ConvEncoder

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA"),
]


class RecordDevice(Callback):
    def initialize(self):
        self.devices_ = set()
        return self

    def on_batch_begin(self, net, batch=None, **kwargs):
        self.devices_.add(batch[0].device.type)
        self.devices_.update(p.device.type for p in net.module_.parameters())


@pytest.mark.parametrize("estimator", [AutoencoderTransformer, VAE])
def test_cuda_training_runs_on_the_gpu_and_pickles_to_cpu(digits, estimator):
    recorder = RecordDevice()
    model = estimator(
        8, max_iter=3, device="cuda", random_state=0, callbacks=[recorder]
    ).fit(digits[0])
    assert recorder.devices_ == {"cuda"}
    assert model.device_.startswith("cuda")
    assert next(model.module_.parameters()).device.type == "cpu"
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        loaded.transform(digits[0][:10]), model.transform(digits[0][:10])
    )


def inference_module(model, dtype):
    """The module ``model`` predicts with for input of ``dtype``."""
    return inference_copy(
        model.module_, inference_device(model.inference_device, model.device_), dtype
    )[0]


def test_inference_runs_on_the_training_gpu_in_the_input_dtype(digits):
    X = digits[0][:500]
    model = AutoencoderTransformer(8, max_iter=3, device="cuda", random_state=0).fit(X)
    recorded = []
    for dtype in (np.float32, np.float64):
        module = inference_module(model, dtype)
        module.encoder.register_forward_hook(
            lambda m, args, out: recorded.append((args[0].device.type, args[0].dtype))
        )
    on_cpu = pickle.loads(pickle.dumps(model)).set_params(inference_device="cpu")
    for dtype, rtol in ((np.float32, 1e-4), (np.float64, 1e-10)):
        codes = model.transform(X.astype(dtype))
        assert codes.dtype == dtype
        np.testing.assert_allclose(
            codes, on_cpu.transform(X.astype(dtype)), rtol=rtol, atol=rtol
        )
        scores = model.score_samples(X.astype(dtype))
        np.testing.assert_allclose(
            scores, on_cpu.score_samples(X.astype(dtype)), rtol=rtol
        )
    # transform and score_samples each run the encoder once per dtype, on the training GPU
    assert recorded == [("cuda", torch.float32)] * 2 + [("cuda", torch.float64)] * 2


def test_cuda_model_predicts_on_cpu_where_cuda_is_hidden(digits, monkeypatch):
    model = AutoencoderTransformer(8, max_iter=3, device="cuda", random_state=0).fit(
        digits[0]
    )
    expected = model.transform(digits[0][:50])
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = pickle.loads(pickle.dumps(model))
    assert inference_device(loaded.inference_device, loaded.device_).type == "cpu"
    np.testing.assert_allclose(
        loaded.transform(digits[0][:50]), expected, rtol=1e-10, atol=1e-10
    )


@pytest.mark.parametrize("estimator", [AutoencoderTransformer, VAE])
def test_cuda_fitted_model_saved_with_skops_or_pickle_loads_without_cuda_identically(
    digits, estimator, tmp_path
):
    from test_persistence import outputs_loaded_in_a_fresh_process_without_cuda

    X = digits[0][:50]
    model = estimator(8, max_iter=3, device="cuda", random_state=0).fit(digits[0])
    on_gpu = np.hstack([model.transform(X), model.score_samples(X)[:, None]])
    loaded = outputs_loaded_in_a_fresh_process_without_cuda(model, X, tmp_path)
    # Where CUDA is hidden the loaded model predicts on the CPU: exactly what
    # the original gives with inference_device="cpu", and what it gave on the GPU up to rounding.
    model.set_params(inference_device="cpu")
    on_cpu = np.hstack([model.transform(X), model.score_samples(X)[:, None]])
    np.testing.assert_array_equal(loaded[0], on_cpu)
    np.testing.assert_array_equal(loaded[1], on_cpu)
    np.testing.assert_allclose(on_gpu, on_cpu, rtol=1e-6, atol=1e-6)


def test_convolutional_networks_train_on_the_gpu(digits):
    image = dict(image_shape=(1, 8, 8), channels=(8, 16))
    recorder = RecordDevice()
    model = AutoencoderTransformer(
        8,
        encoder=partial(ConvEncoder, **image),
        decoder=partial(ConvDecoder, **image),
        max_iter=3,
        device="cuda",
        random_state=0,
        callbacks=[recorder],
    ).fit(digits[0])
    assert recorder.devices_ == {"cuda"}
    assert isinstance(model.module_.encoder, ConvEncoder)
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(
        loaded.transform(digits[0][:10]),
        model.transform(digits[0][:10]),
        rtol=1e-5,
        atol=1e-6,
    )


def test_vae_sample_and_interpolate_run_on_the_training_gpu(digits):
    X = digits[0][:500]
    model = VAE(8, max_iter=3, device="cuda", random_state=0).fit(X)
    recorded = []
    for dtype in (np.float32, np.float64):
        module = inference_module(model, dtype)
        module.decoder.register_forward_hook(
            lambda m, args, out: recorded.append((args[0].device.type, args[0].dtype))
        )
    samples = model.sample(5, random_state=0)
    path = model.interpolate(
        X[0].astype(np.float32), X[1].astype(np.float32), n_steps=4
    )
    drawn = model.sample_reconstruction(X[:5], random_state=0)
    assert recorded == [
        ("cuda", torch.float64),
        ("cuda", torch.float32),
        ("cuda", torch.float64),
    ]
    assert (
        samples.dtype == np.float64
        and path.dtype == np.float32
        and drawn.shape == (5, X.shape[1])
    )
    np.testing.assert_array_equal(model.sample(5, random_state=0), samples)
    # The latent draws are made on the CPU: the same samples as on the CPU, up to rounding.
    on_cpu = pickle.loads(pickle.dumps(model)).set_params(inference_device="cpu")
    np.testing.assert_allclose(
        on_cpu.sample(5, random_state=0), samples, rtol=1e-10, atol=1e-10
    )
    np.testing.assert_allclose(
        on_cpu.interpolate(X[0].astype(np.float32), X[1].astype(np.float32), n_steps=4),
        path,
        rtol=1e-4,
        atol=1e-5,
    )
