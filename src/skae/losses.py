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
    """Elementwise squared error: the Gaussian negative log-likelihood up to constants.

    Parameters
    ----------
    output : Tensor of shape (n_samples, n_features)
        The decoder's output.
    target : Tensor of shape (n_samples, n_features)
        The data to reconstruct.

    Returns
    -------
    Tensor of shape (n_samples, n_features)
        ``(output - target) ** 2``.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import squared_error
    >>> squared_error(torch.tensor([[1.0, 2.0]]), torch.tensor([[0.0, 0.0]]))
    tensor([[1., 4.]])
    """
    return (output - target) ** 2


def bernoulli_nll(logits, target):
    """Elementwise Bernoulli negative log-likelihood of ``target`` in [0, 1], from logits.

    Parameters
    ----------
    logits : Tensor of shape (..., n_samples, n_features)
        The decoder's output before the sigmoid. Leading dimensions (e.g.
        posterior draws) are allowed: ``target`` is broadcast to them.
    target : Tensor of shape (n_samples, n_features)
        Data in [0, 1] (binary, or probabilities).

    Returns
    -------
    Tensor of the shape of ``logits``
        The binary cross-entropy of each element, in nats.
    """
    return F.binary_cross_entropy_with_logits(
        logits, target.expand_as(logits), reduction="none"
    )


def gaussian_nll(mean, log_var, target):
    """Elementwise Gaussian negative log-likelihood in nats, constants included.

    Parameters
    ----------
    mean : Tensor of shape (n_samples, n_features)
        The Gaussian's mean (the decoder's output).
    log_var : Tensor broadcastable to ``mean``
        The log of the Gaussian's variance: per element, or one shared value.
    target : Tensor of shape (n_samples, n_features)
        The data.

    Returns
    -------
    Tensor of shape (n_samples, n_features)
        ``0.5 * (log(2 pi) + log_var + (target - mean) ** 2 / exp(log_var))``.
    """
    return 0.5 * (LOG_2PI + log_var + (target - mean) ** 2 * torch.exp(-log_var))


def sum_features(elementwise, weights=None):
    """Per-sample sum over features, counting only cells with non-zero weight.

    Parameters
    ----------
    elementwise : Tensor of shape (n_samples, n_features)
        An elementwise loss, such as :func:`squared_error`'s.
    weights : Tensor of shape (n_samples, n_features) or None, default=None
        Multiplies each cell before the sum: 0 drops a cell (e.g. a missing
        value), 1 keeps it. None keeps every cell.

    Returns
    -------
    Tensor of shape (n_samples,)
        The (weighted) sum of each row.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import sum_features
    >>> sum_features(torch.ones(2, 3), weights=torch.tensor([[1.0, 0.0, 1.0], [1.0, 1.0, 1.0]]))
    tensor([2., 3.])
    """
    if weights is not None:
        elementwise = elementwise * weights
    return elementwise.sum(dim=1)


def weighted_mean(values, sample_weight=None):
    """The mean over rows (dim 0) of ``values``, weighted by ``sample_weight`` (None: unweighted): ``sum(w v) / sum(w)``.

    A batch whose weights sum to zero has mean zero (it cannot occur in ``fit``,
    which drops rows of weight zero, but a float32 weight may underflow).

    Parameters
    ----------
    values : Tensor of shape (n_samples, ...)
        One value (or tensor of values) per row.
    sample_weight : Tensor of shape (n_samples,), default=None
        Non-negative row weights; None weighs every row equally.

    Returns
    -------
    Tensor of shape ``values.shape[1:]``
        The (weighted) mean over rows.
    """
    if sample_weight is None:
        return values.mean(dim=0)
    weights = sample_weight.reshape(-1, *[1] * (values.dim() - 1))
    return (values * weights).sum(dim=0) / sample_weight.sum().clamp(
        min=torch.finfo(sample_weight.dtype).tiny
    )


def kl_bernoulli(target, average, eps=1e-6):
    """KL(Bernoulli(target) || Bernoulli(average)) per unit, for a sparsity target rho.

    Parameters
    ----------
    target : Tensor or float
        The sparsity target rho, in (0, 1).
    average : Tensor of shape (n_units,)
        Each unit's average activation, in [0, 1]; clipped to
        ``[eps, 1 - eps]`` so that the logarithms stay finite.
    eps : float, default=1e-6
        Clipping margin of ``average``.

    Returns
    -------
    Tensor of shape (n_units,)
        The divergence of each unit, in nats; 0 where ``average == target``.
    """
    average = average.clamp(eps, 1 - eps)
    return target * torch.log(target / average) + (1 - target) * torch.log(
        (1 - target) / (1 - average)
    )


def sparsity_penalty(code, kind, target, sample_weight=None):
    """Penalty on each code unit's average activation over the batch, summed over units.

    Parameters
    ----------
    code : Tensor of shape (n_samples, n_units)
        The batch's codes.
    kind : {"kl", "l1", "l2"}
        "kl": Bernoulli KL divergence of ``target`` to the average activation
        (the sparse autoencoder of Ng's lecture notes; activations in [0, 1]);
        "l1" or "l2": absolute or squared distance of the average activation
        to ``target``.
    target : float
        The desired average activation of each unit.
    sample_weight : Tensor of shape (n_samples,), default=None
        Row weights of the average activation; None weighs rows equally.

    Returns
    -------
    Tensor of shape ()
        The penalty, summed over units.

    Raises
    ------
    ValueError
        If ``kind`` is not one of the above.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import sparsity_penalty
    >>> code = torch.tensor([[0.0, 1.0], [0.2, 1.0]])
    >>> sparsity_penalty(code, "l1", target=0.1)
    tensor(0.9000)
    """
    average = weighted_mean(code, sample_weight)
    if kind == "kl":
        per_unit = kl_bernoulli(
            torch.as_tensor(target, dtype=code.dtype, device=code.device), average
        )
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

    Parameters
    ----------
    linear : torch.nn.Linear
        The encoder's single linear layer ``W x + b``.
    activation : callable
        An elementwise activation (a module or function of one tensor).
    x : Tensor of shape (n_samples, n_features)
        The batch.

    Returns
    -------
    Tensor of shape (n_samples,)
        The squared Frobenius norm of each row's Jacobian; differentiable with
        respect to ``linear``'s parameters when they require gradients.

    See Also
    --------
    jacobian_frobenius_exact : Any encoder, exactly, at one pass per code unit.
    jacobian_frobenius_projection : Any encoder, estimated, at two passes per projection.
    """
    pre = linear(x)
    with torch.enable_grad():
        pre_input = pre if pre.requires_grad else pre.detach().requires_grad_()
        slope = torch.autograd.grad(
            activation(pre_input).sum(), pre_input, create_graph=pre.requires_grad
        )[0]
    row_norms = (linear.weight**2).sum(dim=1)
    return (slope**2) @ row_norms


def jacobian_frobenius_exact(function, x):
    """Per-sample squared Frobenius norm of d function(x) / dx through ``torch.func``.

    Reverse mode, one pass per output unit, vectorised over the batch; the
    result is differentiable with respect to the function's parameters.

    Parameters
    ----------
    function : callable
        Maps a batch of shape ``(n, n_features)`` to ``(n, n_units)``, each row
        independently (e.g. an encoder in eval mode).
    x : Tensor of shape (n_samples, n_features)
        The batch.

    Returns
    -------
    Tensor of shape (n_samples,)
        The squared Frobenius norm of each row's Jacobian.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import jacobian_frobenius_exact
    >>> weight = torch.tensor([[1.0, 2.0], [0.0, 3.0]])
    >>> jacobian_frobenius_exact(lambda x: x @ weight.T, torch.zeros(2, 2))
    tensor([14., 14.])
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
    measured no slower on the CPU.

    Parameters
    ----------
    function : callable
        Maps a batch of shape ``(n, n_features)`` to ``(n, n_units)``, each row
        independently.
    x : Tensor of shape (n_samples, n_features)
        The batch.
    n_projections : int, default=1
        Random directions ``v`` averaged over; more lowers the variance.

    Returns
    -------
    Tensor of shape (n_samples,)
        The estimate for each row; differentiable with respect to the
        function's parameters. The directions are drawn from the fit's
        generator inside a fit, else from torch's global one.
    """
    with torch.enable_grad():
        inputs = x.detach().requires_grad_()
        code = function(inputs)
        total = 0.0
        for _ in range(n_projections):
            probe = torch.zeros_like(code, requires_grad=True)
            (transposed,) = torch.autograd.grad(code, inputs, probe, create_graph=True)
            (directional,) = torch.autograd.grad(
                transposed, probe, randn_like(x), create_graph=True
            )
            total = total + (directional**2).sum(dim=1)
    return total / n_projections


def kl_standard_normal(mean, log_var):
    """Per-sample KL(N(mean, exp(log_var)) || N(0, I)) in closed form, summed over latents.

    Parameters
    ----------
    mean : Tensor of shape (n_samples, n_latents)
        The posterior means.
    log_var : Tensor of shape (n_samples, n_latents)
        The log of the posterior variances.

    Returns
    -------
    Tensor of shape (n_samples,)
        The divergence of each row's posterior from the standard normal prior, in nats.

    Examples
    --------
    >>> import torch
    >>> from skae.losses import kl_standard_normal
    >>> kl_standard_normal(torch.zeros(2, 3), torch.zeros(2, 3))
    tensor([0., 0.])
    """
    return 0.5 * (mean**2 + log_var.exp() - 1.0 - log_var).sum(dim=1)
