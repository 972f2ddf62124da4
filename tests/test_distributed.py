"""Data-parallel fits over a torch.distributed group: two gloo processes on 127.0.0.1."""

import socket
import warnings

import numpy as np
import pytest
import torch

import skae
from skae import (
    VAE,
    AutoencoderImputer,
    AutoencoderOutlierDetector,
    AutoencoderTransformer,
    ContractiveAE,
    DenoisingAE,
    SparseAE,
)

WORLD_SIZE = 2
# 451 rows in batches of 64: the last global batch's 3 rows split 2 + 1, so
# the processes' shares of it differ. With 449 rows it holds one row: one
# process has none and must still take part in the gradient reduction.
N_ROWS, BATCH = 451, 64


def _data(tmp_dir=None, n_rows=N_ROWS):
    from sklearn.datasets import load_digits

    X = (load_digits().data[:n_rows] / 16.0).astype(np.float32)
    if tmp_dir is None:
        return X
    path = f"{tmp_dir}/digits.f32"
    if torch.distributed.is_initialized() and torch.distributed.get_rank() != 0:
        torch.distributed.barrier()  # rank 0 writes the file
    else:
        np.asarray(X).tofile(path)
        if torch.distributed.is_initialized():
            torch.distributed.barrier()
    return np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)


class RecordingRows:
    """A row-sliceable array (out of core for skae) that records the row ranges it serves."""

    def __init__(self, X):
        self.X, self.shape, self.dtype, self.reads = X, X.shape, X.dtype, []

    def __getitem__(self, rows):
        self.reads.append((rows.start, rows.stop))
        return self.X[rows]


def _common(**params):
    return (
        dict(
            n_components=8,
            hidden_layer_sizes=(16,),
            batch_size=BATCH,
            tol=0.0,
            random_state=0,
        )
        | params
    )


# Each case builds its estimator and its data; the same function runs alone and on every process.
CASES = {
    "plain": lambda tmp: (AutoencoderTransformer(**_common(max_iter=6)), _data()),
    "one_row_tail": lambda tmp: (
        AutoencoderTransformer(**_common(max_iter=3)),
        _data(n_rows=449),
    ),
    "early_stopping": lambda tmp: (
        AutoencoderTransformer(
            **_common(max_iter=200, tol=1e-2, n_iter_no_change=2, early_stopping=True)
        ),
        _data(),
    ),
    "memmap": lambda tmp: (
        AutoencoderTransformer(**_common(max_iter=4, chunk_size=128)),
        _data(tmp),
    ),
    "recorded_reads": lambda tmp: (
        AutoencoderTransformer(**_common(max_iter=3, chunk_size=128)),
        RecordingRows(_data()),
    ),
    "random_state_none": lambda tmp: (
        AutoencoderTransformer(**_common(max_iter=3, random_state=None)),
        _data(),
    ),
    "denoising": lambda tmp: (
        DenoisingAE(**_common(max_iter=3, noise_level=0.3)),
        _data(),
    ),
    # Every variant's objective runs inside DistributedDataParallel's forward.
    "sparse_top_k": lambda tmp: (
        SparseAE(**_common(max_iter=3, n_components=16, k=4)),
        _data(),
    ),
    "sparse_kl": lambda tmp: (
        SparseAE(**_common(max_iter=3, n_components=16, sparsity_penalty="kl")),
        _data(),
    ),
    "contractive_exact": lambda tmp: (
        ContractiveAE(**_common(max_iter=3, jacobian="exact")),
        _data(),
    ),
    "contractive_projection": lambda tmp: (
        ContractiveAE(**_common(max_iter=3, jacobian="projection")),
        _data(),
    ),
    "vae": lambda tmp: (VAE(**_common(max_iter=3)), _data()),
    "vae_bernoulli": lambda tmp: (
        VAE(**_common(max_iter=3, likelihood="bernoulli")),
        _data(),
    ),
    # The wrappers fit their autoencoders (several times) inside the block too.
    "outlier_detector": lambda tmp: (
        AutoencoderOutlierDetector(
            AutoencoderTransformer(**_common(max_iter=3)), random_state=0
        ),
        _data(),
    ),
    "imputer": lambda tmp: (
        AutoencoderImputer(
            AutoencoderTransformer(**_common(max_iter=3)), n_rounds=2, random_state=0
        ),
        _with_gaps(_data()),
    ),
}


def _with_gaps(X):
    X = X.astype(np.float64)
    X[np.random.RandomState(0).rand(*X.shape) < 0.1] = np.nan
    return X


def _module(estimator):
    """The fitted torch module of an autoencoder or of the (first) one a wrapper trained."""
    for attribute in ("module_", "autoencoder_", "estimators_"):
        fitted = getattr(estimator, attribute, None)
        if fitted is not None:
            fitted = fitted[0] if isinstance(fitted, list) else fitted
            return fitted if attribute == "module_" else _module(fitted)
    raise AttributeError(f"{type(estimator).__name__} holds no fitted module")


def _fitted(case, tmp_dir, device="cpu"):
    estimator, X = CASES[case](tmp_dir)
    estimator.set_params(
        **{
            "device"
            if "device" in estimator.get_params()
            else "autoencoder__device": device
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        estimator.fit(X)
    autoencoder = estimator if hasattr(estimator, "module_") else None
    return {
        "weights": {
            name: tensor.numpy().copy()
            for name, tensor in _module(estimator).state_dict().items()
        },
        "loss_curve": np.array(getattr(autoencoder, "loss_curve_", [])),
        "validation_scores": np.array(getattr(autoencoder, "validation_scores_", [])),
        "n_iter": getattr(autoencoder, "n_iter_", None),
        "reads": getattr(X, "reads", None),
        "output": _output(estimator, X),
    }


def _output(estimator, X):
    """What a wrapper makes of ``X`` (scores, imputations); None for an autoencoder."""
    if isinstance(estimator, AutoencoderOutlierDetector):
        return estimator.decision_function(X)
    if isinstance(estimator, AutoencoderImputer):
        return estimator.transform(X)
    return None


def _run_rank(rank, port, tmp_dir, backend="gloo", device="cpu"):
    torch.set_num_threads(1)
    if device == "cuda":
        torch.cuda.set_device(rank)
    torch.distributed.init_process_group(
        backend, init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD_SIZE
    )
    try:
        with skae.data_parallel():
            results = {case: _fitted(case, tmp_dir, device) for case in CASES}
            estimator = AutoencoderTransformer(2, max_iter=1)
            try:
                estimator.partial_fit(_data())
            except ValueError as error:
                results["partial_fit_error"] = str(error)
        torch.save(results, f"{tmp_dir}/results{rank}.pt")
    finally:
        torch.distributed.destroy_process_group()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spawn(tmp_dir, backend="gloo", device="cpu"):
    if not torch.distributed.is_available():
        pytest.skip("torch.distributed is not available in this torch build")
    torch.multiprocessing.spawn(
        _run_rank,
        args=(_free_port(), str(tmp_dir), backend, device),
        nprocs=WORLD_SIZE,
        join=True,
    )
    return [
        torch.load(f"{tmp_dir}/results{rank}.pt", weights_only=False)
        for rank in range(WORLD_SIZE)
    ]


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    return _spawn(tmp_path_factory.mktemp("data_parallel"))


@pytest.mark.parametrize("case", list(CASES))
def test_every_process_ends_with_the_same_model_and_history(ranks, case):
    first, second = (results[case] for results in ranks)
    for name in first["weights"]:
        np.testing.assert_array_equal(
            first["weights"][name], second["weights"][name], err_msg=name
        )
    np.testing.assert_array_equal(first["loss_curve"], second["loss_curve"])
    np.testing.assert_array_equal(
        first["validation_scores"], second["validation_scores"]
    )
    assert first["n_iter"] == second["n_iter"]
    if first["output"] is not None:  # the wrappers' scores and imputations
        np.testing.assert_array_equal(first["output"], second["output"])


# Terms averaged over rows are exact; sparse_kl's penalty on the batch's mean
# activation and the VAE's noise draws are per process by design. Out of core,
# each process reads its own blocks, so batches are made differently (below).
@pytest.mark.parametrize(
    "case",
    ["plain", "one_row_tail", "early_stopping", "sparse_top_k", "contractive_exact"],
)
def test_a_data_parallel_fit_equals_one_process_training_alone(ranks, case, tmp_path):
    alone = _fitted(case, str(tmp_path))
    parallel = ranks[0][case]
    assert parallel["n_iter"] == alone["n_iter"]
    np.testing.assert_allclose(parallel["loss_curve"], alone["loss_curve"], rtol=1e-4)
    np.testing.assert_allclose(
        parallel["validation_scores"], alone["validation_scores"], rtol=1e-4
    )
    for name in alone["weights"]:
        np.testing.assert_allclose(
            parallel["weights"][name], alone["weights"][name], atol=1e-4, err_msg=name
        )


def test_out_of_core_processes_read_their_own_blocks_once_an_epoch(ranks):
    # 451 rows, chunk_size=128: blocks of 8 rows, 16 to a chunk. Each process
    # first reads one chunk whole (for the module's and statistics' first look
    # at the data), then only its own blocks.
    per_process = [results["recorded_reads"]["reads"][16:] for results in ranks]
    assert all(
        0.4 < len(reads) / 57 / 3 < 0.6 for reads in per_process
    )  # 57 blocks, 3 epochs
    counts = {}
    for block in per_process[0] + per_process[1]:
        counts[block] = counts.get(block, 0) + 1
    assert len(counts) == 57 and set(counts.values()) == {3}


def test_out_of_core_data_parallel_training_learns_as_well_as_one_process(
    ranks, tmp_path
):
    alone = _fitted("memmap", str(tmp_path))
    parallel = ranks[0]["memmap"]
    assert parallel["n_iter"] == alone["n_iter"]
    np.testing.assert_allclose(
        parallel["loss_curve"][-1], alone["loss_curve"][-1], rtol=0.05
    )


def test_early_stopping_stops_every_process_before_max_iter(ranks):
    assert ranks[0]["early_stopping"]["n_iter"] < 200


def test_partial_fit_refuses_to_train_data_parallel(ranks):
    assert "partial_fit does not train data-parallel" in ranks[0]["partial_fit_error"]


def test_data_parallel_needs_a_process_group():
    with pytest.raises(RuntimeError, match="init_process_group"):
        with skae.data_parallel():
            pass


@pytest.mark.gpu
def test_data_parallel_on_two_gpus_with_nccl(tmp_path):
    if torch.cuda.device_count() < WORLD_SIZE:
        pytest.skip(f"needs {WORLD_SIZE} CUDA devices")
    first, second = _spawn(tmp_path, backend="nccl", device="cuda")
    for case in CASES:
        for name in first[case]["weights"]:
            np.testing.assert_array_equal(
                first[case]["weights"][name],
                second[case]["weights"][name],
                err_msg=name,
            )
    alone = _fitted("plain", str(tmp_path), "cuda")
    np.testing.assert_allclose(
        first["plain"]["loss_curve"], alone["loss_curve"], rtol=1e-4
    )
