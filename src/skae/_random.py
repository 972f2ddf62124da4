"""Randomness of a fit: seeds drawn from ``random_state``, per-fit random streams, torch's global RNG.

An int ``random_state`` makes a fit reproducible bit for bit on CPU without
touching the caller's numpy or torch RNG: the seeds come from a
``SeedSequence``, skae's own draws from per-thread generators
(:func:`random_stream`), and what can only draw from torch's global generator
runs under :func:`seeded`, which forks and restores it.
"""

import contextlib
import threading
from numbers import Integral

import numpy as np
import torch
from sklearn.utils import check_random_state

_MAX_SEED = np.iinfo(np.int32).max


def fit_seeds(random_state, n_seeds):
    """``n_seeds`` seeds for torch and numpy generators, drawn from ``random_state``.

    An int gives the same seeds every time, through a SeedSequence, which is
    cheaper than seeding a RandomState's Mersenne Twister. A RandomState
    instance is advanced, None draws from numpy's global one, as
    scikit-learn's ``check_random_state`` does.
    """
    if isinstance(random_state, Integral):
        return [
            int(seed) % _MAX_SEED
            for seed in np.random.SeedSequence(random_state).generate_state(n_seeds)
        ]
    return [
        int(seed)
        for seed in check_random_state(random_state).randint(_MAX_SEED, size=n_seeds)
    ]


def continued_seed(seed, n_iter):
    """The seed of a fit that continues after ``n_iter`` epochs: fresh draws for every continuation, reproducibly."""
    return int(np.random.SeedSequence([seed, n_iter]).generate_state(1)[0]) % _MAX_SEED


def rng_generator(rng):
    """A torch generator seeded from a numpy RandomState."""
    return torch.Generator().manual_seed(int(rng.randint(_MAX_SEED)))


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
            # each recording a stack trace while CUDA is not initialised, a
            # large part of a small fit (see the engine benchmark page). Only
            # the CPU generator is drawn from here, and it gets the same seed.
            with torch.random.fork_rng(devices=[]):
                torch.default_generator.manual_seed(seed)
                yield
            return
        with torch.random.fork_rng(
            devices=[device.index or 0], device_type=device.type
        ):
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
            generator = self.generators[device] = torch.Generator(
                device=device
            ).manual_seed(self.seed)
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
    seed = int(
        np.random.SeedSequence(
            [seed, 1, stream] if stream else [seed, 1]
        ).generate_state(1)[0]
    )
    with random_stream(seed):
        if draws_from_global_rng(module):
            with seeded(seed, device):
                yield
        else:
            yield
