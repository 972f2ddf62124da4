"""The shared estimator: validation, training, inference, feature names, devices.

A variant subclasses :class:`BaseAutoencoder` and overrides only the slots
that are its difference; nothing in the training loop or in inference::

    output, code = decoder(code_layer(encoder(corruption(X))))
    loss = mean over rows [ sum over features nll(output, X) ] + penalty(module, X, code)

=============================  =====================================  ============================
slot                           default                                overridden by
=============================  =====================================  ============================
``_build_corruption(X)``       None (identity)                        DenoisingAE
``_build_code_layer()``        None (identity)                        SparseAE (sigmoid, top-k),
                                                                      ContractiveAE (activation)
``_elementwise_nll``           squared error, or Bernoulli for        VAE (sigma-VAE Gaussian)
                               ``_likelihood_param`` = "bernoulli"
                               / "binary_crossentropy"
``_penalty(module, X, code)``  zero                                   SparseAE, ContractiveAE, VAE
``_build_module(X)``           ``Autoencoder`` of the four parts      VAE (mean / log-variance
                                                                      heads on the encoder)
``_anneal(module, epoch)``     nothing; False                         SparseAE (k schedule)
``_set_fitted_statistics(X)``  nothing                                SparseAE, VAE
``_code_size()``               ``n_components``                       SparseAE (from ``k`` if None)
=============================  =====================================  ============================

The encoder and decoder come from ``_network``: the user's ``encoder`` /
``decoder`` (a module, deep-copied, or a builder called with ``n_features``
and ``n_components``) or an MLP from ``hidden_layer_sizes``. So a variant's
difference applies on top of any network. ``_anneal`` is called by the
engine at the start of every epoch (counted across warm starts) and returns
whether the objective is still changing, during which the ``tol`` rule may
not stop training.
"""
import copy
import math
import warnings
import weakref
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from ._compat import Interval, StrOptions, _fit_context
from ._distributed import current_shard
from ._persistence import VersionedStateMixin, autoencoder_state, map_nested, rebuild_module, split_autoencoder_state
from ._validation import (
    check_chunk,
    check_hidden_layer_sizes,
    check_inference_params,
    check_training_data,
    is_out_of_core,
    observed_weights as _observed_weights,
    training_input,
    validate_X,
)
from ._scores import honest_scores
from ._torch_utils import (
    ThreadBudget,
    flush_denormals,
    resolve_device,
    seeded,
    supports_fused_adam,
    to_cpu_module,
    to_numpy,
    to_tensor,
    training_randomness,
)
from ._training import (
    ChunkedBatches,
    ChunkedDataset,
    AutoencoderNet,
    TensorDataset,
    on_device,
    progress_callbacks,
    schedule_callback,
    stopping_callback,
)
from .losses import bernoulli_nll, jacobian_frobenius_exact, squared_error, sum_features
from .nn import ACTIVATIONS, Autoencoder, mlp, output_shape

_MAX_SEED = np.iinfo(np.int32).max

# Out-of-core training: rows per chunk for chunk_size="auto" (as float32), and
# blocks per chunk. Blocks are the unit of shuffling and of the validation
# split; 16 per chunk mixes rows from far-apart parts of X in every chunk
# while each block is still one contiguous read of ~4 MiB.
_AUTO_CHUNK_BYTES = 64 * 2**20

# partial_fit's engines (skorch net, float32 module and optimizer on the
# training device), keyed by the module_ they last wrote to: kept between
# calls without being part of the estimator's state, so nothing extra is
# pickled or cloned, and a new module_ (fit, unpickling, deepcopy) starts a
# new engine from module_ and the pickled optimizer state.
_ENGINES = weakref.WeakKeyDictionary()
_PARAM_NAMES = {}
_BLOCKS_PER_CHUNK = 16

# batch_size="auto": MLPRegressor's min(200, n_samples) rows per batch, but
# at least _AUTO_MIN_BATCHES batches per epoch while batches keep at least
# _AUTO_MIN_BATCH_ROWS rows. With MLPRegressor's rule a wine-sized table
# (142 rows) is one Adam step per epoch, and the epoch-counted stopping rule
# and max_iter then allow too few steps: ContractiveAE reached max_iter=1000
# on 4 of 6 wine-sized development sets (10 of 10 fits each) and none with 4
# batches, whose accuracy in the classifier pipeline rose by 1.1 points on
# average; only tables under 800 rows change
# (benchmarks/tune_defaults.py --small, results/defaults_development.md).
_AUTO_MAX_BATCH_ROWS = 200
_AUTO_MIN_BATCHES = 4
_AUTO_MIN_BATCH_ROWS = 32

# Training runs in float32; the fitted module_ is kept in float64 on the CPU
# (pickles load anywhere, and a float64 row's output does not depend on which
# other rows share its batch: float32 matrix products round differently for
# different batch shapes). Float32 input and other devices use copies of it.
INFERENCE_DTYPE = torch.float64

# module_'s copies for other devices and dtypes, keyed by module_ itself: a
# cache that is never part of the estimator's state, so pickles, skops files
# and clones hold module_ alone, and a new module_ (refit) drops its copies.
_MODULE_COPIES = weakref.WeakKeyDictionary()

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
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.
"""


def document(cls):
    """Complete ``cls``'s docstring with the parameters every autoencoder shares."""
    cls.__doc__ = cls.__doc__.replace("{base_parameters}", _BASE_PARAMETERS_DOC.strip("\n"))
    return cls


class BaseAutoencoder(VersionedStateMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of every skae autoencoder. Not meant to be used directly."""

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(ACTIVATIONS))],
        "encoder": [None, torch.nn.Module, callable],
        "decoder": [None, torch.nn.Module, callable],
        "loss": [StrOptions({"squared_error", "binary_crossentropy"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
        "chunk_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left")],
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
    }

    def __init__(
        self,
        n_components=10,
        *,
        hidden_layer_sizes=(100,),
        activation="relu",
        encoder=None,
        decoder=None,
        loss="squared_error",
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
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.encoder = encoder
        self.decoder = decoder
        self.loss = loss
        self.alpha = alpha
        self.batch_size = batch_size
        self.chunk_size = chunk_size
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start
        self.device = device
        self.callbacks = callbacks
        self.inference_device = inference_device
        self.inference_batch_size = inference_batch_size

    # ------------------------------------------------------------------ slots
    # The parameter that chooses the decoder's distribution (for errors and
    # for telling a Bernoulli decoder, whose output is logits).
    _likelihood_param = "loss"

    def _build_module(self, X):
        """The torch module to train; ``X`` is the validated training data."""
        n_features, hidden = X.shape[1], self._hidden_sizes()
        return Autoencoder(
            self._network("encoder", X, [n_features, *hidden, self._code_size()]),
            self._network("decoder", X, [self._code_size(), *reversed(hidden), n_features]),
            corruption=self._build_corruption(X),
            code_layer=self._build_code_layer(),
        )

    def _code_size(self):
        """The number of code units: ``n_components`` (SparseAE derives it from ``k`` when None)."""
        return self.n_components

    def _build_corruption(self, X):
        """A module applied to the input in training mode only, or None."""
        return None

    def _build_code_layer(self):
        """A module applied to the encoder's output to make the code, or None."""
        return None

    def _elementwise_nll(self, module, output, X):
        """Negative log-likelihood of each cell of ``X`` given the decoder's output."""
        return bernoulli_nll(output, X) if self._is_bernoulli() else squared_error(output, X)

    def _penalty(self, module, X, code):
        """A regularisation term added to the batch-mean loss; zero by default."""
        return 0.0

    def _anneal(self, module, epoch):
        """Change the objective at the start of ``epoch`` (counted across warm starts).

        Returns whether it is still changing: the ``tol`` / ``n_iter_no_change``
        rule may not stop training then, as epoch losses are not comparable.
        """
        return False

    def _set_fitted_statistics(self, X):
        """Compute variant-specific fitted attributes from the training data."""

    # ------------------------------------------------- networks and likelihood
    def _network(self, role, X, mlp_sizes, mlp_output_activation="identity", any_width=False):
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
            needed = "(2, width)" if any_width else (
                f"(2, {out_width}) ({'n_components' if role == 'encoder' else 'n_features'}={out_width})"
            )
            raise ValueError(
                f"The {role} {type(network).__name__} maps input of shape (2, {in_width}) to "
                f"shape {shape}; {type(self).__name__} needs {needed}."
            )
        return network

    def _is_bernoulli(self):
        """Whether the decoder is Bernoulli (outputs logits, needs data in [0, 1])."""
        return getattr(self, self._likelihood_param) in ("bernoulli", "binary_crossentropy")

    def _likelihood(self):
        """The parameter setting that chose the decoder, for error messages."""
        return f"{self._likelihood_param}={getattr(self, self._likelihood_param)!r}"

    def _output_mean(self, output):
        """The reconstruction (decoder mean) from the decoder's raw output (logits if Bernoulli)."""
        return torch.sigmoid(output) if self._is_bernoulli() else output

    def _objective(self, module, X, weights=None):
        """The training loss of a batch: per-sample NLL summed over features, mean over rows."""
        output, code = module(X)
        loss = self._mean_nll(module, output, X, weights)
        penalty = self._penalty(module, X, code)
        # Adding a zero penalty would still cost an autograd node per batch.
        return loss if isinstance(penalty, float) and penalty == 0.0 else loss + penalty

    def _mean_nll(self, module, output, X, weights=None):
        """The batch's negative log-likelihood: summed over features, averaged over rows."""
        if weights is None and type(self)._elementwise_nll is BaseAutoencoder._elementwise_nll:
            # The same number from one fused kernel (and one backward) instead
            # of four elementwise ones: 15 µs a batch, 7% of an epoch on digits
            # (benchmarks/bench_engine.py). A variant with its own likelihood
            # takes the general path.
            nll = F.binary_cross_entropy_with_logits if self._is_bernoulli() else F.mse_loss
            return nll(output, X, reduction="sum") / len(X)
        return sum_features(self._elementwise_nll(module, output, X), weights).mean()

    def _check_training_data(self, X):
        """Refuse data that the likelihood cannot explain."""
        check_training_data(self, X)

    # ------------------------------------------------------------ public API
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, observed=None):
        """Train the autoencoder on ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data. Not modified. A numpy memmap, a dask array or
            another out-of-core array is read ``chunk_size`` rows at a time.
        y : Ignored
            Not used, present for API consistency by convention.
        observed : array-like of bool of shape (n_samples, n_features), default=None
            The cells to reconstruct. A cell where ``observed`` is False is
            still the model's input (it must hold a finite placeholder, such
            as its feature's mean) but never a target of the loss: this is how
            :class:`AutoencoderImputer` trains on incomplete data. None counts
            every cell.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if observed is not None and is_out_of_core(X):
            raise ValueError(
                f"observed= needs X in memory, got a {type(X).__name__}; load X (np.asarray) or fit without observed."
            )
        X = self._training_input(X, reset=not (self.warm_start and self._is_fitted()))
        weights = _observed_weights(observed, X)
        return self._train(X, max_epochs=self.max_iter, incremental=self.warm_start, weights=weights)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None):
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

        Returns
        -------
        self : object
            The estimator.
        """
        X = self._training_input(X, reset=not self._is_fitted())
        return self._train(X, max_epochs=1, incremental=True, partial=True)

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
        X = self._validate_X(X, reset=False)
        return self._predict(lambda module, rows: module.encode(rows), X)

    def inverse_transform(self, X):
        """Decode codes back to the input space.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes, such as those returned by :meth:`transform`.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features_in_)
            The decoder's mean for each code.
        """
        check_is_fitted(self)
        codes = check_array(X, dtype=[np.float64, np.float32])
        if codes.shape[1] != self._code_size():
            raise ValueError(
                f"X has {codes.shape[1]} features, but {type(self).__name__}.inverse_transform "
                f"is expecting {self._code_size()} features (n_components) as input."
            )
        return self._predict(lambda module, code: self._output_mean(module.decode(code)), codes)

    def reconstruct(self, X):
        """``inverse_transform(transform(X))`` in one pass.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to reconstruct.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
        """
        check_is_fitted(self)
        X = self._validate_X(X, reset=False)
        return self._predict(lambda module, rows: self._output_mean(module(rows)[0]), X)

    def score_samples(self, X):
        """Minus the reconstruction error of each sample: higher means more normal.

        The error is the training likelihood's negative log-likelihood summed
        over features (the squared error for ``loss="squared_error"``, the
        binary cross-entropy for ``loss="binary_crossentropy"``), computed on
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
        X = self._validate_X(X, reset=False)
        scores = self._predict(lambda module, rows: -self._reconstruction_nll(module, rows), X)
        return honest_scores(scores, X, self._is_bernoulli())

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
        X = self._validate_X(X, reset=False)
        # Each row's Jacobian holds (code size) x n_features numbers.
        rows_per_pass = max(1, self.inference_batch_size // self._code_size())
        return self._predict(
            lambda module, rows: jacobian_frobenius_exact(module.encode, rows).sqrt(),
            X,
            rows_per_pass=rows_per_pass,
            autograd=True,
        )

    # ------------------------------------------------------------- internals
    def _reconstruction_nll(self, module, X):
        output, _ = module(X)
        return sum_features(self._elementwise_nll(module, output, X))

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

    @classmethod
    def _get_param_names(cls):
        # scikit-learn inspects __init__'s signature on every get_params (so
        # in every fit's parameter validation, clone and repr): ~20 µs a call,
        # 1.5% of a small fit. The names are fixed per class.
        names = _PARAM_NAMES.get(cls)
        if names is None:
            names = _PARAM_NAMES[cls] = tuple(super()._get_param_names())
        return list(names)

    def __sklearn_is_fitted__(self):
        # validate_data sets n_features_in_ before training starts; only a
        # trained module makes the estimator fitted.
        return self._is_fitted()

    def _hidden_sizes(self):
        return check_hidden_layer_sizes(self)

    def _validate_X(self, X, reset):
        return validate_X(self, X, reset)

    def _predict(self, function, X, rows_per_pass=None, autograd=False):
        """``function(module, rows)`` over ``X`` batch by batch, on the inference device in X's dtype.

        ``module`` is module_ (or its copy) on that device in eval mode; the
        result is a numpy array in X's dtype. Batches hold
        ``inference_batch_size`` rows unless ``rows_per_pass`` says otherwise;
        ``autograd`` runs without torch's inference mode (for torch.func).
        """
        check_inference_params(self)
        module, device, dtype = self._inference_module(X.dtype)
        step = rows_per_pass or self.inference_batch_size
        result = None
        with torch.no_grad() if autograd else torch.inference_mode():
            for start in range(0, len(X), step):
                output = to_numpy(function(module, _rows_as_tensor(X[start : start + step], device, dtype)), X.dtype)
                if len(X) <= step:
                    return output
                if result is None:
                    result = np.empty((len(X), *output.shape[1:]), dtype=X.dtype)
                result[start : start + step] = output
        return result

    def _inference_module(self, dtype):
        """``(module, device, torch_dtype)``: module_ on the inference device, in eval mode, for ``dtype`` input.

        Call it outside torch's inference mode: a copy made inside could not
        be used with autograd later.
        """
        device = self._inference_device()
        # MPS has no float64.
        torch_dtype = torch.float32 if dtype == np.float32 or device.type == "mps" else torch.float64
        self._ensure_eval_mode()
        source = self.module_
        if device.type == "cpu" and torch_dtype == INFERENCE_DTYPE:
            return source, device, torch_dtype
        copies = _MODULE_COPIES.setdefault(source, {})
        cached = copies.get((device, torch_dtype))
        if cached is None or not _unchanged(*cached[1:]):
            tensors = [*source.parameters(), *source.buffers()]
            copied = copy.deepcopy(source).to(device, torch_dtype).eval()
            cached = copies[device, torch_dtype] = (copied, tensors, _stamp(tensors))
        return cached[0], device, torch_dtype

    def _inference_device(self):
        """The torch.device that ``inference_device`` names, or the training device / CPU for None."""
        if self.inference_device is None:
            try:
                return resolve_device(getattr(self, "device_", "cpu"))
            except ValueError:  # trained on a device this machine lacks
                return torch.device("cpu")
        return resolve_device(self.inference_device, name="inference_device")

    def _ensure_eval_mode(self):
        # module_ is stored in eval mode; re-walking the module tree costs ~30 µs
        # per call, so only do it if someone switched it to training mode.
        if self.module_.training:
            self.module_.eval()

    def _train(self, X, max_epochs, incremental, partial=False, weights=None):
        """Run the training loop on validated ``X``; set every fitted attribute."""
        device = resolve_device(self.device)
        use_validation = self.early_stopping and not partial
        init_seed, train_seed, split_seed = fit_seeds(self.random_state, 3)
        shard = current_shard()
        if shard is not None:
            if partial:
                raise ValueError(
                    "partial_fit does not train data-parallel: each process's chunks would be its own stream. "
                    "Call fit inside skae.data_parallel(), or partial_fit outside it."
                )
            # Every process draws the same shuffles and split: rank 0's seeds.
            init_seed, train_seed, split_seed = shard.broadcast([init_seed, train_seed, split_seed])
        # Only one process of a data-parallel fit reports progress.
        verbose = self.verbose if shard is None or shard.rank == 0 else 0
        rng = np.random.RandomState(split_seed) if use_validation or is_out_of_core(X) else None

        # Fitted attributes are set only once training succeeds: a fit that
        # raises (e.g. on divergence) leaves the estimator as it was.
        if is_out_of_core(X):
            train_data, valid_data, batch_size = self._chunked_datasets(X, rng, use_validation, device)
            # Modules and fitted statistics that look at the data see one random chunk.
            X = train_data.read(ChunkedBatches(train_data, batch_size, True, rng_generator(rng)).chunks()[0])
        else:
            train_rows, valid_rows = self._split(len(X), rng, use_validation=use_validation)
            train_data = self._dataset(X, weights, train_rows, device)
            valid_data = None if valid_rows is None else self._dataset(X, weights, valid_rows, device)
            batch_size = self._requested_batch_size(len(train_rows))

        continuing = incremental and self._is_fitted()
        if continuing:
            # Each continued fit draws fresh shuffles and noise, even with an
            # int random_state, and does so reproducibly (n_iter_ is pickled).
            train_seed = int(np.random.SeedSequence([train_seed, self.n_iter_]).generate_state(1)[0]) % _MAX_SEED
            loss_curve, validation_scores, n_iter = self.loss_curve_, self.validation_scores_, self.n_iter_
        else:
            loss_curve, validation_scores, n_iter = [], [], 0
        net = _ENGINES.get(self.module_) if partial and continuing else None
        if net is not None and net.engine_key == self._engine_key(device, self.module_):
            return self._train_engine(net, X, train_data, batch_size, train_seed, device)
        if continuing:
            module, optimizer_state = copy.deepcopy(self.module_).float(), self._optimizer_state
        else:
            with seeded(init_seed, torch.device("cpu")):
                module = self._build_module(X)
            optimizer_state = None

        generator = torch.Generator().manual_seed(train_seed)
        # Fits running side by side on threads re-split the cores at every epoch.
        threads = ThreadBudget(batch_size * sum(p.numel() for p in module.parameters()))
        schedule = schedule_callback(lambda module, epoch: threads.rebalance() or self._anneal(module, epoch), n_iter)
        callbacks = progress_callbacks(verbose) + [("schedule", schedule)]
        if not partial:
            monitor = "valid_loss" if valid_data is not None else "train_loss"
            callbacks.append(
                (
                    "stopping",
                    stopping_callback(
                        # tol is per feature, on the scale of MLPRegressor's mean loss (parameter docs).
                        monitor, self.n_iter_no_change, self.tol * X.shape[1], valid_data is not None, verbose
                    ),
                )
            )
        callbacks += list(self.callbacks or [])

        net = AutoencoderNet(
            on_device(module, device),
            objective=self._objective,
            generator=generator,
            valid_dataset=valid_data,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=self.learning_rate_init,
            weight_decay=self.alpha,
            fused=supports_fused_adam(device) or None,
            device=device,
            callbacks=callbacks,
            verbose=verbose,
            shard=shard,
        )
        # Data-parallel processes draw different noise (corruption, sampling) for their rows.
        noise_stream = 0 if shard is None else shard.rank
        with threads, flush_denormals(), training_randomness(train_seed, device, module, noise_stream):
            net.initialize()
            if optimizer_state is not None:
                net.optimizer_.load_state_dict(optimizer_state)
            net.partial_fit(train_data)

        n_epochs = len(net.history)
        if partial:
            # partial_fit keeps its engine (module, optimizer, callbacks,
            # history) for the next call; module_ is a float64 copy.
            module_ = copy.deepcopy(module).to("cpu", INFERENCE_DTYPE).eval()
            self._set_trained_state(net, module_, n_epochs, X, loss_curve, validation_scores, n_iter, keep_engine=True)
            net.threads = threads
            net.engine_key = self._engine_key(device, module_)
            _ENGINES[module_] = net
            return self
        module_ = to_cpu_module(module, INFERENCE_DTYPE).eval()
        self._set_trained_state(net, module_, n_epochs, X, loss_curve, validation_scores, n_iter)
        if n_epochs == max_epochs and not _stopped(net):
            warnings.warn(
                f"{type(self).__name__}: maximum iterations ({max_epochs}) reached and the "
                "optimization hasn't converged yet. Increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        return self

    def _train_engine(self, net, X, train_data, batch_size, seed, device):
        """One more partial_fit epoch with the engine kept from the previous call."""
        net.batch_size = batch_size
        net.generator.manual_seed(seed)
        epochs_before = len(net.history)
        module_ = self.module_
        try:
            with net.threads, flush_denormals(), training_randomness(seed, device, net.module_):
                net.partial_fit(train_data)
        except BaseException:
            del _ENGINES[module_]  # its module moved away from module_
            raise
        with torch.no_grad():
            for target, source in zip(module_.state_dict().values(), net.module_.state_dict().values()):
                target.copy_(source)
        self._set_trained_state(
            net, module_, len(net.history) - epochs_before, X,
            self.loss_curve_, self.validation_scores_, self.n_iter_, keep_engine=True,
        )
        net.engine_key = self._engine_key(device, module_)
        return self

    def _set_trained_state(self, net, module_, n_epochs, X, loss_curve, validation_scores, n_iter, keep_engine=False):
        """Set every fitted attribute from the engine's last ``n_epochs`` epochs, after ``n_iter`` earlier ones."""
        history = net.history[len(net.history) - n_epochs :]
        self.module_ = module_
        # A kept engine goes on updating its optimizer state in place: copy it.
        # A discarded CPU engine's state is already what is kept (walking it cost ~40 µs a fit).
        state = net.optimizer_.state_dict()
        self._optimizer_state = state if net.device.type == "cpu" and not keep_engine else _to_cpu(state, copy=keep_engine)
        self.loss_curve_ = loss_curve + [epoch["train_loss"] for epoch in history]
        self.validation_scores_ = validation_scores
        if net.valid_dataset is not None:
            self.validation_scores_ = validation_scores + [-epoch["valid_loss"] for epoch in history]
            self.best_validation_score_ = max(self.validation_scores_)
        self.best_loss_ = min(self.loss_curve_)
        self.n_iter_ = n_iter + n_epochs
        self.device_ = str(net.device)
        self._n_features_out = self._code_size()
        self._set_fitted_statistics(X)

    def _engine_key(self, device, module_):
        """What a kept partial_fit engine was built for: reused only while the
        device, the parameters and module_'s tensors (version counters) are unchanged."""
        names = self._get_param_names()
        params = tuple(
            (name, tuple(map(id, value)) if isinstance(value, list) else value)
            for name, value in ((name, getattr(self, name)) for name in names)
        )
        return device, params, _stamp([*module_.parameters(), *module_.buffers()])

    def _training_input(self, X, reset):
        """``X`` validated for training (:func:`skae._validation.training_input`)."""
        return training_input(self, X, reset)

    def _check_chunk(self, rows, ranges):
        """Refuse a chunk read from out-of-core ``X`` (rows ``ranges``) that is short or holds bad values."""
        check_chunk(self, rows, ranges)

    def _chunked_datasets(self, X, rng, use_validation, device):
        """Training and validation :class:`ChunkedDataset` of out-of-core ``X``, and the batch size.

        The rows are cut into blocks of about ``chunk_size / 16`` rows; with
        ``use_validation``, ``validation_fraction`` of the blocks, drawn with
        ``rng``, are held out of the stream.
        """
        n_samples, n_features = X.shape
        batch_size = self._requested_batch_size(n_samples)
        if self.chunk_size == "auto":
            chunk_rows = max(1, (_AUTO_CHUNK_BYTES // (4 * n_features)) // batch_size) * batch_size
        else:
            chunk_rows = max(self.chunk_size, batch_size)
        block_rows = math.ceil(min(chunk_rows, n_samples) / _BLOCKS_PER_CHUNK)
        starts = np.arange(0, n_samples, block_rows)
        blocks = np.stack([starts, np.minimum(starts + block_rows, n_samples)], axis=1)
        valid_blocks = None
        if use_validation:
            n_valid = max(1, int(round(self.validation_fraction * len(blocks))))
            if n_valid >= len(blocks):
                raise ValueError(
                    f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                    f"of the {len(blocks)} block(s) of {block_rows} row(s) that chunk_size="
                    f"{self.chunk_size!r} cuts X into, leaving none to train on; provide more "
                    "samples, lower chunk_size or set early_stopping=False."
                )
            order = rng.permutation(len(blocks))
            blocks, valid_blocks = blocks[np.sort(order[n_valid:])], blocks[np.sort(order[:n_valid])]
        per_chunk = max(1, chunk_rows // block_rows)

        def dataset(part):
            return ChunkedDataset(X, part, per_chunk, device, self._check_chunk)

        train_data = dataset(blocks)
        batch_size = min(batch_size, len(train_data))
        return train_data, None if valid_blocks is None else dataset(valid_blocks), batch_size

    def _requested_batch_size(self, n_rows):
        """Rows per batch when training on ``n_rows`` rows: ``batch_size`` or the "auto" rule, at most ``n_rows``."""
        return _auto_batch_size(n_rows) if self.batch_size == "auto" else min(self.batch_size, n_rows)

    def _split(self, n_samples, rng, use_validation):
        rows = np.arange(n_samples)
        if not use_validation:
            return rows, None
        n_valid = max(1, int(round(self.validation_fraction * n_samples)))
        if n_samples - n_valid < 1:
            raise ValueError(
                f"early_stopping=True holds out validation_fraction={self.validation_fraction} "
                f"of {n_samples} sample(s), leaving none to train on; provide more samples "
                "or set early_stopping=False."
            )
        rows = rng.permutation(n_samples)
        return rows[n_valid:], rows[:n_valid]

    @staticmethod
    def _dataset(X, weights, rows, device):
        if rows is not None and len(rows) == len(X):
            rows = slice(None)  # all rows, in order: no fancy-indexing copy
        return TensorDataset(
            to_tensor(X[rows], device),
            None if weights is None else to_tensor(weights[rows], device),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def _stamp(tensors):
    # Version counters and storage addresses change with any in-place update
    # (fill_, copy_, load_state_dict, optimizer steps, .data = ...).
    return [(tensor._version, tensor.data_ptr()) for tensor in tensors]


def _unchanged(tensors, stamp):
    """Whether ``tensors`` are as they were when ``stamp`` was taken: checked per call, ~1 µs, no module walk."""
    return _stamp(tensors) == stamp


def _rows_as_tensor(rows, device, dtype):
    """``rows`` as a tensor on ``device`` in ``dtype``, sharing memory when it is already a CPU array of that dtype.

    Inference never writes to its input, so sharing is safe; DLPack shares
    read-only arrays too (torch.from_numpy warns on them), except on numpy
    1.x, which refuses to export them (BufferError on 1.26, TypeError on
    1.23): there the batch is copied.
    """
    rows = np.ascontiguousarray(rows, dtype=np.float32 if dtype == torch.float32 else np.float64)
    try:
        tensor = torch.from_dlpack(rows)
    except (BufferError, TypeError):
        tensor = torch.from_numpy(rows.copy())
    return tensor.to(device)


def fit_seeds(random_state, n_seeds):
    """``n_seeds`` seeds for torch and numpy generators, drawn from ``random_state``.

    An int gives the same seeds every time, through a SeedSequence: seeding a
    RandomState's Mersenne Twister costs ~65 µs, 4% of a small fit. A
    RandomState instance is advanced, None draws from numpy's global one,
    as scikit-learn's ``check_random_state`` does.
    """
    if isinstance(random_state, Integral):
        return [int(seed) % _MAX_SEED for seed in np.random.SeedSequence(random_state).generate_state(n_seeds)]
    return [int(seed) for seed in check_random_state(random_state).randint(_MAX_SEED, size=n_seeds)]


def rng_generator(rng):
    """A torch generator seeded from a numpy RandomState."""
    return torch.Generator().manual_seed(int(rng.randint(_MAX_SEED)))


def _stopped(net):
    callback = dict(net.callbacks_).get("stopping")
    return callback is not None and callback.misses_ >= callback.patience


def _to_cpu(state, copy=False):
    """An optimizer state dict with every tensor moved to the CPU (``copy``: never sharing memory), for pickling anywhere."""
    return map_nested(state, torch.Tensor, lambda tensor: tensor.detach().to("cpu", copy=copy))


def _auto_batch_size(n_rows):
    """``batch_size="auto"`` for ``n_rows`` training rows."""
    few_batches = max(_AUTO_MIN_BATCH_ROWS, math.ceil(n_rows / _AUTO_MIN_BATCHES))
    return min(_AUTO_MAX_BATCH_ROWS, few_batches, n_rows)
