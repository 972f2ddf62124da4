"""Renamed parameters, still working until their removal release: delete this module then.

``loss`` became ``likelihood`` in skae 0.1 (with per-column kinds the parameter
names a likelihood, not a loss) and goes in 0.3. Its default is the sentinel
``"deprecated"``, as in scikit-learn's renames, so only a caller who sets it
is warned, and only in ``fit`` and ``partial_fit``.
"""

import warnings

# Each old value and the new value that computes the same loss.
LOSS_TO_LIKELIHOOD = {"squared_error": "gaussian", "binary_crossentropy": "bernoulli"}
DEFAULT_LIKELIHOOD = "gaussian"


def likelihood_in_use(estimator):
    """``estimator``'s likelihood: the value mapped from a set ``loss``, else ``likelihood``."""
    loss = getattr(estimator, "loss", "deprecated")
    return estimator.likelihood if loss == "deprecated" else LOSS_TO_LIKELIHOOD[loss]


def check_renamed_loss(estimator):
    """Warn that ``loss`` is renamed when it is set; refuse it contradicting ``likelihood``.

    ``likelihood`` at its default counts as not given, so ``loss`` alone keeps
    working; ``likelihood`` set to another value than ``loss`` maps to is an
    error, as neither could be told to win.
    """
    loss = getattr(estimator, "loss", "deprecated")
    if loss == "deprecated":
        return
    new = LOSS_TO_LIKELIHOOD[loss]
    if estimator.likelihood not in (new, DEFAULT_LIKELIHOOD):
        raise ValueError(
            f"loss={loss!r} and likelihood={estimator.likelihood!r} contradict each "
            f"other: loss={loss!r} is likelihood={new!r}. Set likelihood only "
            "(loss is deprecated)."
        )
    warnings.warn(
        f"`loss` was renamed `likelihood` in skae 0.1 and will be removed in 0.3; "
        f"use likelihood={new!r} instead of loss={loss!r}.",
        FutureWarning,
        stacklevel=4,  # the caller of fit, under _fit_context
    )
