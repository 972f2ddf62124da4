"""Development tables for the mixed-type imputer's defaults (kept out of ``bench_mixed.py``'s five tables).

Five mixed tables built from data that the mixed benchmark does not use: scikit-learn's digits (64 ordinal pixel
columns and the categorical digit), breast cancer (30 positive measurements and the categorical class), diabetes
(raw: counts, positive measurements and the categorical sex), and two ODDS sets from ``shared/data/outliers``: pima
(counts, positive and the categorical label) and satellite (36 pixel counts and the categorical label). 20 % of the
cells are hidden completely at random (seeds 1 and 2); the error is the HI-VAE paper's, as in ``bench_mixed.py``.

    python benchmarks/tune_mixed_imputer.py [--tables ...] [--seeds 1 2] [--hidden 512] [--noise-level 0.15]
        [--patience 200] [--max-iter 3000] [--rounds 3] [--alpha 1e-4] [--baselines]
"""

import argparse
import time
import warnings

import numpy as np
from _common import DATA, print_table
from bench_mixed import hivae_error, knn_one_hot, mean_mode, to_levels, typed_frame
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from skae import AutoencoderImputer, DenoisingAE

warnings.simplefilter("ignore")


def _odds(name, kinds_of):
    data = np.load(DATA / "outliers" / f"{name}.npz")
    X = np.column_stack([data["X"], data["y"]])
    return X, kinds_of(data["X"]) + ["categorical"]


def load(name):
    if name == "digits":
        data = load_digits()
        pixels = data.data[:, data.data.std(axis=0) > 0]
        return np.column_stack([pixels, data.target]), ["ordinal"] * pixels.shape[1] + [
            "categorical"
        ]
    if name == "breast_cancer":
        data = load_breast_cancer()
        return np.column_stack([data.data, data.target]), ["positive"] * 30 + [
            "categorical"
        ]
    if name == "diabetes":
        data = load_diabetes(scaled=False)
        kinds = ["count", "categorical"] + ["positive"] * 8
        return np.column_stack([data.data, data.target]), kinds + ["count"]
    if name == "pima":
        return _odds(
            "pima", lambda X: ["count"] * 5 + ["positive", "positive", "count"]
        )
    if name == "satellite":
        return _odds("satellite", lambda X: ["count"] * X.shape[1])
    raise ValueError(name)


TABLES = ("digits", "breast_cancer", "diabetes", "pima", "satellite")


def skae_imputer(args, kinds, seed):
    positive = {j: kind for j, kind in enumerate(kinds) if kind == "positive"}
    autoencoder = DenoisingAE(
        len(kinds),
        noise="masking",
        noise_level=args.noise_level,
        hidden_layer_sizes=tuple(args.hidden),
        early_stopping=True,
        n_iter_no_change=args.patience,
        max_iter=args.max_iter,
        learning_rate_init=args.lr,
        batch_size=args.batch_size,
        alpha=args.alpha,
    )
    return AutoencoderImputer(
        autoencoder, kinds=positive or None, n_rounds=args.rounds, random_state=seed
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="*", default=list(TABLES), choices=TABLES)
    parser.add_argument("--seeds", nargs="*", type=int, default=[1, 2])
    parser.add_argument("--hidden", nargs="*", type=int, default=[512])
    parser.add_argument("--noise-level", type=float, default=0.15)
    parser.add_argument("--patience", type=int, default=200)
    parser.add_argument("--max-iter", type=int, default=3000)
    parser.add_argument("--lr", type=float, default=0.001)
    parser.add_argument("--batch-size", default="auto")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--alpha", type=float, default=0.0001)
    parser.add_argument("--baselines", action="store_true")
    parser.add_argument("--label", default="skae")
    args = parser.parse_args()
    if args.batch_size != "auto":
        args.batch_size = int(args.batch_size)
    rows = []
    for table in args.tables:
        X, kinds = load(table)
        n_levels = [len(np.unique(X[:, j])) for j in range(X.shape[1])]
        results = {}
        for seed in args.seeds:
            hidden = np.random.RandomState(seed).rand(*X.shape) < 0.2
            X_missing = np.where(hidden, np.nan, X)
            imputers = {args.label: None}
            if args.baselines:
                imputers = {"mean": mean_mode, "knn": knn_one_hot, **imputers}
            for name, impute in imputers.items():
                start = time.perf_counter()
                if impute is None:
                    filled = (
                        skae_imputer(args, kinds, seed)
                        .fit_transform(typed_frame(X_missing, kinds))
                        .astype(np.float64)
                        .to_numpy()
                    )
                else:
                    filled = impute(X_missing, kinds, seed)
                filled = to_levels(filled, X_missing, kinds)
                error = hivae_error(X, filled, hidden, kinds, n_levels)[0]
                results.setdefault(name, []).append(
                    (error, time.perf_counter() - start)
                )
        for name, values in results.items():
            errors, seconds = zip(*values)
            rows.append([table, name, float(np.mean(errors)), float(np.mean(seconds))])
            print(rows[-1], flush=True)
    print_table(
        f"Mixed imputer development tables: HI-VAE error, mean of seeds {args.seeds} ({vars(args)})",
        ["table", "imputer", "error", "seconds"],
        rows,
        None,
    )


if __name__ == "__main__":
    main()
