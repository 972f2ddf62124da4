"""Plain torch building blocks: no scikit-learn and no device code here.

Every autoencoder in skae is an :class:`Autoencoder` built from these pieces::

    output, code = decoder(code_layer(encoder(corruption(x))))

Variants swap one piece: a corruption that is active only in training mode
(``DenoisingAE``), a code layer that keeps the top-k units (``SparseAE``), or a
Gaussian encoder with reparameterisation (``VAE``).
"""

import torch
from torch import nn

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

    ``mlp([64, 32, 8])`` is ``Linear(64, 32), act, Linear(32, 8), output_act``.

    Examples
    --------
    >>> from skae.nn import mlp
    >>> mlp([4, 3, 2], activation="tanh")
    Sequential(
      (0): Linear(in_features=4, out_features=3, bias=True)
      (1): Tanh()
      (2): Linear(in_features=3, out_features=2, bias=True)
      (3): Identity()
    )
    """
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        is_last = i == len(sizes) - 2
        layers.append(ACTIVATIONS[output_activation if is_last else activation]())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """Encoder and decoder with a corruption slot before and a code slot between.

    ``forward`` returns ``(decoder_output, code)``: the loss needs the code for
    penalties on it. ``encode`` skips the corruption, so it is what ``transform``
    uses (and the module is always put in eval mode for inference anyway).
    """

    def __init__(self, encoder, decoder, corruption=None, code_layer=None):
        super().__init__()
        self.corruption = corruption if corruption is not None else nn.Identity()
        self.encoder = encoder
        self.code_layer = code_layer if code_layer is not None else nn.Identity()
        self.decoder = decoder

    def encode(self, x):
        return self.code_layer(self.encoder(x))

    def decode(self, code):
        return self.decoder(code)

    def forward(self, x):
        code = self.encode(self.corruption(x))
        return self.decode(code), code


class GaussianNoise(nn.Module):
    """Adds N(0, ``level``^2) noise to every entry, in training mode only."""

    def __init__(self, level):
        super().__init__()
        self.level = level

    def forward(self, x):
        if not self.training:
            return x
        return x + self.level * torch.randn_like(x)


class Masking(nn.Module):
    """Sets a random fraction ``level`` of the entries to zero, in training mode only."""

    def __init__(self, level):
        super().__init__()
        self.level = level

    def forward(self, x):
        if not self.training:
            return x
        return x * (torch.rand_like(x) >= self.level)


class SaltAndPepper(nn.Module):
    """Sets a fraction ``level`` of the entries to their feature's minimum or maximum.

    Minimum ("pepper") and maximum ("salt") are equally likely; both are the
    per-feature extremes seen in training, kept as buffers. Training mode only.
    """

    def __init__(self, level, low, high):
        super().__init__()
        self.level = level
        self.register_buffer("low", torch.as_tensor(low, dtype=torch.float32))
        self.register_buffer("high", torch.as_tensor(high, dtype=torch.float32))

    def forward(self, x):
        if not self.training:
            return x
        corrupt = torch.rand_like(x) < self.level
        salt = torch.rand_like(x) < 0.5
        return torch.where(corrupt, torch.where(salt, self.high, self.low), x)


class TopK(nn.Module):
    """Keeps the ``k`` largest units of each row, by magnitude or by value, and zeroes the rest.

    The mask multiplies the input, so gradients flow only through kept units
    (Makhzani & Frey, 2013, who keep the largest values). In eval mode
    ``k_eval`` units are kept, the paper's ``alpha * k`` at encoding time. ``k``
    is an attribute so that a schedule can anneal it during training.
    """

    def __init__(self, k, k_eval=None, by="value"):
        super().__init__()
        self.k = k
        self.k_eval = k if k_eval is None else k_eval
        self.by = by

    def forward(self, x):
        k = min(self.k if self.training else self.k_eval, x.shape[1])
        if k >= x.shape[1]:
            return x
        kept = (x.abs() if self.by == "magnitude" else x).topk(k, dim=1).indices
        mask = torch.zeros_like(x).scatter_(1, kept, 1.0)
        return x * mask

    def extra_repr(self):
        return f"k={self.k}, k_eval={self.k_eval}, by={self.by!r}"


class VariationalAutoencoder(nn.Module):
    """Gaussian encoder q(z|x) = N(mean(x), diag(exp(log_var(x)))) and a decoder.

    ``forward`` samples ``z = mean + exp(log_var / 2) * eps`` in training mode
    (the reparameterisation trick) and uses the posterior mean in eval mode;
    it returns ``(decoder_output, (mean, log_var))``. The buffer
    ``log_noise_var`` holds the log of a Gaussian decoder's single, shared
    variance (as in probabilistic PCA), set by the estimator after training;
    a Bernoulli decoder ignores it.
    """

    def __init__(self, body, mean_head, log_var_head, decoder):
        super().__init__()
        self.body = body
        self.mean_head = mean_head
        self.log_var_head = log_var_head
        self.decoder = decoder
        self.register_buffer("log_noise_var", torch.zeros(()))

    def posterior(self, x):
        hidden = self.body(x)
        return self.mean_head(hidden), self.log_var_head(hidden)

    def encode(self, x):
        return self.posterior(x)[0]

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        mean, log_var = self.posterior(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn_like(mean) if self.training else mean
        return self.decode(z), (mean, log_var)
