"""Contractive autoencoder: a penalty on the encoder Jacobian's Frobenius norm."""

from numbers import Integral, Real

from ._base import BaseAutoencoder, document, store_parameters
from ._compat import Interval, StrOptions
from .losses import (
    jacobian_frobenius_closed_form,
    jacobian_frobenius_exact,
    jacobian_frobenius_projection,
    weighted_mean,
)
from .nn import ACTIVATIONS

# "auto" computes the Jacobian exactly while it holds at most this many entries
# per sample (the batch of Jacobians is materialised); wider models use the
# random-projection estimate, whose cost does not grow with the input width.
_EXACT_JACOBIAN_MAX_ENTRIES = 65536


@document
class ContractiveAE(BaseAutoencoder):
    """An autoencoder whose codes are penalised for sensitivity to the input.

    The loss adds ``contractive_weight`` times the squared Frobenius norm of
    the encoder's Jacobian d code / d x, averaged over the batch (Rifai et al.,
    2011). The defaults are the paper's model: a single sigmoid layer from
    input to code, for which the norm has a closed form.

    Parameters
    ----------
    n_components : int, default=10
        Size of the code. Any positive integer, including more than the number of features (an
        overcomplete code), for every skae estimator alike; only sparsity, noise or
        a penalty stops an overcomplete code from learning to copy its input.
    contractive_weight : float, default=0.1
        Weight of the Jacobian penalty.
    jacobian : {"auto", "closed_form", "exact", "projection"}, default="auto"
        How the squared norm is computed. "closed_form" (one-layer encoders
        only): ``sum_j act'(a_j)^2 ||W_j||^2``. "exact": the full Jacobian
        with ``torch.func``, vectorised over the batch. "projection": the
        unbiased estimate ``mean_i ||J v_i||^2`` over ``n_projections`` Gaussian
        directions, one forward-mode pass each, with relative standard
        deviation at most ``sqrt(2 / n_projections)`` per sample. "auto" takes
        the closed form when the encoder has one layer, else the exact
        Jacobian while it has at most 65536 entries, else the projection.
    n_projections : int, default=1
        Random directions per sample for ``jacobian="projection"``.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Reconstruction likelihood, as in :class:`AutoencoderTransformer`.
    loss : {"squared_error", "binary_crossentropy"}, default="deprecated"
        Renamed ``likelihood``, as in :class:`AutoencoderTransformer`.
    hidden_layer_sizes : tuple of int, default=()
        Encoder hidden layers; ``()`` is the paper's single-layer encoder.
    activation : str, default="sigmoid"
        Activation of every encoder layer, the code included, and of the
        decoder's hidden layers. With your own ``encoder`` it is applied to
        the encoder's output to make the code ("identity" leaves it as is).
    {base_parameters}

    See Also
    --------
    DenoisingAE : Robustness learned from corrupted input instead of a penalty.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import ContractiveAE
    >>> X = load_digits().data / 16
    >>> cae = ContractiveAE(16, contractive_weight=0.5, max_iter=10, random_state=0).fit(X)
    >>> cae.jacobian_norm(X[:3]).shape
    (3,)
    """

    _parameter_constraints = {
        **BaseAutoencoder._parameter_constraints,
        "contractive_weight": [Interval(Real, 0, None, closed="left")],
        "jacobian": [StrOptions({"auto", "closed_form", "exact", "projection"})],
        "n_projections": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=10,
        *,
        contractive_weight=0.1,
        jacobian="auto",
        n_projections=1,
        hidden_layer_sizes=(),
        activation="sigmoid",
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

    def _build_code_layer(self):
        # The code is a hidden layer like the others, so a one-layer encoder is
        # exactly h = act(W x + b); a user's encoder gets the activation too.
        return ACTIVATIONS[self.activation]()

    def _has_one_layer_encoder(self):
        return self.encoder is None and not self._hidden_sizes()

    def _jacobian_method(self, n_features):
        if self.jacobian != "auto":
            return self.jacobian
        if self._has_one_layer_encoder():
            return "closed_form"
        if n_features * self.n_components <= _EXACT_JACOBIAN_MAX_ENTRIES:
            return "exact"
        return "projection"

    def _penalty(self, module, X, code, sample_weight=None):
        method = self._jacobian_method(X.shape[1])
        if method == "closed_form":
            if not self._has_one_layer_encoder():
                raise ValueError(
                    "jacobian='closed_form' needs the built-in one-layer encoder (encoder=None, "
                    "hidden_layer_sizes=()); use jacobian='exact' or 'projection'."
                )
            squared_norms = jacobian_frobenius_closed_form(
                module.encoder[0], module.code_layer, X
            )
        elif method == "exact":
            squared_norms = jacobian_frobenius_exact(module.encode, X)
        else:
            squared_norms = jacobian_frobenius_projection(
                module.encode, X, self.n_projections
            )
        return self.contractive_weight * weighted_mean(squared_norms, sample_weight)
