"""Fits in parallel: threads shared without oversubscription and restored; Dask grid search and ParallelPostFit."""

import contextlib
import os
import threading
import warnings

import numpy as np
import pytest
import torch
from joblib import Parallel, delayed
from skorch.callbacks import Callback

from skae import AutoencoderTransformer, _cpu


class RecordThreads(Callback):
    """Records torch's thread count at each epoch; with a ``barrier``, the fits keep in step from epoch 1's end."""

    def __init__(self, barrier=None):
        self.barrier = barrier

    def initialize(self):
        self.counts_ = []
        return self

    def on_epoch_begin(self, net, **kwargs):
        self.counts_.append(torch.get_num_threads())
        # No fit ends before every other has recorded this epoch's count: a
        # fit that finished first gave the last one its share back (one run
        # in seven recorded 2 threads at epoch 3 without this wait).
        if self.barrier is not None and len(self.counts_) > 1:
            self.barrier.wait()

    def on_epoch_end(self, net, **kwargs):
        if self.barrier is not None and len(self.counts_) == 1:
            self.barrier.wait()  # every fit has started


def _fit(X, recorder):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        AutoencoderTransformer(
            4,
            hidden_layer_sizes=(16,),
            max_iter=3,
            random_state=0,
            callbacks=[recorder],
        ).fit(X)
    return recorder.counts_


@pytest.mark.parametrize("big", [True, False])
def test_parallel_fits_split_the_threads_and_restore_them(
    digits, two_threads, monkeypatch, big
):
    # Every net counts as big enough for several threads (or none does).
    monkeypatch.setattr(_cpu, "_PARALLEL_WORK_THRESHOLD", 0 if big else float("inf"))
    X = digits[0][:300]
    assert _fit(X, RecordThreads()) == ([2, 2, 2] if big else [1, 1, 1])
    barrier = threading.Barrier(2, timeout=60)
    counts = Parallel(n_jobs=2, backend="threading")(
        delayed(_fit)(X, RecordThreads(barrier)) for _ in range(2)
    )
    # From epoch 2 on, both fits run: one thread each, never 2 + 2 on 2 cores.
    assert [c[1:] for c in counts] == [[1, 1], [1, 1]]
    assert torch.get_num_threads() == 2
    later = []
    thread = threading.Thread(target=lambda: later.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert later == [2]


@contextlib.contextmanager
def _dask_client(processes):
    distributed = pytest.importorskip("distributed")
    # The nannies run in this process and write their workers' environment
    # (OMP_NUM_THREADS=1, MALLOC_TRIM_THRESHOLD_, ...) into os.environ, where
    # every process started by later tests would inherit it.
    environ = dict(os.environ)
    try:
        with (
            distributed.LocalCluster(
                n_workers=2,
                threads_per_worker=1,
                processes=processes,
                host="127.0.0.1",
                protocol="tcp",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
    finally:
        os.environ.clear()
        os.environ.update(environ)


@pytest.fixture
def dask_client():
    # Worker processes, as Dask deployments (and bench_dask_search.py) run them.
    with _dask_client(processes=True) as client:
        yield client


# Threaded workers run fits side by side in one process: each fit draws from
# generators of its own, so the scores equal n_jobs=1 there too.
@pytest.mark.parametrize("processes", [True, False], ids=["processes", "threads"])
def test_grid_search_on_dask_equals_n_jobs_1(digits, processes):
    from joblib import parallel_config
    from sklearn.model_selection import GridSearchCV

    X = digits[0][:400]
    grid = {"n_components": [2, 8], "alpha": [1e-4, 1e-1]}
    estimator = AutoencoderTransformer(
        hidden_layer_sizes=(16,), max_iter=20, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        serial = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X)
        with _dask_client(processes), parallel_config(backend="dask"):
            on_dask = GridSearchCV(estimator, grid, cv=3, n_jobs=2).fit(X)
    assert on_dask.best_params_ == serial.best_params_
    for split in range(3):
        key = f"split{split}_test_score"
        np.testing.assert_array_equal(on_dask.cv_results_[key], serial.cv_results_[key])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_parallel_post_fit_and_map_blocks_on_a_dask_array_equal_in_memory(
    digits, dask_client, dtype
):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X = digits[0].astype(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = wrappers.ParallelPostFit(
            AutoencoderTransformer(
                4, hidden_layer_sizes=(16,), max_iter=5, random_state=0
            )
        ).fit(X)
    fitted = model._postfit_estimator
    blocks = da.from_array(X, chunks=(500, X.shape[1]))
    lazy = model.transform(blocks)
    # dask-ml does not pass the output's chunks to map_blocks: the lazy array
    # claims the input's width (devices.rst documents it; when this fails,
    # dask-ml fixed it and the page should say so).
    assert lazy.shape == X.shape
    codes = lazy.compute()
    assert codes.dtype == dtype
    # Blocks of 500 rows: matrix products may round differently in the last bit.
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(
        codes, fitted.transform(X), rtol=tolerance, atol=tolerance
    )
    # The documented workarounds get the lazy shape right, before computing.
    expected_shape = (len(X), fitted.n_components)
    mapped = blocks.map_blocks(
        fitted.transform, chunks=(blocks.chunks[0], (fitted.n_components,)), dtype=dtype
    )
    measured = model.transform(blocks).compute_chunk_sizes()
    for workaround in (mapped, measured):
        assert workaround.shape == expected_shape
        assert workaround[:, -1:].shape == (len(X), 1)
        np.testing.assert_allclose(
            workaround.compute(), fitted.transform(X), rtol=tolerance, atol=tolerance
        )
    # score_samples has no wrapper: map_blocks, dropping the feature axis.
    scores = blocks.map_blocks(fitted.score_samples, drop_axis=1, dtype=dtype).compute()
    np.testing.assert_allclose(scores, fitted.score_samples(X), rtol=tolerance)
