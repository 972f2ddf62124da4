"""What each fitted estimator computes at inference, as a torch module that ``torch.export`` can trace.

:mod:`skae.onnx` exports these modules with the dynamo exporter and splices the
result into skl2onnx's graph. Each one holds copies of the fitted networks in
the dtype of the input it will see (float32 input is computed with a float32
copy, as ``transform`` does) and repeats the estimator's arithmetic step by
step, including where numpy mixes in float64 statistics, so that onnxruntime
and skae agree to rounding.
"""

import copy

import numpy as np
import torch
from torch import nn

from ._scores import is_bernoulli


def network_copy(estimator, dtype):
    """The fitted ``module_`` of ``estimator``, copied to ``dtype`` on the CPU in eval mode."""
    return copy.deepcopy(estimator.module_).to("cpu", dtype).eval()


def _constant(values, dtype):
    return torch.as_tensor(np.asarray(values), dtype=dtype)


class Encode(nn.Module):
    """``transform``: the code layer's output (top-k, sigmoid units) or a VAE's posterior mean."""

    def __init__(self, estimator, dtype):
        super().__init__()
        self.network = network_copy(estimator, dtype)

    def forward(self, x):
        return self.network.encode(x)


class Decode(nn.Module):
    """``inverse_transform``: the decoder's mean (a VAE's output in the units of ``X``)."""

    def __init__(self, estimator, dtype):
        super().__init__()
        self.network = network_copy(estimator, dtype)
        self.bernoulli = is_bernoulli(estimator)

    def forward(self, code):
        output = self.network.decode(code)
        return torch.sigmoid(output) if self.bernoulli else output


class Reconstruct(nn.Module):
    """``reconstruct``: the decoder's mean of each row's clean (uncorrupted) input."""

    def __init__(self, estimator, dtype):
        super().__init__()
        self.network = network_copy(estimator, dtype)
        self.bernoulli = is_bernoulli(estimator)

    def forward(self, x):
        output = self.network(x)[0]
        return torch.sigmoid(output) if self.bernoulli else output


class MemberScore(nn.Module):
    """One member of an :class:`~skae.AutoencoderOutlierDetector`: its score on its features, as the detector's.

    The "likelihood" rule's statistics are float64 numpy arrays in skae, so
    the residuals and codes are promoted to float64 before they meet them.
    """

    def __init__(self, detector, i, dtype):
        super().__init__()
        estimator = detector.estimators_[i]
        self.scoring = detector.scoring_
        self.register_buffer(
            "features",
            torch.as_tensor(detector.estimators_features_[i], dtype=torch.long),
        )
        self.reconstruct = Reconstruct(estimator, dtype)
        statistics, scaling = (
            detector.scoring_statistics_[i],
            detector.score_scaling_[i],
        )
        self.standardise = scaling is not None
        if (
            self.standardise
        ):  # feature bagging: robust z-scores (see AutoencoderOutlierDetector)
            location, spread = scaling
            self.register_buffer(
                "location", torch.tensor(location, dtype=torch.float64)
            )
            self.register_buffer("spread", torch.tensor(spread, dtype=torch.float64))
        if self.scoring == "likelihood":
            residual_variance, code_mean, precision = (
                _constant(s, torch.float64) for s in statistics
            )
            self.register_buffer("residual_variance", residual_variance)
            self.register_buffer("code_mean", code_mean)
            self.register_buffer("precision", precision)
        if self.scoring == "elbo":
            self.vae = estimator
            self.register_buffer(
                "draws", estimator.score_draws(estimator.n_score_samples).to(dtype)
            )

    def forward(self, x):
        x = x.index_select(1, self.features)
        score = self._score(x)
        if not self.standardise:
            return score
        # numpy treats the float location and spread as "weak" scalars: they take the score's dtype.
        return (score - self.location.to(score.dtype)) / self.spread.to(score.dtype)

    def _score(self, x):
        if self.scoring == "elbo":
            network = self.reconstruct.network
            return self.vae.log_likelihood_bound(network, x, self.draws)
        residual = (x - self.reconstruct(x)) ** 2
        if self.scoring == "reconstruction":
            return -residual.sum(dim=1)
        centred = self.reconstruct.network.encode(x).double() - self.code_mean
        mahalanobis = ((centred @ self.precision) * centred).sum(dim=1)
        return -0.5 * (
            (residual.double() / self.residual_variance).sum(dim=1) + mahalanobis
        )


class DetectorOutputs(nn.Module):
    """``predict``, ``decision_function`` and optionally ``score_samples`` of an outlier detector.

    Scores are columns, shape ``(n, 1)``, as in skl2onnx's IsolationForest converter.
    """

    def __init__(self, detector, dtype, score_samples=False):
        super().__init__()
        self.members = nn.ModuleList(
            MemberScore(detector, i, dtype) for i in range(len(detector.estimators_))
        )
        self.register_buffer(
            "offset", torch.tensor(detector.offset_, dtype=dtype)
        )  # as numpy casts a float
        self.score_samples = score_samples

    def forward(self, x):
        scores = (
            torch.stack([member(x) for member in self.members]).mean(dim=0).to(x.dtype)
        )
        decision = scores - self.offset
        labels = torch.where(decision < 0, -1, 1).to(torch.int64)
        outputs = (labels, decision.unsqueeze(1))
        return (*outputs, scores.unsqueeze(1)) if self.score_samples else outputs


class Impute(nn.Module):
    """``transform`` of an :class:`~skae.AutoencoderImputer`: the refinement rounds unrolled.

    Missing cells start at their feature's placeholder and are replaced by the
    reconstruction ``n_rounds`` times; observed cells are taken from the input
    as they are. The scaling is done in float64, as skae's numpy statistics do.
    """

    def __init__(self, imputer, dtype):
        super().__init__()
        self.reconstruct = Reconstruct(imputer.autoencoder_, dtype)
        self.n_rounds = imputer.n_rounds
        self.missing_values = imputer.missing_values
        float64 = torch.float64
        self.register_buffer("offset", _constant(imputer.offset_, float64))
        self.register_buffer("scale", _constant(imputer.scale_, float64))
        self.register_buffer("placeholder", _constant(imputer.placeholder_, dtype))
        self.register_buffer(
            "constant", _constant(imputer.constant_features_, torch.bool)
        )
        self.register_buffer(
            "kept",
            torch.as_tensor(
                np.flatnonzero(imputer.observed_features_), dtype=torch.long
            ),
        )
        self.register_buffer(
            "empty", _constant(~imputer.observed_features_, torch.bool)
        )
        self.keep_empty_features = imputer.keep_empty_features
        indicator = imputer.indicator_
        self.indicated = (
            None
            if indicator is None
            else torch.as_tensor(indicator.features_, dtype=torch.long)
        )

    def forward(self, x):
        missing = torch.isnan(x) if self._missing_is_nan() else x == self.missing_values
        z = torch.where(
            missing,
            self.placeholder,
            ((x.double() - self.offset) / self.scale).to(x.dtype),
        )
        for _ in range(self.n_rounds):
            z = torch.where(missing, self.reconstruct(z), z)
        z = torch.where(missing & self.constant, self.placeholder, z)
        imputed = torch.where(
            missing, z.double() * self.scale + self.offset, x.double()
        ).to(x.dtype)
        if self.keep_empty_features:
            imputed = torch.where(self.empty, torch.zeros_like(imputed), imputed)
        else:
            imputed = imputed.index_select(1, self.kept)
        if self.indicated is None:
            return imputed
        return torch.cat(
            [imputed, missing.index_select(1, self.indicated).to(x.dtype)], dim=1
        )

    def _missing_is_nan(self):
        return isinstance(self.missing_values, float) and np.isnan(self.missing_values)
