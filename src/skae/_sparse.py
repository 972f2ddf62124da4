"""Sparse autoencoder: top-k codes and/or a penalty on average code activation."""

from numbers import Integral, Real

import numpy as np
from torch import nn

from ._base import BaseAutoencoder, document, store_parameters
from ._compat import Interval, StrOptions
from .losses import sparsity_penalty
from .nn import TopK

# n_components=None: the code has UNITS_PER_K * k units (see the class docstring
# for how this was chosen), or _DEFAULT_WIDTH, every estimator's default, without k.
UNITS_PER_K = 4
_DEFAULT_WIDTH = 10


@document
class SparseAE(BaseAutoencoder):
    """An autoencoder with sparse codes: k-sparse top-k units and/or a sparsity penalty.

    With ``k`` set, the code keeps the ``k`` units of largest value (or
    magnitude, ``k_selection``) per sample and zeroes the rest; gradients flow only through the kept units
    (Makhzani & Frey, 2013, "k-Sparse Autoencoders"). As in the paper, k is
    annealed linearly from ``n_components`` down to ``k`` over the first
    ``k_anneal_fraction`` of ``max_iter`` so that units do not die early, and
    ``transform`` keeps ``transform_k_factor * k`` units (the paper's alpha).
    Overcomplete codes (``n_components`` above the number of features) are
    allowed. For features, weight decay matters (:ref:`bench_features`): tune
    ``alpha`` with the rest of the pipeline.

    With ``sparsity_penalty`` set, code units are sigmoids and
    ``sparsity_weight`` times a penalty on each unit's average activation over
    the batch, rho-hat, is added to the loss: the KL divergence between
    Bernoulli(``sparsity_target``) and Bernoulli(rho-hat) ("kl"), or the
    absolute ("l1") or squared ("l2") distance between them, summed over units.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of code units. None: ``4 * k`` units with ``k`` set (100 for
        k=25), else 10, as for the other estimators. Any positive integer, including more than the number of features (an
        overcomplete code), for every skae estimator alike; only sparsity, noise or
        a penalty stops an overcomplete code from learning to copy its input.
    k : int or None, default=None
        Units kept per sample; None keeps all of them (no top-k). A ``k`` at
        least ``n_components`` keeps every unit (the top k of fewer than k
        units are all of them), so the code is dense.
    transform_k_factor : float, default=2.0
        At ``transform`` time ``round(transform_k_factor * k)`` units are kept
        (at least 1, at most ``n_components``): the paper's alpha, which
        encodes with more units than training keeps to make features for a
        classifier (:ref:`defaults`). 1 keeps exactly ``k``.
    k_selection : {"value", "magnitude"}, default="value"
        Keep the k units of largest value, as in the paper, or of largest
        absolute value. The paper's rule gives much better features
        (:ref:`bench_features`).
    k_anneal_fraction : float, default=0.1
        Fraction of ``max_iter`` over which k falls linearly from
        ``n_components`` to ``k`` (100 epochs at the default ``max_iter``);
        0 trains with ``k`` from the start.
    sparsity_penalty : {"kl", "l1", "l2"} or None, default=None
        Penalty on the average activation of each (sigmoid) code unit.
    sparsity_target : float, default=0.05
        Target average activation, rho, in (0, 1).
    sparsity_weight : float, default=0.1
        Weight of the sparsity penalty.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Reconstruction likelihood, as in :class:`AutoencoderTransformer`.
    loss : {"squared_error", "binary_crossentropy"}, default="deprecated"
        Renamed ``likelihood``, as in :class:`AutoencoderTransformer`.
    {base_parameters}
    dead_units_fraction_ : float
        Fraction of code units that are zero on every training sample (top-k),
        or never above 0.5 (sigmoid units with a penalty only).
    n_components_ : int
        Number of code units in use: ``n_components``, or when it is None
        ``4 * k`` (10 without ``k``).

    See Also
    --------
    AutoencoderTransformer : The same model with dense codes.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import SparseAE
    >>> X = load_digits().data / 16
    >>> sae = SparseAE(64, k=8, max_iter=10, random_state=0).fit(X)
    >>> codes = sae.transform(X)  # transform_k_factor * k units per sample
    >>> int((codes != 0).sum(axis=1).max())
    16
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "k": [Interval(Integral, 1, None, closed="left"), None],
        "transform_k_factor": [Interval(Real, 0, None, closed="neither")],
        "k_selection": [StrOptions({"magnitude", "value"})],
        "k_anneal_fraction": [Interval(Real, 0, 1, closed="both")],
        "sparsity_penalty": [StrOptions({"kl", "l1", "l2"}), None],
        "sparsity_target": [Interval(Real, 0, 1, closed="neither")],
        "sparsity_weight": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(
        self,
        n_components=None,
        *,
        k=None,
        transform_k_factor=2.0,
        k_selection="value",
        k_anneal_fraction=0.1,
        sparsity_penalty=None,
        sparsity_target=0.05,
        sparsity_weight=0.1,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="gaussian",
        loss="deprecated",
        noise=None,
        noise_level=0.2,
        alpha=0.0001,
        batch_size="auto",
        chunk_size="auto",
        learning_rate_init=0.001,
        max_iter=1000,
        tol=0.0001,
        n_iter_no_change=10,
        early_stopping=False,
        validation_fraction=0.1,
        random_state=None,
        verbose=0,
        warm_start=False,
        device="cpu",
        callbacks=None,
        inference_device=None,
        inference_batch_size=8192,
        kinds=None,
    ):
        store_parameters(self, locals())

    def _code_size(self):
        if self.n_components is not None:
            return self.n_components
        return _DEFAULT_WIDTH if self.k is None else UNITS_PER_K * self.k

    def _kept_units(self):
        """Units kept per sample in training: ``k``, or every unit when ``k`` is at least the width."""
        return min(self.k, self._code_size())

    def _build_code_layer(self):
        # A penalty on average activation needs activations in (0, 1): sigmoid
        # code units, before any top-k.
        sigmoid = None if self.sparsity_penalty is None else nn.Sigmoid()
        if self.k is None:
            return sigmoid
        # Encoding with more units than training keeps (Makhzani & Frey's
        # alpha * k) makes features that keep more of the input; the factor
        # was chosen on development sets, see the defaults page.
        k_eval = int(
            np.clip(round(self.transform_k_factor * self.k), 1, self._code_size())
        )
        top_k = TopK(self._kept_units(), k_eval, by=self.k_selection)
        return top_k if sigmoid is None else nn.Sequential(sigmoid, top_k)

    def _penalty(self, module, X, code, sample_weight=None):
        if self.sparsity_penalty is None:
            return 0.0
        # The average activation is a weighted mean over the batch's rows.
        return self.sparsity_weight * sparsity_penalty(
            code, self.sparsity_penalty, self.sparsity_target, sample_weight
        )

    def _anneal(self, module, epoch):
        # k falls linearly from n_components to k over the first
        # k_anneal_fraction of max_iter. The loss rises as k falls, so the
        # objective counts as changing until k is reached: stopping mid-anneal
        # left models trained at k ~ 600 of 1000 encoding with k = 75.
        if self.k is None or self._kept_units() == self._code_size():
            return False  # nothing to anneal
        epochs = self.k_anneal_fraction * self.max_iter
        progress = min(1.0, epoch / epochs) if epochs > 0 else 1.0
        width = self._code_size()
        k = int(round(width + progress * (self._kept_units() - width)))
        for layer in module.modules():
            if isinstance(layer, TopK):
                layer.k = k
        return progress < 1.0

    def _set_fitted_statistics(self, X, sample_weight=None):
        # Weights do not change "zero on every training sample": fit dropped the rows of weight zero.
        self.n_components_ = self._code_size()
        codes = self._predict(
            lambda module, rows: module.encode(rows), X
        )  # not transform: X is already validated
        fires = np.abs(codes) > (0 if self.k is not None else 0.5)
        self.dead_units_fraction_ = float(np.mean(~fires.any(axis=0)))
