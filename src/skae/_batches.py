"""``X`` -> batches: in-memory tensors and streamed blocks, one batch type, one sharding rule.

In-memory data is copied to the training device once and cut into
mini-batches by slicing (:class:`TensorBatches`). Out-of-core data (a memmap,
a dask array, an h5py or zarr dataset) is cut into blocks of rows; an epoch
visits the blocks a chunk at a time, reading the next chunk while the current
one trains (:class:`ChunkedBatches`), and trains on each chunk as in memory.
With ``early_stopping`` a random part of the rows (in memory) or of the
blocks (out of core) is held out for validation (:func:`training_data`).

Every batch is a :class:`Batch`. Data-parallel, every process yields its
part of each global batch (:func:`shard_batches`, the one sharding rule).
"""

import math
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from ._random import rng_generator
from ._torch_utils import to_tensor

# Out-of-core training: bytes per chunk for chunk_size="auto" (as float32
# rows), and blocks per chunk. Blocks are the unit of shuffling and of the
# validation split; many blocks per chunk mix rows from far-apart parts of X
# in every chunk while each block is still one contiguous read.
_AUTO_CHUNK_BYTES = 64 * 2**20
_BLOCKS_PER_CHUNK = 16

# batch_size="auto": MLPRegressor's min(200, n_samples) rows per batch, but at
# least _AUTO_MIN_BATCHES batches per epoch while batches keep at least
# _AUTO_MIN_BATCH_ROWS rows: with one Adam step per epoch on small tables the
# epoch-counted stopping rule and max_iter allow too few steps. Chosen on
# development sets; see the defaults page.
_AUTO_MAX_BATCH_ROWS = 200
_AUTO_MIN_BATCHES = 4
_AUTO_MIN_BATCH_ROWS = 32


class Batch(NamedTuple):
    """One mini-batch: rows ``X``, optional per-cell loss ``weights``, ``share``, optional ``sample_weight``.

    ``share`` is None when training alone; data-parallel it scales this
    process's mean loss so that the average over processes is the global
    batch's mean (0 for a placeholder row that adds nothing). ``sample_weight``
    (one per row, None: unweighted) makes the batch's loss a weighted mean
    over its rows.
    """

    X: torch.Tensor
    weights: torch.Tensor | None = None
    share: float | None = None
    sample_weight: torch.Tensor | None = None

    @property
    def n_rows(self):
        """The rows this batch adds to the epoch's loss (none for a placeholder)."""
        return 0 if self.share == 0 else len(self.X)


class TrainingData(NamedTuple):
    """What a fit trains on: the training dataset, the validation dataset (or None) and the batch size."""

    train: object
    valid: object
    batch_size: int


def is_out_of_core(X):
    """Whether ``X`` is trained on chunk by chunk rather than copied whole.

    True for numpy memmaps and for arrays that are not numpy, pandas, scipy
    sparse or torch objects but have a 2-D ``shape``, a ``dtype`` and row
    slicing: dask arrays, h5py datasets, zarr arrays.
    """
    if isinstance(X, np.memmap):
        return True
    if isinstance(
        X, (np.ndarray, list, tuple, torch.Tensor, pd.DataFrame, pd.Series)
    ) or sp.issparse(X):
        return False
    return (
        hasattr(X, "dtype")
        and hasattr(X, "__getitem__")
        and len(getattr(X, "shape", ())) == 2
    )


def auto_batch_size(n_rows):
    """``batch_size="auto"`` for ``n_rows`` training rows."""
    few_batches = max(_AUTO_MIN_BATCH_ROWS, math.ceil(n_rows / _AUTO_MIN_BATCHES))
    return min(_AUTO_MAX_BATCH_ROWS, few_batches, n_rows)


def requested_batch_size(batch_size, n_rows):
    """Rows per batch when training on ``n_rows`` rows: ``batch_size`` or the "auto" rule, at most ``n_rows``."""
    return auto_batch_size(n_rows) if batch_size == "auto" else min(batch_size, n_rows)


# ------------------------------------------------------------------ layout
def training_data(
    X, weights, params, rng, use_validation, device, check_chunk, sample_weight=None
):
    """The :class:`TrainingData` of validated ``X`` (with per-cell ``weights`` and per-row ``sample_weight``).

    ``params`` holds the estimator's ``batch_size``, ``chunk_size`` and
    ``validation_fraction``; ``rng`` draws the validation part (and, out of
    core, nothing else); ``check_chunk(rows, ranges)`` checks every chunk read.
    """
    if is_out_of_core(X):
        return chunked_datasets(X, params, rng, use_validation, device, check_chunk)
    train_rows, valid_rows = split_rows(
        len(X), params["validation_fraction"], rng if use_validation else None
    )
    batch_size = requested_batch_size(params["batch_size"], len(train_rows))
    valid_data = (
        None
        if valid_rows is None
        else tensor_dataset(X, weights, valid_rows, device, sample_weight)
    )
    return TrainingData(
        tensor_dataset(X, weights, train_rows, device, sample_weight),
        valid_data,
        batch_size,
    )


def split_rows(n_samples, validation_fraction, rng=None):
    """``(training rows, validation rows)``; with ``rng`` None, every row trains and none validates."""
    rows = np.arange(n_samples)
    if rng is None:
        return rows, None
    n_valid = max(1, int(round(validation_fraction * n_samples)))
    if n_samples - n_valid < 1:
        raise ValueError(
            f"early_stopping=True holds out validation_fraction={validation_fraction} "
            f"of {n_samples} sample(s), leaving none to train on; provide more samples "
            "or set early_stopping=False."
        )
    rows = rng.permutation(n_samples)
    return rows[n_valid:], rows[:n_valid]


def tensor_dataset(X, weights, rows, device, sample_weight=None):
    """A :class:`TensorDataset` of ``X[rows]`` (and ``weights[rows]``, ``sample_weight[rows]``) on ``device``."""
    if len(rows) == len(X):
        rows = slice(None)  # all rows, in order: no fancy-indexing copy
    return TensorDataset(
        to_tensor(X[rows], device),
        None if weights is None else to_tensor(weights[rows], device),
        None if sample_weight is None else to_tensor(sample_weight[rows], device),
    )


def chunked_datasets(X, params, rng, use_validation, device, check_chunk):
    """The :class:`TrainingData` of out-of-core ``X``: training and validation :class:`ChunkedDataset`.

    The rows are cut into blocks of about ``chunk_size / 16`` rows; with
    ``use_validation``, ``validation_fraction`` of the blocks, drawn with
    ``rng``, are held out of the stream.
    """
    n_samples, n_features = X.shape
    batch_size = requested_batch_size(params["batch_size"], n_samples)
    chunk_rows = _chunk_rows(params["chunk_size"], n_features, batch_size)
    block_rows = math.ceil(min(chunk_rows, n_samples) / _BLOCKS_PER_CHUNK)
    starts = np.arange(0, n_samples, block_rows)
    blocks = np.stack([starts, np.minimum(starts + block_rows, n_samples)], axis=1)
    valid_blocks = None
    if use_validation:
        blocks, valid_blocks = _hold_out_blocks(blocks, block_rows, params, rng)
    per_chunk = max(1, chunk_rows // block_rows)
    train_data = ChunkedDataset(X, blocks, per_chunk, device, check_chunk)
    valid_data = (
        None
        if valid_blocks is None
        else ChunkedDataset(X, valid_blocks, per_chunk, device, check_chunk)
    )
    return TrainingData(train_data, valid_data, min(batch_size, len(train_data)))


def _chunk_rows(chunk_size, n_features, batch_size):
    """Rows per chunk: ``chunk_size`` (at least a batch), or for "auto" a multiple of the batch size."""
    if chunk_size == "auto":
        return (
            max(1, (_AUTO_CHUNK_BYTES // (4 * n_features)) // batch_size) * batch_size
        )
    return max(chunk_size, batch_size)


def _hold_out_blocks(blocks, block_rows, params, rng):
    """``(training blocks, validation blocks)``: ``validation_fraction`` of the blocks drawn with ``rng``."""
    fraction = params["validation_fraction"]
    n_valid = max(1, int(round(fraction * len(blocks))))
    if n_valid >= len(blocks):
        raise ValueError(
            f"early_stopping=True holds out validation_fraction={fraction} "
            f"of the {len(blocks)} block(s) of {block_rows} row(s) that chunk_size="
            f"{params['chunk_size']!r} cuts X into, leaving none to train on; provide more "
            "samples, lower chunk_size or set early_stopping=False."
        )
    order = rng.permutation(len(blocks))
    return blocks[np.sort(order[n_valid:])], blocks[np.sort(order[:n_valid])]


# ----------------------------------------------------------------- batches
class TensorDataset:
    """Rows of ``X`` (and optional per-cell ``weights`` and per-row ``sample_weight``) already on the training device."""

    def __init__(self, X, weights=None, sample_weight=None):
        self.X = X
        self.weights = weights
        self.sample_weight = sample_weight

    def __len__(self):
        return len(self.X)


class TensorBatches:
    """Mini-batches sliced (or, when shuffling, gathered) from tensors on the device.

    Shuffled batches are gathered batch by batch rather than with one gather
    of the whole array per epoch, which would allocate a fresh copy of the
    data every epoch.
    """

    def __init__(self, dataset, batch_size, shuffle=False, generator=None, shard=None):
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self.shard = shard

    def __len__(self):
        return math.ceil(len(self.dataset) / self.batch_size)

    def __iter__(self):
        X, weights, sample_weight = (
            self.dataset.X,
            self.dataset.weights,
            self.dataset.sample_weight,
        )
        order = (
            torch.randperm(len(X), generator=self.generator).to(X.device)
            if self.shuffle
            else None
        )
        if self.shard is not None:
            # Each global batch is cut among the processes.
            sizes = [
                min(self.batch_size, len(X) - start)
                for start in range(0, len(X), self.batch_size)
            ]
            parts = np.array(
                [near_equal_parts(size, self.shard.world_size) for size in sizes]
            ).T
            offsets = np.arange(len(sizes)) * self.batch_size + parts[
                : self.shard.rank
            ].sum(axis=0)
            yield from shard_batches(X, weights, order, parts, offsets, self.shard)
            return
        for start in range(0, len(X), self.batch_size):
            rows = (
                slice(start, start + self.batch_size)
                if order is None
                else order[start : start + self.batch_size]
            )
            yield Batch(
                X[rows],
                None if weights is None else weights[rows],
                None,
                None if sample_weight is None else sample_weight[rows],
            )


def shard_batches(X, weights, order, parts, offsets, shard):
    """This process's :class:`Batch` of every global batch: the one data-parallel sharding rule.

    ``parts[r, s]`` is how many rows process ``r`` trains on at step ``s``,
    known to every process, so no step needs a collective and all take the
    same steps; this process's rows of step ``s`` are positions
    ``offsets[s] : offsets[s] + parts[rank, s]`` of ``X`` (in ``order`` when
    shuffled). A part's share is ``world_size * part / global rows``, which
    scales its mean loss so that DistributedDataParallel's average over
    processes is the global batch's mean. A process without rows in a step
    trains on a placeholder row with share 0: it still takes part in the
    gradient reduction, adding nothing. A step without rows is skipped by all.
    """
    for step in range(parts.shape[1]):
        total, mine = int(parts[:, step].sum()), int(parts[shard.rank, step])
        if total == 0:
            continue
        start, stop = (
            (0, 1) if mine == 0 else (int(offsets[step]), int(offsets[step]) + mine)
        )
        rows = slice(start, stop) if order is None else order[start:stop]
        if len(X) == 0:  # a process that read no rows of this chunk
            yield Batch(
                torch.zeros((1, X.shape[1]), dtype=X.dtype, device=X.device), None, 0.0
            )
            continue
        yield Batch(
            X[rows],
            None if weights is None else weights[rows],
            shard.world_size * mine / total,
        )


def near_equal_parts(n, n_parts):
    """The sizes of ``n`` items cut into ``n_parts`` parts, larger ones first (as ``np.array_split``)."""
    return [n // n_parts + (part < n % n_parts) for part in range(n_parts)]


class ChunkedDataset:
    """Rows of an out-of-core array, read a chunk at a time onto the training device.

    ``blocks`` holds the ``(start, stop)`` row ranges this dataset owns (the
    training or the validation part); a chunk is ``blocks_per_chunk`` of them,
    read with one slice each, converted to float32, and checked with
    ``check(rows, ranges)``, which raises on bad data.
    """

    weights = None
    sample_weight = None

    def __init__(self, X, blocks, blocks_per_chunk, device, check):
        self.X = X
        self.blocks = blocks
        self.blocks_per_chunk = blocks_per_chunk
        self.device = device
        self.check = check

    def __len__(self):
        return _n_rows(self.blocks)

    def read(self, ranges, out=None):
        """The rows of ``ranges`` as one float32 array, written into ``out`` if given.

        Dask arrays are computed in one call.
        """
        if len(ranges) == 0:  # a data-parallel process without blocks in this chunk
            return np.empty((0, self.X.shape[1]), dtype=np.float32)
        parts = [self.X[start:stop] for start, stop in ranges]
        if hasattr(self.X, "__dask_graph__"):
            import dask

            parts = dask.compute(*parts)
        parts = [np.asarray(part) for part in parts]
        n_rows = sum(len(part) for part in parts)
        if (
            out is None or len(out) < n_rows
        ):  # more rows than asked for: check() reports it
            out = np.empty((n_rows, self.X.shape[1]), dtype=np.float32)
        rows = np.concatenate(parts, out=out[:n_rows], casting="unsafe")
        self.check(rows, ranges)
        return rows


class ChunkedBatches(TensorBatches):
    """Mini-batches of a :class:`ChunkedDataset`, chunk by chunk.

    When shuffling, every epoch visits the blocks in a fresh random order, so
    chunks are made of different blocks each epoch, and rows are shuffled
    within each chunk. The next chunk is read in a background thread while
    the current one trains (file and dask reads release the GIL), so at most
    two chunks are in memory.

    Data-parallel (``shard``), every process visits the same chunks but reads
    only its own blocks of each (blocks ``rank, rank + W, ...``), so reading
    is divided too; a global batch is then the processes' local batches
    together (:meth:`sharded`).
    """

    def chunks(self):
        """The blocks of each chunk, in this epoch's order."""
        blocks, per_chunk = self.dataset.blocks, self.dataset.blocks_per_chunk
        if self.shuffle:
            blocks = blocks[
                torch.randperm(len(blocks), generator=self.generator).numpy()
            ]
        return [
            blocks[start : start + per_chunk]
            for start in range(0, len(blocks), per_chunk)
        ]

    def __iter__(self):
        chunks = self.chunks()
        shard = self.shard
        reads = (
            chunks
            if shard is None
            else [blocks[shard.rank :: shard.world_size] for blocks in chunks]
        )
        # Two buffers, filled in turn: a fresh array per chunk grew the C
        # heap without bound on long streams instead of reusing freed chunks.
        rows_per_chunk = max(_n_rows(blocks) for blocks in reads)
        n_features = self.dataset.X.shape[1]
        buffers = [
            np.empty((rows_per_chunk, n_features), dtype=np.float32)
            for _ in range(min(2, len(chunks)))
        ]
        with ThreadPoolExecutor(max_workers=1) as reader:
            pending = reader.submit(self.dataset.read, reads[0], buffers[0])
            for index in range(len(chunks)):
                # The other buffer's chunk is done: its last batch was trained before this resumed.
                rows = pending.result()
                if index + 1 < len(chunks):
                    pending = reader.submit(
                        self.dataset.read, reads[index + 1], buffers[(index + 1) % 2]
                    )
                chunk = torch.from_numpy(rows).to(self.dataset.device)
                if shard is None:
                    yield from TensorBatches(
                        TensorDataset(chunk),
                        self.batch_size,
                        self.shuffle,
                        self.generator,
                    )
                else:
                    yield from self.sharded(chunk, chunks[index])

    def sharded(self, X, blocks):
        """This process's part of each global batch of the chunk made of ``blocks`` (its own rows ``X``).

        The chunk takes as many steps as one process would; each process cuts
        its own rows (shuffled by a generator of its own, seeded from the
        shared one) into that many near-equal parts.
        """
        shard, world = self.shard, self.shard.world_size
        sizes = blocks[:, 1] - blocks[:, 0]
        n_steps = math.ceil(int(sizes.sum()) / self.batch_size)
        parts = np.array(
            [
                near_equal_parts(int(sizes[rank::world].sum()), n_steps)
                for rank in range(world)
            ]
        )
        offsets = np.concatenate([[0], np.cumsum(parts[shard.rank])[:-1]])
        order = None
        if self.shuffle:
            # One draw from the shared generator keeps it in step on every
            # process; the shuffle of each process's own rows is its own.
            seed = int(torch.randint(2**62, (1,), generator=self.generator))
            own = torch.Generator().manual_seed(
                int(np.random.SeedSequence([seed, shard.rank]).generate_state(1)[0])
            )
            order = torch.randperm(len(X), generator=own).to(X.device)
        return shard_batches(X, None, order, parts, offsets, shard)


def _n_rows(blocks):
    return int((blocks[:, 1] - blocks[:, 0]).sum())


def sample_chunk(dataset, batch_size, rng):
    """One random chunk of a :class:`ChunkedDataset`'s rows, drawn with the numpy RandomState ``rng``."""
    return dataset.read(
        ChunkedBatches(dataset, batch_size, True, rng_generator(rng)).chunks()[0]
    )
