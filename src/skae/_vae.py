"""Variational autoencoder: Gaussian encoder, reparameterisation, closed-form KL."""

import math
from numbers import Integral, Real

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from ._base import BaseAutoencoder, document, store_parameters
from ._compat import Interval, StrOptions
from ._inference import INFERENCE_DTYPE
from ._mixed import is_mixed, split_rows
from ._random import (
    _generator,
    bernoulli,
    fit_seeds,
    randn_like,
    random_stream,
    training_randomness,
)
from ._scores import honest_scores
from ._torch_utils import to_tensor
from .losses import (
    LOG_2PI,
    bernoulli_nll,
    gaussian_nll,
    kl_standard_normal,
    weighted_mean,
)
from .nn import VariationalAutoencoder, output_shape

# The decoder's variance is kept above this fraction of the data's variance
# (input_scale squared): a perfectly reconstructed (e.g. constant) feature
# would otherwise drive the likelihood to infinity. Relative, so that data on
# any scale is treated alike.
_MIN_RELATIVE_NOISE_VAR = 1e-6


@document
class VAE(BaseAutoencoder):
    """A variational autoencoder (Kingma & Welling, 2014) as a scikit-learn transformer.

    The encoder outputs the mean and log-variance of a diagonal Gaussian
    posterior q(z|x); training maximises the evidence lower bound

        ELBO(x) = E_q[log p(x|z)] - beta * KL(q(z|x) || N(0, I))

    with one reparameterised sample per row, the KL in closed form, both
    summed over features and latents and averaged over the batch. The
    Gaussian decoder has a mean network and one variance shared by all
    features, as in probabilistic PCA: during training it is the batch's
    optimal value, the mean squared residual (the "sigma-VAE" of Rybkin et al.,
    2021, which a gradient-learned variance reaches far too slowly), and after
    training it is fixed to the optimum over the training data (floored at
    1e-6 times the data's variance). The Gaussian model sees the data
    standardised (centred per feature, divided by one overall standard
    deviation, affine maps its linear layers could absorb) and reports
    likelihoods in the units of ``X``, so data on any scale trains alike:
    fitting ``c * X`` gives the same model, with log-likelihoods lower by
    ``n_features * log(c)``. No scaler is needed for the optimisation to
    work, although one (e.g. ``StandardScaler``) still decides how much each
    feature counts. The Bernoulli decoder outputs logits, for data in [0, 1].

    A mixed table (see ``kinds``: strings, categories, booleans, counts, with
    missing cells) is modelled column by column, as by the other
    autoencoders: the encoder reads the table's codes and the decoder outputs
    each column's distribution parameters, so ``log p(x|z)`` is the sum over
    the observed cells of each column's log-likelihood (missing cells are
    left out), and the ELBO and the importance-weighted bound are in nats of
    the table's own values. ``inverse_transform``, ``reconstruct``,
    ``sample``, ``interpolate`` and ``sample_reconstruction`` then return the
    table in its own kinds (labels, integer counts) and dtypes.

    ``transform`` returns the posterior mean, ``inverse_transform`` the
    decoder's mean, and ``score_samples`` a per-sample lower bound on log p(x)
    in nats: the ELBO, or the importance-weighted bound (Burda et al., 2016)
    with ``n_samples`` samples. Higher means more normal.

    Parameters
    ----------
    n_components : int, default=10
        Number of latent dimensions. Any positive integer, including more than the number of features (an
        overcomplete code), for every skae estimator alike; in a VAE the KL
        term makes unneeded dimensions collapse to the prior (``n_active_units_``).
    likelihood : {"gaussian", "bernoulli"}, default="gaussian"
        Decoder distribution p(x|z) of numeric input. On a mixed table each
        column's kind decides its likelihood and this parameter is not used;
        "bernoulli" there is refused as a contradiction (give the 0/1
        columns ``kinds={column: "binary"}`` instead).
    beta : float, default=1.0
        Weight of the KL term during training (beta-VAE); scores always use 1.
    n_score_samples : int, default=10
        Posterior samples used to estimate the ELBO's expected log-likelihood
        in ``score_samples``.
    {base_parameters}
    n_active_units_ : int
        Latent dimensions whose posterior mean varies across the training data
        (variance above 0.01, Burda et al.); the others collapsed to the prior.

    See Also
    --------
    sklearn.decomposition.PCA : Its ``score_samples`` is the linear-Gaussian special case.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from skae import VAE
    >>> X = load_digits().data / 16
    >>> vae = VAE(8, likelihood="bernoulli", max_iter=20, random_state=0).fit(X)
    >>> vae.transform(X[:2]).shape
    (2, 8)
    >>> vae.sample(5, random_state=0).shape
    (5, 64)
    >>> bool(vae.score_samples(X[:10]).mean() <= vae.score_samples(X[:10], n_samples=50).mean())
    True

    A mixed table, gaps included, comes back in its own kinds:

    >>> import pandas as pd
    >>> table = pd.DataFrame({"city": ["Lyon", "Oslo", None, "Oslo"] * 10,
    ...                       "rooms": pd.array([2, 3, 1, pd.NA] * 10, dtype="Int64")})
    >>> vae = VAE(2, max_iter=5, random_state=0).fit(table)
    >>> drawn = vae.sample(3, random_state=0)
    >>> bool(drawn["city"].isin(["Lyon", "Oslo"]).all()), str(drawn["rooms"].dtype)
    (True, 'Int64')
    """

    _parameter_constraints = {
        **{
            k: v
            for k, v in BaseAutoencoder._parameter_constraints.items()
            if k != "loss"
        },
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_score_samples": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        n_components=10,
        *,
        likelihood="gaussian",
        beta=1.0,
        n_score_samples=10,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        noise=None,
        noise_level=0.2,
        alpha=0.0001,
        batch_size="auto",
        chunk_size="auto",
        learning_rate_init=0.001,
        max_iter=1000,
        tol=0.0001,
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
        store_parameters(self, locals())  # no ``loss``: the likelihood replaces it

    def _build_module(self, X, sample_weight=None):
        # The mean and log-variance heads sit on the encoder's output, of any
        # width: the last hidden layer of the built-in MLP, or a user's encoder.
        # On a mixed table the encoder reads the schema's codes and the decoder
        # outputs every column's distribution parameters (``likelihood``).
        inputs, hidden = self._split_targets(X)[0], self._hidden_sizes()
        likelihood = self._mixed_likelihood()
        n_features = inputs.shape[1]
        n_outputs = n_features if likelihood is None else likelihood.n_outputs
        body = self._network(
            "encoder", inputs, [n_features, *hidden], self.activation, any_width=True
        )
        width = output_shape(body, "encoder", n_features)[1]
        decoder = self._network(
            "decoder", inputs, [self.n_components, *reversed(hidden), n_outputs]
        )
        # A Gaussian decoder's data is standardised inside the module (one
        # scale for all features keeps the shared noise variance meaningful):
        # training on X or on c * X is then the same optimisation, with
        # likelihoods still reported in X's units. Unscaled data (N(0, 300^2))
        # used to diverge on the first batch at any learning rate. A mixed
        # table's codes are standardised already, column by column.
        shift, scale = (
            (0.0, 1.0)
            if self._is_bernoulli() or likelihood is not None
            else _shift_and_scale(X, sample_weight)
        )
        heads = nn.Linear(width, self.n_components), nn.Linear(width, self.n_components)
        module = VariationalAutoencoder(
            body,
            *heads,
            decoder,
            shift,
            scale,
            corruption=self._build_corruption(inputs),
        )
        if likelihood is not None:
            module.likelihood = likelihood  # moves and casts with the module; its buffers are not weights
        return module

    # The ELBO's likelihood has each cell's scale, as the numeric VAE learns its noise variance.
    _learns_cell_scales = True

    def _models_mixed_tables(self):
        return True

    def _fit_rows(self, X, reset, observed=None):
        if self._is_bernoulli() and (
            is_mixed(X, self.kinds) if reset else self._is_mixed()
        ):
            raise ValueError(
                "likelihood='bernoulli' is for numeric data in [0, 1]; on a mixed table (kinds=, or a DataFrame "
                "with non-numeric columns) each column's kind decides its likelihood. Leave likelihood at its "
                "default and give kinds={column: 'binary'} for the 0/1 columns."
            )
        return super()._fit_rows(X, reset, observed)

    def _elementwise_nll(self, module, output, X, sample_weight=None):
        if self._is_bernoulli():
            return bernoulli_nll(output, X)
        # In standardised units, plus log(scale) per cell for the change of
        # units: the same number as in X's units, without squaring values of
        # 1e18 (which overflow float32) or 1e-20 (which underflow).
        log_scale = torch.log(module.input_scale)
        residual = (X - output) / module.input_scale
        if module.training:
            squares = residual.detach() ** 2
            # The batch's noise variance, each row counted with its weight.
            noise_var = (
                squares.mean()
                if sample_weight is None
                else weighted_mean(squares.mean(dim=1), sample_weight)
            )
            log_noise_var = torch.log(noise_var.clamp(min=_MIN_RELATIVE_NOISE_VAR))
        else:
            log_noise_var = module.log_noise_var - 2 * log_scale
        return (
            gaussian_nll(residual, log_noise_var, torch.zeros_like(residual))
            + log_scale
        )

    def _penalty(self, module, X, posterior, sample_weight=None):
        return self.beta * weighted_mean(kl_standard_normal(*posterior), sample_weight)

    def _set_fitted_statistics(self, X, sample_weight=None):
        # The scores' posterior draws are fixed when the model is fitted (a draw
        # of their own, after the three seeds ``_train`` takes): a fitted VAE's
        # score_samples is then a deterministic function of the row, like
        # PCA's, even with random_state=None.
        self._score_seed = fit_seeds(self.random_state, 4)[-1]
        means = self._predict(
            lambda module, rows: module.encode(rows), X
        )  # not transform: X is already validated
        variances = np.average(
            (means - np.average(means, axis=0, weights=sample_weight)) ** 2,
            axis=0,
            weights=sample_weight,
        )
        self.n_active_units_ = int(np.sum(variances > 0.01))
        if not (self._is_bernoulli() or self._is_mixed()):
            scale = float(self.module_.input_scale)
            relative = max(
                self._mean_squared_residual(X, sample_weight) / scale**2,
                _MIN_RELATIVE_NOISE_VAR,
            )
            self.module_.log_noise_var.fill_(math.log(relative) + 2 * math.log(scale))

    def _mean_squared_residual(self, X, sample_weight=None):
        """E_q ||x - decoder(z)||^2 / n_features over the training data (rows weighted), z drawn from q(z|x)."""
        module = self.module_.train()
        total = 0.0
        with (
            training_randomness(self._score_seed, torch.device("cpu"), module),
            torch.no_grad(),
        ):
            for start in range(0, len(X), 4096):
                rows = to_tensor(X[start : start + 4096], dtype=INFERENCE_DTYPE)
                squares = ((rows - module(rows)[0]) ** 2).sum(dim=1)
                if sample_weight is not None:
                    squares = squares * to_tensor(
                        sample_weight[start : start + 4096], dtype=INFERENCE_DTYPE
                    )
                total += float(squares.sum())
        module.eval()
        n_rows = (
            len(X)
            if sample_weight is None
            else float(np.sum(sample_weight, dtype=np.float64))
        )
        return total / (n_rows * X.shape[1])

    def score_samples(self, X, n_samples=None):
        """A lower bound on log p(x) per sample, in nats: higher means more normal.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score; a mixed table's log-likelihoods are summed over
            its observed cells.
        n_samples : int or None, default=None
            None gives the ELBO (expected log-likelihood over
            ``n_score_samples`` posterior samples, KL in closed form). An int K
            gives the importance-weighted bound with K samples, which is at
            least the ELBO on average and tightens towards log p(x) as K grows.

        Returns
        -------
        log_likelihood_bound : ndarray of shape (n_samples,)
            Finite, or -inf for a row the model cannot explain: one so far from
            the data that the bound overflows (its posterior or decoder output
            past the float range: never NaN), or, for
            ``likelihood="bernoulli"``, one with a value outside [0, 1]
            (probability zero; ``fit`` refuses such rows, scoring does not, so
            that outlier detection flags them).

        Notes
        -----
        Both bounds are Monte Carlo estimates with common random numbers: every
        row uses the same draws ``eps`` (``z = mean(x) + std(x) * eps``), a
        scrambled Sobol sequence mapped to standard normal draws, fixed when
        the model is fitted (by ``random_state``). A row's score is therefore a
        deterministic function of the row alone: it does not depend on the
        other rows of ``X``, their order or the call, so an outlier flag cannot
        flip with the batch a row arrives in. Shared, evenly spread draws also
        make differences between rows less noisy, which is what ranking
        outliers needs: rankings agree more closely between draw seeds than
        with independent draws for every row (see the VAE page of the user
        guide). The price: the Monte Carlo error of the mean score over many
        rows no longer averages out; raise ``n_score_samples`` or
        ``n_samples`` to shrink it. A larger ``n_samples`` extends the same
        sequence of draws.
        """
        check_is_fitted(self)
        X = self._scoring_input(X)
        importance_weighted = n_samples is not None
        n_draws = n_samples if importance_weighted else self.n_score_samples
        if not isinstance(n_draws, Integral) or n_draws < 1:
            raise ValueError(
                f"n_samples must be a positive integer or None, got {n_samples!r}."
            )
        draws = self.score_draws(n_draws)
        # The decoder sees n_draws rows per input row.
        scores = self._predict(
            lambda module, rows: self.log_likelihood_bound(
                module, rows, draws.to(rows.device, rows.dtype), importance_weighted
            ),
            X,
            rows_per_pass=max(1, self.inference_batch_size // n_draws),
        )
        return honest_scores(scores, X, self._is_bernoulli() and not self._is_mixed())

    def score_samples_per_column(self, X):
        """Each column's share of the ELBO, :meth:`score_samples` with ``n_samples=None``.

        A cell's share is its expected log-likelihood ``E_q[log p(x_j | z)]``
        (over the same ``n_score_samples`` posterior draws as the ELBO; 0 for
        a missing cell of a mixed table), minus an equal part of the row's KL
        term: the KL belongs to the code, not to any column, so it is spread
        evenly over the row's observed cells (over every column when none is
        observed). Each row sums to its ELBO, up to floating-point rounding,
        and the column a row's lowest share is in is the one that made it
        unusual whatever the KL. The importance-weighted bound
        (``n_samples=K``) is a log of a sum over draws, with no such
        breakdown.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : DataFrame of shape (n_samples, n_features)
            One column per input column (named as in ``fit``; ``X``'s index
            for a DataFrame), finite or -inf, never NaN.
        """
        check_is_fitted(self)
        rows = self._scoring_input(X)
        draws = self.score_draws(self.n_score_samples)
        cells = self._predict(
            lambda module, rows: self._elbo_cells(
                module, rows, draws.to(rows.device, rows.dtype)
            ),
            rows,
            rows_per_pass=max(1, self.inference_batch_size // self.n_score_samples),
        )
        return self._cells_frame(cells, X)

    def _elbo_cells(self, module, x, draws):
        """Each cell's share of the ELBO (see :meth:`score_samples_per_column`)."""
        mean, log_var, _, nll = self._draw_nll(module, x, draws)
        observed = (
            split_rows(self.schema_, x, parts=3)[2]
            if self._is_mixed()
            else torch.ones_like(nll[0])
        )
        n_observed = observed.sum(dim=1, keepdim=True)
        share = torch.where(
            n_observed > 0, observed / n_observed.clamp(min=1), 1 / observed.shape[1]
        )
        return -nll.mean(dim=0) - kl_standard_normal(mean, log_var)[:, None] * share

    def score_draws(self, n_draws):
        """The standard normal draws ``eps`` that every row's score shares.

        Randomised quasi-Monte Carlo: a scrambled Sobol sequence through the
        normal quantile function covers the latent space more evenly than
        independent draws (lower per-row error, more stable rankings: see
        :meth:`score_samples`'s notes). Beyond the dimensions Sobol supports,
        independent standard normal draws. Fixed when the model is fitted; a
        larger ``n_draws`` extends the same sequence. With
        :meth:`log_likelihood_bound`, the protocol an exporter such as
        :mod:`skae.onnx` uses to compute the scores outside ``score_samples``.

        Parameters
        ----------
        n_draws : int
            Number of draws per row (``n_score_samples`` for the ELBO).

        Returns
        -------
        draws : torch.Tensor of shape (n_draws, 1, n_components)
            float64, on the CPU; the middle axis broadcasts over rows.
        """
        check_is_fitted(self)
        if self.n_components > torch.quasirandom.SobolEngine.MAXDIM:
            generator = torch.Generator().manual_seed(self._score_seed)
            return torch.randn(
                (n_draws, 1, self.n_components),
                generator=generator,
                dtype=INFERENCE_DTYPE,
            )
        sobol = torch.quasirandom.SobolEngine(
            self.n_components, scramble=True, seed=self._score_seed
        )
        uniform = sobol.draw(n_draws, dtype=INFERENCE_DTYPE).clamp(1e-12, 1 - 1e-12)
        return torch.special.ndtri(uniform).unsqueeze(1)

    def log_likelihood_bound(self, module, x, draws, importance_weighted=False):
        """The ELBO or importance-weighted bound of each row of ``x``, computed in torch.

        What :meth:`score_samples` computes, for code that runs the fitted
        network itself (:mod:`skae.onnx` traces it in the input's dtype),
        before ``score_samples`` sets the score of each row the model cannot
        explain to -inf (see its Returns).

        Parameters
        ----------
        module : skae.nn.VariationalAutoencoder
            The fitted ``module_``, or a copy of it (on another device or in
            another dtype), in eval mode.
        x : torch.Tensor of shape (n_samples, n_features)
            Rows, in the module's dtype and on its device. For a model
            fitted on a mixed table, the table's encoded inputs, targets and
            observed mask side by side (what ``score_samples`` scores; such a
            model has no ONNX form).
        draws : torch.Tensor of shape (n_draws, 1, n_components)
            Standard normal draws shared by every row: :meth:`score_draws`, in
            ``x``'s dtype and on its device.
        importance_weighted : bool, default=False
            False gives the ELBO, True the importance-weighted bound.

        Returns
        -------
        bound : torch.Tensor of shape (n_samples,)
        """
        n_draws = len(draws)
        mean, log_var, z, nll = self._draw_nll(module, x, draws)
        log_px = -nll.sum(dim=-1)
        if not importance_weighted:
            return log_px.mean(dim=0) - kl_standard_normal(mean, log_var)
        log_pz = -0.5 * (z**2 + LOG_2PI).sum(dim=-1)
        log_qz = -0.5 * (draws**2 + LOG_2PI + log_var).sum(dim=-1)
        return torch.logsumexp(log_px + log_pz - log_qz, dim=0) - math.log(n_draws)

    def _draw_nll(self, module, x, draws):
        """``(mean, log_var, z, nll)``: the posterior of each row, its latent draws (n_draws, n, n_components)
        and each cell's negative log-likelihood under each draw (n_draws, n, n_columns).

        ``x`` holds numbers, or a mixed table's :func:`scoring_rows` (its missing cells add 0).
        """
        n_draws = len(draws)
        if self._is_mixed():
            inputs, targets, observed = split_rows(self.schema_, x, parts=3)
        else:
            inputs = x
        mean, log_var = module.posterior(inputs)
        z = mean + torch.exp(0.5 * log_var) * draws
        output = module.decode(z.reshape(-1, z.shape[-1]))
        if not self._is_mixed():
            output = output.reshape(n_draws, *x.shape)
            return mean, log_var, z, self._elementwise_nll(module, output, x)
        # Draw-major rows, as z is flattened: row d * n + i is draw d of row i.
        nll = module.likelihood(
            output, targets.repeat(n_draws, 1), observed.repeat(n_draws, 1)
        )
        return mean, log_var, z, nll.reshape(n_draws, len(x), -1)

    def sample_reconstruction(self, X, random_state=None):
        """One draw from the model's distribution of each row's reconstruction.

        Draws z ~ q(z|x), then x' ~ p(x|z) (Gaussian noise around the decoder's
        mean, or Bernoulli 0/1 cells; on a mixed table, a draw from each
        column's likelihood): what :class:`AutoencoderImputer` with
        ``sample_posterior=True`` fills missing cells with, so that imputers
        with different seeds give a multiple imputation.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Rows to reconstruct.
        random_state : int, RandomState instance or None, default=None
            Seeds the draws.

        Returns
        -------
        X_drawn : ndarray or DataFrame of shape (n_samples, n_features)
            In the float dtype of ``X``; on a mixed table, the table in its
            own kinds and dtypes (as :meth:`inverse_transform` returns it).
        """
        check_is_fitted(self)
        X = self._model_input(X)
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        with random_stream(seed):
            return self._as_table(self._predict(self._draw_reconstruction, X))

    def _draw_reconstruction(self, module, x):
        mean, log_var = module.posterior(x)
        output = module.decode(mean + torch.exp(0.5 * log_var) * randn_like(mean))
        if hasattr(module, "likelihood"):
            return module.likelihood.sample(output, _generator(output.device))
        if self._is_bernoulli():
            return bernoulli(torch.sigmoid(output))
        return output + torch.exp(0.5 * module.log_noise_var) * randn_like(output)

    def sample(self, n_samples=1, random_state=None):
        """Generate data: latent draws from the prior N(0, I), decoded to their mean.

        Parameters
        ----------
        n_samples : int, default=1
            Number of samples (at least 1).
        random_state : int, RandomState instance or None, default=None
            Seeds the latent draws.

        Returns
        -------
        X_new : ndarray or DataFrame of shape (n_samples, n_features_in_)
            The decoder's mean for each draw (pixel probabilities for a
            Bernoulli decoder), float64; on a mixed table, each column's
            point prediction in its own kind (as :meth:`inverse_transform`).
        """
        check_is_fitted(self)
        _check_count(n_samples, "n_samples", 1)
        seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
        # Drawn on the CPU in float64 whatever the inference device: a seed
        # gives the same latent draws everywhere.
        generator = torch.Generator().manual_seed(seed)
        z = torch.randn(
            (n_samples, self.n_components), generator=generator, dtype=INFERENCE_DTYPE
        ).numpy()
        return self._as_table(
            self._predict(
                lambda module, codes: self._point(module, module.decode(codes)), z
            )
        )

    def interpolate(self, x_start, x_end, n_steps=8):
        """Decode a straight path in latent space between the posterior means of two inputs.

        Parameters
        ----------
        x_start, x_end : array-like of shape (n_features,) or (1, n_features)
            The two end points: rows, such as ``X.iloc[i]`` of a mixed table.
        n_steps : int, default=8
            Points on the path, both ends included (at least 2).

        Returns
        -------
        path : ndarray or DataFrame of shape (n_steps, n_features_in_)
            Decoded means along the path, in the inputs' float dtype; on a
            mixed table, the table in its own kinds (as
            :meth:`inverse_transform`).
        """
        check_is_fitted(self)
        _check_count(n_steps, "n_steps", 2)
        start, end = (
            self._predict(
                lambda module, rows: module.encode(rows), self._one_row(x, name)
            )[0]
            for x, name in ((x_start, "x_start"), (x_end, "x_end"))
        )
        dtype = np.promote_types(start.dtype, end.dtype)
        weights = np.linspace(0, 1, n_steps, dtype=dtype)[:, None]
        return self._as_table(
            self._predict(
                lambda module, codes: self._point(module, module.decode(codes)),
                (1 - weights) * start + weights * end,
            )
        )

    def _one_row(self, x, name):
        """``x`` (a row, or a table of one row: a DataFrame keeps its feature names) validated as one input row."""
        if isinstance(x, pd.Series):
            x = x.to_frame().T
        elif not (isinstance(x, pd.DataFrame) or sp.issparse(x)):
            x = np.atleast_2d(np.asarray(x))
        if len(x) != 1:
            raise ValueError(
                f"{name} must be one row, of shape (n_features,) or (1, n_features); got shape {np.shape(x)}. "
                f"To interpolate between several pairs, call interpolate once per pair."
            )
        return self._model_input(x)


def _check_count(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(
            f"{name} must be an integer of at least {minimum}, got {value!r}."
        )


def _shift_and_scale(X, sample_weight=None):
    """Per-feature means and the data's overall standard deviation (1 for constant data), rows weighted.

    A spread within a few rounding errors of the values counts as none: constant
    data whose mean does not round exactly has a spread of ~1e-16, and dividing
    by it blew the rounding noise up to unit scale (NaN scores, found by tests/test_fuzz.py).
    """
    if sample_weight is None:
        shift = X.mean(axis=0)
        scale = float(np.sqrt(np.mean((X - shift) ** 2)))
    else:
        shift = np.average(X, axis=0, weights=sample_weight).astype(X.dtype)
        scale = float(
            np.sqrt(
                np.average(np.mean((X - shift) ** 2, axis=1), weights=sample_weight)
            )
        )
    rounding = 4 * np.finfo(X.dtype).eps * float(np.max(np.abs(shift), initial=0.0))
    return shift, (scale if scale > rounding and np.isfinite(scale) else 1.0)
