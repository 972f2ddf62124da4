"""Batch inference throughput: skae against a bare torch module in the same dtype, and PCA.

MNIST's 60k x 784 training images through a 784-256-32 autoencoder (the
issue-12 setting), float32 and float64 input: ``transform`` against the bare
encoder, ``score_samples`` against the bare autoencoder plus the squared
error summed over features, and ``PCA(32)``'s ``transform`` and
``score_samples``. Every bare-torch call takes a numpy array and returns one,
as skae does (on a GPU that includes both copies). Timings are the best of
``--repeats`` interleaved runs.

    python benchmarks/bench_inference.py [--device cpu|cuda] [--threads N] [--repeats 5] [--out results/inference.md]
"""

import argparse
import copy
import time
import warnings

import numpy as np
import torch
from _common import load_mnist, print_table
from sklearn.decomposition import PCA

import skae
from skae import AutoencoderTransformer

warnings.simplefilter("ignore")


def best_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return min(times)


def bare_calls(module, device, dtype):
    """numpy-in, numpy-out bare torch ``transform`` and ``score_samples`` on one whole array."""
    module = copy.deepcopy(module).to(device, dtype).eval()

    def transform(X):
        with torch.inference_mode():
            return module.encode(torch.from_numpy(X).to(device)).cpu().numpy()

    def score_samples(X):
        with torch.inference_mode():
            x = torch.from_numpy(X).to(device)
            return (-((module(x)[0] - x) ** 2).sum(dim=1)).cpu().numpy()

    return transform, score_samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch intra-op threads (default: torch's)",
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    X_train, _, _, _ = load_mnist()
    X32 = np.ascontiguousarray(X_train[: args.rows])
    X64 = X32.astype(np.float64)
    params = {} if args.device == "cpu" else {"inference_device": args.device}
    model = AutoencoderTransformer(
        32, hidden_layer_sizes=(256,), max_iter=2, random_state=0, **params
    )
    model.fit(X32[:10000])
    pca = PCA(32, random_state=0).fit(X32[:10000])
    device = torch.device(args.device)

    rows = []
    for dtype_name, X, dtype in (
        ("float32", X32, torch.float32),
        ("float64", X64, torch.float64),
    ):
        bare_transform, bare_score = bare_calls(model.module_, device, dtype)
        for method, skae_call, bare_call, pca_call in (
            ("transform", model.transform, bare_transform, pca.transform),
            ("score_samples", model.score_samples, bare_score, pca.score_samples),
        ):
            np.testing.assert_allclose(
                skae_call(X), bare_call(X), rtol=1e-3, atol=1e-3
            )  # the same computation
            timings = {"skae": [], "bare": [], "pca": []}
            for _ in range(
                args.repeats
            ):  # interleaved, so a busy spell hits all three alike
                for name, call in (
                    ("skae", skae_call),
                    ("bare", bare_call),
                    ("pca", pca_call),
                ):
                    timings[name].append(best_time(lambda: call(X), 1))
            skae_s, bare_s, pca_s = (
                min(timings[name]) for name in ("skae", "bare", "pca")
            )
            rows.append(
                [
                    method,
                    dtype_name,
                    f"{skae_s:.3f}",
                    f"{bare_s:.3f}",
                    f"{pca_s:.3f}",
                    f"{skae_s / bare_s:.2f}",
                    f"{len(X) / skae_s / 1e3:.0f}",
                ]
            )

    print("skae from", skae.__file__)
    threads = torch.get_num_threads()
    print_table(
        f"Batch inference, MNIST {len(X32)} x 784, 784-256-32 autoencoder, device {args.device}, "
        f"{threads} torch thread(s), best of {args.repeats}",
        [
            "method",
            "input dtype",
            "skae s",
            "bare torch s",
            "PCA s",
            "skae / bare",
            "skae k rows/s",
        ],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
