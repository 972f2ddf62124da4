"""The training engine: denormal flushing on every thread, streaming, partial_fit."""

import numpy as np
import pytest
import torch
from skorch.callbacks import Callback

from skae import AutoencoderTransformer
from skae._cpu import (
    _flushing_denormals,
    _run_on_openmp_threads,
    _torch_gomp_parallel,
    flush_denormals,
)


def flags_on_openmp_threads():
    flags = []
    _run_on_openmp_threads(lambda: flags.append(_flushing_denormals()))
    return flags


def test_the_flush_is_turned_off_by_its_environment_variable(monkeypatch):
    if not torch.set_flush_denormal(False):
        pytest.skip("no flush-to-zero on this CPU")
    monkeypatch.setenv("SKAE_FLUSH_DENORMALS", "0")
    with flush_denormals():
        assert not _flushing_denormals()
    monkeypatch.setenv("SKAE_FLUSH_DENORMALS", "1")
    with flush_denormals():
        assert _flushing_denormals()
    assert not _flushing_denormals()


@pytest.mark.parametrize("caller_flushes", [False, True])
def test_flush_denormals_reaches_every_openmp_thread_and_restores_the_caller(
    two_threads, caller_flushes
):
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
    AutoencoderTransformer(
        8, hidden_layer_sizes=(512, 512), batch_size=512, max_iter=1, random_state=0
    ).fit(digits[0])
    assert not _flushing_denormals()
    assert flags_on_openmp_threads() == [False, False]


# ----------------------------------------------------------------- streaming
def as_memmap(X, tmp_path, name="X.dat"):
    """A read-only memmap of ``X`` (writing to it would raise: fit must only read)."""
    path = tmp_path / name
    writer = np.memmap(path, dtype=X.dtype, mode="w+", shape=X.shape)
    writer[:] = X
    writer.flush()
    del writer
    return np.memmap(path, dtype=X.dtype, mode="r", shape=X.shape)


class RowSliceable:
    """The least an out-of-core array offers: shape, dtype and row slicing (like h5py or zarr)."""

    def __init__(self, array):
        self.array, self.shape, self.dtype = array, array.shape, array.dtype

    def __getitem__(self, rows):
        return self.array[rows].copy()


def held_out_error(model, X):
    return float(np.mean((model.reconstruct(X) - X) ** 2))


def test_streamed_training_reconstructs_like_in_memory_training(digits, tmp_path):
    da = pytest.importorskip("dask.array")
    X = digits[0].astype(np.float32)
    train, test = X[:1500], X[1500:]
    params = dict(
        hidden_layer_sizes=(32,),
        batch_size=100,
        chunk_size=400,
        max_iter=80,
        tol=0.0,
        random_state=0,
    )
    in_memory = held_out_error(AutoencoderTransformer(8, **params).fit(train), test)
    for streamed in (
        as_memmap(train, tmp_path),
        da.from_array(train, chunks=(300, 64)),
        RowSliceable(train),
    ):
        error = held_out_error(AutoencoderTransformer(8, **params).fit(streamed), test)
        # Different shuffles: seeds alone move this error by up to ~8 %.
        assert error == pytest.approx(in_memory, rel=0.1), type(streamed).__name__


def test_streamed_training_is_reproducible_and_keeps_the_input_dtype(digits, tmp_path):
    X = as_memmap(digits[0][:300].astype(np.float32), tmp_path)
    fits = [
        AutoencoderTransformer(4, max_iter=3, chunk_size=64, random_state=1).fit(X)
        for _ in range(2)
    ]
    assert fits[0].loss_curve_ == fits[1].loss_curve_
    assert fits[0].transform(X).dtype == np.float32
    assert fits[0].n_features_in_ == 64


def chunk_orders(dataset, epochs, generator):
    from skae._batches import ChunkedBatches

    batches = ChunkedBatches(dataset, batch_size=10, shuffle=True, generator=generator)
    return [
        torch.cat([batch.X[:, 0] for batch in batches]).long().tolist()
        for _ in range(epochs)
    ]


def test_each_epoch_visits_chunks_in_a_fresh_order_and_shuffles_rows_within(tmp_path):
    from skae._batches import ChunkedDataset

    X = as_memmap(
        np.arange(400, dtype=np.float32)[:, None], tmp_path
    )  # each row holds its index
    blocks = np.array([[start, start + 25] for start in range(0, 400, 25)])
    dataset = ChunkedDataset(
        X,
        blocks,
        blocks_per_chunk=4,
        device=torch.device("cpu"),
        check=lambda rows, ranges: None,
    )
    first, second = chunk_orders(dataset, 2, torch.Generator().manual_seed(0))
    assert (
        sorted(first) == sorted(second) == list(range(400))
    )  # every row once per epoch
    chunks = [
        [
            {row // 25 for row in epoch[start : start + 100]}
            for start in range(0, 400, 100)
        ]
        for epoch in (first, second)
    ]
    assert all(
        len(blocks) == 4 for blocks in chunks[0] + chunks[1]
    )  # a chunk is four blocks...
    assert chunks[0] != chunks[1]  # ...drawn afresh each epoch
    assert first[:100] != sorted(first[:100])  # rows shuffled within the chunk


def test_streaming_holds_validation_blocks_out_of_training(digits, tmp_path):
    class RowCounter(Callback):
        def initialize(self):
            self.rows = {True: 0, False: 0}
            return self

        def on_batch_begin(self, net, batch=None, training=None, **kwargs):
            self.rows[training] += len(batch[0])

    X = as_memmap(digits[0][:800].astype(np.float32), tmp_path)
    counter = RowCounter()
    model = AutoencoderTransformer(
        4,
        early_stopping=True,
        validation_fraction=0.25,
        batch_size=20,
        chunk_size=160,
        max_iter=2,
        random_state=0,
        callbacks=[counter],
    ).fit(X)
    assert len(model.validation_scores_) == model.n_iter_ == 2
    assert counter.rows[True] + counter.rows[False] == 2 * 800
    assert counter.rows[False] == 2 * 200  # a quarter of the 80 blocks of 10 rows


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda X: X.__setitem__((123, 5), np.nan), "NaN or infinity in rows"),
        (lambda X: X.__setitem__((7, 0), 2.0), "In rows .* needs X in \\[0, 1\\]"),
    ],
)
def test_a_bad_chunk_is_refused_with_its_rows(digits, tmp_path, corrupt, message):
    X = digits[0][:200].astype(np.float32)
    corrupt(X)
    with pytest.raises(ValueError, match=message):
        AutoencoderTransformer(
            4, likelihood="bernoulli", max_iter=1, chunk_size=64
        ).fit(as_memmap(X, tmp_path))


def test_out_of_core_shape_dtype_and_width_are_checked(digits, tmp_path):
    with pytest.raises(ValueError, match="needs real numbers"):
        AutoencoderTransformer(max_iter=1).fit(
            as_memmap(np.zeros((10, 3), dtype=np.complex64), tmp_path)
        )
    with pytest.raises(ValueError, match="Expected a 2D array"):
        AutoencoderTransformer(max_iter=1).fit(
            as_memmap(np.zeros((10, 3, 2), dtype=np.float32), tmp_path)
        )
    model = AutoencoderTransformer(4, max_iter=1).fit(digits[0][:50])
    with pytest.raises(
        ValueError, match="X has 3 features, but AutoencoderTransformer is expecting 64"
    ):
        model.partial_fit(as_memmap(np.zeros((10, 3), dtype=np.float32), tmp_path))


@pytest.mark.parametrize("name", ["DenoisingAE", "SparseAE", "ContractiveAE", "VAE"])
def test_every_variant_trains_from_a_memmap(digits, tmp_path, name):
    import skae

    X = digits[0][:300].astype(np.float32)
    model = getattr(skae, name)(4, max_iter=2, chunk_size=100, random_state=0).fit(
        as_memmap(X, tmp_path)
    )
    assert np.isfinite(model.score_samples(X)).all()


# --------------------------------------------------------------- partial_fit
class FirstBatches(Callback):
    """Records the first training batch of every partial_fit call."""

    def initialize(self):
        self.batches = []
        return self

    def on_train_begin(self, net, **kwargs):
        self._first = True

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training and self._first:
            self.batches.append(batch[0].clone())
            self._first = False


def partial_fits(X, n_calls, **params):
    model = AutoencoderTransformer(
        4, hidden_layer_sizes=(16,), batch_size=50, random_state=0, **params
    )
    for _ in range(n_calls):
        model.partial_fit(X)
    return model


def test_partial_fit_advances_its_random_stream_reproducibly(digits):
    X = digits[0][:300]
    recorder = FirstBatches()
    twice = partial_fits(X, 2, callbacks=[recorder])
    assert not torch.equal(
        recorder.batches[0], recorder.batches[1]
    )  # a fresh shuffle each call
    again = partial_fits(X, 2)
    once = partial_fits(X, 1)
    assert twice.loss_curve_ == again.loss_curve_ and twice.n_iter_ == 2
    assert np.array_equal(twice.transform(X), again.transform(X))
    assert not np.allclose(twice.transform(X), once.transform(X))


def test_partial_fit_keeps_its_engine_and_continues_the_same_after_pickling(digits):
    import pickle

    from skae._fitting import _ENGINES

    X = digits[0][:300]
    model = partial_fits(X, 1)
    engine = _ENGINES[model.module_].net
    model.partial_fit(X)
    assert _ENGINES[model.module_].net is engine  # not rebuilt
    steps = [state["step"] for state in model._optimizer_state["state"].values()]
    assert all(
        float(step) == 2 * 6 for step in steps
    )  # the optimizer state carried over
    resumed = pickle.loads(
        pickle.dumps(partial_fits(X, 1))
    )  # no engine: rebuilt from the pickle
    resumed.partial_fit(X)
    assert resumed.loss_curve_ == model.loss_curve_
    assert np.array_equal(resumed.transform(X), model.transform(X))
    model.set_params(learning_rate_init=0.1).partial_fit(X)
    assert (
        _ENGINES[model.module_].net is not engine
        and _ENGINES[model.module_].net.lr == 0.1
    )
    rebuilt = _ENGINES[model.module_].net
    model.set_params(callbacks=[]).partial_fit(
        X
    )  # another parameter value (None before)
    assert _ENGINES[model.module_].net is not rebuilt
    with torch.no_grad():
        next(model.module_.parameters()).add_(
            1.0
        )  # module_ changed in place: the engine no longer holds it
    kept = _ENGINES[model.module_].net
    model.partial_fit(X)
    assert _ENGINES[model.module_].net is not kept


def test_incremental_drives_partial_fit_block_by_block(digits):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    import dask

    X = da.from_array(digits[0][:900], chunks=(300, 64))
    with dask.config.set(scheduler="threads"):
        incremental = wrappers.Incremental(
            AutoencoderTransformer(4, random_state=0), shuffle_blocks=False
        ).fit(X)
        codes = incremental.transform(X).compute()
    manual = AutoencoderTransformer(4, random_state=0)
    for block in X.blocks:
        manual.partial_fit(block.compute())
    assert incremental.estimator_.n_iter_ == 3
    assert incremental.estimator_.loss_curve_ == manual.loss_curve_
    assert np.allclose(codes, manual.transform(digits[0][:900]))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_streaming_and_partial_fit_train_on_the_gpu(digits, tmp_path):
    import pickle

    X = digits[0][:600].astype(np.float32)
    streamed = AutoencoderTransformer(
        4, device="cuda", chunk_size=200, max_iter=3, random_state=0
    ).fit(as_memmap(X, tmp_path))
    assert (
        streamed.device_.startswith("cuda") and np.isfinite(streamed.loss_curve_).all()
    )
    model = partial_fits(X, 2, device="cuda")
    assert model.n_iter_ == 2
    loaded = pickle.loads(
        pickle.dumps(model)
    )  # the optimizer state was moved to the CPU
    assert all(
        t.device.type == "cpu"
        for s in loaded._optimizer_state["state"].values()
        for t in s.values()
    )


def test_fitted_module_is_float64_on_the_cpu_without_gradients_and_keeps_integer_buffers(
    digits,
):
    # A user encoder with batch norm: its counter buffer must stay an integer.
    encoder = torch.nn.Sequential(
        torch.nn.Linear(64, 16),
        torch.nn.BatchNorm1d(16),
        torch.nn.ReLU(),
        torch.nn.Linear(16, 4),
    )
    ae = AutoencoderTransformer(4, encoder=encoder, max_iter=2, random_state=0).fit(
        digits[0][:300]
    )
    batch_norm = ae.module_.encoder[1]
    assert (
        batch_norm.num_batches_tracked.dtype == torch.int64
        and int(batch_norm.num_batches_tracked) > 0
    )
    for name, tensor in [*ae.module_.named_parameters(), *ae.module_.named_buffers()]:
        assert tensor.device.type == "cpu", name
        if tensor.is_floating_point():
            assert tensor.dtype == torch.float64, name
    assert all(parameter.grad is None for parameter in ae.module_.parameters())
    # The float64 module computes what its float32 training copy did, to float32 precision.
    X = digits[0][:50]
    assert np.allclose(ae.transform(X), ae.transform(X.astype(np.float32)), atol=1e-4)
