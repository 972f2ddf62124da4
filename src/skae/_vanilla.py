"""The plain autoencoder: the base estimator with every slot at its default."""

from ._base import BaseAutoencoder, document, store_parameters


@document
class AutoencoderTransformer(BaseAutoencoder):
    """A deterministic autoencoder as a scikit-learn transformer.

    An MLP encoder maps each sample to ``n_components`` linear code units and a
    mirrored decoder maps codes back. Training minimises the reconstruction
    loss summed over features and averaged over the batch with Adam. With
    ``activation="identity"`` the model is linear and its decoder spans the
    same subspace as :class:`~sklearn.decomposition.PCA`.

    Parameters
    ----------
    n_components : int, default=10
        Size of the code (latent space). Any positive integer, including more than the number of features (an
        overcomplete code), for every skae estimator alike; only sparsity, noise or
        a penalty stops an overcomplete code from learning to copy its input.
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Reconstruction likelihood: Gaussian (the loss is the squared error)
        or Bernoulli (binary cross-entropy, for data in [0, 1]; the decoder
        then ends in a sigmoid).
    loss : {"squared_error", "binary_crossentropy"}, default="deprecated"
        The former name of ``likelihood``: "squared_error" is "gaussian",
        "binary_crossentropy" is "bernoulli", the same model exactly.

        .. deprecated:: 0.1
           ``loss`` was renamed ``likelihood`` in 0.1 and will be removed in
           0.3. Set, it is used (with a FutureWarning) unless it contradicts
           a ``likelihood`` set to another value, which is an error.
    {base_parameters}

    See Also
    --------
    sklearn.decomposition.PCA : The linear baseline.
    DenoisingAE, SparseAE, ContractiveAE, VAE : Regularised variants.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from skae import AutoencoderTransformer
    >>> X = MinMaxScaler().fit_transform(load_digits().data)
    >>> ae = AutoencoderTransformer(8, hidden_layer_sizes=(32,), max_iter=20, random_state=0)
    >>> codes = ae.fit_transform(X)
    >>> codes.shape
    (1797, 8)
    >>> ae.inverse_transform(codes).shape
    (1797, 64)
    >>> ae.get_feature_names_out()[:3]
    array(['autoencodertransformer0', 'autoencodertransformer1',
           'autoencodertransformer2'], dtype=object)
    """

    # Its own __init__ (the base's signature) so that a misspelt argument's
    # TypeError names AutoencoderTransformer, not BaseAutoencoder.
    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="gaussian",
        loss="deprecated",
        noise=None,
        noise_level=0.2,
        alpha=1e-4,
        batch_size="auto",
        chunk_size="auto",
        learning_rate_init=1e-3,
        max_iter=1000,
        tol=1e-4,
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
