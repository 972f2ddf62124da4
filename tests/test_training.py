"""The training engine: denormal flushing on every thread, streaming, partial_fit."""

import numpy as np
import pytest
import torch

from skae import AutoencoderTransformer
from skae._torch_utils import _flushing_denormals, _run_on_openmp_threads, _torch_gomp_parallel, flush_denormals


@pytest.fixture
def two_threads():
    previous = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(previous)


def flags_on_openmp_threads():
    flags = []
    _run_on_openmp_threads(lambda: flags.append(_flushing_denormals()))
    return flags


@pytest.mark.parametrize("caller_flushes", [False, True])
def test_flush_denormals_reaches_every_openmp_thread_and_restores_the_caller(two_threads, caller_flushes):
    if _torch_gomp_parallel() is None or not torch.set_flush_denormal(False):
        pytest.skip("no OpenMP runtime reachable or no flush-to-zero on this CPU")
    torch.set_flush_denormal(caller_flushes)
    try:
        assert _flushing_denormals() is caller_flushes
        with flush_denormals():
            inside = flags_on_openmp_threads()
        assert inside == [True, True]  # the caller and the worker
        assert _flushing_denormals() is caller_flushes
        assert flags_on_openmp_threads() == [caller_flushes] * 2
    finally:
        torch.set_flush_denormal(False)


def test_fit_leaves_every_thread_flushing_as_before(two_threads, digits):
    if _torch_gomp_parallel() is None or not torch.set_flush_denormal(False):
        pytest.skip("no OpenMP runtime reachable or no flush-to-zero on this CPU")
    # Large enough a batch that training keeps both threads.
    AutoencoderTransformer(8, hidden_layer_sizes=(512, 512), batch_size=512, max_iter=1, random_state=0).fit(digits[0])
    assert not _flushing_denormals()
    assert flags_on_openmp_threads() == [False, False]
