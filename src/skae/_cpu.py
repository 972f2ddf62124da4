"""CPU state of a fit: the intra-op thread budget and flushing denormal floats to zero.

Both are process-wide torch settings that a fit changes for its duration and
restores after. The flush can be turned off by setting the environment
variable ``SKAE_FLUSH_DENORMALS=0`` (read at every fit), for instance to
compare timings or on a CPU where the OpenMP call misbehaves.
"""

import contextlib
import ctypes
import functools
import os
import threading

import torch

# Below this many multiply-adds per mini-batch, intra-op threads cost more in
# synchronisation than they win (chosen on development runs; see the engine
# benchmark page); above it, the caller's setting is kept.
_PARALLEL_WORK_THRESHOLD = 5e7

# The environment variable that turns the flush off when set to "0".
FLUSH_DENORMALS_ENV = "SKAE_FLUSH_DENORMALS"


class ThreadBudget:
    """Intra-op threads for a fit: the caller's count, split between the fits running in this process.

    Enter it around training and call :meth:`rebalance` between epochs.
    torch's thread count cannot be held per Python thread (see the thread
    benchmark page): once anyone has called ``torch.set_num_threads``, a count
    set on one thread changes what the others compute with, and
    threadpoolctl's per-thread OpenMP limit no longer binds at all. So the
    budget is the process's: fits that run side by side on threads (joblib's
    threading backend, a Dask worker with several threads, a
    ``processes=False`` cluster) each take ``caller // running fits`` threads
    (at least one), the count from before the first of them is restored when
    the last one ends, and a fit lowers its count at the next epoch when
    others start, and takes threads back as they end, never above the count it
    started with (the OpenMP team whose denormals :func:`flush_denormals`
    flushed must not grow). Small batches use one thread. Worker processes
    need nothing more: loky and Dask's nanny start them with
    ``OMP_NUM_THREADS`` at their share, which torch reads at import.
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
                ThreadBudget._caller, ThreadBudget._changed = (
                    torch.get_num_threads(),
                    False,
                )
            ThreadBudget._running += 1
            self.ceiling = self._share()
        self._set(self.ceiling)
        return self

    def _share(self):
        return (
            1 if self.small else max(1, ThreadBudget._caller // ThreadBudget._running)
        )

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


def flush_enabled():
    """Whether fits flush denormals: unless ``SKAE_FLUSH_DENORMALS`` is "0"."""
    return os.environ.get(FLUSH_DENORMALS_ENV, "1").strip() != "0"


@contextlib.contextmanager
def flush_denormals():
    """Treat denormal floats as zero on every thread that computes, then restore the caller's setting.

    As a Bernoulli decoder's logits saturate, weights and Adam's moment
    estimates decay into the denormal range, where x86 arithmetic is far
    slower. The flush-to-zero flag is per-thread CPU state (MXCSR): setting
    it on the calling thread alone left torch's OpenMP worker threads
    computing with denormals, and epochs then slowed down as training went on
    (see the engine benchmark page). Values
    that small carry nothing for training.

    torch has no getter for the flag, so the caller's setting is read by
    computing with a denormal, and restored on every thread afterwards (a
    caller who flushes keeps flushing, now on the workers too). With
    ``SKAE_FLUSH_DENORMALS=0`` in the environment nothing is changed.
    """
    if not flush_enabled():
        yield
        return
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
    through a ctypes callback. Elsewhere (Windows' vcomp, a torch built
    without OpenMP, several runtimes with none inside torch's folder) it
    degrades to the calling thread only.
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

        runtimes = [
            info["filepath"]
            for info in threadpool_info()
            if info["user_api"] == "openmp"
        ]
    except Exception:  # threadpoolctl cannot inspect this platform
        return None
    torch_folder = os.path.dirname(os.path.dirname(os.path.realpath(torch.__file__)))
    inside_torch = [
        path
        for path in runtimes
        if os.path.realpath(path).startswith(torch_folder + os.sep + "torch")
    ]
    candidates = inside_torch or (runtimes if len(runtimes) == 1 else [])
    for path in candidates:
        try:
            function = ctypes.CDLL(path).GOMP_parallel
        except (OSError, AttributeError):
            continue
        function.argtypes = [
            _GOMP_CALLBACK,
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_uint,
        ]
        function.restype = None
        return function
    return None
