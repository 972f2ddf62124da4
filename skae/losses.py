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

from ._random import randn_like

LOG_2PI = math.log(2 * math.pi)


def squared_error(output, target):
    """Elementwise squared error: the Gaussian negative log-likelihood up to constants."""
    return (output - target) ** 2


def bernoulli_nll(logits, target):
    """Elementwise Bernoulli negative log-likelihood of ``target`` in [0, 1], from logits."""
    return F.binary_cross_entropy_with_logits(logits, target.expand_as(logits), reduction="none")


def gaussian_nll(mean, log_var, target):
    """Elementwise Gaussian negative log-likelihood in nats, constants included."""
    return 0.5 * (LOG_2PI + log_var + (target - mean) ** 2 * torch.exp(-log_var))


def sum_features(elementwise, weights=None):
    """Per-sample sum over features, counting only cells with non-zero weight."""
    if weights is not None:
        elementwise = elementwise * weights
    return elementwise.sum(dim=1)


def weighted_mean(values, sample_weight=None):
    """The mean over rows (dim 0) of ``values``, weighted by ``sample_weight`` (None: unweighted): ``sum(w v) / sum(w)``.

    A batch whose weights sum to zero has mean zero (it cannot occur in ``fit``,
    which drops rows of weight zero, but a float32 weight may underflow).
    """
    if sample_weight is None:
        return values.mean(dim=0)
    weights = sample_weight.reshape(-1, *[1] * (values.dim() - 1))
    return (values * weights).sum(dim=0) / sample_weight.sum().clamp(min=torch.finfo(sample_weight.dtype).tiny)


def kl_bernoulli(target, average, eps=1e-6):
    """KL(Bernoulli(target) || Bernoulli(average)) per unit, for a sparsity target rho."""
    average = average.clamp(eps, 1 - eps)
    return target * torch.log(target / average) + (1 - target) * torch.log((1 - target) / (1 - average))


def sparsity_penalty(code, kind, target, sample_weight=None):
    """Penalty on each code unit's average activation over the batch, summed over units.

    With ``sample_weight`` the average is weighted by the rows' weights.

    ``kind`` is "kl" (Bernoulli KL divergence to ``target``, the sparse
    autoencoder of Ng's lecture notes), "l1" or "l2" (absolute or squared
    distance of the average activation to ``target``).
    """
    average = weighted_mean(code, sample_weight)
    if kind == "kl":
        per_unit = kl_bernoulli(torch.as_tensor(target, dtype=code.dtype, device=code.device), average)
    elif kind == "l1":
        per_unit = (average - target).abs()
    elif kind == "l2":
        per_unit = (average - target) ** 2
    else:
        raise ValueError(f"unknown sparsity penalty {kind!r}")
    return per_unit.sum()


def jacobian_frobenius_closed_form(linear, activation, x):
    """Per-sample squared Frobenius norm of d activation(linear(x)) / dx, exactly.

    For ``h = act(W x + b)`` with an elementwise activation the Jacobian is
    ``diag(act'(a)) W``, so its squared norm is ``sum_j act'(a_j)^2 ||W_j||^2``
    (for a sigmoid, ``act' = h (1 - h)``: Rifai et al., 2011). The derivative
    of any elementwise activation is the gradient of its sum.
    """
    pre = linear(x)
    with torch.enable_grad():
        pre_input = pre if pre.requires_grad else pre.detach().requires_grad_()
        slope = torch.autograd.grad(activation(pre_input).sum(), pre_input, create_graph=pre.requires_grad)[0]
    row_norms = (linear.weight**2).sum(dim=1)
    return (slope**2) @ row_norms


def jacobian_frobenius_exact(function, x):
    """Per-sample squared Frobenius norm of d function(x) / dx through ``torch.func``.

    Reverse mode, one pass per output unit, vectorised over the batch; the
    result is differentiable with respect to the function's parameters.
    """
    from torch.func import jacrev, vmap

    jacobians = vmap(jacrev(lambda row: function(row.unsqueeze(0)).squeeze(0)))(x)
    return (jacobians**2).sum(dim=(1, 2))


def jacobian_frobenius_projection(function, x, n_projections=1):
    """Unbiased random-projection estimate of the per-sample squared Frobenius norm.

    ``||J||_F^2 = E ||J v||^2`` for ``v ~ N(0, I)``, whatever the input width.
    For Gaussian ``v`` the estimate's variance is ``2 ||J^T J||_F^2 /
    n_projections``, so its relative standard deviation is at most
    ``sqrt(2 / n_projections)``.

    ``J v`` comes from two reverse-mode passes (the vector-Jacobian product
    ``u -> J^T u`` is linear in ``u``, and its gradient with respect to ``u``
    along ``v`` is ``J v``) rather than ``torch.func.jvp``: forward-mode AD
    loads torch's jit-scripted decompositions, which emit a
    ``torch.jit.script`` deprecation warning on every fit, and the two passes
    measured no slower (200 x 300 batch, 300-300-300 ReLU encoder, CPU).
    """
    with torch.enable_grad():
        inputs = x.detach().requires_grad_()
        code = function(inputs)
        total = 0.0
        for _ in range(n_projections):
            probe = torch.zeros_like(code, requires_grad=True)
            (transposed,) = torch.autograd.grad(code, inputs, probe, create_graph=True)
            (directional,) = torch.autograd.grad(transposed, probe, randn_like(x), create_graph=True)
            total = total + (directional**2).sum(dim=1)
    return total / n_projections


def kl_standard_normal(mean, log_var):
    """Per-sample KL(N(mean, exp(log_var)) || N(0, I)) in closed form, summed over latents."""
    return 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=1)
