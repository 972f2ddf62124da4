"""Saving and loading fitted estimators: pickle, and skops without arbitrary code.

A fitted autoencoder's state holds no torch object: ``__getstate__`` turns the
module into its ``state_dict`` as numpy arrays (and the optimizer's state, for
``warm_start``, likewise), and ``__setstate__`` rebuilds the module from the
estimator's parameters with ``_build_module`` and loads the weights back. The
state is then plain Python and numpy, which is what ``skops.io`` can store and
load without executing code: :func:`skae.load` (``_skops.py``) trusts only
the types such a state holds (``docs/user_guide/persistence.rst``). Pickle
goes through the same two methods, so a model fitted on a GPU loads on a
machine without one either way.

Rebuilding is the contract a module builder must keep: ``_build_module(X)``
builds the same architecture from the parameters and ``X.shape[1]`` alone (the
values of ``X`` only initialise), and every fitted quantity the forward pass
needs is a parameter or a registered buffer, never a plain attribute.
"""

import re
import warnings

import numpy as np
import torch

from . import _version
from .exceptions import InconsistentVersionWarning

# The key under which the state records the skae version that wrote it.
VERSION_KEY = "_skae_version"

_MODULE_KEY = "module_"
_OPTIMIZER_KEY = "_optimizer_state"


class VersionedStateMixin:
    """Records skae's version in the pickled / skops state and checks it on load, as scikit-learn does.

    A state from the same major.minor release loads (with an
    :class:`~skae.exceptions.InconsistentVersionWarning` when the patch
    release differs); any other refuses: weights and parameters may mean
    different things there (a layer added, a default changed), and loading
    them silently could give wrong outputs.
    """

    def __getstate__(self):
        return {**super().__getstate__(), VERSION_KEY: _version.__version__}

    def __setstate__(self, state):
        state = dict(state)
        check_saved_version(type(self).__name__, state.pop(VERSION_KEY, None))
        super().__setstate__(state)


def _major_minor(version):
    match = re.match(r"(\d+)\.(\d+)", version) if isinstance(version, str) else None
    return match and match.group(1, 2)


def check_saved_version(name, saved):
    """Refuse a state saved by another major.minor skae release; warn on another patch release."""
    current = _version.__version__
    if saved == current:
        return
    if saved is None or _major_minor(saved) is None:
        written_by = (
            "an unknown skae version (before 0.1.0)"
            if saved is None
            else f"an unknown skae version {saved!r}"
        )
        raise ValueError(
            f"This {name} was saved by {written_by}; this is skae {current}. Refit it."
        )
    if _major_minor(saved) != _major_minor(current):
        raise ValueError(
            f"This {name} was saved by skae {saved}; this is skae {current}, which loads only files written by "
            f"skae {'.'.join(_major_minor(current))}.x (weights and parameters can mean different things across "
            f"minor versions). Load it with skae {saved}, or refit it with this version."
        )
    warnings.warn(
        InconsistentVersionWarning(
            estimator_name=name, current_version=current, original_version=saved
        ),
        stacklevel=3,
    )


class NeverRestored:
    """Refuses to be restored from a saved state: for skae's internal objects, which no saved model holds.

    pickle and skops restore an object by calling its class's ``__setstate__``
    on state read from the file, and skorch's ``NeuralNet.__setstate__``
    unpickles bytes from that state, which runs whatever code they name. A
    training engine is built anew at every fit and never saved, so a file that
    names one was not written by skae.
    """

    def __setstate__(self, state):
        raise TypeError(
            f"skae never saves its {type(self).__name__} (built anew at every fit), so this file was not "
            "written by skae and names one to run code from it: do not load it. Load skops files with skae.load."
        )


def map_nested(value, kind, function):
    """``value`` with ``function`` applied to every ``kind`` instance inside nested dicts, lists and tuples."""
    if isinstance(value, kind):
        return function(value)
    if isinstance(value, dict):
        return {key: map_nested(item, kind, function) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(map_nested(item, kind, function) for item in value)
    return value


def module_to_arrays(module):
    """A module's ``state_dict`` as numpy arrays on the CPU (names kept)."""
    return to_arrays(module.state_dict())


def to_arrays(value):
    """Every tensor inside nested dicts, lists and tuples as a numpy array on the CPU."""
    return map_nested(
        value, torch.Tensor, lambda tensor: tensor.detach().to("cpu").numpy().copy()
    )


def to_tensors(value):
    """The inverse of :func:`to_arrays` (numpy arrays back to CPU tensors)."""
    return map_nested(value, np.ndarray, lambda array: torch.from_numpy(array.copy()))


def autoencoder_state(state):
    """``state`` (an autoencoder's ``__dict__`` copy) with its torch objects as numpy arrays."""
    state = dict(state)
    if isinstance(state.get(_MODULE_KEY), torch.nn.Module):
        state[_MODULE_KEY] = module_to_arrays(state[_MODULE_KEY])
    if _OPTIMIZER_KEY in state:
        state[_OPTIMIZER_KEY] = to_arrays(state[_OPTIMIZER_KEY])
    return state


def split_autoencoder_state(state):
    """``(state without the weights, weights or None)``, optimizer state back as tensors."""
    state = dict(state)
    weights = state.pop(_MODULE_KEY, None)
    if _OPTIMIZER_KEY in state:
        state[_OPTIMIZER_KEY] = to_tensors(state[_OPTIMIZER_KEY])
    return state, weights


def rebuild_module(estimator, weights, dtype, seeded):
    """The fitted module of ``estimator``, rebuilt from its parameters, holding ``weights``.

    ``seeded`` is skae's RNG fork: building initialises weights at random
    (overwritten at once), which must not touch the caller's torch RNG.
    """
    estimator._validate_params()
    with seeded(0, torch.device("cpu")):
        module = estimator._build_module(np.zeros((2, estimator._training_width())))
    module = module.to("cpu", dtype)
    try:
        module.load_state_dict(
            {name: torch.from_numpy(np.array(array)) for name, array in weights.items()}
        )
    except RuntimeError as exc:
        raise ValueError(
            f"The saved weights do not fit the {type(estimator).__name__} that its parameters "
            "describe: were parameters changed with set_params after fitting? Refit before saving."
        ) from exc
    return module.eval()
