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
