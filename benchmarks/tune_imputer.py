"""Development sets for AutoencoderImputer's defaults, kept out of bench_imputation.

Choosing a default on the benchmark's own sets would be tuning on the test set,
so defaults are compared here instead: cardio, musk, vowels, ionosphere, wbc,
arrhythmia (``shared/data/outliers``, features only), scikit-learn's wine, and
2000 MNIST rows disjoint from bench_imputation's. Same protocol as the benchmark
(20 % MCAR, RMSE on the missing cells after min-max scaling), 2 seeds.

    python benchmarks/tune_imputer.py [--levels 0.1 0.15 0.25] [--emphasis 1 2 4] [--scalings range std] [--alpha 1e-4] [--hidden 512]
        [--patience 50] [--max-iter 1000] [--sets cardio ...] [--extra-trees]

``--emphasis`` weighs the loss on the cells the masking noise hid (Vincent et
al. 2010's "emphasised" denoising); 1 is the plain masked loss. ``--scalings std``
divides each feature by its standard deviation instead of its range (the
imputer's scaling before range won here).
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import DATA, load_mnist, print_table
from bench_imputation import hide_cells, imputers, mnist_rows, rmse_on_hidden
from sklearn.datasets import load_wine

from skae import AutoencoderImputer, DenoisingAE
from skae.losses import sum_features

warnings.simplefilter("ignore")


def development_sets():
    for name in ("cardio", "musk", "vowels", "ionosphere", "wbc", "arrhythmia"):
        yield name, np.load(DATA / "outliers" / f"{name}.npz")["X"].astype(np.float64)
    yield "wine", load_wine().data
    X = load_mnist()[0]
    rest = np.setdiff1d(np.arange(len(X)), mnist_rows(len(X)))
    yield (
        "MNIST (2000 other rows)",
        X[np.random.RandomState(1).choice(rest, 2000, replace=False)].astype(
            np.float64
        ),
    )


def emphasised(weight):
    """A masking DenoisingAE class whose loss counts the cells its noise hid ``weight`` times.

    A class per weight (not an attribute) because the imputer clones its model.
    """

    def _objective(
        self, module, X, weights=None, sample_weight=None
    ):  # unweighted fits only
        corrupted = module.corruption(X)
        output = module.decode(module.encode(corrupted))
        hidden = ((corrupted == 0) & (X != 0)).to(
            X.dtype
        )  # exact zeros in centred data are placeholders
        cell_weights = 1.0 + (weight - 1.0) * hidden
        if weights is not None:
            cell_weights = cell_weights * weights
        return sum_features(
            self._elementwise_nll(module, output, X), cell_weights
        ).mean()

    return (
        DenoisingAE
        if weight == 1
        else type(
            f"EmphasisedDAE{weight:g}", (DenoisingAE,), {"_objective": _objective}
        )
    )


class StdScaledImputer(AutoencoderImputer):
    """AutoencoderImputer dividing each feature by its observed standard deviation, not its range."""

    @staticmethod
    def _spread(observed):
        return np.nanstd(observed, axis=0)


def imputer(
    level,
    weight,
    scaling,
    seed,
    n_features,
    alpha=1e-4,
    hidden=512,
    patience=None,
    max_iter=None,
):
    """AutoencoderImputer's default model with the swept settings changed and nothing else."""
    default = AutoencoderImputer._default_autoencoder(n_features).get_params()
    changed = {"noise_level": level, "hidden_layer_sizes": (hidden,), "alpha": alpha}
    if patience is not None:
        changed["n_iter_no_change"] = patience
    if max_iter is not None:
        changed["max_iter"] = max_iter
    model = emphasised(weight)(**{**default, **changed})
    return (AutoencoderImputer if scaling == "range" else StdScaledImputer)(
        model, random_state=seed
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--levels", type=float, nargs="*", default=[0.1, 0.15, 0.25])
    parser.add_argument("--emphasis", type=float, nargs="*", default=[1.0])
    parser.add_argument(
        "--alpha", type=float, default=1e-4, help="the autoencoder's weight decay"
    )
    parser.add_argument(
        "--hidden",
        type=int,
        default=512,
        help="width of the autoencoder's hidden layers",
    )
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="the autoencoder's n_iter_no_change (default: the imputer's)",
    )
    parser.add_argument(
        "--max-iter",
        type=int,
        default=None,
        help="the autoencoder's max_iter per round (default: the imputer's)",
    )
    parser.add_argument(
        "--sets", nargs="*", default=None, help="only these development sets"
    )
    parser.add_argument(
        "--scalings", nargs="*", choices=["range", "std"], default=["range"]
    )
    parser.add_argument(
        "--extra-trees",
        action="store_true",
        help="also IterativeImputer(ExtraTrees); slow on musk",
    )
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    columns = [
        (
            f"masking {level:g}, emphasis {weight:g}, {scaling} scaling",
            level,
            weight,
            scaling,
        )
        for scaling in args.scalings
        for weight in args.emphasis
        for level in args.levels
    ]
    if args.extra_trees:
        columns.append(("IterativeImputer, ExtraTrees", None, None, None))
    rows = []
    for dataset, X in development_sets():
        if args.sets and dataset not in args.sets:
            continue
        row = [dataset]
        for name, level, weight, scaling in columns:
            errors, start = [], time.perf_counter()
            for seed in range(args.seeds):
                X_missing, mask = hide_cells(X, 0.2, seed)
                if level is None:
                    model = imputers(seed, X.shape[1])["Iterative ExtraTrees"]
                else:
                    model = imputer(
                        level,
                        weight,
                        scaling,
                        seed,
                        X.shape[1],
                        args.alpha,
                        args.hidden,
                        args.patience,
                        args.max_iter,
                    )
                filled = model.fit_transform(X_missing)
                errors.append(rmse_on_hidden(filled, X, mask))
            row.append(f"{np.mean(errors):.4f}")
            print(
                dataset,
                name,
                row[-1],
                f"{time.perf_counter() - start:.0f} s",
                flush=True,
            )
        rows.append(row)
    print_table(
        f"Imputer development sets: RMSE on missing cells (min-max scaled), 20% MCAR, mean of {args.seeds} seeds, weight decay {args.alpha:g}, hidden layers of {args.hidden}"
        + (f", patience {args.patience}" if args.patience else "")
        + (f", max_iter {args.max_iter}" if args.max_iter else ""),
        ["dataset"] + [column[0] for column in columns],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
