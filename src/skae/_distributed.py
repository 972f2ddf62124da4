"""Data-parallel training of one model over the processes of a ``torch.distributed`` group.

Each process (as ``torchrun`` starts them) fits the same estimator on the
same ``X`` inside :func:`data_parallel`. Every process draws the same shuffle
(seeds are broadcast from rank 0) and trains on its share of each global
batch (out of core: on batches of the blocks it alone reads); torch's
``DistributedDataParallel`` sums the gradients, and losses are reduced once
per epoch, so every process records the same history, stops at the same
epoch and ends with the same ``module_``. Design and limits:
docs/user_guide/multi_gpu.rst.
"""

import contextlib
import threading
from dataclasses import dataclass

import torch

__all__ = ["data_parallel", "current_shard", "Shard"]

_state = threading.local()


@dataclass(frozen=True)
class Shard:
    """This process's place in a data-parallel fit: ``rank`` of ``world_size`` in ``group``.

    Which rows each process trains on is decided by :func:`skae._batches.shard_batches`.
    """

    rank: int
    world_size: int
    group: object = None

    def sum(self, values):
        """The sums of ``values`` (floats) over the group's processes."""
        import torch.distributed as dist

        # gloo and NCCL both reduce float64 tensors; the CPU one serves gloo.
        tensor = torch.tensor(
            values, dtype=torch.float64, device=_collective_device(self.group)
        )
        dist.all_reduce(tensor, group=self.group)
        return tensor.tolist()

    def broadcast(self, values):
        """Rank 0's ``values`` (a list of ints), on every process."""
        import torch.distributed as dist

        objects = [list(values)]
        source = 0 if self.group is None else dist.get_global_rank(self.group, 0)
        dist.broadcast_object_list(objects, src=source, group=self.group)
        return objects[0]


def _collective_device(group):
    import torch.distributed as dist

    if dist.get_backend(group) == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


@contextlib.contextmanager
def data_parallel(group=None):
    """Train data-parallel over the processes of a ``torch.distributed`` group.

    Inside the block, ``fit`` of every skae estimator trains one model with
    all the group's processes: call it on every process, with the same data
    and parameters (``torchrun --nproc-per-node N script.py`` runs the same
    script ``N`` times). Each process computes the gradients of its share of
    every batch; ``batch_size``, the number of optimizer steps, the loss
    history and the fitted model are those of one process training alone,
    up to the order of floating-point sums (out of core, each process reads
    only its own blocks, so batches are made of other rows), and every
    process ends with the same ``module_``. Use ``device="cuda"`` after ``torch.cuda.set_device``
    with the process's local rank, and the NCCL backend, on GPUs; the gloo
    backend on CPUs.

    Parameters
    ----------
    group : torch.distributed.ProcessGroup, default=None
        The processes to train with; None is the default group, which
        :func:`torch.distributed.init_process_group` must have initialised.

    Raises
    ------
    RuntimeError
        When no process group is initialised.

    Examples
    --------
    A script that ``torchrun`` starts on every process; here a group of one.

    >>> import tempfile
    >>> import torch.distributed as dist
    >>> from sklearn.datasets import load_digits
    >>> from skae import AutoencoderTransformer, data_parallel
    >>> X = load_digits().data / 16
    >>> store = tempfile.TemporaryDirectory()  # torchrun's environment replaces init_method
    >>> dist.init_process_group("gloo", init_method=f"file://{store.name}/group", rank=0, world_size=1)
    >>> with data_parallel():
    ...     ae = AutoencoderTransformer(8, hidden_layer_sizes=(32,), max_iter=20, random_state=0).fit(X)
    >>> ae.transform(X).shape
    (1797, 8)
    >>> dist.destroy_process_group()
    >>> store.cleanup()
    """
    import torch.distributed as dist

    if not (dist.is_available() and dist.is_initialized()):
        raise RuntimeError(
            "skae.data_parallel() needs an initialised torch.distributed process group: call "
            "torch.distributed.init_process_group (torchrun sets its environment) on every process first."
        )
    previous = getattr(_state, "shard", None)
    _state.shard = Shard(dist.get_rank(group), dist.get_world_size(group), group)
    try:
        yield
    finally:
        _state.shard = previous


def current_shard():
    """The :class:`Shard` of the enclosing :func:`data_parallel` block on this thread, or None."""
    return getattr(_state, "shard", None)
