"""What a score is at the edges: a row the model cannot explain scores minus infinity, never NaN.

Scores are log-densities (or bounds on them, or their deterministic analogues) in nats: higher means more
normal, so the rows that matter most to an outlier detector are the lowest. Far from the data a log-density
honestly overflows to -inf (a residual squared past the float range), but the networks' own arithmetic can
overflow first and give NaN (``inf - inf`` inside a layer), and ``NaN < threshold`` is False: an outlier
would pass as normal. Every public score therefore goes through :func:`honest_scores`, the one place where
that policy lives.
"""

import numpy as np

from ._renamed import likelihood_in_use


def honest_scores(scores, X, bernoulli=False):
    """``scores`` with -inf for each row of ``X`` that the model cannot explain.

    Those are the rows whose score is NaN (the model's arithmetic overflowed on a row far from anything it
    saw: its density there is below what floats represent) and, for a Bernoulli model, the rows with a value
    outside [0, 1], which have probability zero under it.

    Parameters
    ----------
    scores : ndarray of shape (n_samples,)
        Log-density scores, higher for more normal rows.
    X : ndarray of shape (n_samples, n_features)
        The scored rows (validated: finite floats).
    bernoulli : bool, default=False
        Whether the model's likelihood is Bernoulli, with support [0, 1].

    Returns
    -------
    scores : ndarray of shape (n_samples,)
        A new array in the dtype of ``scores``.
    """
    impossible = np.isnan(scores)
    if bernoulli:
        impossible |= outside_unit_interval(X)
    return np.where(impossible, -np.inf, scores).astype(scores.dtype, copy=False)


def is_bernoulli(autoencoder):
    """Whether ``autoencoder``'s likelihood is Bernoulli (data in [0, 1], decoder output as logits).

    Read from its public parameters (``likelihood="bernoulli"``, or the
    deprecated ``loss="binary_crossentropy"``), so that the wrappers around an
    autoencoder need none of its private methods.
    """
    return likelihood_in_use(autoencoder) == "bernoulli"


def outside_unit_interval(X):
    """Boolean mask of the rows of ``X`` with at least one value below 0 or above 1."""
    return ((X < 0) | (X > 1)).any(axis=1)


def at_least_lowest_float(scores):
    """``scores`` in float64 with -inf raised to the lowest float64.

    Quantiles interpolate between neighbouring scores, and ``-inf + (finite - -inf) * t`` is NaN: a threshold
    computed from scores with -inf in them must see a finite stand-in, which still lies below every real score.
    """
    return np.maximum(np.asarray(scores, dtype=np.float64), np.finfo(np.float64).min)
