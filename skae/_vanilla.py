"""The plain autoencoder: the base estimator with every slot at its default."""

from ._base import BaseAutoencoder


class AutoencoderTransformer(BaseAutoencoder):
    """A deterministic autoencoder as a scikit-learn transformer.

    An MLP encoder maps each sample to ``n_components`` linear code units and a
    mirrored decoder maps codes back. Training minimises the reconstruction
    loss summed over features and averaged over the batch with Adam. With
    ``activation="identity"`` the model is linear and its decoder spans the
    same subspace as :class:`~sklearn.decomposition.PCA`.

    Parameters
    ----------
    n_components : int, default=2
        Size of the code (latent space).
    hidden_layer_sizes : tuple of int, default=(100,)
        Encoder hidden layers; the decoder mirrors them. ``()`` maps the input
        straight to the code.
    activation : {"relu", "tanh", "logistic", "sigmoid", "identity", "elu", \
"gelu", "leaky_relu", "softplus", "silu"}, default="relu"
        Activation of the hidden layers. The code and the output are linear.
    loss : {"squared_error", "binary_crossentropy"}, default="squared_error"
        Reconstruction likelihood: Gaussian (squared error) or Bernoulli
        (binary cross-entropy, for data in [0, 1]; the decoder then ends in a
        sigmoid).
    alpha : float, default=1e-4
        L2 penalty (weight decay) on the weights, not the biases.
    batch_size : int or "auto", default="auto"
        Mini-batch size; "auto" is ``min(200, n_samples)``. Larger values are
        clipped to the number of samples.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=200
        Maximum number of epochs.
    tol : float, default=1e-4
        Training stops when the monitored loss (training loss, or validation
        loss with ``early_stopping``) has not improved by at least ``tol``
        for ``n_iter_no_change`` consecutive epochs.
    n_iter_no_change : int, default=10
        Patience of the stopping rule, in epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data, monitor its loss, and
        restore the weights of the best validation epoch.
    validation_fraction : float, default=0.1
        Fraction held out when ``early_stopping`` is set.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, shuffling and any sampling. An int makes
        ``fit`` reproducible bit for bit on CPU; the caller's global torch and
        numpy RNGs are left untouched.
    verbose : int, default=0
        1 prints a table of losses per epoch; 2 adds a progress bar per epoch.
    warm_start : bool, default=False
        Continue training the fitted module (and its optimizer state) on the
        next ``fit`` instead of starting afresh.
    device : {"cpu", "cuda", "cuda:N", "mps", "auto"} or torch.device, default="cpu"
        Where to train. "auto" picks CUDA, then MPS, then CPU. The fitted
        module is kept on CPU, so a model trained on a GPU pickles and loads
        anywhere; inference runs on CPU.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks, e.g. ``LRScheduler``, ``GradientNormClipping``
        or ``Checkpoint``.

    Attributes
    ----------
    module_ : torch.nn.Module
        The trained autoencoder, on CPU, in eval mode.
    loss_curve_ : list of float
        Training loss per epoch.
    validation_scores_ : list of float
        Minus the validation loss per epoch (``early_stopping`` only; empty otherwise).
    best_loss_ : float
        The lowest training loss reached.
    n_iter_ : int
        Number of epochs run.
    device_ : str
        The device training ran on.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of features seen during fit, when ``X`` has string column names.

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
