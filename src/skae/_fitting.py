"""How ``fit`` and ``partial_fit`` run: seeds, data, the training engine, and the fitted attributes it leaves.

:func:`train` is the whole of it, for any :class:`~skae._base.BaseAutoencoder`:
draw the fit's seeds (rank 0's, data-parallel), lay ``X`` out in batches
(:mod:`skae._batches`), build the module (or continue the fitted one), run
the engine (:mod:`skae._training`) under the fit's CPU state
(:mod:`skae._cpu`) and randomness (:mod:`skae._random`), and set the fitted
attributes from its history. Fitted attributes are set only once training
succeeds: a fit that raises (e.g. on divergence) leaves the estimator as it
was.
"""

import copy
import warnings
import weakref
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning

from ._batches import is_out_of_core, sample_chunk, training_data
from ._cpu import ThreadBudget, flush_denormals
from ._distributed import current_shard
from ._inference import INFERENCE_DTYPE
from ._persistence import map_nested
from ._random import continued_seed, fit_seeds, seeded, training_randomness
from ._torch_utils import (
    resolve_device,
    supports_fused_adam,
    to_cpu_module,
    unchanged,
    version_stamp,
)
from ._training import (
    AutoencoderNet,
    on_device,
    progress_callbacks,
    schedule_callback,
    stopping_callback,
)

# partial_fit's engines, keyed by the module_ they last wrote to: kept between
# calls without being part of the estimator's state, so nothing extra is
# pickled or cloned, and the user's callbacks (a schedule, a recorder) carry on
# from call to call as in one training run. A new module_ (fit, unpickling,
# deepcopy) starts a new engine from module_ and the pickled optimizer state.
_ENGINES = weakref.WeakKeyDictionary()


@dataclass
class KeptEngine:
    """A partial_fit engine (skorch net, float32 module and optimizer on the device) and what it was built for."""

    net: AutoencoderNet
    threads: ThreadBudget
    device: torch.device
    parameters: dict
    stamp: list = None

    def fits(self, estimator, device):
        """Whether the device, the parameters and module_'s tensors are still those the engine was built for."""
        same = _parameters(estimator)
        return (
            device == self.device
            and same.keys() == self.parameters.keys()
            and all(_same(same[name], self.parameters[name]) for name in same)
            and unchanged(estimator.module_, self.stamp)
        )


def train(
    estimator,
    X,
    max_epochs,
    incremental,
    partial=False,
    weights=None,
    sample_weight=None,
):
    """Train ``estimator`` on validated ``X`` for up to ``max_epochs`` epochs; set every fitted attribute.

    ``incremental`` continues the fitted module and its optimizer state;
    ``partial`` (partial_fit) also keeps the engine for the next call and
    skips the stopping rule, the validation split and the convergence warning.
    ``weights`` are per-cell loss weights, ``sample_weight`` per-row weights
    of the loss's mean over rows and of the fitted statistics.
    """
    device = resolve_device(estimator.device)
    shard = current_shard()
    _check_shard_weights(shard, sample_weight)
    init_seed, train_seed, split_seed = _seeds(estimator.random_state, shard, partial)
    use_validation = estimator.early_stopping and not partial
    X, data = _batches(
        estimator, X, weights, split_seed, device, use_validation, sample_weight
    )
    continuing = incremental and estimator._is_fitted()
    if continuing:
        # Each continued fit draws fresh shuffles and noise, even with an
        # int random_state, and does so reproducibly (n_iter_ is pickled).
        train_seed = continued_seed(train_seed, estimator.n_iter_)
        kept = _ENGINES.get(estimator.module_) if partial else None
        if kept is not None and kept.fits(estimator, device):
            return _continue(
                estimator, kept, X, data, train_seed, device, sample_weight
            )
    module, optimizer_state, before = _start(
        estimator, X, continuing, init_seed, sample_weight
    )
    net, threads = _engine(
        estimator,
        module,
        data,
        max_epochs,
        train_seed,
        device,
        shard,
        before[2],
        partial,
    )
    _run(net, threads, data, optimizer_state, train_seed, device, module, shard)
    if partial:
        _keep(
            estimator,
            KeptEngine(net, threads, device, _parameters(estimator)),
            X,
            before,
            sample_weight,
        )
        return estimator
    module_ = to_cpu_module(module, INFERENCE_DTYPE).eval()
    _set_trained_state(estimator, net, module_, X, *before, sample_weight=sample_weight)
    _warn_if_not_converged(estimator, net, max_epochs)
    return estimator


def _check_shard_weights(shard, sample_weight):
    if shard is not None and sample_weight is not None:
        raise ValueError(
            "sample_weight is not supported in data-parallel training (skae.data_parallel()); "
            "fit without it, or repeat or drop rows instead."
        )


def _run(net, threads, data, optimizer_state, train_seed, device, module, shard):
    """Train ``net`` on ``data.train`` under the fit's threads, CPU state and random streams."""
    # Data-parallel processes draw different noise (corruption, sampling) for their rows.
    noise_stream = 0 if shard is None else shard.rank
    with (
        threads,
        flush_denormals(),
        training_randomness(train_seed, device, module, noise_stream),
    ):
        net.initialize()
        if optimizer_state is not None:
            net.optimizer_.load_state_dict(optimizer_state)
        net.partial_fit(data.train)


def _warn_if_not_converged(estimator, net, max_epochs):
    if len(net.history) == max_epochs and not _stopped(net):
        warnings.warn(
            f"{type(estimator).__name__}: maximum iterations ({max_epochs}) reached and the "
            "optimization hasn't converged yet. Increase max_iter or tol.",
            ConvergenceWarning,
            stacklevel=3,
        )


def _start(estimator, X, continuing, init_seed, sample_weight=None):
    """``(float32 module, optimizer state or None, (loss curve, validation scores, n_iter) so far)``."""
    if continuing:
        module = copy.deepcopy(estimator.module_).float()
        before = estimator.loss_curve_, estimator.validation_scores_, estimator.n_iter_
        return module, estimator._optimizer_state, before
    with seeded(init_seed, torch.device("cpu")):
        module = estimator._build_module(X, sample_weight)
    return module, None, ([], [], 0)


def _keep(estimator, kept, X, before, sample_weight=None):
    """Set the fitted attributes from a partial_fit engine, which is kept: module_ is a float64 copy."""
    module_ = copy.deepcopy(kept.net.module_).to("cpu", INFERENCE_DTYPE).eval()
    _set_trained_state(
        estimator,
        kept.net,
        module_,
        X,
        *before,
        keep_engine=True,
        sample_weight=sample_weight,
    )
    kept.stamp = version_stamp(module_)
    _ENGINES[module_] = kept


def _continue(estimator, kept, X, data, seed, device, sample_weight=None):
    """One more partial_fit epoch with the engine kept from the previous call."""
    net, module_ = kept.net, estimator.module_
    net.batch_size = data.batch_size
    net.generator.manual_seed(seed)
    epochs_before = len(net.history)
    try:
        with (
            kept.threads,
            flush_denormals(),
            training_randomness(seed, device, net.module_),
        ):
            net.partial_fit(data.train)
    except BaseException:
        del _ENGINES[module_]  # its module moved away from module_
        raise
    with torch.no_grad():
        for target, source in zip(
            module_.state_dict().values(), net.module_.state_dict().values()
        ):
            target.copy_(source)
    before = estimator.loss_curve_, estimator.validation_scores_, estimator.n_iter_
    n_epochs = len(net.history) - epochs_before
    _set_trained_state(
        estimator,
        net,
        module_,
        X,
        *before,
        keep_engine=True,
        n_epochs=n_epochs,
        sample_weight=sample_weight,
    )
    kept.stamp = version_stamp(module_)
    return estimator


def _parameters(estimator):
    """The estimator's parameters, lists copied (a list changed in place is a changed parameter)."""
    parameters = estimator.get_params(deep=False)
    return {
        name: list(value) if isinstance(value, list) else value
        for name, value in parameters.items()
    }


def _same(value, other):
    """Whether two parameter values are the same: lists item by item by identity, others by ``==``."""
    if isinstance(value, list) or isinstance(other, list):
        return (
            type(value) is type(other)
            and len(value) == len(other)
            and all(a is b for a, b in zip(value, other))
        )
    try:
        return value is other or bool(value == other)
    except (TypeError, ValueError):  # arrays and other values without one truth value
        return False


def _batches(estimator, X, weights, seed, device, use_validation, sample_weight=None):
    """``(X, TrainingData)``; out of core, ``X`` becomes a random chunk of it.

    Modules and fitted statistics that look at the data see that chunk.
    """
    rng = np.random.RandomState(seed) if use_validation or is_out_of_core(X) else None
    layout = _layout(estimator)
    data = training_data(
        X,
        weights,
        layout,
        rng,
        use_validation,
        device,
        estimator._check_chunk,
        sample_weight,
    )
    return (
        sample_chunk(data.train, data.batch_size, rng) if is_out_of_core(X) else X
    ), data


def _seeds(random_state, shard, partial):
    """The fit's ``(init, train, split)`` seeds; data-parallel, rank 0's on every process."""
    seeds = fit_seeds(random_state, 3)
    if shard is None:
        return seeds
    if partial:
        raise ValueError(
            "partial_fit does not train data-parallel: each process's chunks would be its own stream. "
            "Call fit inside skae.data_parallel(), or partial_fit outside it."
        )
    # Every process draws the same shuffles and split.
    return shard.broadcast(seeds)


def _layout(estimator):
    """The parameters that decide how ``X`` is cut into batches, chunks and a validation part."""
    return {
        name: getattr(estimator, name)
        for name in ("batch_size", "chunk_size", "validation_fraction")
    }


def _engine(estimator, module, data, max_epochs, seed, device, shard, n_iter, partial):
    """The skorch net that trains ``module`` on ``data`` (:class:`~skae._batches.TrainingData`), and its threads."""
    valid_data, batch_size = data.valid, data.batch_size
    # Only one process of a data-parallel fit reports progress.
    verbose = estimator.verbose if shard is None or shard.rank == 0 else 0
    # Fits running side by side on threads re-split the cores at every epoch.
    threads = ThreadBudget(batch_size * sum(p.numel() for p in module.parameters()))
    monitor = (
        None if partial else "valid_loss" if valid_data is not None else "train_loss"
    )
    return AutoencoderNet(
        on_device(module, device),
        objective=estimator._objective,
        generator=torch.Generator().manual_seed(seed),
        valid_dataset=valid_data,
        max_epochs=max_epochs,
        batch_size=batch_size,
        lr=estimator.learning_rate_init,
        weight_decay=estimator.alpha,
        fused=supports_fused_adam(device) or None,
        device=device,
        callbacks=_callbacks(estimator, threads, n_iter, monitor, verbose),
        verbose=verbose,
        shard=shard,
    ), threads


def _callbacks(estimator, threads, n_iter, monitor, verbose):
    """The engine's callbacks: progress, the per-epoch schedule, the stopping rule (``monitor``), the user's."""
    schedule = schedule_callback(
        lambda module, epoch: threads.rebalance() or estimator._anneal(module, epoch),
        n_iter,
    )
    callbacks = progress_callbacks(verbose) + [("schedule", schedule)]
    if monitor is not None:
        # tol is per feature, on the scale of MLPRegressor's mean loss (parameter docs).
        tol = estimator.tol * estimator.n_features_in_
        stopping = stopping_callback(
            monitor, estimator.n_iter_no_change, tol, monitor == "valid_loss", verbose
        )
        callbacks.append(("stopping", stopping))
    return callbacks + list(estimator.callbacks or [])


def _set_trained_state(
    estimator,
    net,
    module_,
    X,
    loss_curve,
    validation_scores,
    n_iter,
    keep_engine=False,
    n_epochs=None,
    sample_weight=None,
):
    """Set every fitted attribute from the engine's last ``n_epochs`` epochs (None: all) after ``n_iter`` earlier."""
    history = list(net.history)
    history = history[len(history) - (len(history) if n_epochs is None else n_epochs) :]
    if hasattr(module_, "likelihood"):
        # Its constants exact, as a loaded model rebuilds them: training cast them to float32.
        module_.likelihood = estimator._mixed_likelihood()
    estimator.module_ = module_
    # A kept engine goes on updating its optimizer state in place: copy it, to
    # the CPU so that it pickles anywhere. A discarded CPU engine's is kept as is.
    state = net.optimizer_.state_dict()
    keep_as_is = net.device.type == "cpu" and not keep_engine
    estimator._optimizer_state = (
        state if keep_as_is else _to_cpu(state, copy=keep_engine)
    )
    estimator.loss_curve_ = loss_curve + [epoch["train_loss"] for epoch in history]
    estimator.validation_scores_ = validation_scores
    if net.valid_dataset is not None:
        estimator.validation_scores_ = validation_scores + [
            -epoch["valid_loss"] for epoch in history
        ]
        estimator.best_validation_score_ = max(estimator.validation_scores_)
    estimator.best_loss_ = min(estimator.loss_curve_)
    estimator.n_iter_ = n_iter + len(history)
    estimator.device_ = str(net.device)
    estimator._n_features_out = estimator._code_size()
    estimator._set_fitted_statistics(
        estimator._split_targets(X)[0], sample_weight
    )  # what the encoder reads


def _stopped(net):
    callback = dict(net.callbacks_).get("stopping")
    return callback is not None and callback.misses_ >= callback.patience


def _to_cpu(state, copy=False):
    """An optimizer state dict with every tensor moved to the CPU (``copy``: never sharing memory)."""
    return map_nested(
        state, torch.Tensor, lambda tensor: tensor.detach().to("cpu", copy=copy)
    )
