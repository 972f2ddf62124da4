"""Device resolution, numpy <-> tensor conversion, seeding and thread budgets."""

import contextlib
import ctypes
import functools
import os
import threading

import numpy as np
import torch

DEVICE_OPTIONS = ("cpu", "cuda", "mps", "auto")

# Below this many multiply-adds per mini-batch, intra-op threads cost more in
# synchronisation than they win (a tiny net on 2 threads ran 12x slower than on
# 1 while the other core was busy); above it, the caller's setting is kept.
_PARALLEL_WORK_THRESHOLD = 5e7


def resolve_device(device, name="device"):
    """Turn the ``device`` parameter (or the one called ``name``) into an available :class:`torch.device`.

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
                f"{name}={device!r} is not a valid torch device; use one of "
                f"{DEVICE_OPTIONS}, 'cuda:N' or a torch.device."
            ) from exc
    if requested.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}={device!r} was requested but CUDA is not available on this "
                f"machine; use {name}='cpu' or {name}='auto'."
            )
        index = requested.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"{name}={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif requested.type == "mps" and not _mps_available():
        raise ValueError(
            f"{name}={device!r} was requested but MPS is not available on this "
            f"machine; use {name}='cpu' or {name}='auto'."
        )
    elif requested.type not in ("cpu", "cuda", "mps"):
        raise ValueError(f"{name}={device!r} is not supported; use 'cpu', 'cuda' or 'mps'.")
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


def to_cpu_module(module, dtype):
    """``module`` moved to the CPU in ``dtype`` (floating tensors only), in place, without gradients.

    Each tensor is cast directly: ``module.to``'s recursive walk, which also
    casts the gradients a fitted model does not keep, cost ~50 µs of a
    ~1.4 ms small fit (what a grid search pays per candidate and fold).
    """
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.grad = None
        for tensor in [*module.parameters(), *module.buffers()]:
            target = dtype if tensor.is_floating_point() else tensor.dtype
            if tensor.device.type != "cpu" or tensor.dtype != target:
                tensor.data = tensor.data.to("cpu", target)
    return module


def to_numpy(tensor, dtype):
    """A numpy array of ``dtype`` from a tensor on any device."""
    return tensor.detach().to("cpu").numpy().astype(dtype, copy=False)


# torch's global generator is one per process: fits on threads of one process
# (joblib's threading backend, Dask threaded workers) that seeded and forked
# it at the same time interleaved their draws and could restore each other's
# state into the caller's. Whatever still has to draw from it (module
# initialisation, user layers such as nn.Dropout) holds this lock meanwhile.
# Reentrant: a module builder may itself build under ``seeded``.
_GLOBAL_RNG_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(seed, device):
    """Run the block with torch's global RNG seeded, restoring the caller's RNG state after.

    For what can only draw from the global generator: nn.Linear's
    initialisation, a user's module builder, nn.Dropout. The block holds a
    process-wide lock, so seeded blocks on several threads run one at a time
    and each sees only its own seed; keep it short (skae's own draws use
    :func:`random_stream` instead, which needs no lock).
    """
    with _GLOBAL_RNG_LOCK:
        if device.type == "cpu":
            # torch.manual_seed also queues seeding of every accelerator type,
            # each recording a stack trace while CUDA is not initialised: 1.2 ms
            # of a 2.3 ms one-epoch fit on 100 x 64 (cProfile). Only the CPU
            # generator is drawn from here, and it gets the same seed.
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(seed)
                yield
            return
        with torch.random.fork_rng(devices=[device.index or 0], device_type=device.type):
            torch.manual_seed(seed)
            yield


# skae's own draws (corruption noise, the VAE's reparameterisation, the
# contractive penalty's projections, VAE sampling) come from per-fit
# generators rather than torch's global one: a fit runs on one thread, so a
# thread-local stream gives each fit its own reproducible draws with no lock
# and leaves the caller's torch RNG alone, however many fits overlap. The
# draws happen deep inside modules and losses; a thread-local reaches them
# without threading a generator argument through every forward signature
# (user modules keep the plain ``forward(x)`` protocol).
_streams = threading.local()


class _RandomStream:
    """One generator per device, each seeded with ``seed`` when first drawn from."""

    def __init__(self, seed):
        self.seed = seed
        self.generators = {}

    def generator(self, device):
        generator = self.generators.get(device)
        if generator is None:
            generator = self.generators[device] = torch.Generator(device=device).manual_seed(self.seed)
        return generator


@contextlib.contextmanager
def random_stream(seed):
    """Make :func:`randn_like`, :func:`rand_like` and :func:`bernoulli` on this thread draw from generators seeded with ``seed``.

    Outside such a block they draw from torch's global generator, as plain
    torch modules do.
    """
    previous = getattr(_streams, "current", None)
    _streams.current = _RandomStream(seed)
    try:
        yield
    finally:
        _streams.current = previous


def _generator(device):
    stream = getattr(_streams, "current", None)
    return None if stream is None else stream.generator(device)


def randn_like(x):
    """Standard normal draws shaped like ``x``, from this thread's :func:`random_stream`."""
    return torch.randn_like(x, generator=_generator(x.device))


def rand_like(x):
    """Uniform [0, 1) draws shaped like ``x``, from this thread's :func:`random_stream`."""
    return torch.rand_like(x, generator=_generator(x.device))


def bernoulli(probabilities):
    """0/1 draws with the given probabilities, from this thread's :func:`random_stream`."""
    return torch.bernoulli(probabilities, generator=_generator(probabilities.device))


# Layers that draw from torch's global generator in training mode.
_GLOBAL_RNG_LAYERS = (torch.nn.modules.dropout._DropoutNd, torch.nn.RReLU)


def draws_from_global_rng(module):
    """Whether ``module`` may draw from torch's global generator while training.

    True for dropout and RReLU layers, for torch layers with a ``dropout``
    setting (nn.MultiheadAttention, nn.LSTM), and for any layer whose class
    is neither torch's nor skae's: its ``forward`` may call ``torch.rand*``,
    and skae cannot tell, so it errs on the side of reproducibility.
    """
    return any(
        not type(layer).__module__.startswith(("torch.nn.", "skae."))
        or isinstance(layer, _GLOBAL_RNG_LAYERS)
        or bool(getattr(layer, "dropout", 0))
        for layer in module.modules()
    )


@contextlib.contextmanager
def training_randomness(seed, device, module, stream=0):
    """The randomness of a training run: skae's draws from a stream seeded with ``seed``.

    A ``module`` that may draw from the global generator (nn.Dropout, a
    user's own layer class: :func:`draws_from_global_rng`) also trains under
    :func:`seeded`, so that ``random_state`` still makes it reproducible:
    such fits hold the global RNG lock and run one at a time on the threads
    of a process.
    """
    # The engine's shuffling generator is seeded with ``seed`` too: a seed of
    # its own keeps the noise from replaying the shuffle's raw draws.
    # ``stream`` > 0 gives another stream from the same seed (a data-parallel process's own noise).
    seed = int(np.random.SeedSequence([seed, 1, stream] if stream else [seed, 1]).generate_state(1)[0])
    with random_stream(seed):
        if draws_from_global_rng(module):
            with seeded(seed, device):
                yield
        else:
            yield


class ThreadBudget:
    """Intra-op threads for a fit: the caller's count, split between the fits running in this process.

    Enter it around training and call :meth:`rebalance` between epochs.
    torch's thread count cannot be held per Python thread (measured with
    torch 2.13, OpenMP + MKL, ``benchmarks/thread_probe.py``): once anyone
    has called ``torch.set_num_threads``, a count set on one thread changes
    what the others compute with, and threadpoolctl's per-thread OpenMP limit
    no longer binds at all. So the budget is the process's: fits that run
    side by side on threads (joblib's threading backend, a Dask worker with
    several threads, a ``processes=False`` cluster) each take
    ``caller // running fits`` threads (at least one), the count from before
    the first of them is restored when the last one ends, and a fit lowers its
    count at the next epoch when others start, and takes threads back as
    they end, never above the count it started with (the OpenMP team whose
    denormals :func:`flush_denormals` flushed must not grow). Small batches
    use one thread. Worker processes need nothing more: loky and Dask's
    nanny start them with ``OMP_NUM_THREADS`` at their share, which torch
    reads at import.
    """

    _lock = threading.Lock()
    _running = 0
    _caller = None
    _changed = False  # whether a running fit set the count

    def __init__(self, work_per_batch):
        self.small = work_per_batch < _PARALLEL_WORK_THRESHOLD

    def __enter__(self):
        with ThreadBudget._lock:
            if ThreadBudget._running == 0:
                ThreadBudget._caller, ThreadBudget._changed = torch.get_num_threads(), False
            ThreadBudget._running += 1
            self.ceiling = self._share()
        self._set(self.ceiling)
        return self

    def _share(self):
        return 1 if self.small else max(1, ThreadBudget._caller // ThreadBudget._running)

    def rebalance(self):
        """Set this fit's threads to its current share, at most the count it started with."""
        self._set(min(self.ceiling, self._share()))

    def __exit__(self, *exc_info):
        with ThreadBudget._lock:
            ThreadBudget._running -= 1
            if ThreadBudget._running == 0 and ThreadBudget._changed:
                torch.set_num_threads(ThreadBudget._caller)

    @staticmethod
    def _set(n_threads):
        if torch.get_num_threads() != n_threads:
            ThreadBudget._changed = True
            torch.set_num_threads(n_threads)


@contextlib.contextmanager
def flush_denormals():
    """Treat denormal floats as zero on every thread that computes, then restore the caller's setting.

    As a Bernoulli decoder's logits saturate, weights and Adam's moment
    estimates decay into the denormal range, where x86 arithmetic is up to
    ~100x slower. The flush-to-zero flag is per-thread CPU state (MXCSR):
    setting it on the calling thread alone left torch's OpenMP worker threads
    computing with denormals, and the image_search model (784-512-256-32,
    Bernoulli, batch 256) on MNIST with 2 threads slowed from 2.6 s to 40 s
    per epoch by epoch 8 in one run, from 2.1 s to 9.5 s at epoch 18 in
    another, and held 2.1-2.3 s for 20 epochs once every thread flushes
    (benchmarks/bench_epochs.py, results/epochs.md). Values below 1e-38 carry
    nothing for training.

    torch has no getter for the flag, so the caller's setting is read by
    computing with a denormal, and restored on every thread afterwards (a
    caller who flushes keeps flushing, now on the workers too).
    """
    caller_flushes = _flushing_denormals()
    if not torch.set_flush_denormal(True):  # not supported on this CPU
        yield
        return
    on_workers = _run_on_openmp_threads(lambda: torch.set_flush_denormal(True))
    try:
        yield
    finally:
        if not caller_flushes:
            torch.set_flush_denormal(False)
            if on_workers:
                _run_on_openmp_threads(lambda: torch.set_flush_denormal(False))


def _flushing_denormals():
    """Whether this thread flushes denormals: 1e-39 (a float32 denormal) times one is then zero."""
    return bool(torch.tensor(1e-39) * 1 == 0)


def _run_on_openmp_threads(function):
    """Call ``function`` once on each thread of torch's OpenMP team; False where that is impossible.

    Threads started later inherit the flag from the thread that creates them,
    but OpenMP keeps its worker threads alive between parallel regions, so
    they must be reached where they run: a parallel region of torch's own
    OpenMP runtime, entered through ``GOMP_parallel`` (exported by GNU libgomp,
    LLVM libomp and Intel libiomp5 alike). Each thread runs ``function``
    through a ctypes callback (~20 µs for the whole team). Elsewhere (Windows'
    vcomp, a torch built without OpenMP, several runtimes with none inside
    torch's folder) it degrades to the calling thread only.
    """
    gomp_parallel = _torch_gomp_parallel()
    if gomp_parallel is None:
        return False
    callback = _GOMP_CALLBACK(lambda _data: function())
    gomp_parallel(callback, None, torch.get_num_threads(), 0)
    return True


_GOMP_CALLBACK = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


@functools.cache
def _torch_gomp_parallel():
    """``GOMP_parallel`` of the OpenMP runtime torch computes with, or None."""
    if "OpenMP" not in torch.__config__.parallel_info():
        return None
    try:
        from threadpoolctl import threadpool_info

        runtimes = [info["filepath"] for info in threadpool_info() if info["user_api"] == "openmp"]
    except Exception:  # threadpoolctl cannot inspect this platform
        return None
    torch_folder = os.path.dirname(os.path.dirname(os.path.realpath(torch.__file__)))
    inside_torch = [path for path in runtimes if os.path.realpath(path).startswith(torch_folder + os.sep + "torch")]
    candidates = inside_torch or (runtimes if len(runtimes) == 1 else [])
    for path in candidates:
        try:
            function = ctypes.CDLL(path).GOMP_parallel
        except (OSError, AttributeError):
            continue
        function.argtypes = [_GOMP_CALLBACK, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint]
        function.restype = None
        return function
    return None


def supports_fused_adam(device):
    """Fused Adam runs one kernel per step instead of one per parameter tensor.

    It exists for CUDA since torch 2.0 and for CPU/MPS since torch 2.4.
    """
    if device.type == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and device.type in ("cpu", "mps")
