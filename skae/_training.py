"""The one training loop: a skorch ``NeuralNet`` fed with tensor slices.

skorch brings the callbacks (early stopping, progress bars, LR schedulers,
checkpoints, gradient clipping) and the history. Its default data path wraps
every sample in a ``Dataset``/``DataLoader`` and records every batch loss with a
host sync, which made it 1.3-3x slower than a plain PyTorch loop on tabular
data. Here batches are slices of tensors already on the device, shuffled with
one gather per epoch, and the epoch loss is read back once per epoch.

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
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PrintLog, ProgressBar
from skorch.history import History
from skorch.utils import TeeGenerator, noop

from ._batches import ChunkedBatches, ChunkedDataset, TensorBatches

__all__ = ["on_device", "AutoencoderNet", "stopping_callback", "schedule_callback", "progress_callbacks"]


class EpochHistory(History):
    """skorch's ``History`` with the engine's writes and reads of the latest epoch as list operations.

    ``History.__getitem__`` parses general keys (slices across epochs and
    batches, column tuples) in ~4 µs; the engine writes five times an epoch
    and once a batch, which was a fifth of the per-epoch overhead.
    """

    def latest(self):
        """The current epoch's row (``history[-1]``)."""
        return list.__getitem__(self, -1)

    def new_batch(self):
        self.latest()["batches"].append({})

    def record(self, attr, value):
        if not self:
            raise ValueError("Call new_epoch before recording for the first time.")
        self.latest()[attr] = value

    def record_batch(self, attr, value):
        self.latest()["batches"][-1][attr] = value


class AutoencoderNet(NeuralNet):
    """A ``NeuralNet`` whose loss is ``objective(module, X_batch, weights_batch)``.

    The objective owns the forward pass, because autoencoder losses need more
    than ``(y_pred, y_true)``: the code for sparsity penalties, the encoder for
    Jacobian penalties, the posterior for the KL term.
    """

    def __init__(
        self, module, *, objective, weight_decay=0.0, fused=None, generator=None, valid_dataset=None, shard=None, **kwargs
    ):
        super().__init__(module, criterion=torch.nn.Identity, optimizer=torch.optim.Adam, train_split=None, **kwargs)
        self.objective = objective
        self.shard = shard
        self.weight_decay = weight_decay
        self.fused = fused
        self.generator = generator
        self.valid_dataset = valid_dataset

    def initialize_optimizer(self, triggered_directly=None):
        """Adam with weight decay on weights only, as MLPRegressor's ``alpha``.

        The two groups are built here: skorch's ``optimizer__param_groups``
        matches name patterns (tens of µs a fit), and one group when nothing
        decays, since fused Adam launches once per group (+9 µs a step).
        """
        parameters = list(self.get_all_learnable_params())
        groups = [{"params": [p for _, p in parameters]}]
        if self.weight_decay:
            groups = [
                {"params": [p for name, p in parameters if not name.endswith("bias")], "weight_decay": self.weight_decay},
                {"params": [p for name, p in parameters if name.endswith("bias")], "weight_decay": 0.0},
            ]
        self.optimizer_ = self.optimizer(groups, lr=self.lr, fused=self.fused)
        return self

    def get_default_callbacks(self):
        # PrintLog formats its table every epoch even when verbose=0 (0.27 ms
        # per epoch, cProfile), so it is only added when it prints.
        return [("epoch_timer", EpochTimer())] + ([("print_log", PrintLog())] if self.verbose else [])

    def initialize(self):
        # skorch moves the module to ``device`` with a walk of the module tree
        # (~35 µs, 2% of a small fit) even where it already is: the caller
        # builds it on the device (see ``on_device``), so skorch is told none.
        device, self.device = self.device, None
        try:
            return super().initialize()
        finally:
            self.device = device

    # The module is built by the estimator and the loss is the objective's:
    # skorch's defaults would look both up among the net's parameters
    # (~10 µs a fit).
    def initialize_module(self):
        self.module_ = self.module
        if self.shard is not None:
            # DistributedDataParallel sums the gradients of what runs inside
            # its forward, and the objective does more than module(X) (the
            # code for penalties, the encoder for Jacobians): it wraps both.
            from torch.nn.parallel import DistributedDataParallel

            self.parallel_objective_ = DistributedDataParallel(
                ObjectiveModule(self.module_, self.objective), process_group=self.shard.group
            )
        return self

    def initialize_criterion(self):
        self.criterion_ = _NO_CRITERION
        return self

    def initialize_history(self):
        self.history_ = EpochHistory()
        return self

    def initialize_callbacks(self):
        super().initialize_callbacks()
        # Per-batch hooks reach only the callbacks that define them: notifying
        # every callback three times a batch, and building on_grad_computed's
        # parameter generator for none of them, was work done on every batch
        # (part of the 1.22x -> 1.10x the fused raw loop on digits, with the
        # other changes in this class; benchmarks/bench_engine.py).
        self.batch_hooks_ = {
            hook: [callback for _, callback in self.callbacks_ if _defines(callback, hook)]
            for hook in ("on_batch_begin", "on_grad_computed", "on_batch_end")
        }
        return self

    def _notify_batch(self, hook, **kwargs):
        getattr(self, hook)(self, **kwargs)  # the net's own: on_batch_begin opens the batch's history row
        for callback in self.batch_hooks_[hook]:
            getattr(callback, hook)(self, **kwargs)

    def get_split_datasets(self, X, y=None, **fit_params):
        return X, self.valid_dataset

    def get_iterator(self, dataset, training=False):
        batches = ChunkedBatches if isinstance(dataset, ChunkedDataset) else TensorBatches
        return batches(dataset, self.batch_size, shuffle=training, generator=self.generator, shard=self.shard)

    def train_step(self, batch, **fit_params):
        X, weights, share = batch  # a share of the global batch when data-parallel
        # What optimizer.zero_grad(set_to_none=True) does, without its profiler
        # scope and per-group dispatch: 7 µs a batch, 3% of an epoch on digits.
        for group in self.optimizer_.param_groups:
            for parameter in group["params"]:
                parameter.grad = None
        if share is not None:
            loss = self.parallel_objective_(X, weights)
            (loss * share).backward()
        else:
            loss = self.objective(self.module_, X, weights)
            loss.backward()
        if self.batch_hooks_["on_grad_computed"]:
            self._notify_batch(
                "on_grad_computed",
                named_parameters=TeeGenerator(self.get_all_learnable_params()),
                batch=batch,
                training=True,
            )
        self.optimizer_.step()
        return {"loss": loss}

    def validation_step(self, batch, **fit_params):
        X, weights, _ = batch
        with torch.no_grad():
            return {"loss": self.objective(self.module_, X, weights)}

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        if iterator is None:
            return
        # Modes are set once per phase, not once per batch as skorch does,
        # and only when they change: walking the module tree costs ~30 µs.
        if self.module_.training != training:
            self._set_training(training)
        # The loss is summed on the device and read once per epoch. Summed in
        # place: keeping one small tensor per batch until the epoch ends
        # fragmented glibc's heap between the batches' large transient
        # buffers, and RssAnon grew ~200 KB per batch on a 30 GiB stream.
        loss_sum, n_rows = None, 0
        for batch in iterator:
            self._notify_batch("on_batch_begin", batch=batch, training=training)
            step = step_fn(batch)
            rows = batch.n_rows
            loss = step["loss"].detach()
            loss_sum = loss * rows if loss_sum is None else loss_sum.add_(loss, alpha=rows)
            n_rows += rows
            self._notify_batch("on_batch_end", batch=batch, training=training, **step)
        loss_sum = float(loss_sum)
        if self.shard is not None:  # every process records the global batch's loss
            loss_sum, n_rows = self.shard.sum([loss_sum, n_rows])
        epoch_loss = loss_sum / n_rows
        self.history.record(prefix + "_loss", epoch_loss)
        if not math.isfinite(epoch_loss):
            raise FloatingPointError(
                f"The {prefix} loss became {epoch_loss} at epoch {len(self.history)}: "
                f"training diverged. Lower learning_rate_init (now {self.lr}); if X holds values "
                "beyond about 1e15, whose squares overflow float32, scale it first (for example "
                "with StandardScaler)."
            )


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


class ScheduleAwareEarlyStopping(EarlyStopping):
    """skorch's EarlyStopping that does not count epochs while the objective changes.

    While the objective itself changes (a SparseAE annealing k), its losses
    are not comparable from epoch to epoch and must not stop training.

    Counting follows scikit-learn's MLP (``_update_no_improvement_count``),
    not skorch's: an epoch is a miss unless it beats the best loss so far by
    ``threshold``, and any lower loss becomes the best. skorch keeps the best
    only from epochs that beat it by the threshold, so a slow steady descent
    (less than ``tol`` an epoch, more than ``tol`` over two) never stopped.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        self.best_score_ = float("inf")

    def on_epoch_end(self, net, **kwargs):
        epoch = net.history.latest()
        if epoch.get("objective_changing", False):
            self.on_train_begin(net)  # forget the scores of a changing objective
            return
        score = epoch[self.monitor]
        self.misses_ = self.misses_ + 1 if score > self.best_score_ - self.threshold else 0
        if score < self.best_score_:
            self.best_score_ = score
            self.best_epoch_ = epoch["epoch"]
            if self.load_best:
                self.best_model_weights_ = copy.deepcopy(net.module_.state_dict())
        if self.misses_ >= self.patience:
            self._sink(f"Stopping since {self.monitor} has not improved by tol in the last {self.patience} epochs.", verbose=net.verbose)
            raise KeyboardInterrupt


def stopping_callback(monitor, patience, tol, restore_best, verbose):
    """scikit-learn's ``n_iter_no_change`` / ``tol`` rule as skorch's EarlyStopping, once the objective is fixed."""
    return ScheduleAwareEarlyStopping(
        monitor=monitor,
        patience=patience,
        threshold=tol,
        threshold_mode="abs",
        lower_is_better=True,
        load_best=restore_best,
        sink=print if verbose else noop,
    )


def schedule_callback(schedule, epochs_before):
    """The engine's per-epoch hook: ``schedule(module, epoch) -> still changing``."""
    return EpochSchedule(schedule, epochs_before)


def progress_callbacks(verbose):
    """A progress bar per epoch for ``verbose >= 2`` (the per-epoch table comes with ``verbose >= 1``)."""
    return [("progress_bar", ProgressBar())] if verbose >= 2 else []
