"""Data-parallel training on CPU processes (gloo) against one process with as many threads.

One AutoencoderTransformer (784-256-32 on MNIST, batch 256) trained for
``--epochs`` epochs: by one process with ``--processes`` torch threads, then
by ``--processes`` processes with one thread each inside
``skae.data_parallel()`` (gloo on 127.0.0.1). Reports the fit's wall time
(the slowest process) and checks that the two models agree.

    python benchmarks/bench_data_parallel.py [--processes 2] [--epochs 2] [--rows 60000] [--out results/data_parallel.md]
"""

import argparse
import socket
import tempfile
import time
import warnings

import numpy as np
import torch
from _common import load_mnist, print_table

import skae
from skae import AutoencoderTransformer


def estimator(epochs):
    return AutoencoderTransformer(
        32,
        hidden_layer_sizes=(256,),
        batch_size=256,
        max_iter=epochs,
        tol=0.0,
        random_state=0,
    )


def fit_timed(X, epochs):
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    model = estimator(epochs).fit(X)
    return time.perf_counter() - start, model


def run_rank(rank, world_size, port, rows, epochs, out):
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        "gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size
    )
    try:
        X = load_mnist()[0][:rows]
        with skae.data_parallel():
            estimator(1).fit(X[:2048])  # first-fit costs, paid before timing
            torch.distributed.barrier()
            seconds, model = fit_timed(X, epochs)
        if rank == 0:
            torch.save(
                {
                    "seconds": seconds,
                    "loss_curve": model.loss_curve_,
                    "codes": model.transform(X[:1000]),
                },
                out,
            )
    finally:
        torch.distributed.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rows", type=int, default=60000)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    X = load_mnist()[0][: args.rows]
    torch.set_num_threads(args.processes)
    fit_timed(X[:2048], 1)
    alone_s, alone = fit_timed(X, args.epochs)

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        out = f"{tmp}/rank0.pt"
        torch.multiprocessing.spawn(
            run_rank,
            args=(args.processes, port, args.rows, args.epochs, out),
            nprocs=args.processes,
            join=True,
        )
        parallel = torch.load(out, weights_only=False)
    loss_diff = float(
        np.max(
            np.abs(np.array(parallel["loss_curve"]) - np.array(alone.loss_curve_))
            / np.array(alone.loss_curve_)
        )
    )
    codes_diff = float(np.max(np.abs(parallel["codes"] - alone.transform(X[:1000]))))
    print_table(
        f"MNIST {args.rows} x 784, 784-256-32, batch 256, {args.epochs} epochs",
        [
            "run",
            "wall s",
            "speedup",
            "max relative loss difference",
            "max code difference",
        ],
        [
            [
                f"1 process, {args.processes} torch threads",
                f"{alone_s:.2f}",
                "1.00",
                "",
                "",
            ],
            [
                f"{args.processes} processes (gloo), 1 thread each, skae.data_parallel()",
                f"{parallel['seconds']:.2f}",
                f"{alone_s / parallel['seconds']:.2f}",
                f"{loss_diff:.2g}",
                f"{codes_diff:.2g}",
            ],
        ],
        args.out,
    )


if __name__ == "__main__":
    main()
