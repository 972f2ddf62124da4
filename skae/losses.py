"""Loss terms as pure functions of tensors.

One convention throughout: a likelihood term is returned **per element**
(shape ``(n_samples, n_features)``) or **per sample** (summed over features);
the training objective is the per-sample sum averaged over the batch. Summing
over features keeps reconstruction and KL terms on the same scale; a
per-feature mean with a summed KL makes a VAE collapse to the data mean.
"""

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)


def squared_error(output, target):
    """Elementwise squared error: the Gaussian negative log-likelihood up to constants."""
    return (output - target) ** 2


def bernoulli_nll(logits, target):
    """Elementwise Bernoulli negative log-likelihood of ``target`` in [0, 1], from logits."""
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def gaussian_nll(mean, log_var, target):
    """Elementwise Gaussian negative log-likelihood in nats, constants included."""
    return 0.5 * (LOG_2PI + log_var + (target - mean) ** 2 * torch.exp(-log_var))


def sum_features(elementwise, weights=None):
    """Per-sample sum over features, counting only cells with non-zero weight."""
    if weights is not None:
        elementwise = elementwise * weights
    return elementwise.sum(dim=1)
