"""Imputation: 20% of cells missing completely at random on complete real datasets.

RMSE on the missing cells after min-max scaling with the original data's min and
max, mean over seeds, against SimpleImputer, KNNImputer and IterativeImputer
(BayesianRidge and ExtraTrees). Then the downstream accuracy of a
LogisticRegression after each imputer (digits, breast cancer).

    python benchmarks/bench_imputation.py [--seeds 3] [--fraction 0.2] [--datasets NAME ...] [--imputers NAME ...]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import DATA, load_mnist, print_table
from scipy.stats import rankdata
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.ensemble import ExtraTreesRegressor
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderImputer

warnings.simplefilter("ignore")


def imputers(seed, n_features):
    found = {
        "mean": SimpleImputer(),
        "KNN (k=5)": KNNImputer(),
        "Iterative BayesianRidge": IterativeImputer(max_iter=10, random_state=seed),
        "Iterative ExtraTrees": IterativeImputer(
            ExtraTreesRegressor(n_estimators=10, random_state=seed),
            max_iter=10,
            random_state=seed,
        ),
        "skae AutoencoderImputer": AutoencoderImputer(random_state=seed),
    }
    if n_features > 100:
        # ExtraTrees per feature per round takes hours on 784 pixels, and BayesianRidge
        # keeps a 783 x 783 posterior covariance per feature per round (38 GB on MNIST):
        # there each feature is regressed on its 100 most correlated features.
        found["Iterative ExtraTrees"] = None
        found["Iterative BayesianRidge"].set_params(n_nearest_features=100)
    return found


def hide_cells(X, fraction, seed):
    """``X`` with ``fraction`` of its cells missing completely at random, and the mask of those cells."""
    mask = np.random.RandomState(seed).rand(*X.shape) < fraction
    return np.where(mask, np.nan, X), mask


def rmse_on_hidden(filled, X, mask):
    """RMSE on the hidden cells after min-max scaling with ``X``'s own range."""
    span = np.ptp(X, axis=0)
    span[span == 0] = 1.0
    return np.sqrt(np.mean((((filled - X) / span)[mask]) ** 2))


def mnist_rows(n_images, n_rows=2000):
    """Which of the ``n_images`` MNIST training images this benchmark imputes (tune_imputer keeps out of them)."""
    return np.random.RandomState(0).choice(n_images, n_rows, replace=False)


def datasets(only=None):
    for name, X, y in _datasets():
        if only is None or name in only:
            yield name, X, y


def _datasets():
    yield "digits", load_digits().data, load_digits().target
    yield "breast cancer", load_breast_cancer().data, load_breast_cancer().target
    for name in ("satellite", "pendigits", "letter", "optdigits"):
        data = np.load(DATA / "outliers" / f"{name}.npz")
        yield name, data["X"], None
    X, y, _, _ = load_mnist()
    rows = mnist_rows(len(X))
    yield "MNIST (2000 rows)", X[rows].astype(np.float64), y[rows]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--fraction", type=float, default=0.2)
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument(
        "--imputers",
        nargs="*",
        default=None,
        help="run only these columns (ranks are then among them)",
    )
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    rmse_rows, accuracy_rows, all_rmse = [], [], []
    names = [
        name
        for name in imputers(0, 1)
        if args.imputers is None or name in args.imputers
    ]
    seconds = dict.fromkeys(names, 0.0)
    for dataset, X, y in datasets(args.datasets):
        scores = {name: [] for name in names}
        for seed in range(args.seeds):
            X_missing, mask = hide_cells(X, args.fraction, seed)
            for name, imputer in imputers(seed, X.shape[1]).items():
                if imputer is None or name not in names:
                    continue
                start = time.perf_counter()
                filled = imputer.fit_transform(X_missing)
                seconds[name] += time.perf_counter() - start
                scores[name].append(rmse_on_hidden(filled, X, mask))
        means = [np.mean(scores[n]) if scores[n] else np.nan for n in names]
        all_rmse.append(means)
        rmse_rows.append(
            [dataset] + [f"{m:.4f}" if np.isfinite(m) else "n/a" for m in means]
        )
        print(rmse_rows[-1], flush=True)
        if y is not None and dataset != "MNIST (2000 rows)":
            accuracy_rows.append([dataset] + downstream(X, y, args.fraction, names))
            print(accuracy_rows[-1], flush=True)

    table = np.array(all_rmse)
    ranks = np.array([rankdata(np.where(np.isfinite(r), r, np.inf)) for r in table])
    rmse_rows.append(["**mean rank**"] + [f"**{r:.2f}**" for r in ranks.mean(axis=0)])
    rmse_rows.append(["total fit s"] + [f"{seconds[n]:.0f}" for n in names])
    print_table(
        f"Imputation RMSE on missing cells (min-max scaled), {int(args.fraction * 100)}% MCAR, mean of {args.seeds} seeds",
        ["dataset"] + names,
        rmse_rows,
        args.out,
    )
    print_table(
        "Downstream LogisticRegression accuracy after imputation (25% test split)",
        ["dataset"] + names,
        accuracy_rows,
        args.out,
    )


def downstream(X, y, fraction, names):
    X_missing, _ = hide_cells(X, fraction, seed=0)
    X_train, X_test, y_train, y_test = train_test_split(
        X_missing, y, test_size=0.25, random_state=0, stratify=y
    )
    accuracies = []
    for name in names:
        imputer = imputers(0, X.shape[1])[name]
        pipe = make_pipeline(
            imputer, StandardScaler(), LogisticRegression(max_iter=2000)
        )
        accuracies.append(f"{pipe.fit(X_train, y_train).score(X_test, y_test):.3f}")
    return accuracies


if __name__ == "__main__":
    main()
