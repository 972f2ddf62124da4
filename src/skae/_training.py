"""The one training loop: a skorch ``NeuralNet`` fed with tensor slices.

skorch brings the callbacks (early stopping, progress bars, LR schedulers,
checkpoints, gradient clipping) and the history, written as skorch writes it
so that its callbacks work. Its default data path wraps every sample in a
``Dataset``/``DataLoader``, which measured slower than a plain PyTorch loop
on tabular data (see the engine benchmark page). Here batches are slices of
tensors already on the device, shuffled with one gather per epoch.

Data larger than memory (a memmap, a dask array, an h5py or zarr dataset) is
fed by :class:`~skae._batches.ChunkedBatches`, which reads it a chunk at a time
and hands each chunk to :class:`~skae._batches.TensorBatches`: the same loop
trains on both.

This is the only module that imports skorch.
"""

import copy
import math

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, ProgressBar
from skorch.history import History
from skorch.utils import TeeGenerator, noop

from ._batches import (
    Batch,
    ChunkedBatches,
    ChunkedDataset,
    TensorBatches,
    TensorDataset,
)
from ._persistence import NeverRestored

__all__ = [
    "on_device",
    "AutoencoderNet",
    "stopping_callback",
    "schedule_callback",
    "progress_callbacks",
]


class EpochHistory(History):
    """skorch's ``History`` with the engine's writes of the latest epoch and batch as list operations.

    ``History.__getitem__`` parses general keys (slices across epochs and
    batches, column tuples); the engine writes several times an epoch and
    twice a batch. The engine itself reads and writes rows through
    :func:`_latest`, so a plain ``History`` loaded by ``LoadInitState``
    works as well.
    """

    def new_batch(self):
        _latest(self)["batches"].append({})

    def record(self, attr, value):
        if not self:
            raise ValueError("Call new_epoch before recording for the first time.")
        _latest(self)[attr] = value

    def record_batch(self, attr, value):
        _latest(self)["batches"][-1][attr] = value


def _latest(history):
    """The current epoch's row of a skorch ``History`` (a list of dicts), without its key parsing."""
    return list.__getitem__(history, -1)


class AutoencoderNet(
    NeverRestored, NeuralNet
):  # never restored: skorch's __setstate__ unpickles bytes
    """A ``NeuralNet`` whose loss is ``objective(module, X_batch, weights_batch, sample_weight_batch)``.

    The objective owns the forward pass, because autoencoder losses need more
    than ``(y_pred, y_true)``: the code for sparsity penalties, the encoder for
    Jacobian penalties, the posterior for the KL term.

    The history is skorch's: every batch's row holds ``train_loss`` (or
    ``valid_loss``) and ``train_batch_size`` (or ``valid_batch_size``), every
    epoch's row the epoch's mean loss and whether it is the best so far
    (``train_loss_best``, ``valid_loss_best``), so skorch's callbacks read
    what they expect. Data-parallel, the epoch's loss is over every
    process's rows; the batch rows are the process's own. An engine kept
    across partial_fit calls keeps the batch rows of its latest call only.

    What callbacks see differs from a supervised net in three ways, because
    an autoencoder's target is its input:

    - a batch is ``(X, X)``, so ``BatchScoring`` with a scikit-learn scorer
      name (e.g. ``"neg_mean_squared_error"``) scores the reconstruction of
      the batch;
    - a step's ``y_pred`` is None (the objective does not hand its output
      back), so the net's ``use_caching`` is off and scoring callbacks
      predict again, with ``net.predict`` or ``net.forward``;
    - ``EpochScoring`` gets the epoch's data as the engine holds it and
      ``y=None``: a callable ``scoring(net, X, y)`` may pass that ``X`` to
      ``net.predict``, but scikit-learn scorer names, which need a ``y``,
      do not apply.
    """

    def __init__(
        self,
        module,
        *,
        objective,
        weight_decay=0.0,
        fused=None,
        generator=None,
        valid_dataset=None,
        shard=None,
        **kwargs,
    ):
        # Scoring callbacks predict again (use_caching off): a step has no y_pred to cache.
        fixed = dict(
            criterion=torch.nn.Identity,
            optimizer=torch.optim.Adam,
            train_split=None,
            use_caching=False,
        )
        super().__init__(module, **fixed, **kwargs)
        self.objective = objective
        self.shard = shard
        self.weight_decay = weight_decay
        self.fused = fused
        self.generator = generator
        self.valid_dataset = valid_dataset

    def initialize_optimizer(self, triggered_directly=None):
        """Adam with weight decay on weights only, as MLPRegressor's ``alpha``.

        The two groups are built here rather than with skorch's
        ``optimizer__param_groups``, which matches name patterns at every
        fit; and there is one group when nothing decays, since fused Adam
        launches once per group and step (both measured, see the engine
        benchmark page).
        """
        parameters = list(self.get_all_learnable_params())
        groups = [{"params": [p for _, p in parameters]}]
        if self.weight_decay:
            groups = [
                {
                    "params": [
                        p for name, p in parameters if not name.endswith("bias")
                    ],
                    "weight_decay": self.weight_decay,
                },
                {
                    "params": [p for name, p in parameters if name.endswith("bias")],
                    "weight_decay": 0.0,
                },
            ]
        self.optimizer_ = self.optimizer(groups, lr=self.lr, fused=self.fused)
        return self

    def get_default_callbacks(self):
        # The epoch losses and their *_best flags are recorded by
        # run_single_epoch (over every process when data-parallel), not by
        # skorch's PassthroughScoring defaults. skorch's PrintLog table is
        # replaced by one "epoch n/max_epochs" line, and only added when it prints.
        return [("epoch_timer", EpochTimer())] + (
            [("print_log", EpochLog())] if self.verbose else []
        )

    def initialize(self):
        # skorch moves the module to ``device`` with a walk of the module tree
        # even where it already is, a cost a small fit notices (see the engine
        # benchmark page): the caller builds it on the device (see
        # ``on_device``), so skorch is told none.
        device, self.device = self.device, None
        try:
            return super().initialize()
        finally:
            self.device = device

    # The module is built by the estimator and the loss is the objective's:
    # skorch's defaults would look both up among the net's parameters at
    # every fit, for nothing.
    def initialize_module(self):
        self.module_ = self.module
        if self.shard is not None:
            # DistributedDataParallel sums the gradients of what runs inside
            # its forward, and the objective does more than module(X) (the
            # code for penalties, the encoder for Jacobians): it wraps both.
            from torch.nn.parallel import DistributedDataParallel

            self.parallel_objective_ = DistributedDataParallel(
                ObjectiveModule(self.module_, self.objective),
                process_group=self.shard.group,
            )
        return self

    def initialize_criterion(self):
        self.criterion_ = _NO_CRITERION
        return self

    def initialize_history(self):
        self.history_ = EpochHistory()
        self.best_losses_ = {}  # prefix -> the lowest epoch loss so far, for the *_loss_best flags
        self.epochs_with_batch_rows_ = (
            0  # the epochs before it have dropped their batch rows
        )
        return self

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        # partial_fit keeps one engine for a stream of calls, each an epoch:
        # earlier calls' epochs keep their epoch rows and drop their batch
        # rows, so its history grows by one row a call, not by one a batch.
        for epoch in list.__getitem__(
            self.history, slice(self.epochs_with_batch_rows_, None)
        ):
            epoch["batches"] = []
        self.epochs_with_batch_rows_ = len(self.history)

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # Per-batch hooks reach only the callbacks that define them: notifying
        # every callback three times a batch, and building on_grad_computed's
        # parameter generator for none of them, was work done on every batch
        # (see the engine benchmark).
        self.batch_hooks_ = {
            hook: [
                callback for _, callback in self.callbacks_ if _defines(callback, hook)
            ]
            for hook in ("on_batch_begin", "on_grad_computed", "on_batch_end")
        }
        return self

    def _notify_batch(self, hook, **kwargs):
        for callback in self.batch_hooks_[hook]:
            getattr(callback, hook)(self, **kwargs)

    def get_split_datasets(self, X, y=None, **fit_params):
        return X, self.valid_dataset

    def get_dataset(self, X, y=None):
        # The engine's datasets, as EpochScoring hands them to net.predict, are used as they are.
        return (
            X
            if isinstance(X, (TensorDataset, ChunkedDataset))
            else super().get_dataset(X, y)
        )

    def get_iterator(self, dataset, training=False):
        if not isinstance(dataset, (TensorDataset, ChunkedDataset)):
            return super().get_iterator(
                dataset, training
            )  # a scoring callback's net.predict(X_batch)
        batches = (
            ChunkedBatches if isinstance(dataset, ChunkedDataset) else TensorBatches
        )
        return batches(
            dataset,
            self.batch_size,
            shuffle=training,
            generator=self.generator,
            shard=self.shard,
        )

    def evaluation_step(self, batch, training=False):
        # A scoring callback's net.predict over the engine's own datasets gets
        # Batch tuples (X, weights, share); skorch's unpack_data expects (X, y).
        return super().evaluation_step(
            (batch.X, None) if isinstance(batch, Batch) else batch, training
        )

    def train_step(self, batch, **fit_params):
        X, weights, share, sample_weight = (
            batch  # a share of the global batch when data-parallel
        )
        # What optimizer.zero_grad(set_to_none=True) does, without its profiler
        # scope and per-group dispatch (see the engine benchmark).
        for group in self.optimizer_.param_groups:
            for parameter in group["params"]:
                parameter.grad = None
        if share is not None:
            loss = self.parallel_objective_(X, weights)
            (loss * share).backward()
        else:
            loss = self.objective(self.module_, X, weights, sample_weight)
            loss.backward()
        if self.batch_hooks_["on_grad_computed"]:
            self._notify_batch(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=(X, X),
                training=True,
            )
        self.optimizer_.step()
        return {"loss": loss, "y_pred": None}

    def validation_step(self, batch, **fit_params):
        X, weights, _, sample_weight = batch
        with torch.no_grad():
            return {
                "loss": self.objective(self.module_, X, weights, sample_weight),
                "y_pred": None,
            }

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """One pass over ``iterator``, writing skorch's per-batch rows and the epoch's loss."""
        if iterator is None:
            return
        batch_rows = _latest(self.history)["batches"]
        loss_key, size_key = prefix + "_loss", prefix + "_batch_size"
        hooks = self.batch_hooks_["on_batch_begin"] or self.batch_hooks_["on_batch_end"]
        # The epoch's loss is summed on the device, as it always was, so that
        # loss_curve_ keeps its float32 sums. Summed in place: keeping one
        # small tensor per batch until the epoch ends fragmented glibc's heap
        # between the batches' large transient buffers on long streams.
        # Weighted batches (sample_weight) count by their weight, as their loss is a weighted mean.
        loss_sum, total_weight, n_batches = None, 0.0, 0
        for batch in iterator:
            # Set per batch, as skorch does, but only when it changes (each
            # call walks the module tree): a scoring callback's net.predict
            # leaves the module in eval mode.
            if self.module_.training != training:
                self.module_.train(training)
            row = {}
            batch_rows.append(row)
            if hooks:
                self._notify_batch(
                    "on_batch_begin", batch=(batch[0], batch[0]), training=training
                )
            step = step_fn(batch)
            rows = batch.n_rows
            loss = step["loss"].detach()
            if batch.sample_weight is None:
                loss_sum = (
                    loss * rows if loss_sum is None else loss_sum.add_(loss, alpha=rows)
                )
                total_weight += rows
            else:
                weight = batch.sample_weight.sum()
                loss_sum = (
                    loss * weight if loss_sum is None else loss_sum.add_(loss * weight)
                )
                total_weight = weight + total_weight
            row[loss_key] = loss.item()
            row[size_key] = rows
            n_batches += 1
            if hooks:
                self._notify_batch(
                    "on_batch_end",
                    batch=(batch[0], batch[0]),
                    training=training,
                    **step,
                )
        self.history.record(prefix + "_batch_count", n_batches)
        self._record_epoch_loss(prefix, float(loss_sum), float(total_weight))

    def _record_epoch_loss(self, prefix, loss_sum, total_weight):
        """Record the epoch's mean loss over every process's rows (weighted mean), and whether it is the best so far."""
        if self.shard is not None:
            loss_sum, total_weight = self.shard.sum([loss_sum, total_weight])
        epoch_loss = loss_sum / total_weight
        if not math.isfinite(epoch_loss):
            raise FloatingPointError(
                f"The {prefix} loss became {epoch_loss} at epoch {len(self.history)}: "
                f"training diverged. Lower learning_rate_init (now {self.lr}); if X holds values "
                "beyond about 1e15, whose squares overflow float32, scale it first (for example "
                "with StandardScaler)."
            )
        is_best = epoch_loss < self.best_losses_.get(prefix, math.inf)
        if is_best:
            self.best_losses_[prefix] = epoch_loss
        epoch = _latest(self.history)
        epoch[prefix + "_loss"] = epoch_loss
        epoch[prefix + "_loss_best"] = is_best


_NO_CRITERION = torch.nn.Identity()


class ObjectiveModule(torch.nn.Module):
    """``objective(module, X, weights)`` as a module's forward, for DistributedDataParallel to wrap."""

    def __init__(self, module, objective):
        super().__init__()
        self.module = module
        self.objective = objective

    def forward(self, X, weights):
        return self.objective(self.module, X, weights)


def on_device(module, device):
    """``module`` with every parameter and buffer on ``device``, moved only if one is elsewhere."""
    tensors = [*module.parameters(), *module.buffers()]
    if any(tensor.device != device for tensor in tensors):
        module = module.to(device)
    return module


def _defines(callback, hook):
    """Whether ``callback`` does something at ``hook`` (skorch's ``Callback`` does nothing at each)."""
    return getattr(type(callback), hook, None) is not getattr(Callback, hook)


class EpochLog(Callback):
    """Prints one line an epoch, ``epoch n/max_epochs`` and its losses, as MLPRegressor's ``verbose`` does.

    ``n`` counts the epochs of this call to fit (or partial_fit).
    """

    def __init__(self, sink=print):
        self.sink = sink

    def on_train_begin(self, net, **kwargs):
        self.epochs_ = 0

    def on_epoch_end(self, net, **kwargs):
        self.epochs_ += 1
        epoch = _latest(net.history)
        losses = [
            f"{key} {epoch[key]:.6g}"
            for key in ("train_loss", "valid_loss")
            if key in epoch
        ]
        self.sink(
            "  ".join(
                [
                    f"epoch {self.epochs_}/{net.max_epochs}",
                    *losses,
                    f"{epoch.get('dur', 0.0):.2f}s",
                ]
            )
        )


class EpochSchedule(Callback):
    """Calls ``schedule(module, epoch)`` before every epoch and records whether the objective still changes.

    ``epoch`` counts the epochs of earlier warm-started or partial fits too
    (``epochs_before``). This is how a variant changes its objective during
    training (SparseAE anneals k) without importing skorch.
    """

    def __init__(self, schedule, epochs_before=0):
        self.schedule = schedule
        self.epochs_before = epochs_before

    def on_epoch_begin(self, net, **kwargs):
        changing = self.schedule(net.module_, self.epochs_before + len(net.history) - 1)
        net.history.record("objective_changing", bool(changing))


class ScheduleAwareEarlyStopping(Callback):
    """scikit-learn's ``n_iter_no_change`` / ``tol`` rule, not counting epochs while the objective changes.

    While the objective itself changes (a SparseAE annealing k), its losses
    are not comparable from epoch to epoch and must not stop training.

    Counting follows scikit-learn's MLP (``_update_no_improvement_count``),
    not skorch's ``EarlyStopping``: an epoch is a miss unless it beats the
    best loss so far by ``tol``, and any lower loss becomes the best. skorch
    keeps the best only from epochs that beat it by the threshold, so a slow
    steady descent (less than ``tol`` an epoch, more than ``tol`` over two)
    never stopped. With ``restore_best``, the module ends with the weights of
    its best epoch, as skorch's ``load_best`` does.
    """

    def __init__(self, monitor, patience, tol, restore_best=False, sink=noop):
        self.monitor = monitor
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.sink = sink

    def on_train_begin(self, net, **kwargs):
        self.misses_ = 0
        self.best_score_ = math.inf
        self.best_epoch_ = None
        self.best_weights_ = None

    def on_epoch_end(self, net, **kwargs):
        epoch = _latest(net.history)
        if epoch.get("objective_changing", False):
            self.on_train_begin(net)  # forget the scores of a changing objective
            return
        score = epoch[self.monitor]
        self.misses_ = self.misses_ + 1 if score > self.best_score_ - self.tol else 0
        if score < self.best_score_:
            self.best_score_, self.best_epoch_ = score, epoch["epoch"]
            if self.restore_best:
                self.best_weights_ = copy.deepcopy(net.module_.state_dict())
        if self.misses_ >= self.patience:
            self.sink(
                f"Stopping since {self.monitor} has not improved by tol in the last {self.patience} epochs."
            )
            raise KeyboardInterrupt  # how a skorch callback ends training (skorch's EarlyStopping does so)

    def on_train_end(self, net, **kwargs):
        if (
            self.best_weights_ is not None
            and self.best_epoch_ != _latest(net.history)["epoch"]
        ):
            net.module_.load_state_dict(self.best_weights_)
            self.sink(f"Restoring best model from epoch {self.best_epoch_}.")


def stopping_callback(monitor, patience, tol, restore_best, verbose):
    """scikit-learn's ``n_iter_no_change`` / ``tol`` rule as a skorch callback, once the objective is fixed."""
    return ScheduleAwareEarlyStopping(
        monitor, patience, tol, restore_best, sink=print if verbose else noop
    )


def schedule_callback(schedule, epochs_before):
    """The engine's per-epoch hook: ``schedule(module, epoch) -> still changing``."""
    return EpochSchedule(schedule, epochs_before)


def progress_callbacks(verbose):
    """A progress bar per epoch for ``verbose >= 2`` (the per-epoch line comes with ``verbose >= 1``)."""
    return [("progress_bar", ProgressBar())] if verbose >= 2 else []
