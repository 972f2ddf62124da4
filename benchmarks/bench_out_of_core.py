"""One epoch over a float32 memmap larger than memory, against in-memory training.

``write`` makes the file (MNIST training rows plus small noise, written one
60k-row chunk at a time, so writing needs no more memory than a chunk);
``run`` trains one epoch of the engine benchmark's MNIST net (784-256-32,
batch 256) on it, and on an in-memory subset, reporting samples per second
and the peak anonymous resident memory (RssAnon, sampled every 50 ms: the
memmap's own file-backed pages are not counted, as the kernel can drop them).

    python benchmarks/bench_out_of_core.py write /tmp/mnist_big.f32 --gb 30
    python benchmarks/bench_out_of_core.py run /tmp/mnist_big.f32 [--subset 600000] [--out FILE]
"""

import argparse
import os
import threading
import time
import warnings

import numpy as np
from _common import load_mnist, print_table

N_FEATURES = 784


def write(path, gb):
    X = load_mnist()[0]
    noise = np.random.RandomState(0).normal(0, 0.02, size=X.shape).astype(np.float32)
    n_chunks = int(gb * 2**30 // X.nbytes) + 1
    with open(path, "wb") as f:
        for i in range(n_chunks):
            # The same noise rolled by a different number of rows for every chunk:
            # cheap, and no two chunks are equal.
            f.write(np.clip(X + np.roll(noise, 997 * i, axis=0), 0, 1).tobytes())
    print(
        f"wrote {n_chunks * len(X):,} rows, {os.path.getsize(path) / 2**30:.1f} GiB to {path}"
    )


def rss_anon_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


class PeakRssAnon:
    def __enter__(self):
        self.peak, self._stop = rss_anon_kib(), threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_anon_kib())

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_anon_kib())


def one_epoch(X, **params):
    from skae import AutoencoderTransformer

    model = AutoencoderTransformer(
        32,
        hidden_layer_sizes=(256,),
        batch_size=256,
        max_iter=1,
        random_state=0,
        **params,
    )
    with PeakRssAnon() as memory:
        start = time.perf_counter()
        model.fit(X)
        seconds = time.perf_counter() - start
    return seconds, memory.peak / 2**20


def run(path, subset, out):
    import torch

    warnings.simplefilter("ignore")
    n_rows = os.path.getsize(path) // (4 * N_FEATURES)
    X = np.memmap(path, dtype=np.float32, mode="r", shape=(n_rows, N_FEATURES))
    before = rss_anon_kib() / 2**20
    rows = []
    in_memory = np.array(X[:subset])  # read before timing
    seconds, peak = one_epoch(in_memory)
    rows.append(
        [
            "in memory (ndarray)",
            f"{subset:,}",
            f"{in_memory.nbytes / 2**30:.2f}",
            seconds,
            subset / seconds,
            peak,
        ]
    )
    del in_memory
    seconds, peak = one_epoch(X)
    rows.append(
        [
            "memmap, chunk_size='auto'",
            f"{n_rows:,}",
            f"{X.nbytes / 2**30:.1f}",
            seconds,
            n_rows / seconds,
            peak,
        ]
    )
    rows.append(["ratio memmap / in memory", "", "", "", rows[1][4] / rows[0][4], ""])
    print_table(
        f"One epoch, 784-256-32, batch 256, {torch.get_num_threads()} torch threads "
        f"(RssAnon before any training {before:.2f} GiB)",
        ["data", "rows", "GiB", "seconds", "samples / s", "peak RssAnon GiB"],
        rows,
        out,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["write", "run"])
    parser.add_argument("path")
    parser.add_argument("--gb", type=float, default=30)
    parser.add_argument("--subset", type=int, default=600_000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.command == "write":
        write(args.path, args.gb)
    else:
        run(args.path, args.subset, args.out)


if __name__ == "__main__":
    main()
