"""Input and parameter validation: every bad input gets an error that names the problem and the remedy.

scikit-learn's ``validate_data`` and ``_parameter_constraints`` do the checking;
this module adds what they leave out for an autoencoder (out-of-core arrays
checked as they are read, ``observed`` masks, callbacks, parameters that are
read after ``fit``) and rewrites the messages that point elsewhere (NaN input
suggests HistGradientBoosting, sparse input ``.toarray()``).
"""

import math
from numbers import Integral

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils.validation import check_array

from ._batches import is_out_of_core
from ._compat import (
    InvalidParameterError,
    _check_sample_weight,
    validate_data,
    validate_parameter_constraints,
)
from ._training import Callback

# Parameters read at inference, so that changing them needs no refit: checked
# against the estimator's constraints when they are used.
_INFERENCE_PARAMS = ("inference_batch_size", "inference_device", "n_score_samples")


# ------------------------------------------------------------- in-memory input
def validate_input(estimator, X, reset, nan_remedy=None, **kwargs):
    """``validate_data(estimator, X, ...)`` as float64 / float32, refusing bad input with a message that names the remedy.

    ``nan_remedy`` replaces the advice given for NaN input; ``kwargs`` go to ``validate_data``.
    """
    name = type(estimator).__name__
    check_numeric_columns(X, name)
    if sp.issparse(X):
        raise TypeError(
            f"{name} needs dense X, got a sparse {type(X).__name__}. Encode categorical features densely "
            "(OneHotEncoder(sparse_output=False)), or convert X with X.toarray() if it fits in memory."
        )
    try:
        return validate_data(
            estimator, X, reset=reset, dtype=[np.float64, np.float32], **kwargs
        )
    except ValueError as exc:
        message = _clearer_message(str(exc), name, nan_remedy)
        if message is None:
            raise
        raise ValueError(message) from None


def _clearer_message(message, name, nan_remedy):
    """scikit-learn's or numpy's ``message`` rewritten to name skae's remedy, or None to keep it."""
    if "contains NaN" in message:
        remedy = nan_remedy or (
            f"{name} needs every value: fill the missing ones first with an imputer in a Pipeline before it "
            "(skae.AutoencoderImputer, or sklearn's SimpleImputer), or drop the incomplete rows"
        )
        return f"Input X contains NaN; {remedy}."
    if "contains infinity" in message:
        return (
            f"Input X contains infinity or a value too large for its dtype; {name} needs finite values: "
            "replace or clip them, or drop those rows."
        )
    if message.startswith("Complex data not supported"):
        return (
            f"Complex data not supported: X holds complex numbers; {name} needs real ones: pass X.real, np.abs(X), "
            "or both parts as features."
        )
    if "could not convert" in message:
        return (
            f"X holds non-numeric values ({message.splitlines()[0]}); {name} needs numbers. Encode categorical "
            "features first, e.g. with OneHotEncoder(sparse_output=False) in a ColumnTransformer."
        )
    if message.startswith("Found array with dim"):
        return f"{message} Pass rows of features: reshape X to (n_samples, n_features), e.g. X.reshape(len(X), -1)."
    return None


def check_numeric_columns(X, estimator_name):
    """Refuse a DataFrame with non-numeric columns with a message that names them and the remedy."""
    if isinstance(X, pd.DataFrame):
        non_numeric = [
            str(column)
            for column, dtype in X.dtypes.items()
            if not pd.api.types.is_numeric_dtype(dtype)
        ]
        if non_numeric:
            raise ValueError(
                f"X has non-numeric columns {non_numeric}; {estimator_name} needs "
                "numbers. Encode them first, e.g. with OneHotEncoder in a ColumnTransformer."
            )


def validate_X(estimator, X, reset):
    """An autoencoder's ``X`` for training (``reset``) or inference, as a float64 / float32 array."""
    if not reset:
        check_inference_params(estimator)
        if is_plain_float_matrix(estimator, X):
            # The hot path of one-row inference: a float ndarray of the right
            # width, fitted without feature names, already passes every check
            # that validate_data would run, and validate_data's own overhead
            # would be most of a one-row call (see the engine benchmark page).
            return X
    return validate_input(estimator, X, reset=reset)


def is_plain_float_matrix(estimator, X):
    return (
        type(X) is np.ndarray
        and X.ndim == 2
        and X.dtype in (np.float64, np.float32)
        and X.shape[0] > 0
        and X.shape[1] == getattr(estimator, "n_features_in_", -1)
        and not hasattr(estimator, "feature_names_in_")
        and all_finite(X)
    )


def all_finite(X):
    """Whether every entry of the float array ``X`` is finite, without an array-sized temporary.

    A sum is finite only if every term is; when it overflows, check elementwise
    (scikit-learn's validation does the same).
    """
    return bool(np.isfinite(X.sum())) or bool(np.isfinite(X).all())


def observed_weights(observed, X):
    """``fit``'s ``observed`` mask (bool, or numbers that are all 0 or 1) as float32 loss weights (None: every cell)."""
    if observed is None:
        return None
    observed = check_array(
        observed,
        dtype=None,
        ensure_all_finite=False,
        ensure_min_samples=0,
        input_name="observed",
    )
    if observed.dtype.kind not in "biuf" or (
        observed.dtype.kind != "b" and not np.isin(observed, (0, 1)).all()
    ):
        raise ValueError(
            f"observed must be a boolean mask (True: a reconstruction target, False: input only) or hold only "
            f"0 and 1, got dtype {observed.dtype} with values such as {np.unique(observed.ravel()[:1000])[:5]}; "
            "build it with a comparison, e.g. observed=~np.isnan(X_raw)."
        )
    if observed.shape != X.shape:
        raise ValueError(
            f"observed has shape {observed.shape} but X has shape {X.shape}; it must mark each cell of X "
            "(True: a reconstruction target, False: input only)."
        )
    return observed.astype(np.float32)


def row_weights(sample_weight, X):
    """``fit``'s ``sample_weight`` checked (finite, non-negative, one per row, not all zero) as float64, or None."""
    if sample_weight is None:
        return None
    if is_out_of_core(X):
        raise ValueError(
            f"sample_weight needs X in memory, got a {type(X).__name__}; load X (np.asarray) or fit without "
            "sample_weight (to weight an out-of-core stream, repeat or drop its rows instead)."
        )
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if (
        not sample_weight.any()
    ):  # scikit-learn >= 1.7 refuses it first, in the same words
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def training_weights(X, sample_weight, cells):
    """``(X, cell weights, row weights)`` for training from ``fit``'s ``sample_weight`` and the cell weights.

    Cell weights come from the ``observed`` mask (None: every cell); row weights
    (None: unweighted) scale each row's loss and penalty in a weighted mean
    over the batch's rows. Rows of weight zero are dropped: they would add
    nothing but steps and noise draws, so a fit with them is the fit without
    them. Equal weights are no weights (the mean is the same), so that they
    train on the unweighted path. Weights are scaled by a power of two, which
    is exact, to put the largest in [0.5, 1) where float32 holds them.
    """
    weights = row_weights(sample_weight, X)
    if weights is None:
        return X, cells, None
    positive = weights > 0
    if not positive.all():
        X, cells, weights = (
            X[positive],
            None if cells is None else cells[positive],
            weights[positive],
        )
    if (weights == weights[0]).all():
        return X, cells, None
    return X, cells, np.ldexp(weights, -np.frexp(weights.max())[1]).astype(np.float32)


# ------------------------------------------------------------------ training
def training_input(estimator, X, reset):
    """``X`` validated for training: whole if in memory, its shape, dtype and width if out of core.

    Out-of-core rows are checked chunk by chunk as training reads them (:func:`check_chunk`).
    """
    check_callbacks(estimator)
    check_alpha(estimator)
    if not is_out_of_core(X):
        X = validate_X(estimator, X, reset=reset)
        check_training_data(estimator, X)
        return X
    name, shape, dtype = type(X).__name__, tuple(X.shape), np.dtype(X.dtype)
    if len(shape) != 2:
        raise ValueError(
            f"Expected a 2D array, got a {len(shape)}D {name} of shape {shape}; pass rows of features."
        )
    if any(isinstance(size, float) and math.isnan(size) for size in shape):
        raise ValueError(
            f"X ({name}) has unknown chunk sizes (shape {shape}), as after boolean indexing; "
            "compute them first with X.compute_chunk_sizes(), or fit on X.persist() or np.asarray(X)."
        )
    if shape[0] < 1 or shape[1] < 1:
        raise ValueError(
            f"Found an array of shape {shape} ({name}) while a minimum of 1 sample and 1 feature is required."
        )
    if dtype.kind not in "biuf":
        raise ValueError(
            f"X ({name}) has dtype {dtype}; {type(estimator).__name__} needs real numbers."
        )
    if reset:
        estimator.n_features_in_ = shape[1]
        if hasattr(estimator, "feature_names_in_"):
            del estimator.feature_names_in_
    elif shape[1] != estimator.n_features_in_:
        raise ValueError(
            f"X has {shape[1]} features, but {type(estimator).__name__} is expecting "
            f"{estimator.n_features_in_} features as input."
        )
    return X


def check_mixed_training(estimator, X, own_likelihood):
    """Refuse a mixed table that the estimator cannot train on: out of core, or (``own_likelihood``) a variant
    whose likelihood replaces the per-column one."""
    check_callbacks(estimator)
    check_alpha(estimator)
    name = type(estimator).__name__
    if is_out_of_core(X):
        raise ValueError(
            f"A mixed table (kinds={estimator.kinds!r}) must be in memory, got a {type(X).__name__}; load it "
            "(np.asarray, or a pandas DataFrame), or fit on numbers without kinds."
        )
    if own_likelihood:
        raise ValueError(
            f"{name} has a likelihood of its own and does not model mixed tables (kinds, or a DataFrame with "
            "non-numeric columns); use AutoencoderTransformer, DenoisingAE, SparseAE, ContractiveAE or VAE, or "
            "encode the table as numbers first (OneHotEncoder in a ColumnTransformer)."
        )


def check_chunk(estimator, rows, ranges):
    """Refuse a chunk read from out-of-core ``X`` (rows ``ranges``) that is short or holds non-finite or unlikely values."""
    spans = [f"{start}-{stop - 1}" for start, stop in sorted(map(tuple, ranges))]
    where = ", ".join(spans[:4]) + (
        f" and {len(spans) - 4} more ranges" if len(spans) > 4 else ""
    )
    expected = int(sum(stop - start for start, stop in ranges))
    if len(rows) != expected:
        raise ValueError(
            f"Reading rows {where} of X returned {len(rows)} rows instead of {expected}: X[start:stop] must "
            "return stop - start rows, as its shape promises. Fix the array-like's slicing, or pass np.asarray(X)."
        )
    if not all_finite(rows):
        raise ValueError(
            f"X contains NaN or infinity in rows {where}; remove or impute those rows "
            "(e.g. with AutoencoderImputer or SimpleImputer) before fitting."
        )
    try:
        check_training_data(estimator, rows)
    except ValueError as exc:
        raise ValueError(f"In rows {where} of X: {exc}") from None


def check_training_data(estimator, X):
    """Refuse data that the estimator's likelihood cannot explain."""
    if estimator._is_bernoulli() and (X.min() < 0 or X.max() > 1):
        raise ValueError(
            f"{estimator._likelihood()} needs X in [0, 1], got values in "
            f"[{X.min():.4g}, {X.max():.4g}]; scale X (e.g. MinMaxScaler) or use a Gaussian likelihood."
        )


# ---------------------------------------------------------------- parameters
def check_params(estimator, names):
    """Validate the parameters ``names`` against the estimator's constraints, as ``fit`` does.

    For parameters read after ``fit`` (changing them needs no refit), which
    ``fit``'s validation has not seen.
    """
    constraints = estimator._parameter_constraints
    names = [name for name in names if name in constraints]
    validate_parameter_constraints(
        {name: constraints[name] for name in names},
        {name: getattr(estimator, name) for name in names},
        caller_name=type(estimator).__name__,
    )


def check_inference_params(estimator):
    """Validate the parameters that inference reads (``inference_batch_size``, ``inference_device``, ...)."""
    size, device = estimator.inference_batch_size, estimator.inference_device
    n_draws = getattr(estimator, "n_score_samples", 1)
    # The usual values are checked inline: this runs on every call of one-row inference.
    if (
        type(size) is int
        and size >= 1
        and type(n_draws) is int
        and n_draws >= 1
        and (device is None or isinstance(device, (str, torch.device)))
    ):
        return
    check_params(estimator, _INFERENCE_PARAMS)


def check_callbacks(estimator):
    """Refuse a ``callbacks`` entry that is neither a skorch callback nor a ``(name, callback)`` tuple."""
    for index, entry in enumerate(estimator.callbacks or []):
        callback = (
            entry[1]
            if isinstance(entry, tuple)
            and len(entry) == 2
            and isinstance(entry[0], str)
            else entry
        )
        if not isinstance(callback, Callback):
            raise InvalidParameterError(
                f"The 'callbacks' parameter of {type(estimator).__name__} must hold skorch callbacks "
                "(skorch.callbacks.Callback instances) or (name, callback) tuples, e.g. [GradientNormClipping(1.0)] "
                f"or [('schedule', LRScheduler(...))]. Got callbacks[{index}]={entry!r} instead."
            )


def check_alpha(estimator):
    """Refuse an ``alpha`` that overflows float32, in which training runs: its penalty would be infinite."""
    limit = float(np.finfo(np.float32).max)
    if estimator.alpha > limit:
        raise InvalidParameterError(
            f"The 'alpha' parameter of {type(estimator).__name__} must be at most {limit:.3g} (float32's range, "
            f"in which training runs: a larger L2 penalty overflows and training diverges). Got {estimator.alpha!r} "
            "instead; lower alpha (usual values are 1e-6 to 1)."
        )


def check_hidden_layer_sizes(estimator):
    """``hidden_layer_sizes`` as a list of positive ints (an int is one layer); bools are refused."""
    sizes = estimator.hidden_layer_sizes
    layers = [sizes] if isinstance(sizes, Integral) else list(sizes)
    if any(
        isinstance(size, (bool, np.bool_)) or not isinstance(size, Integral) or size < 1
        for size in layers
    ):
        raise InvalidParameterError(
            f"The 'hidden_layer_sizes' parameter of {type(estimator).__name__} must be a positive integer or a "
            f"sequence of positive integers (not bools). Got {sizes!r} instead."
        )
    return layers
