"""Plain torch building blocks: no scikit-learn and no device code here.

Every autoencoder in skae is an :class:`Autoencoder` built from these pieces::

    output, code = decoder(code_layer(encoder(corruption(x))))

Variants swap one piece: a corruption that is active only in training mode
(``DenoisingAE``), a code layer that keeps the top-k units (``SparseAE``), or a
Gaussian encoder with reparameterisation (``VAE``). The encoder and decoder are
an :func:`mlp`, the convolutional :class:`ConvEncoder` / :class:`ConvDecoder`
for images, or any module of the user's that maps 2-D batches to 2-D batches.

Their random draws go through :func:`skae._random.randn_like` and
friends: inside a fit they come from the fit's own generator, elsewhere from
torch's global one.
"""

import math

import torch
from torch import nn

from ._random import rand_like, randn_like

ACTIVATIONS = {
    "identity": nn.Identity,
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus,
    "silu": nn.SiLU,
}


def mlp(sizes, activation="relu", output_activation="identity"):
    """A stack of linear layers, ``activation`` between them and ``output_activation`` last.

    ``mlp([64, 32, 8])`` is ``Linear(64, 32), act, Linear(32, 8), output_act``
    (no layer for an "identity" activation).

    Parameters
    ----------
    sizes : sequence of int
        Widths from input to output; ``len(sizes) - 1`` linear layers.
    activation : str, default="relu"
        Activation after every layer but the last: a name in ``skae.nn.ACTIVATIONS``.
    output_activation : str, default="identity"
        Activation after the last layer.

    Returns
    -------
    torch.nn.Sequential
        The layers, freshly initialised by torch's global generator.

    Examples
    --------
    >>> from skae.nn import mlp
    >>> mlp([4, 3, 2], activation="tanh")
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=2, bias=True)
    )
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        name = output_activation if i == len(sizes) - 2 else activation
        if name != "identity":  # an Identity layer would cost a module call per batch
            layers.append(ACTIVATIONS[name]())
    return nn.Sequential(*layers)


def output_shape(module, name, n_features):
    """The output shape of ``module`` on a dry forward pass of 2 rows of ``n_features`` zeros.

    Run in eval mode without gradients (no running statistics change, no
    randomness drawn), then the module's mode is restored. A failure is
    re-raised as a ``ValueError`` naming ``name``, the module and the shapes.

    Parameters
    ----------
    module : torch.nn.Module
        A module that maps 2-D batches to one tensor.
    name : str
        What the module is, for the error message (e.g. "encoder").
    n_features : int
        Width of the dry-run input.

    Returns
    -------
    tuple of int
        The output's shape, ``(2, ...)``.

    Raises
    ------
    ValueError
        If the module fails on the input or returns something other than one tensor.

    Examples
    --------
    >>> from torch import nn
    >>> from skae.nn import output_shape
    >>> output_shape(nn.Linear(5, 3), "encoder", 5)
    (2, 3)
    """
    parameter = next(module.parameters(), None)
    dtype = (
        parameter.dtype
        if parameter is not None and parameter.is_floating_point()
        else torch.float32
    )
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            output = module(torch.zeros(2, n_features, dtype=dtype))
    except Exception as error:
        raise ValueError(
            f"The {name} {type(module).__name__} failed on input of shape (2, {n_features}): {error}"
        ) from error
    finally:
        module.train(was_training)
    if not isinstance(output, torch.Tensor):
        raise ValueError(
            f"The {name} {type(module).__name__} returned {type(output).__name__} on input of "
            f"shape (2, {n_features}); it must return one tensor."
        )
    return tuple(output.shape)


def _conv_geometry(image_shape, n_features, n_layers, kernel_size, name):
    """The checked image shape, and the spatial sizes before and after each stride-2 convolution."""
    image_shape = _check_image_shape(image_shape, n_features, name)
    sizes = [tuple(image_shape[1:])]
    for _ in range(n_layers):
        sizes.append(
            tuple(
                (size + 2 * (kernel_size // 2) - kernel_size) // 2 + 1
                for size in sizes[-1]
            )
        )
    return image_shape, sizes


def _check_image_shape(image_shape, n_features, name):
    """``image_shape`` with a -1 (at most one, as in ``numpy.reshape``) inferred from ``n_features``."""
    image_shape = tuple(int(size) for size in image_shape)
    known = math.prod(size for size in image_shape if size != -1)
    if (
        len(image_shape) != 3
        or image_shape.count(-1) > 1
        or min(image_shape) < -1
        or 0 in image_shape
    ):
        raise ValueError(
            f"{name}: image_shape must be (channels, height, width) of positive sizes, one of "
            f"them possibly -1 (inferred), got {image_shape}."
        )
    if -1 in image_shape and n_features % known == 0:
        image_shape = tuple(
            n_features // known if size == -1 else size for size in image_shape
        )
    if math.prod(image_shape) != n_features:
        raise ValueError(
            f"{name}: image_shape {image_shape} does not fit the data's {n_features} features; "
            "rows must be images flattened in (channels, height, width) order."
        )
    return image_shape


class ConvEncoder(nn.Module):
    """Images as flattened rows -> codes: stride-2 convolutions, then a linear layer.

    Each of ``channels`` is a ``Conv2d(kernel_size, stride=2)`` followed by
    ``activation``, halving height and width; the feature map is flattened
    and mapped linearly to ``n_components``. Input rows are images flattened
    in (channels, height, width) order, so the module fits every skae
    estimator and scikit-learn's 2-D world. Pass it to an estimator as a
    builder, ``functools.partial(ConvEncoder, image_shape=(1, 28, 28))``, or
    as a module instance.

    Parameters
    ----------
    n_features : int
        Width of the input rows; must equal the product of ``image_shape``.
    n_components : int
        Width of the output (the code).
    image_shape : tuple of int
        ``(channels, height, width)``; one size may be -1, inferred from
        ``n_features`` as ``numpy.reshape`` does (``(1, 1, -1)`` convolves
        rows as 1-D signals of any length).
    channels : tuple of int, default=(32, 64)
        Output channels of each convolution.
    kernel_size : int, default=3
        Height and width of every convolution's kernel (padded by ``kernel_size // 2``).
    activation : str, default="relu"
        A name in ``skae.nn.ACTIVATIONS``.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import ConvEncoder
    >>> encoder = ConvEncoder(64, 4, image_shape=(1, 8, 8), channels=(8, 16))
    >>> encoder(torch.zeros(5, 64)).shape
    torch.Size([5, 4])
    """

    def __init__(
        self,
        n_features,
        n_components,
        image_shape,
        channels=(32, 64),
        kernel_size=3,
        activation="relu",
    ):
        super().__init__()
        self.image_shape, sizes = _conv_geometry(
            image_shape, n_features, len(channels), kernel_size, type(self).__name__
        )
        layers = [nn.Unflatten(1, self.image_shape)]
        for n_in, n_out in zip([self.image_shape[0], *channels[:-1]], channels):
            layers += [
                nn.Conv2d(n_in, n_out, kernel_size, stride=2, padding=kernel_size // 2),
                ACTIVATIONS[activation](),
            ]
        n_flat = (channels[-1] if channels else self.image_shape[0]) * math.prod(
            sizes[-1]
        )
        layers += [nn.Flatten(), nn.Linear(n_flat, n_components)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Encode a batch.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            Flattened images.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
            The codes.
        """
        return self.layers(x)


class ConvDecoder(nn.Module):
    """Codes -> images as flattened rows: the mirror of :class:`ConvEncoder`.

    A linear layer and ``activation`` make the smallest feature map, then
    stride-2 transposed convolutions (``activation`` between them, none after
    the last) double height and width back to ``image_shape``, with the
    output padding that restores odd sizes exactly. ``channels`` is given in
    the encoder's order, as ``hidden_layer_sizes`` is: the decoder mirrors it.
    The output is linear (logits for a Bernoulli likelihood).

    Parameters
    ----------
    n_features : int
        Width of the output rows; must equal the product of ``image_shape``.
    n_components : int
        Width of the input (the code).
    image_shape : tuple of int
        ``(channels, height, width)``; one size may be -1, as for :class:`ConvEncoder`.
    channels : tuple of int, default=(32, 64)
        The encoder's channels; used in reverse.
    kernel_size : int, default=3
        Height and width of every transposed convolution's kernel.
    activation : str, default="relu"
        A name in ``skae.nn.ACTIVATIONS``, applied between the layers.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import ConvDecoder
    >>> decoder = ConvDecoder(3 * 7 * 5, 4, image_shape=(3, 7, 5), channels=(8, 16))
    >>> decoder(torch.zeros(2, 4)).shape
    torch.Size([2, 105])
    """

    def __init__(
        self,
        n_features,
        n_components,
        image_shape,
        channels=(32, 64),
        kernel_size=3,
        activation="relu",
    ):
        super().__init__()
        self.image_shape, sizes = _conv_geometry(
            image_shape, n_features, len(channels), kernel_size, type(self).__name__
        )
        widths = [self.image_shape[0], *channels]
        smallest = (widths[-1], *sizes[-1])
        layers = [nn.Linear(n_components, math.prod(smallest))]
        if channels:
            layers.append(ACTIVATIONS[activation]())
        layers.append(nn.Unflatten(1, smallest))
        padding = kernel_size // 2
        for i in reversed(range(len(channels))):
            # ConvTranspose2d gives (size - 1) * 2 - 2 * padding + kernel_size; add what is missing.
            extra = tuple(
                target - ((size - 1) * 2 - 2 * padding + kernel_size)
                for target, size in zip(sizes[i], sizes[i + 1])
            )
            layers.append(
                nn.ConvTranspose2d(
                    widths[i + 1],
                    widths[i],
                    kernel_size,
                    stride=2,
                    padding=padding,
                    output_padding=extra,
                )
            )
            if i > 0:
                layers.append(ACTIVATIONS[activation]())
        layers.append(nn.Flatten())
        self.layers = nn.Sequential(*layers)

    def forward(self, z):
        """Decode a batch of codes.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            The codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            Flattened images (linear output).
        """
        return self.layers(z)


class Autoencoder(nn.Module):
    """Encoder and decoder with a corruption slot before and a code slot between.

    ``forward`` returns ``(decoder_output, code)``: the loss needs the code for
    penalties on it. ``encode`` skips the corruption, so it is what ``transform``
    uses (and the module is always put in eval mode for inference anyway).

    Parameters
    ----------
    encoder : torch.nn.Module
        Maps ``(n, n_features)`` to ``(n, n_components)``.
    decoder : torch.nn.Module
        Maps ``(n, n_components)`` back to ``(n, n_features)``.
    corruption : torch.nn.Module or None, default=None
        Applied to the input before the encoder in ``forward`` (e.g.
        :class:`GaussianNoise`); None for none.
    code_layer : torch.nn.Module or None, default=None
        Applied to the encoder's output to make the code (e.g. :class:`TopK`);
        None for none.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import Autoencoder, Masking, mlp
    >>> ae = Autoencoder(mlp([6, 2]), mlp([2, 6]), corruption=Masking(0.3))
    >>> output, code = ae(torch.zeros(4, 6))
    >>> output.shape, code.shape
    (torch.Size([4, 6]), torch.Size([4, 2]))
    """

    def __init__(self, encoder, decoder, corruption=None, code_layer=None):
        super().__init__()
        self.corruption = corruption if corruption is not None else nn.Identity()
        self.encoder = encoder
        self.code_layer = code_layer if code_layer is not None else nn.Identity()
        self.decoder = decoder

    # Empty slots are skipped rather than called: an Identity module call
    # costs Python time per slot and batch (see the engine benchmark page).
    def encode(self, x):
        """The code of each row, without corruption.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
            ``code_layer(encoder(x))``.
        """
        code = self.encoder(x)
        return code if type(self.code_layer) is nn.Identity else self.code_layer(code)

    def decode(self, code):
        """Map codes back to the input space.

        Parameters
        ----------
        code : Tensor of shape (n_samples, n_components)
            The codes.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            The decoder's output (logits for a Bernoulli likelihood).
        """
        return self.decoder(code)

    def forward(self, x):
        """Corrupt (in training mode), encode and decode a batch.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        output : Tensor of shape (n_samples, n_features)
            The decoder's output.
        code : Tensor of shape (n_samples, n_components)
            The code, for penalties on it.
        """
        if type(self.corruption) is not nn.Identity:
            x = self.corruption(x)
        code = self.encode(x)
        return self.decoder(code), code


class GaussianNoise(nn.Module):
    """Adds N(0, ``level**2``) noise to every entry, in training mode only.

    Parameters
    ----------
    level : float
        Standard deviation of the noise.
    """

    def __init__(self, level):
        super().__init__()
        self.level = level

    def forward(self, x):
        """Corrupt a batch in training mode; return it unchanged in eval mode.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            The corrupted batch (a new tensor), or ``x`` itself in eval mode.
        """
        if not self.training:
            return x
        return x + self.level * randn_like(x)


class Masking(nn.Module):
    """Sets a random fraction ``level`` of the entries to zero, in training mode only.

    Parameters
    ----------
    level : float
        Probability that an entry is zeroed, in [0, 1).
    groups : sequence of int or None, default=None
        The column each input unit codes (a mixed table's one-hot or
        thermometer units): the units of a column are zeroed together, so a
        masked cell looks exactly like a missing one, all its units at 0.
        None masks every entry on its own.
    """

    def __init__(self, level, groups=None):
        super().__init__()
        self.level = level
        self.register_buffer(
            "groups",
            None if groups is None else torch.as_tensor(groups, dtype=torch.long),
            persistent=False,
        )

    def forward(self, x):
        """Corrupt a batch in training mode; return it unchanged in eval mode.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            The corrupted batch (a new tensor), or ``x`` itself in eval mode.
        """
        if not self.training:
            return x
        if self.groups is None:
            return x * (rand_like(x) >= self.level)
        n_groups = int(self.groups.max()) + 1 if len(self.groups) else 0
        kept = rand_like(x.new_empty((x.shape[0], n_groups))) >= self.level
        return x * kept[:, self.groups]


class SaltAndPepper(nn.Module):
    """Sets a fraction ``level`` of the entries to their feature's minimum or maximum.

    Minimum ("pepper") and maximum ("salt") are equally likely; both are the
    per-feature extremes seen in training, kept as buffers. Training mode only.

    Parameters
    ----------
    level : float
        Probability that an entry is replaced, in [0, 1].
    low : array-like of shape (n_features,)
        Each feature's minimum ("pepper").
    high : array-like of shape (n_features,)
        Each feature's maximum ("salt").
    """

    def __init__(self, level, low, high):
        super().__init__()
        self.level = level
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, x):
        """Corrupt a batch in training mode; return it unchanged in eval mode.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            The corrupted batch (a new tensor), or ``x`` itself in eval mode.
        """
        if not self.training:
            return x
        corrupt = rand_like(x) < self.level
        salt = rand_like(x) < 0.5
        return torch.where(corrupt, torch.where(salt, self.high, self.low), x)


class TopK(nn.Module):
    """Keeps the ``k`` largest units of each row, by magnitude or by value, and zeroes the rest.

    The mask multiplies the input, so gradients flow only through kept units
    (Makhzani & Frey, 2013, who keep the largest values). In eval mode
    ``k_eval`` units are kept, the paper's ``alpha * k`` at encoding time. ``k``
    is an attribute so that a schedule can anneal it during training.

    Parameters
    ----------
    k : int
        Units kept per row in training mode.
    k_eval : int or None, default=None
        Units kept per row in eval mode; None: ``k``.
    by : {"value", "magnitude"}, default="value"
        Rank the units by value (largest activations) or by absolute value.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import TopK
    >>> TopK(2)(torch.tensor([[3.0, -5.0, 1.0, 2.0]]))
    tensor([[3., -0., 0., 2.]])
    """

    def __init__(self, k, k_eval=None, by="value"):
        super().__init__()
        self.k = k
        self.k_eval = k if k_eval is None else k_eval
        self.by = by

    def forward(self, x):
        """Zero all but the ``k`` (training) or ``k_eval`` (eval) largest units of each row.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_units)
            The encoder's output.

        Returns
        -------
        Tensor of shape (n_samples, n_units)
            The sparse codes; ``x`` itself when every unit is kept.
        """
        k = min(self.k if self.training else self.k_eval, x.shape[1])
        if k >= x.shape[1]:
            return x
        kept = (x.abs() if self.by == "magnitude" else x).topk(k, dim=1).indices
        mask = torch.zeros_like(x).scatter_(1, kept, 1.0)
        return x * mask

    def extra_repr(self):
        """The hyperparameters shown in the module's ``repr``.

        Returns
        -------
        str
            ``k``, ``k_eval`` and ``by``.
        """
        return f"k={self.k}, k_eval={self.k_eval}, by={self.by!r}"


class VariationalAutoencoder(nn.Module):
    """Gaussian encoder q(z|x) = N(mean(x), diag(exp(log_var(x)))) and a decoder.

    ``forward`` samples ``z = mean + exp(log_var / 2) * eps`` in training mode
    (the reparameterisation trick) and uses the posterior mean in eval mode;
    it returns ``(decoder_output, (mean, log_var))``. The buffer
    ``log_noise_var`` holds the log of a Gaussian decoder's single, shared
    variance (as in probabilistic PCA), set by the estimator after training;
    a Bernoulli decoder ignores it.

    ``input_shift`` (per feature) and ``input_scale`` (one number) standardise
    the data on its way in, ``(x - input_shift) / input_scale``, and
    ``decode`` maps the decoder's output back, ``output * input_scale +
    input_shift``. Both are affine maps that the first and last linear layers
    could absorb, so the model family is unchanged; what changes is the
    conditioning: the log-variance head no longer sees inputs of size 1e4
    (whose ``exp`` overflows on the first batch). By default they are the
    identity (0 and 1), what a Bernoulli decoder, whose outputs are logits, uses.

    Parameters
    ----------
    body : torch.nn.Module
        The shared encoder trunk, mapping standardised inputs to a hidden representation.
    mean_head : torch.nn.Module
        Maps the hidden representation to the posterior mean, ``(n, n_components)``.
    log_var_head : torch.nn.Module
        Maps the hidden representation to the posterior log-variance, ``(n, n_components)``.
    decoder : torch.nn.Module
        Maps latents ``(n, n_components)`` to ``(n, n_features)`` (standardised
        means, or logits for a Bernoulli decoder).
    input_shift : float or array-like of shape (n_features,), default=0.0
        Subtracted from the input before the body, added back by ``decode``.
    input_scale : float, default=1.0
        Divides the shifted input, multiplies the decoder's output.
    corruption : torch.nn.Module, default=None
        Applied to the input in ``forward`` (a module active in training mode only, such as
        :class:`GaussianNoise`); ``posterior`` and ``encode`` see clean input. None: no corruption.

    Examples
    --------
    >>> import torch
    >>> from skae.nn import VariationalAutoencoder, mlp
    >>> vae = VariationalAutoencoder(mlp([6, 4], output_activation="relu"), mlp([4, 2]), mlp([4, 2]), mlp([2, 6]))
    >>> output, (mean, log_var) = vae.eval()(torch.zeros(3, 6))
    >>> output.shape, mean.shape
    (torch.Size([3, 6]), torch.Size([3, 2]))
    """

    def __init__(
        self,
        body,
        mean_head,
        log_var_head,
        decoder,
        input_shift=0.0,
        input_scale=1.0,
        corruption=None,
    ):
        super().__init__()
        self.corruption = corruption if corruption is not None else nn.Identity()
        self.body = body
        self.mean_head = mean_head
        self.log_var_head = log_var_head
        self.decoder = decoder
        self.register_buffer("log_noise_var", torch.zeros(()))
        self.register_buffer(
            "input_shift", torch.as_tensor(input_shift, dtype=torch.float32)
        )
        self.register_buffer(
            "input_scale", torch.as_tensor(input_scale, dtype=torch.float32)
        )

    def posterior(self, x):
        """The Gaussian posterior's parameters for each row.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch, in the data's units.

        Returns
        -------
        mean : Tensor of shape (n_samples, n_components)
            Posterior means.
        log_var : Tensor of shape (n_samples, n_components)
            Posterior log-variances.
        """
        hidden = self.body((x - self.input_shift) / self.input_scale)
        return self.mean_head(hidden), self.log_var_head(hidden)

    def encode(self, x):
        """The posterior mean of each row: what ``transform`` returns.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        Tensor of shape (n_samples, n_components)
            Posterior means.
        """
        return self.posterior(x)[0]

    def decode(self, z):
        """Map latents to the decoder's output, in the data's units.

        Parameters
        ----------
        z : Tensor of shape (n_samples, n_components)
            Latent points.

        Returns
        -------
        Tensor of shape (n_samples, n_features)
            ``decoder(z) * input_scale + input_shift``.
        """
        return self.decoder(z) * self.input_scale + self.input_shift

    def forward(self, x):
        """Encode, sample (training mode) or take the mean (eval mode), and decode.

        Parameters
        ----------
        x : Tensor of shape (n_samples, n_features)
            The batch.

        Returns
        -------
        output : Tensor of shape (n_samples, n_features)
            The decoder's output, in the data's units.
        posterior : tuple of (Tensor, Tensor)
            The posterior's ``(mean, log_var)``, each of shape (n_samples, n_components).
        """
        if type(self.corruption) is not nn.Identity:
            x = self.corruption(x)
        mean, log_var = self.posterior(x)
        z = (
            mean + torch.exp(0.5 * log_var) * randn_like(mean)
            if self.training
            else mean
        )
        return self.decode(z), (mean, log_var)
