"""ONNX export: onnxruntime against skae's own inference, on the same machine in the same run.

Two models: a 784-256-32 ``AutoencoderTransformer`` on MNIST (its
``transform``), and ``Pipeline([StandardScaler(), SparseAE(k=25),
LogisticRegression()])`` on digits (its ``predict_proba``; digits' rows are
tiled to ``--rows`` for the batch). For float32 and float64 input and each
thread count: one-row latency (median of ``--calls`` calls on single rows,
numpy in and out), batch throughput on ``--rows`` rows (best of
``--repeats``; onnxruntime both in one call and in ``--chunk``-row calls, as
skae's inference is chunked), the exported file's size and the largest absolute difference
between the two outputs on the batch. torch and onnxruntime get the same
number of intra-op threads. Training is not timed.

    python benchmarks/bench_onnx.py [--data ../shared/data] [--rows 60000] [--threads 1 2] [--out results/onnx.md]
    python benchmarks/bench_onnx.py --device cuda   # onnxruntime's CUDA provider against skae on CUDA

Smoke run: ``--rows 500 --fit-rows 500 --max-iter 1 --calls 20 --repeats 1 --threads 1``.
"""

import argparse
import statistics
import time
import warnings
from pathlib import Path

import _common
import numpy as np
import onnxruntime as ort
import torch
from _common import load_digits_scaled, print_table
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderTransformer, SparseAE
from skae.onnx import to_onnx

warnings.simplefilter("ignore")

HEADER = [
    "model",
    "dtype",
    "threads",
    "ONNX file (KiB)",
    "skae 1 row (µs)",
    "onnxruntime 1 row (µs)",
    "latency ratio",
    "skae rows/s",
    "onnxruntime rows/s",
    "throughput ratio",
    "onnxruntime rows/s, chunks",
    "chunked ratio",
    "max abs diff",
]


def latency(function, rows, calls):
    """Median seconds of one call on one row, over ``calls`` different rows."""
    times = []
    for i in range(calls):
        row = rows[i % len(rows)][None]
        start = time.perf_counter()
        function(row)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def throughput(function, X, repeats):
    """Rows per second of the best of ``repeats`` calls on the whole of ``X``."""
    best = min(_timed(function, X) for _ in range(repeats))
    return len(X) / best


def _timed(function, X):
    start = time.perf_counter()
    function(X)
    return time.perf_counter() - start


def in_chunks(function, size):
    """``function`` called on consecutive ``size``-row slices and the outputs stacked, as skae's own inference
    runs (its ``inference_batch_size``): intermediate activations of a few thousand rows stay in cache."""

    def chunked(X):
        return np.concatenate(
            [function(X[start : start + size]) for start in range(0, len(X), size)]
        )

    return chunked


def session(onnx_model, threads, device):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    providers = (
        ["CUDAExecutionProvider"] if device == "cuda" else ["CPUExecutionProvider"]
    )
    return ort.InferenceSession(
        onnx_model.SerializeToString(), options, providers=providers
    )


def compare(name, model, skae_call, output, X, args, options=None):
    """One table row per dtype and thread count; ``output`` is the index of the graph's output to compare."""
    rows = []
    for dtype in (np.float32, np.float64):
        data = X.astype(dtype)
        onnx_model = to_onnx(model, data[:1], options=options)
        size = len(onnx_model.SerializeToString()) / 1024
        for threads in args.threads:
            torch.set_num_threads(threads)
            sess = session(onnx_model, threads, args.device)
            input_name = sess.get_inputs()[0].name

            def onnx_call(rows_, sess=sess, input_name=input_name):
                return sess.run(None, {input_name: rows_})[output]

            difference = float(np.abs(onnx_call(data) - skae_call(data)).max())
            rows.append(
                [
                    name,
                    np.dtype(dtype).name,
                    threads,
                    round(size, 1),
                    latency(skae_call, data, args.calls) * 1e6,
                    latency(onnx_call, data, args.calls) * 1e6,
                    None,
                    throughput(skae_call, data, args.repeats),
                    throughput(onnx_call, data, args.repeats),
                    None,
                    throughput(in_chunks(onnx_call, args.chunk), data, args.repeats),
                    None,
                    f"{difference:.2e}",
                ]
            )
            rows[-1][6] = rows[-1][5] / rows[-1][4]
            rows[-1][9] = rows[-1][8] / rows[-1][7]
            rows[-1][11] = rows[-1][10] / rows[-1][7]
    return rows


def mnist_autoencoder(args):
    X_train, _, _, _ = _common.load_mnist()
    model = AutoencoderTransformer(
        32, hidden_layer_sizes=(256,), max_iter=args.max_iter, random_state=0
    )
    model.set_params(device=args.device, inference_device=args.device).fit(
        X_train[: args.fit_rows]
    )
    X = X_train[: args.rows]
    return compare("MNIST 784-256-32 transform", model, model.transform, 0, X, args)


def digits_pipeline(args):
    X, y = load_digits_scaled()
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            (
                "sparse",
                SparseAE(
                    k=25,
                    max_iter=args.max_iter,
                    random_state=0,
                    device=args.device,
                    inference_device=args.device,
                ),
            ),
            ("classify", LogisticRegression(max_iter=1000)),
        ]
    ).fit(X, y)
    batch = np.resize(X, (args.rows, X.shape[1]))
    return compare(
        "digits scaler-SparseAE(k=25)-logistic predict_proba",
        pipeline,
        pipeline.predict_proba,
        1,
        batch,
        args,
        options={"zipmap": False},
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", type=Path, default=_common.DATA, help="folder holding mnist.npz"
    )
    parser.add_argument("--rows", type=int, default=60000, help="rows in the batch")
    parser.add_argument(
        "--fit-rows",
        type=int,
        default=60000,
        help="MNIST rows the autoencoder is trained on",
    )
    parser.add_argument(
        "--max-iter", type=int, default=20, help="training epochs (not timed)"
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="one-row calls per latency measurement"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--chunk",
        type=int,
        default=8192,
        help="rows per onnxruntime call in the chunked throughput (skae's inference_batch_size)",
    )
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument(
        "--out", default=None, help="append the markdown table to this file"
    )
    args = parser.parse_args()
    _common.DATA = args.data
    rows = mnist_autoencoder(args) + digits_pipeline(args)
    versions = f"torch {torch.__version__}, onnxruntime {ort.__version__}, device {args.device}"
    print_table(f"ONNX export against skae ({versions})", HEADER, rows, out=args.out)


if __name__ == "__main__":
    main()
