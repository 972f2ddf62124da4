"""Grid search on Dask against n_jobs=1: wall time and best parameters.

A grid of 8 AutoencoderTransformer candidates (n_components x alpha x
hidden width), 3-fold CV on scaled digits, run with n_jobs=1 in this process
and under joblib's Dask backend on a LocalCluster of ``--workers`` worker
processes with one thread each (bound to 127.0.0.1, no dashboard). The
workers' torch thread count is reported: Dask's nanny starts them with
OMP_NUM_THREADS=1, which torch reads at import.

The Dask grid runs on worker processes started with Dask's defaults and
"tuned": ``MALLOC_TRIM_THRESHOLD_`` unset (Dask sets it to 64 KiB) and the
workers' statistical profiler off, alternately, ``--repeats`` times each.

    python benchmarks/bench_dask_search.py [--workers 2] [--epochs 40] [--more] [--repeats 2] [--out results/dask_search.md]
"""

import argparse
import contextlib
import os
import time
import warnings

import dask
import numpy as np
import torch
from _common import load_digits_scaled, print_table
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from skae import AutoencoderTransformer

warnings.simplefilter("ignore")


def warm_up(X):
    """A small GridSearchCV, as the timed ones run, to pay a process's first-fit costs."""
    GridSearchCV(
        AutoencoderTransformer(max_iter=2), {"n_components": [2, 3]}, cv=2
    ).fit(X[:100])


@contextlib.contextmanager
def restored_environ():
    """Undo what a block does to os.environ: Dask's nannies run in this process and
    write their pre-spawn variables into it, where later clusters and loky's
    workers would inherit them."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def worker_trim_threshold():
    """The worker process's MALLOC_TRIM_THRESHOLD_ (run on each worker)."""
    return os.environ.get("MALLOC_TRIM_THRESHOLD_", "unset")


def timed_row(run, start, serial, serial_s, search):
    seconds = time.perf_counter() - start
    max_diff = float(
        np.max(
            np.abs(
                search.cv_results_["mean_test_score"]
                - serial.cv_results_["mean_test_score"]
            )
        )
    )
    same = search.best_params_ == serial.best_params_
    return [
        run,
        f"{seconds:.1f}",
        f"{serial_s / seconds:.2f}",
        search.best_params_,
        same,
        f"{max_diff:.2g}",
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--more",
        action="store_true",
        help="also a threaded Dask cluster and joblib's loky pool",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="runs of each Dask worker-process setting",
    )
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    X, _ = load_digits_scaled()
    grid = {
        "n_components": [4, 16],
        "alpha": [1e-4, 1e-2],
        "hidden_layer_sizes": [(32,), (128,)],
    }
    estimator = AutoencoderTransformer(max_iter=args.epochs, tol=0.0, random_state=0)
    # Every process pays a one-off warm-up on its first fit (lazy imports, torch's
    # first backward and optimizer step); it is paid before timing, here and on
    # each worker, and reported on its own.
    warm_start = time.perf_counter()
    warm_up(X)
    local_warm_up_s = time.perf_counter() - warm_start
    start = time.perf_counter()
    serial = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X)
    serial_s = time.perf_counter() - start
    rows = [["n_jobs=1", f"{serial_s:.1f}", "1.00", serial.best_params_, "", ""]]
    worker_threads, worker_warm_up_s = None, None
    # Two Dask settings slow skae's fits on a worker (docs: user_guide/devices):
    # the nanny starts workers with MALLOC_TRIM_THRESHOLD_=65536 (~10% slower
    # fits in a plain process), and the worker's statistical profiler samples
    # the training thread's deep stack every 10 ms (~3% on one worker, ~6% with
    # both busy). Each setting gets its own cluster, alternately, --repeats times.
    settings = {
        "Dask defaults": {},
        "tuned": {
            "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
            "distributed.worker.profile.enabled": False,
        },
    }
    for _ in range(args.repeats):
        for label, config in settings.items():
            with (
                restored_environ(),
                dask.config.set(config),
                LocalCluster(
                    n_workers=args.workers,
                    threads_per_worker=1,
                    host="127.0.0.1",
                    dashboard_address=None,
                ) as cluster,
                Client(cluster) as client,
            ):
                worker_threads = sorted(client.run(torch.get_num_threads).values())
                trim = sorted(set(client.run(worker_trim_threshold).values()))
                warm_start = time.perf_counter()
                client.run(warm_up, X)
                worker_warm_up_s = time.perf_counter() - warm_start
                start = time.perf_counter()
                with parallel_config(backend="dask"):
                    on_dask = GridSearchCV(estimator, grid, cv=3, n_jobs=-1).fit(X)
                rows.append(
                    timed_row(
                        f"dask, {args.workers} workers, {label} (workers: {', '.join(trim)})",
                        start,
                        serial,
                        serial_s,
                        on_dask,
                    )
                )
    if args.more:
        # The same grid on a threaded Dask cluster and on joblib's own process pool (loky), for context.
        with (
            restored_environ(),
            LocalCluster(
                n_workers=args.workers,
                threads_per_worker=1,
                processes=False,
                host="127.0.0.1",
                protocol="tcp",
                dashboard_address=None,
            ) as cluster,
            Client(cluster),
        ):
            start = time.perf_counter()
            with parallel_config(backend="dask"):
                threaded = GridSearchCV(estimator, grid, cv=3, n_jobs=-1).fit(X)
            rows.append(
                timed_row(
                    f"dask, {args.workers} worker threads",
                    start,
                    serial,
                    serial_s,
                    threaded,
                )
            )
        for label in ["loky, cold", "loky, warm"]:
            start = time.perf_counter()
            on_loky = GridSearchCV(estimator, grid, cv=3, n_jobs=args.workers).fit(X)
            rows.append(
                timed_row(
                    f"joblib {label}, n_jobs={args.workers}",
                    start,
                    serial,
                    serial_s,
                    on_loky,
                )
            )
    print_table(
        f"GridSearchCV, 8 candidates x 3 folds, digits, {args.epochs} epochs; {args.workers} Dask worker processes "
        f"(torch threads per worker {worker_threads}) vs n_jobs=1 ({torch.get_num_threads()} torch threads); "
        f"refit on all rows: {serial.refit_time_:.1f} s, serial in every run; warm-up before timing: "
        f"{local_warm_up_s:.2f} s here, {worker_warm_up_s:.2f} s on the workers",
        ["run", "wall s", "speedup", "best_params_", "same best", "max |score diff|"],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
