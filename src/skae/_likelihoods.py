"""Per-column likelihoods of a mixed table, as pure torch.

Six closed-form log-densities (one per column kind of ``skae._columns``) and :class:`MixedLikelihood`, which reads
a decoder's raw output as each column's distribution parameters, scores the targets of ``ColumnSchema.encode`` cell
by cell, and gives point predictions and draws.

Ordered levels use the **ordered logit** (cumulative link, McCullagh 1980; the HI-VAE's ordinal likelihood):
``P(y <= k) = sigmoid(theta_k - eta)`` with one location ``eta`` and increasing cut-points ``theta``. It keeps the
order (a larger ``eta`` moves mass up every level at once), it needs one location whatever the number of levels,
its cut-points let levels be unevenly spaced, and its median level (the prediction minimising the expected level
distance) is simply the number of cut-points below ``eta``.

A raw output of zero is each column's training marginal: the decoder's parameters are offsets from the column's
mean and standard deviation (real, positive), its mean count, and its smoothed level frequencies (add-half).
"""

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2 * math.pi)
# The smallest distance between two cut-points of the ordered logit (see ordered_logit_log_prob).
MIN_CUTPOINT_GAP = 1e-6


def gaussian_log_prob(x, mean, log_scale):
    """Log-density of ``x`` under N(mean, exp(log_scale)**2)."""
    return -0.5 * (LOG_2PI + ((x - mean) * torch.exp(-log_scale)) ** 2) - log_scale


def lognormal_log_prob(x, mean, log_scale):
    """Log-density of ``x > 0`` when ``log x`` is N(mean, exp(log_scale)**2)."""
    log_x = torch.log(x)
    return gaussian_log_prob(log_x, mean, log_scale) - log_x


def poisson_log_prob(k, log_rate):
    """Log-probability of the count ``k`` under Poisson(exp(log_rate))."""
    return k * log_rate - torch.exp(log_rate) - torch.lgamma(k + 1)


def bernoulli_log_prob(x, logit):
    """Log-probability of ``x`` in {0, 1} under Bernoulli(sigmoid(logit))."""
    return -F.binary_cross_entropy_with_logits(logit, x, reduction="none")


def categorical_log_prob(k, logits):
    """Log-probability of the level index ``k`` (long) under softmax(logits) over the last dimension."""
    return torch.log_softmax(logits, dim=-1).gather(-1, k.unsqueeze(-1)).squeeze(-1)


def ordered_cutpoints(raw):
    """Increasing cut-points from unconstrained ``raw`` (..., K-1): the first, then softplus steps."""
    return torch.cat(
        [raw[..., :1], raw[..., :1] + torch.cumsum(F.softplus(raw[..., 1:]), dim=-1)],
        dim=-1,
    )


def ordered_logit_log_prob(k, location, cutpoints):
    """Log-probability of the level ``k`` (long) under the ordered logit.

    ``P(y = k) = sigmoid(u) - sigmoid(l)`` with ``u = theta_k - eta`` and ``l = theta_{k-1} - eta``
    (``theta_{-1} = -inf``, ``theta_{K-1} = +inf``), computed as ``logsigmoid(u) - softplus(l) + log(1 - exp(l - u))``
    so that no probability is formed by subtraction. Cut-points closer than ``MIN_CUTPOINT_GAP`` count as that
    far apart: in float32 a level that training never saw can have its two cut-points merge, and its
    log-probability would be -inf (an infinite validation loss) instead of merely very low.
    """
    bounds = _bounds(location, cutpoints)
    upper = bounds.gather(-1, (k + 1).unsqueeze(-1)).squeeze(-1)
    lower = bounds.gather(-1, k.unsqueeze(-1)).squeeze(-1)
    gap = (lower - upper).clamp(max=-MIN_CUTPOINT_GAP)
    return F.logsigmoid(upper) - F.softplus(lower) + torch.log(-torch.expm1(gap))


def _bounds(location, cutpoints):
    """``theta - eta`` padded with -inf and +inf: (..., K+1)."""
    inf = torch.full_like(location, math.inf).unsqueeze(-1)
    return torch.cat([-inf, cutpoints, inf], dim=-1) - location.unsqueeze(-1)


def output_width(column, learn_scale=True):
    """Decoder outputs a column needs: mean and log-scale (real, positive; the mean alone at a fixed scale),
    log-rate (count), one logit (binary), one logit per level (categorical), a location and ``K - 1`` cut-points
    (ordinal)."""
    gaussian = 2 if learn_scale else 1
    return {"real": gaussian, "positive": gaussian, "count": 1, "binary": 1}.get(
        column.kind, column.n_levels
    )


class _Group(torch.nn.Module):
    """Columns of one kind and output width, scored together."""

    def __init__(self, kind, columns, outputs, offset, loc, scale, log_min_scale):
        super().__init__()
        self.kind, self.log_min_scale = kind, log_min_scale
        self.register_buffer("columns", torch.tensor(columns), persistent=False)
        self.register_buffer("outputs", torch.tensor(outputs), persistent=False)
        self.register_buffer(
            "offset", torch.tensor(offset, dtype=torch.float64), persistent=False
        )
        self.register_buffer(
            "loc", torch.tensor(loc, dtype=torch.float64), persistent=False
        )
        self.register_buffer(
            "log_scale",
            torch.tensor(scale, dtype=torch.float64).log(),
            persistent=False,
        )

    def parameters_of(self, raw):
        """The distribution parameters of the group's columns, each (n, g) or (n, g, K)."""
        r = raw[:, self.outputs] + self.offset.to(raw.dtype)
        if self.kind in ("real", "positive"):
            if r.shape[-1] == 1:  # a fixed unit scale (learn_scale=False)
                return r[..., 0], torch.zeros_like(r[..., 0])
            floor = torch.full_like(r[..., 1], self.log_min_scale)
            return r[..., 0], torch.logaddexp(r[..., 1], floor)
        if self.kind == "ordinal":
            return r[..., 0], ordered_cutpoints(r[..., 1:])
        return (r[..., 0],) if self.kind in ("count", "binary") else (r,)

    def log_prob(self, raw, targets):
        """Log-likelihood (n, g) of the targets, in the units of the table's own values."""
        params = self.parameters_of(raw)
        if self.kind in ("real", "positive"):
            log_scale = self.log_scale.to(raw.dtype)
            jacobian = log_scale + (
                self.loc.to(raw.dtype) + targets * log_scale.exp()
                if self.kind == "positive"
                else 0
            )
            return gaussian_log_prob(targets, *params) - jacobian
        if self.kind == "count":
            return poisson_log_prob(targets, *params)
        if self.kind == "binary":
            return bernoulli_log_prob(targets, *params)
        index = targets.round().long()
        return (
            categorical_log_prob(index, *params)
            if self.kind == "categorical"
            else ordered_logit_log_prob(index, *params)
        )

    def point(self, raw):
        """Point predictions in target units: mean (real; the median for positive), rate, most likely level
        (binary, categorical), median level (ordinal)."""
        params = self.parameters_of(raw)
        if self.kind in ("real", "positive"):
            return params[0]
        if self.kind == "count":
            return params[0].exp()
        if self.kind == "binary":
            return (params[0] > 0).to(raw.dtype)
        if self.kind == "categorical":
            return params[0].argmax(dim=-1).to(raw.dtype)
        location, cutpoints = params
        return (cutpoints < location.unsqueeze(-1)).sum(dim=-1).to(raw.dtype)

    def sample(self, raw, generator=None):
        """One draw per cell, in target units."""
        params = self.parameters_of(raw)
        if self.kind in ("real", "positive"):
            mean, log_scale = params
            return mean + log_scale.exp() * torch.randn(
                mean.shape, generator=generator, dtype=raw.dtype, device=raw.device
            )
        if self.kind == "count":
            return torch.poisson(params[0].exp(), generator=generator)
        if self.kind == "binary":
            return torch.bernoulli(torch.sigmoid(params[0]), generator=generator)
        if self.kind == "categorical":
            probs = torch.softmax(params[0], dim=-1)
        else:
            probs = torch.diff(torch.sigmoid(_bounds(*params)), dim=-1)
        flat = probs.reshape(-1, probs.shape[-1])
        return (
            torch.multinomial(flat, 1, generator=generator)
            .reshape(probs.shape[:-1])
            .to(raw.dtype)
        )


class MixedLikelihood(torch.nn.Module):
    """Each column's likelihood, read from a decoder's raw output.

    The decoder's output has `n_outputs` units, column after column in the table's order (``output_slices``);
    see :func:`output_width`. Real and positive columns are Gaussian on their standardised value (of ``log1p``
    for positive ones), with scale ``exp(raw) + min_scale`` or, with ``learn_scale=False``, a fixed scale of 1
    (their training standard deviation); their log-densities include the standardisation's Jacobian, so every
    column is scored in nats of the table's own values. Columns of one kind and width are computed together.

    Parameters
    ----------
    schema : ColumnSchema
        A fitted schema (``columns_`` is read once).
    min_scale : float, default=1e-2
        Smallest standard deviation of a real or positive column, in units of its training standard deviation:
        keeps a decoder from buying likelihood by shrinking a scale without end.
    learn_scale : bool, default=True
        Whether the decoder predicts each real or positive cell's scale. A learned scale weighs each cell's
        error by its predicted precision, so columns the network predicts well dominate training; a fixed
        scale weighs every column's standardised error alike, as squared error does on numbers.

    Attributes
    ----------
    n_outputs : int
    output_slices : tuple of slice
        The decoder units of each column.

    Examples
    --------
    >>> import pandas as pd, torch
    >>> from skae._columns import ColumnSchema
    >>> X = pd.DataFrame({"city": ["Lyon", "Oslo", None], "rooms": [2, 3, 1]})
    >>> schema = ColumnSchema().fit(X)
    >>> likelihood = MixedLikelihood(schema)
    >>> likelihood.n_outputs
    3
    >>> encoded = schema.encode(X)
    >>> raw = torch.zeros(3, likelihood.n_outputs, dtype=torch.float64)
    >>> nll = likelihood(raw, torch.as_tensor(encoded.targets), torch.as_tensor(encoded.observed))
    >>> nll.shape, float(nll[2, 0])
    (torch.Size([3, 2]), 0.0)
    """

    def __init__(self, schema, min_scale=1e-2, learn_scale=True):
        super().__init__()
        columns = schema.columns_
        widths = [output_width(column, learn_scale) for column in columns]
        starts = [sum(widths[:j]) for j in range(len(widths))]
        self.n_outputs = sum(widths)
        self.output_slices = tuple(
            slice(start, start + width) for start, width in zip(starts, widths)
        )
        members = {}
        for j, column in enumerate(columns):
            members.setdefault((column.kind, widths[j]), []).append(j)
        self.groups = torch.nn.ModuleList(
            _Group(
                kind,
                js,
                [list(range(starts[j], starts[j] + width)) for j in js],
                [_offset(columns[j], width) for j in js],
                [columns[j].loc for j in js],
                [columns[j].scale for j in js],
                math.log(min_scale) if min_scale > 0 else -math.inf,
            )
            for (kind, width), js in members.items()
        )
        order = torch.cat([group.columns for group in self.groups]).argsort()
        self.register_buffer("order", order, persistent=False)

    def forward(self, raw, targets, observed):
        """Negative log-likelihood of each cell, 0 where not observed.

        Parameters
        ----------
        raw : Tensor of shape (n_samples, n_outputs)
            The decoder's output.
        targets : Tensor of shape (n_samples, n_columns)
            ``ColumnSchema.encode(X).targets``.
        observed : Tensor of shape (n_samples, n_columns)
            Booleans, or non-negative cell weights that multiply each cell's term.

        Returns
        -------
        nll : Tensor of shape (n_samples, n_columns)
            Sum over columns for a row's negative log-likelihood; each column's share explains it.
        """
        counts = observed != 0
        targets = torch.where(counts, targets.to(raw.dtype), 0.0)
        nll = self._by_column(
            [-group.log_prob(raw, targets[:, group.columns]) for group in self.groups]
        )
        return torch.where(counts, nll * observed, 0.0)

    def point(self, raw):
        """Point prediction of every column in target units (``ColumnSchema.decode`` reads them).

        Mean for real columns, the median ``expm1`` of the log-mean for positive ones (robust to a wide
        scale), the rate for counts, the most likely level for binary and categorical columns and the median
        level for ordinal ones.
        """
        return self._by_column([group.point(raw) for group in self.groups])

    def sample(self, raw, generator=None):
        """One draw of every cell from its column's distribution, in target units."""
        return self._by_column([group.sample(raw, generator) for group in self.groups])

    def _by_column(self, parts):
        return torch.cat(parts, dim=1)[:, self.order]


def _offset(column, width):
    """The raw output that gives the column's training marginal, subtracted from nothing: added to the raw."""
    offset = [0.0] * width
    if column.kind == "count":
        offset[0] = math.log(max(column.mean, 1e-3))
    elif column.kind in ("binary", "categorical", "ordinal"):
        counts = torch.tensor(column.level_counts, dtype=torch.float64) + 0.5
        log_p = (counts / counts.sum()).log()
        if column.kind == "binary":
            offset[0] = float(log_p[1] - log_p[0]) if column.n_levels == 2 else 0.0
        elif column.kind == "categorical":
            offset = log_p.tolist()
        elif column.n_levels > 1:
            cumulative = torch.logit(torch.cumsum(log_p.exp(), 0)[:-1])
            gaps = torch.diff(cumulative)
            offset = [0.0, float(cumulative[0])] + torch.log(torch.expm1(gaps)).tolist()
    return offset
