"""Grid search on Dask against n_jobs=1: wall time and best parameters.

A grid of 8 AutoencoderTransformer candidates (n_components x alpha x
hidden width), 3-fold CV on scaled digits, run with n_jobs=1 in this process
and under joblib's Dask backend on a LocalCluster of ``--workers`` worker
processes with one thread each (bound to 127.0.0.1, no dashboard). The
workers' torch thread count is reported: Dask's nanny starts them with
OMP_NUM_THREADS=1, which torch reads at import.

    python benchmarks/bench_dask_search.py [--workers 2] [--epochs 40] [--out results/dask_search.md]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV

from _common import load_digits_scaled, print_table

from skae import AutoencoderTransformer

warnings.simplefilter("ignore")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    from distributed import Client, LocalCluster

    X, _ = load_digits_scaled()
    grid = {"n_components": [4, 16], "alpha": [1e-4, 1e-2], "hidden_layer_sizes": [(32,), (128,)]}
    estimator = AutoencoderTransformer(max_iter=args.epochs, tol=0.0, random_state=0)
    start = time.perf_counter()
    serial = GridSearchCV(estimator, grid, cv=3, n_jobs=1).fit(X)
    serial_s = time.perf_counter() - start
    with LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster) as client:
        worker_threads = sorted(client.run(torch.get_num_threads).values())
        client.run(lambda: __import__("skae"))  # imports paid before timing, as in the serial run
        start = time.perf_counter()
        with parallel_config(backend="dask"):
            on_dask = GridSearchCV(estimator, grid, cv=3, n_jobs=-1).fit(X)
        dask_s = time.perf_counter() - start
    same = on_dask.best_params_ == serial.best_params_
    max_diff = float(np.max(np.abs(on_dask.cv_results_["mean_test_score"] - serial.cv_results_["mean_test_score"])))
    print_table(
        f"GridSearchCV, 8 candidates x 3 folds, digits, {args.epochs} epochs; {args.workers} Dask worker processes "
        f"(torch threads per worker {worker_threads}) vs n_jobs=1 ({torch.get_num_threads()} torch threads)",
        ["run", "wall s", "speedup", "best_params_", "same best", "max |score diff|"],
        [
            ["n_jobs=1", f"{serial_s:.1f}", "1.00", serial.best_params_, "", ""],
            [f"dask, {args.workers} workers", f"{dask_s:.1f}", f"{serial_s / dask_s:.2f}", on_dask.best_params_, same, f"{max_diff:.2g}"],
        ],
        args.out,
    )


if __name__ == "__main__":
    main()
