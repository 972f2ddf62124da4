"""Seconds per epoch over many epochs, at the machine's default thread count.

The image_search example's model (784-512-256-32, Bernoulli loss, batch 256,
default weight decay) on MNIST's 60k training rows. A slowdown that appears
only after a few epochs (denormal numbers in weights and Adam's moments, which
torch's worker threads computed with until skae flushed them on every thread)
cannot be seen by a 3-epoch, 1-thread benchmark.

    python benchmarks/bench_epochs.py [--epochs 20] [--threads N] [--label after] [--out FILE]
"""

import argparse
import time
import warnings

import torch
from _common import load_mnist, print_table
from skorch.callbacks import Callback

from skae import AutoencoderTransformer

warnings.simplefilter("ignore")


class EpochClock(Callback):
    """Records the wall time of each epoch (including skae's per-epoch work)."""

    def __init__(self, budget_s=float("inf")):
        self.budget_s = budget_s

    def initialize(self):
        self.seconds = []
        self._start = self._last = time.perf_counter()
        return self

    def on_epoch_end(self, net, **kwargs):
        now = time.perf_counter()
        self.seconds.append(now - self._last)
        self._last = now
        if now - self._start > self.budget_s:
            raise KeyboardInterrupt  # skorch stops training cleanly on it


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument(
        "--threads", type=int, default=None, help="default: torch's default"
    )
    parser.add_argument(
        "--budget-s",
        type=float,
        default=float("inf"),
        help="stop after this many seconds",
    )
    parser.add_argument("--label", default="skae")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    X = load_mnist()[0]
    clock = EpochClock(args.budget_s)
    AutoencoderTransformer(
        32,
        hidden_layer_sizes=(512, 256),
        likelihood="bernoulli",
        batch_size=256,
        max_iter=args.epochs,
        tol=0.0,
        random_state=0,
        callbacks=[clock],
    ).fit(X)
    print_table(
        f"{args.label}: seconds per epoch, image_search model on MNIST, {torch.get_num_threads()} thread(s)",
        ["epoch", "seconds"],
        [[i + 1, s] for i, s in enumerate(clock.seconds)],
        args.out,
    )


if __name__ == "__main__":
    main()
