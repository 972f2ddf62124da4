"""Denoising autoencoder: the named entry point to the base estimator's ``noise``, on by default."""

from ._base import BaseAutoencoder, document, store_parameters


@document
class DenoisingAE(BaseAutoencoder):
    """An autoencoder trained to reconstruct clean input from corrupted input.

    During training each batch is corrupted before encoding and the loss
    compares the reconstruction with the clean batch (Vincent et al., 2008).
    ``transform``, ``inverse_transform`` and ``score_samples`` see clean data:
    the corruption is a module that is active only in training mode, and its
    randomness follows ``random_state``.

    Every skae autoencoder takes the same ``noise`` and ``noise_level``
    (default: no noise): ``DenoisingAE`` is :class:`AutoencoderTransformer`
    with noise on by default, and ``SparseAE(k=25, noise="masking")`` is a
    sparse denoising autoencoder.

    Parameters
    ----------
    n_components : int, default=10
        Size of the code (latent space). Any positive integer, including more than the number of features (an
        overcomplete code), for every skae estimator alike; only sparsity, noise or
        a penalty stops an overcomplete code from learning to copy its input.
    noise : {"gaussian", "masking", "salt_and_pepper"} or None, default="gaussian"
        "gaussian" adds N(0, noise_level^2) noise to every entry; "masking"
        sets a fraction ``noise_level`` of the entries to zero; "salt_and_pepper"
        sets a fraction ``noise_level`` of the entries to their feature's
        minimum or maximum seen in training, with equal probability.
    noise_level : float, default=0.2
        Standard deviation ("gaussian") or fraction of corrupted entries
        ("masking", "salt_and_pepper", at most 1).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Reconstruction likelihood, as in :class:`AutoencoderTransformer`.
    loss : {"squared_error", "binary_crossentropy"}, default="deprecated"
        Renamed ``likelihood``, as in :class:`AutoencoderTransformer`.
    {base_parameters}

    See Also
    --------
    AutoencoderTransformer : The same model without corruption.
    SparseAE, ContractiveAE, VAE : Take ``noise`` too, to combine corruption with their difference.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from skae import DenoisingAE
    >>> X = load_digits().data / 16
    >>> dae = DenoisingAE(16, noise="masking", noise_level=0.3, max_iter=10, random_state=0).fit(X)
    >>> noisy = X * (np.random.RandomState(0).rand(*X.shape) > 0.3)
    >>> dae.reconstruct(noisy).shape
    (1797, 64)
    """

    def __init__(
        self,
        n_components=10,
        *,
        noise="gaussian",
        noise_level=0.2,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="gaussian",
        loss="deprecated",
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
