"""Device resolution, numpy <-> tensor conversion, seeding and thread budgets."""

import contextlib

import numpy as np
import torch

DEVICE_OPTIONS = ("cpu", "cuda", "mps", "auto")

# Below this many multiply-adds per mini-batch, intra-op threads cost more in
# synchronisation than they win (a tiny net on 2 threads ran 12x slower than on
# 1 while the other core was busy); above it, the caller's setting is kept.
_PARALLEL_WORK_THRESHOLD = 5e7


def resolve_device(device):
    """Turn the ``device`` parameter into an available :class:`torch.device`.

    Raises a ValueError naming the problem when the device is not usable here.
    """
    if isinstance(device, torch.device):
        requested = device
    elif device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    else:
        try:
            requested = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"device={device!r} is not a valid torch device; use one of "
                f"{DEVICE_OPTIONS}, 'cuda:N' or a torch.device."
            ) from exc
    if requested.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={device!r} was requested but CUDA is not available on this "
                "machine; use device='cpu' or device='auto'."
            )
        index = requested.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif requested.type == "mps" and not _mps_available():
        raise ValueError(
            f"device={device!r} was requested but MPS is not available on this "
            "machine; use device='cpu' or device='auto'."
        )
    elif requested.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda' or 'mps'.")
    return requested


def _mps_available():
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def to_tensor(X, device="cpu", dtype=torch.float32):
    """A tensor (float32 unless told) holding a copy of ``X``.

    Always a copy: the caller's array is never modified and read-only arrays
    (pandas 3 hands them out) need no special casing.
    """
    return torch.tensor(np.asarray(X), dtype=dtype, device=device)


def to_numpy(tensor, dtype):
    """A numpy array of ``dtype`` from a tensor on any device."""
    return tensor.detach().to("cpu").numpy().astype(dtype, copy=False)


@contextlib.contextmanager
def seeded(seed, device):
    """Run the block with torch's RNG seeded, restoring the caller's RNG state after.

    Module initialisation, shuffling, corruption and sampling all draw from
    torch's global generator; forking it makes ``random_state`` reproducible
    without touching the user's own torch randomness.
    """
    if device.type == "cpu":
        fork = torch.random.fork_rng(devices=[])
    else:
        fork = torch.random.fork_rng(devices=[device.index or 0], device_type=device.type)
    with fork:
        torch.manual_seed(seed)
        yield


@contextlib.contextmanager
def thread_budget(work_per_batch):
    """Use one intra-op thread for small batches, the caller's setting otherwise.

    The caller's thread count is restored on exit.
    """
    previous = torch.get_num_threads()
    n_threads = 1 if work_per_batch < _PARALLEL_WORK_THRESHOLD else previous
    if n_threads != previous:
        torch.set_num_threads(n_threads)
    try:
        yield n_threads
    finally:
        if torch.get_num_threads() != previous:
            torch.set_num_threads(previous)


@contextlib.contextmanager
def flush_denormals():
    """Treat denormal floats as zero while training on CPU, then switch it off again.

    As a Bernoulli decoder's logits saturate, Adam's second-moment estimates for
    always-black MNIST pixels decay into the denormal range, where x86
    arithmetic is ~100x slower: epochs went from 3 s to 54 s within 7 epochs.
    Values below 1e-38 carry nothing for training. torch has no getter for this
    flag, so it is restored to its default (off).
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield
    finally:
        if supported:
            torch.set_flush_denormal(False)


def supports_fused_adam(device):
    """Fused Adam runs one kernel per step instead of one per parameter tensor.

    It exists for CUDA since torch 2.0 and for CPU/MPS since torch 2.4.
    """
    if device.type == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and device.type in ("cpu", "mps")
