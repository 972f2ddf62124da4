"""device="cuda": really trains on the GPU, and the fitted model loads without one."""

import pickle

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skae import VAE, AutoencoderTransformer

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
    model = estimator(8, max_iter=3, device="cuda", random_state=0, callbacks=[recorder]).fit(digits[0])
    assert recorder.devices_ == {"cuda"}
    assert model.device_.startswith("cuda")
    assert next(model.module_.parameters()).device.type == "cpu"
    loaded = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(loaded.transform(digits[0][:10]), model.transform(digits[0][:10]))
