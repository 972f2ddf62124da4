"""The estimator contract: parameters, validation, the public methods, and the slots a variant overrides.

A variant subclasses :class:`BaseAutoencoder` and overrides only the slots
that are its difference; nothing in the training loop or in inference::

    output, code = decoder(code_layer(encoder(corruption(X))))
    loss = mean over rows [ sum over features nll(output, X) ] + penalty(module, X, code, sample_weight)

(the mean over rows, and any per-row mean in a penalty, weighted by ``fit``'s
``sample_weight`` when given: ``sum(w_i loss_i) / sum(w_i)`` over the batch).

=============================  =====================================  ============================
slot                           default                                overridden by
=============================  =====================================  ============================
``_build_corruption(X)``       the ``noise`` parameter's corruption   (none; DenoisingAE is the
                               (None: identity)                       base with noise by default)
``_build_code_layer()``        None (identity)                        SparseAE (sigmoid, top-k),
                                                                      ContractiveAE (activation)
``_elementwise_nll``           squared error, or Bernoulli for        VAE (sigma-VAE Gaussian)
                               ``likelihood="bernoulli"``
``_penalty(module, X, code)``  zero                                   SparseAE, ContractiveAE, VAE
``_build_module(X)``           ``Autoencoder`` of the four parts      VAE (mean / log-variance
                                                                      heads on the encoder)
``_anneal(module, epoch)``     nothing; False                         SparseAE (k schedule)
``_set_fitted_statistics(X)``  nothing                                SparseAE, VAE
``_code_size()``               ``n_components``                       SparseAE (from ``k`` if None)
``_models_mixed_tables()``     True unless ``_elementwise_nll`` is    VAE (True)
                               overridden
``_learns_cell_scales``        False: a mixed table's real and        VAE (True)
                               positive columns have a fixed scale
=============================  =====================================  ============================

``_elementwise_nll``, ``_penalty``, ``_build_module`` and
``_set_fitted_statistics`` also take the rows' ``sample_weight`` (None when
the fit is unweighted), for the per-row means and statistics they compute.
This table is the one list of slots. Slots compose: a variant's slots apply
on top of the base's others, so any variant takes ``noise`` (a sparse
denoising autoencoder is ``SparseAE(k=25, noise="masking")``) and any
user ``encoder`` / ``decoder``. The encoder and decoder come from
``_network``: the user's ``encoder`` / ``decoder`` (a module, deep-copied, or
a builder called with ``n_features`` and ``n_components``) or an MLP from
``hidden_layer_sizes``. ``_anneal`` is called by the engine at the start of
every epoch (counted across warm starts) and returns whether the objective is
still changing, during which the ``tol`` rule may not stop training.

Wrappers (:class:`~skae.AutoencoderOutlierDetector`, :class:`~skae.AutoencoderImputer`,
:mod:`skae.onnx`) use an autoencoder through its public parameters, methods and
fitted attributes only (``get_params``, ``reconstruct``, ``transform``,
``score_samples``, ``module_``), and the VAE's two public methods for computing
its scores outside ``score_samples`` (:meth:`~skae.VAE.score_draws`,
:meth:`~skae.VAE.log_likelihood_bound`), never the slots above.

The rooms behind the public methods: :mod:`skae._fitting` (how a fit runs),
:mod:`skae._batches` (``X`` -> batches), :mod:`skae._training` (the engine),
:mod:`skae._inference` (batched passes on the inference device),
:mod:`skae._random` (seeds and random streams), :mod:`skae._cpu` (threads and
denormals), :mod:`skae._persistence` (pickle and skops state).
"""

import copy
import re
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_array, check_is_fitted

from ._batches import is_out_of_core
from ._compat import (
    Hidden,
    Interval,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)
from ._fitting import train
from ._inference import INFERENCE_DTYPE, inference_device, predict
from ._likelihoods import MixedLikelihood
from ._mixed import (
    column_names,
    fit_schema,
    is_mixed,
    rows_of_positive_weight,
    scoring_rows,
    split_rows,
    training_rows,
)
from ._persistence import (
    VersionedStateMixin,
    autoencoder_state,
    rebuild_module,
    split_autoencoder_state,
)
from ._random import seeded
from ._renamed import LOSS_TO_LIKELIHOOD, check_renamed_loss, likelihood_in_use
from ._scores import honest_scores
from ._validation import (
    check_chunk,
    check_hidden_layer_sizes,
    check_inference_params,
    check_mixed_training,
    check_training_data,
    training_input,
    training_weights,
    validate_X,
)
from ._validation import (
    observed_weights as _observed_weights,
)
from .losses import (
    bernoulli_nll,
    jacobian_frobenius_exact,
    squared_error,
    sum_features,
    weighted_mean,
)
from .nn import (
    ACTIVATIONS,
    Autoencoder,
    GaussianNoise,
    Masking,
    SaltAndPepper,
    mlp,
    output_shape,
)

# Parameter and attribute docs shared by every autoencoder; ``document`` puts them
# in place of "{base_parameters}" in a class docstring.
_BASE_PARAMETERS_DOC = """    hidden_layer_sizes : tuple of int, default=(100,)
        Encoder hidden layers; the decoder mirrors them. ``()`` maps the input
        straight to the code. Not used by a user-given ``encoder`` / ``decoder``.
    activation : {"relu", "tanh", "logistic", "sigmoid", "identity", "elu", \
"gelu", "leaky_relu", "softplus", "silu"}, default="relu"
        Activation of the hidden layers. The code and the output are linear.
    encoder, decoder : torch.nn.Module, callable or None, default=None
        Your own networks in place of the MLP. A module is deep-copied at
        every fit (the parameter itself is never trained) and must map
        ``(n, n_features)`` to ``(n, n_components)`` (encoder) and back
        (decoder); it starts from its own weights. A callable is called as
        ``encoder(n_features=..., n_components=...)`` at fit, under
        ``random_state``'s seed, and returns the module, so one estimator
        adapts to any data and to a search over ``n_components``; use a class,
        a top-level function or ``functools.partial`` (a lambda does not
        pickle), e.g. ``functools.partial(skae.nn.ConvEncoder,
        image_shape=(1, 28, 28))``. The variant's difference applies on top:
        corruption before the encoder, code layer and penalties after it (a
        VAE puts its mean and log-variance heads on the encoder's output, of
        any width). Inputs and outputs stay 2-D: reshape inside the module.
    noise : {"gaussian", "masking", "salt_and_pepper"} or None, default=None
        Corruption of the input during training, which makes any autoencoder
        a denoising one (Vincent et al., 2008): the loss compares the
        reconstruction of the corrupted batch with the clean batch.
        "gaussian" adds N(0, noise_level^2) noise to every entry; "masking"
        sets a fraction ``noise_level`` of the entries to zero;
        "salt_and_pepper" sets a fraction ``noise_level`` of the entries to
        their feature's minimum or maximum seen in training, with equal
        probability. ``transform``, ``inverse_transform`` and
        ``score_samples`` see clean data. None trains on clean input.
    noise_level : float, default=0.2
        Standard deviation ("gaussian") or fraction of corrupted entries
        ("masking", "salt_and_pepper", at most 1). Not used without ``noise``.
    alpha : float, default=1e-4
        L2 penalty (weight decay) on the weights, not the biases.
    batch_size : int or "auto", default="auto"
        Mini-batch size. "auto" is MLPRegressor's ``min(200, n_samples)``,
        except that fewer than 800 samples are cut into 4 batches of at least
        32 rows (``min(n_samples, max(32, ceil(n_samples / 4)))``), so that
        small data gets several optimizer steps per epoch. Larger values are
        clipped to the number of samples.
    chunk_size : int or "auto", default="auto"
        Rows held in memory at once when ``X`` is out of core: a numpy
        memmap, a dask array, or any 2-D array with ``shape``, ``dtype`` and
        row slicing (h5py, zarr). Such ``X`` is read in blocks of about
        ``chunk_size / 16`` rows; each epoch visits the blocks in a fresh
        random order, ``chunk_size`` rows at a time, shuffling rows within
        each chunk, so memory is bounded by two chunks (one trains while the
        next is read), not by the data. "auto" is about 64 MiB of float32
        rows, a multiple of the batch size; a value below the batch size is
        raised to it. With ``early_stopping`` the validation part is
        ``validation_fraction`` of the blocks, held out of the stream.
        Fitted statistics that need the data (a VAE's noise variance and
        active units, a SparseAE's dead units) are estimated on a random
        chunk. In-memory arrays are trained on whole whatever this is.
    learning_rate_init : float, default=1e-3
        Adam's learning rate.
    max_iter : int, default=1000
        Maximum number of epochs: a ceiling, which the ``tol`` rule reaches
        first on ordinary data (why 1000 rather than MLPRegressor's 200: the
        user guide's :ref:`defaults` page).
    tol : float, default=1e-4
        Training stops when the monitored loss (training loss, or validation
        loss with ``early_stopping``) per feature has not improved on its best
        value by at least ``tol`` for ``n_iter_no_change`` consecutive epochs,
        as in :class:`~sklearn.neural_network.MLPRegressor`. The loss is summed
        over features, so the threshold on it is ``tol * n_features``: for
        squared error, ``tol`` applies to the squared error per cell, the scale
        of MLPRegressor's ``tol``.
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
        0 prints nothing; 1 prints a line per epoch, ``epoch n/max_iter`` and
        its losses; 2 adds a progress bar over each epoch's batches.
    warm_start : bool, default=False
        Continue training the fitted module (and its optimizer state) on the
        next ``fit`` instead of starting afresh.
    device : {"cpu", "cuda", "cuda:N", "mps", "auto"} or torch.device, default="cpu"
        Where to train. "auto" picks CUDA, then MPS, then CPU. The fitted
        module is kept on CPU, so a model trained on a GPU pickles and loads
        anywhere; see ``inference_device`` for where it predicts.
    inference_device : {"cpu", "cuda", "cuda:N", "mps", "auto"}, torch.device or None, \
default=None
        Where ``transform``, ``inverse_transform``, ``reconstruct``,
        ``score_samples`` and ``jacobian_norm`` run (and a VAE's ``sample``,
        ``sample_reconstruction`` and ``interpolate``). None: the device training
        ran on when it is usable here, else the CPU (a model trained on a GPU
        and loaded on a machine without one predicts on the CPU). They compute
        in the input's float dtype: float32 input in float32, float64 in
        float64 (MPS has no float64 and computes in float32). Changing it
        needs no refit.
    inference_batch_size : int, default=8192
        Rows per forward pass at inference: bounds memory on large inputs.
        Computations that expand each row (a VAE's posterior draws, the
        Jacobians of ``jacobian_norm``) take proportionally fewer rows.
        Changing it needs no refit.
    kinds : dict, list or None, default=None
        Column kinds of a mixed table ("real", "positive", "count",
        "binary", "categorical", "ordinal"): ``{column: kind}`` by name or
        position, or one kind per column; they override the kinds inferred
        from a DataFrame's dtypes (rules in :mod:`skae._columns`). Given, or
        when ``X`` is a DataFrame with a column that is not plain numpy
        numbers (strings, categories, booleans, nullable dtypes), ``X`` is
        modelled column by column: each column by its kind's likelihood,
        missing cells (NaN, None, ``pd.NA``) left out of the loss;
        ``inverse_transform`` and ``reconstruct`` return the table in its
        own kinds and dtypes, and a level not seen in ``fit`` is refused
        with an error naming its column. Other input takes the ``likelihood``.
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks, e.g. ``LRScheduler``, ``GradientNormClipping``
        or ``Checkpoint``. They read skorch's history (per-batch ``train_loss``
        and ``valid_loss``, the epoch's ``*_loss_best``); the validation loss
        exists with ``early_stopping=True``. A batch is ``(X, X)``, and
        ``EpochScoring`` takes a callable (see the README's list).

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
    schema_ : ColumnSchema
        The columns' kinds, levels and statistics, when fitted on a mixed
        table (see ``kinds``).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
"""


def document(cls):
    """Complete ``cls``'s docstring with the parameters every autoencoder shares.

    "{base_parameters}" in the docstring becomes the shared entries, except
    those of parameters the class documents itself (another default, another
    meaning), which are left out.
    """
    shared_parameters, attributes = _BASE_PARAMETERS_DOC.strip("\n").split(
        "\n\n    Attributes\n"
    )
    own = set(re.findall(r"^    (\w+) :", cls.__doc__, flags=re.MULTILINE))
    entries = re.split(r"\n(?=    \w[\w, ]* :)", shared_parameters)
    kept = [
        entry
        for entry in entries
        if not own & set(re.findall(r"\w+", entry.split(" :")[0]))
    ]
    shared = "\n".join(kept) + "\n\n    Attributes\n" + attributes
    # The placeholder is indented as a docstring line so that formatters keep
    # the docstring's indentation; the shared text carries its own.
    cls.__doc__ = cls.__doc__.replace("    {base_parameters}", shared)
    return cls


class BaseAutoencoder(
    VersionedStateMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Base class of every skae autoencoder. Not meant to be used directly."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "encoder": [None, torch.nn.Module, callable],
        "decoder": [None, torch.nn.Module, callable],
        "likelihood": [StrOptions({"gaussian", "bernoulli"})],
        "loss": [
            StrOptions(set(LOSS_TO_LIKELIHOOD)),
            Hidden(StrOptions({"deprecated"})),
        ],
        "noise": [StrOptions({"gaussian", "masking", "salt_and_pepper"}), None],
        "noise_level": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "chunk_size": [
            StrOptions({"auto"}),
            Interval(Integral, 1, None, closed="left"),
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "device": [str, torch.device],
        "callbacks": [list, None],
        "inference_device": [str, torch.device, None],
        "inference_batch_size": [Interval(Integral, 1, None, closed="left")],
        "kinds": [dict, list, tuple, None],
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        likelihood="gaussian",
        loss="deprecated",
        noise=None,
        noise_level=0.2,
        alpha=1e-4,
        batch_size="auto",
        chunk_size="auto",
        learning_rate_init=1e-3,
        max_iter=1000,
        tol=1e-4,
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
        store_parameters(self, locals())

    # ------------------------------------------------------------------ slots
    # On a mixed table, whether the decoder predicts each real or positive
    # cell's scale (see MixedLikelihood's learn_scale). Fixed, every column's
    # standardised error counts alike, as squared error does on numbers; a
    # learned scale lets the columns the network predicts best dominate
    # training, which imputed worse.
    _learns_cell_scales = False

    def _build_module(self, X, sample_weight=None):
        """The torch module to train; ``X`` is the validated training data (rows of :meth:`_fit_rows`).

        On a mixed table the decoder outputs every column's distribution
        parameters, which the module's ``likelihood`` reads.
        """
        inputs, hidden = self._split_targets(X)[0], self._hidden_sizes()
        likelihood = self._mixed_likelihood()
        n_outputs = inputs.shape[1] if likelihood is None else likelihood.n_outputs
        module = Autoencoder(
            self._network(
                "encoder", inputs, [inputs.shape[1], *hidden, self._code_size()]
            ),
            self._network(
                "decoder", inputs, [self._code_size(), *reversed(hidden), n_outputs]
            ),
            corruption=self._build_corruption(inputs),
            code_layer=self._build_code_layer(),
        )
        if likelihood is not None:
            module.likelihood = likelihood  # moves and casts with the module; its buffers are not weights
        return module

    def _code_size(self):
        """The number of code units: ``n_components`` (SparseAE derives it from ``k`` when None)."""
        return self.n_components

    def _build_corruption(self, X):
        """A module applied to the input in training mode only, or None: the ``noise`` parameter's."""
        if self.noise is None:
            return None
        if self.noise == "gaussian":
            return GaussianNoise(self.noise_level)
        if self.noise_level > 1:
            raise ValueError(
                f"noise_level is a fraction of entries for noise={self.noise!r}; got {self.noise_level}."
            )
        if self.noise == "masking":
            # On a mixed table a column's units are masked together (see Masking).
            return Masking(self.noise_level, self._input_columns())
        return SaltAndPepper(self.noise_level, X.min(axis=0), X.max(axis=0))

    def _build_code_layer(self):
        """A module applied to the encoder's output to make the code, or None."""
        return None

    def _elementwise_nll(self, module, output, X, sample_weight=None):
        """Negative log-likelihood of each cell of ``X`` given the decoder's output (``sample_weight``: the rows')."""
        return (
            bernoulli_nll(output, X)
            if self._is_bernoulli()
            else squared_error(output, X)
        )

    def _penalty(self, module, X, code, sample_weight=None):
        """A regularisation term added to the batch-mean loss; zero by default.

        A per-row term is averaged with ``weighted_mean(term, sample_weight)``.
        """
        return 0.0

    def _anneal(self, module, epoch):
        """Change the objective at the start of ``epoch`` (counted across warm starts).

        Returns whether it is still changing: the ``tol`` / ``n_iter_no_change``
        rule may not stop training then, as epoch losses are not comparable.
        """
        return False

    def _set_fitted_statistics(self, X, sample_weight=None):
        """Compute variant-specific fitted attributes from the training data (rows weighted by ``sample_weight``)."""

    # ------------------------------------------------- networks and likelihood
    def _network(
        self, role, X, mlp_sizes, mlp_output_activation="identity", any_width=False
    ):
        """The user's ``encoder`` / ``decoder`` (``role``), or an MLP of ``mlp_sizes``.

        A user's network is checked at once with a dry forward pass: it must
        map ``(2, mlp_sizes[0])`` to ``(2, mlp_sizes[-1])``, or to any
        ``(2, width)`` with ``any_width`` (a VAE's encoder, under its heads).
        """
        given = getattr(self, role)
        if given is None:
            return mlp(mlp_sizes, self.activation, mlp_output_activation)
        n_features = X.shape[1]
        if isinstance(given, torch.nn.Module):
            network = copy.deepcopy(given)
        else:
            network = given(n_features=n_features, n_components=self._code_size())
            if not isinstance(network, torch.nn.Module):
                raise TypeError(
                    f"{role}={given!r} returned {type(network).__name__}, not a torch.nn.Module; "
                    f"a callable {role} must build the module from (n_features, n_components)."
                )
        in_width, out_width = mlp_sizes[0], mlp_sizes[-1]
        shape = output_shape(network, role, in_width)
        if any_width and len(shape) == 2:
            return network
        if shape != (2, out_width):
            needed = (
                "(2, width)"
                if any_width
                else (
                    f"(2, {out_width}) ({'n_components' if role == 'encoder' else 'n_features'}={out_width})"
                )
            )
            raise ValueError(
                f"The {role} {type(network).__name__} maps input of shape (2, {in_width}) to "
                f"shape {shape}; {type(self).__name__} needs {needed}."
            )
        return network

    def _is_bernoulli(self):
        """Whether the decoder is Bernoulli (outputs logits, needs data in [0, 1])."""
        return likelihood_in_use(self) == "bernoulli"

    def _likelihood(self):
        """The parameter setting that chose the decoder, for error messages."""
        return f"likelihood={likelihood_in_use(self)!r}"

    def _output_mean(self, output):
        """The reconstruction (decoder mean) from the decoder's raw output (logits if Bernoulli)."""
        return torch.sigmoid(output) if self._is_bernoulli() else output

    def _objective(self, module, X, weights=None, sample_weight=None):
        """The training loss of a batch: per-sample NLL summed over features, (weighted) mean over rows."""
        inputs, targets = self._split_targets(X)
        output, code = module(inputs)
        loss = self._mean_nll(module, output, targets, weights, sample_weight)
        penalty = self._penalty(module, inputs, code, sample_weight)
        # Adding a zero penalty would still cost an autograd node per batch.
        return loss if isinstance(penalty, float) and penalty == 0.0 else loss + penalty

    def _mean_nll(self, module, output, X, weights=None, sample_weight=None):
        """The batch's negative log-likelihood: summed over features (cells ``weights``), averaged over rows.

        With ``sample_weight`` the average is the weighted mean ``sum(w_i nll_i) / sum(w_i)``.
        """
        if hasattr(
            module, "likelihood"
        ):  # a mixed table's targets, weighted by the observed mask
            return weighted_mean(
                module.likelihood(output, X, weights).sum(dim=1), sample_weight
            )
        if sample_weight is not None:
            return weighted_mean(
                sum_features(
                    self._elementwise_nll(module, output, X, sample_weight), weights
                ),
                sample_weight,
            )
        if (
            weights is None
            and type(self)._elementwise_nll is BaseAutoencoder._elementwise_nll
        ):
            # The same number from one fused kernel (and one backward) instead
            # of four elementwise ones (measured, see the engine benchmark
            # page). A variant with its own likelihood takes the general path.
            nll = (
                F.binary_cross_entropy_with_logits
                if self._is_bernoulli()
                else F.mse_loss
            )
            return nll(output, X, reduction="sum") / len(X)
        return sum_features(self._elementwise_nll(module, output, X), weights).mean()

    def _check_training_data(self, X):
        """Refuse data that the likelihood cannot explain."""
        check_training_data(self, X)

    # ------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None, observed=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data. Not modified. A numpy memmap, a dask array or
            another out-of-core array is read ``chunk_size`` rows at a time.
            A mixed table (see ``kinds``) is taken as it is, missing cells
            included.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row (None: all equal). A row's loss
            and penalty terms count with its weight in a weighted mean over
            each batch, ``sum(w_i loss_i) / sum(w_i)``, in training,
            validation and early stopping, so an integer weight is the same
            as repeating the row (exactly so when every batch holds every row,
            ``batch_size`` at least ``n_samples``, and nothing random is drawn
            per row). Rows of weight zero are left out of training and of the
            fitted statistics. Needs ``X`` in memory.
        observed : array-like of bool of shape (n_samples, n_features), default=None
            The cells to reconstruct. A cell where ``observed`` is False is
            still the model's input (it must hold a finite placeholder, such
            as its feature's mean) but never a target of the loss: this is how
            :class:`AutoencoderImputer` trains on incomplete data. None counts
            every cell (of a mixed table: every cell that is not missing).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_renamed_loss(self)
        if is_mixed(X, self.kinds):
            X, observed, sample_weight = rows_of_positive_weight(
                X, observed, sample_weight
            )
        X, weights = self._fit_rows(
            X, not (self.warm_start and self._is_fitted()), observed
        )
        X, weights, sample_weight = training_weights(X, sample_weight, weights)
        return train(
            self,
            X,
            max_epochs=self.max_iter,
            incremental=self.warm_start,
            weights=weights,
            sample_weight=sample_weight,
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Train for one more epoch on ``X``, initialising on the first call.

        Made for streams of chunks (as :class:`dask_ml.wrappers.Incremental`
        feeds a dask array's blocks): the optimizer's state and the training
        engine are kept from call to call, each call draws a fresh shuffle
        (reproducibly under an int ``random_state``, also across pickling),
        and no early stopping or validation split is made.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Not modified. An out-of-core array is read
            ``chunk_size`` rows at a time.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as in :meth:`fit`.

        Returns
        -------
        self : object
            The estimator.
        """
        check_renamed_loss(self)
        if is_mixed(X, self.kinds):
            X, _, sample_weight = rows_of_positive_weight(X, None, sample_weight)
        X, weights = self._fit_rows(X, not self._is_fitted())
        X, weights, sample_weight = training_weights(X, sample_weight, weights)
        return train(
            self,
            X,
            weights=weights,
            max_epochs=1,
            incremental=True,
            partial=True,
            sample_weight=sample_weight,
        )

    def transform(self, X):
        """Encode ``X`` into the latent space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to encode.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            The codes, in the float dtype of ``X``.
        """
        check_is_fitted(self)
        return self._predict(
            lambda module, rows: module.encode(rows), self._model_input(X)
        )

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, such as those returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray or DataFrame of shape (n_samples, n_features_in_)
            The decoder's mean for each code. On a mixed table, each column's
            point prediction in its own kind (a level, an integer count),
            as a DataFrame of the fitted dtypes when fitted on one.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float64, np.float32])
        if codes.shape[1] != self._code_size():
            raise ValueError(
                f"X has {codes.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"is expecting {self._code_size()} features (n_components) as input."
            )
        return self._as_table(
            self._predict(
                lambda module, code: self._point(module, module.decode(code)), codes
            )
        )

    def reconstruct(self, X):
        """``inverse_transform(transform(X))`` in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        X_reconstructed : ndarray or DataFrame of shape (n_samples, n_features)
            As :meth:`inverse_transform` returns it.
        """
        check_is_fitted(self)
        return self._as_table(
            self._predict(
                lambda module, rows: self._point(module, module(rows)[0]),
                self._model_input(X),
            )
        )

    def score_samples(self, X):
        """Minus the reconstruction error of each sample: higher means more normal.

        The error is the training likelihood's negative log-likelihood summed
        over features (the squared error for ``likelihood="gaussian"``, the
        binary cross-entropy for ``likelihood="bernoulli"``), computed on
        clean input without any training-time corruption.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Finite, or -inf for a row the model cannot explain: one so far from
            the data that the computation overflows (never NaN), or, for a
            Bernoulli loss, one with a value outside [0, 1] (probability zero;
            ``fit`` refuses such rows, scoring does not, so that outlier
            detection flags them).
        """
        check_is_fitted(self)
        if self._is_mixed():
            rows = scoring_rows(self.schema_, X)
            return honest_scores(
                self._predict(
                    lambda module, rows: -self._cell_nll(module, rows).sum(dim=1), rows
                ),
                rows,
            )
        X = self._validate_X(X, reset=False)
        scores = self._predict(
            lambda module, rows: -self._reconstruction_nll(module, rows), X
        )
        return honest_scores(scores, X, self._is_bernoulli())

    def score_samples_per_column(self, X):
        """Each column's share of :meth:`score_samples`: which columns make a row unusual.

        A cell's share is its log-likelihood under its column's distribution
        (minus its reconstruction error for a Gaussian ``likelihood``); a missing
        cell of a mixed table adds 0. Each row sums to its
        :meth:`score_samples`, up to floating-point rounding.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : DataFrame of shape (n_samples, n_features)
            One column per input column (named as in ``fit``; ``X``'s index
            for a DataFrame), finite or -inf, never NaN; the lowest cells of
            a row are the columns that made it unusual.
        """
        check_is_fitted(self)
        if type(self).score_samples is not BaseAutoencoder.score_samples:
            raise TypeError(
                f"{type(self).__name__}.score_samples is not a sum over cells (a bound with terms that belong to "
                "no column), so it has no per-column breakdown; use an AutoencoderTransformer, DenoisingAE, "
                "SparseAE, ContractiveAE or VAE to explain rows column by column."
            )
        rows = self._scoring_input(X)
        return self._cells_frame(
            self._predict(lambda module, rows: -self._cell_nll(module, rows), rows), X
        )

    def score(self, X, y=None):
        """The mean of :meth:`score_samples`, so model selection needs no scorer.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
        """
        return float(np.mean(self.score_samples(X)))

    def jacobian_norm(self, X):
        """Frobenius norm of the encoder's Jacobian d code / d x at each sample.

        Computed exactly with ``torch.func``; small values mean codes that are
        insensitive to small changes of the input (what ``ContractiveAE``
        penalises).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points at which to evaluate the Jacobian.

        Returns
        -------
        norms : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = self._model_input(X)
        # Each row's Jacobian holds (code size) x n_features numbers.
        rows_per_pass = max(1, self.inference_batch_size // self._code_size())
        return self._predict(
            lambda module, rows: jacobian_frobenius_exact(module.encode, rows).sqrt(),
            X,
            rows_per_pass=rows_per_pass,
            autograd=True,
        )

    # ------------------------------------------------------------- internals
    def _scoring_input(self, X):
        """``X`` as the scores read it: validated numbers, or a mixed table's :func:`scoring_rows`."""
        return (
            scoring_rows(self.schema_, X)
            if self._is_mixed()
            else self._validate_X(X, reset=False)
        )

    def _cells_frame(self, cells, X):
        """Per-cell scores as :meth:`score_samples_per_column` returns them: named columns, ``X``'s index."""
        # The policy of honest_scores, cell by cell; + 0.0 turns the -0.0 of a missing cell into 0.
        cells = np.where(np.isnan(cells), -np.inf, cells) + 0.0
        names = (
            column_names(self.schema_)
            if self._is_mixed()
            else _check_feature_names_in(self, None)
        )
        return pd.DataFrame(
            cells, columns=names, index=X.index if isinstance(X, pd.DataFrame) else None
        )

    def _reconstruction_nll(self, module, X):
        output, _ = module(X)
        return sum_features(self._elementwise_nll(module, output, X))

    def _cell_nll(self, module, rows):
        """Each cell's negative log-likelihood: numeric rows, or a mixed table's :func:`scoring_rows`."""
        if not self._is_mixed():
            return self._elementwise_nll(module, module(rows)[0], rows)
        inputs, targets, observed = split_rows(self.schema_, rows, parts=3)
        return module.likelihood(module(inputs)[0], targets, observed)

    # ------------------------------------------------------------ mixed tables
    def _is_mixed(self):
        """Whether the model is fitted (or being fitted) on a mixed table: see the ``kinds`` parameter."""
        return getattr(self, "schema_", None) is not None

    def _mixed_likelihood(self):
        """A fresh float64 :class:`MixedLikelihood` of ``schema_``, or None on numbers."""
        if not self._is_mixed():
            return None
        return MixedLikelihood(self.schema_, learn_scale=self._learns_cell_scales)

    def _input_columns(self):
        """The column of each network input unit on a mixed table, or None on numbers."""
        if not self._is_mixed():
            return None
        widths = [column.input_width for column in self.schema_.columns_]
        return np.repeat(np.arange(len(widths)), widths)

    def _split_targets(self, X):
        """``(inputs, targets)`` of training rows: a mixed table's targets follow its inputs; numeric ``X`` is both."""
        return split_rows(self.schema_, X) if self._is_mixed() else (X, X)

    def _models_mixed_tables(self):
        """Whether the variant trains on a mixed table: not when its own ``_elementwise_nll`` replaces the
        per-column likelihoods (a variant that reads ``module.likelihood`` itself says so by overriding this)."""
        return type(self)._elementwise_nll is BaseAutoencoder._elementwise_nll

    def _fit_rows(self, X, reset, observed=None):
        """``(rows, per-cell weights or None)`` that training reads; ``reset`` learns the columns afresh."""
        if reset and hasattr(self, "schema_"):
            del self.schema_
        if is_mixed(X, self.kinds) if reset else self._is_mixed():
            check_mixed_training(self, X, not self._models_mixed_tables())
            return training_rows(
                fit_schema(self, X) if reset else self.schema_, X, observed
            )
        if observed is not None and is_out_of_core(X):
            raise ValueError(
                f"observed= needs X in memory, got a {type(X).__name__}; load X (np.asarray) or fit without observed."
            )
        X = self._training_input(X, reset=reset)
        return X, _observed_weights(observed, X)

    def _model_input(self, X):
        """``X`` as the encoder reads it: validated numbers, or a mixed table's encoded inputs."""
        return (
            self.schema_.encode(X).inputs
            if self._is_mixed()
            else self._validate_X(X, reset=False)
        )

    def _point(self, module, output):
        """The reconstruction from the decoder's raw output: each column's point prediction on a mixed table."""
        return (
            module.likelihood.point(output)
            if hasattr(module, "likelihood")
            else self._output_mean(output)
        )

    def _as_table(self, points):
        """Decoded points as the table they stand for (mixed tables); numeric ones as they are."""
        return self.schema_.decode(points) if self._is_mixed() else points

    def _training_width(self):
        """The width of a training row: ``n_features_in_``, or a mixed table's inputs and targets."""
        return (
            self.schema_.n_inputs_ + self.n_features_in_
            if self._is_mixed()
            else self.n_features_in_
        )

    def _is_fitted(self):
        return hasattr(self, "module_")

    def __getstate__(self):
        # No torch object in the state: weights as numpy arrays, so that skops
        # can load the model without executing code (skae/_persistence.py).
        return autoencoder_state(super().__getstate__())

    def __setstate__(self, state):
        state, weights = split_autoencoder_state(state)
        super().__setstate__(state)
        if weights is not None:
            self.module_ = rebuild_module(self, weights, INFERENCE_DTYPE, seeded)

    def __sklearn_is_fitted__(self):
        # validate_data sets n_features_in_ before training starts; only a
        # trained module makes the estimator fitted.
        return self._is_fitted()

    def _hidden_sizes(self):
        return check_hidden_layer_sizes(self)

    def _validate_X(self, X, reset):
        return validate_X(self, X, reset)

    def _predict(self, function, X, rows_per_pass=None, autograd=False):
        """``function(module, rows)`` over validated ``X`` batch by batch, on the inference device in X's dtype.

        ``module`` is module_ (or its copy) on that device in eval mode.
        Batches hold ``inference_batch_size`` rows unless ``rows_per_pass``
        says otherwise; ``autograd`` runs without torch's inference mode (for
        torch.func). The protocol variants use for their own inference.
        """
        check_inference_params(self)
        device = inference_device(
            self.inference_device, getattr(self, "device_", "cpu")
        )
        return predict(
            self.module_,
            function,
            X,
            device,
            rows_per_pass or self.inference_batch_size,
            autograd,
        )

    def _training_input(self, X, reset):
        """``X`` validated for training (:func:`skae._validation.training_input`)."""
        return training_input(self, X, reset)

    def _check_chunk(self, rows, ranges):
        """Refuse a chunk read from out-of-core ``X`` (rows ``ranges``) that is short or holds bad values."""
        check_chunk(self, rows, ranges)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def store_parameters(estimator, arguments):
    """Store ``__init__``'s ``arguments`` (its ``locals()``) untouched as attributes of the same names."""
    for name, value in arguments.items():
        if name not in ("self", "__class__"):
            setattr(estimator, name, value)
