"""Imputation of mixed tables (issue 21) on the HI-VAE paper's five tables and masks (shared/data/mixed).

Error: the HI-VAE paper's (Nazabal et al., 2020): per column, on the hidden cells, the RMSE over the column's range
(real, positive, count), the error rate (categorical) or the mean absolute level distance over the number of levels
(ordinal); the mean over columns. Also the accuracy on hidden categorical cells, and for breast, wine, letter and spam
the accuracy of a HistGradientBoostingClassifier (70/30 stratified split, seed 0) trained on the imputed feature
table, imputed a second time with the class column hidden from the imputer (the class column: breast's and spam's
last, wine's colour, letter's letter). The error runs follow the paper: every column, class included, is imputed.
Every imputer returns levels as codes; categorical and ordinal cells are rounded to the nearest observed level.

Imputers: column mean / mode (median level for ordinal columns), KNNImputer on one-hot codes (numeric and ordinal
columns standardised), a MissForest-style imputer (``_missforest.py``), skae's AutoencoderImputer on one-hot codes as
it stood before issue 21 ("skae before"), the mixed-type skae imputer through the hook ``skae_mixed_imputer``, and
its ablation with a learned scale per real or positive cell ("skae-mixed-learned-scale"), and
qolmat's EM imputer on one-hot codes ("qolmat-em"; needs ``pip install qolmat``, best in its own virtual environment).

    python benchmarks/bench_mixed.py [DATA_DIR] [--tables adult breast wine letter spam] [--masks 1 2 3]
        [--imputers mean knn missforest skae-before skae-mixed qolmat-em] [--max-rows N] [--no-downstream] [--out FILE] [--cache FILE.json]

DATA_DIR defaults to $SKAE_DATA/mixed (``_common.DATA``). ``--max-rows N`` keeps N random rows of each table (seed 0; the same rows
for every mask and imputer): for quick runs only, as the errors are then not those of the full tables.
"""

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _common import DATA, print_table
from _missforest import MissForest
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.model_selection import train_test_split

from skae import AutoencoderImputer, DenoisingAE

warnings.simplefilter("ignore")

TABLES = ("adult", "breast", "wine", "letter", "spam")
CLASS_COLUMN = {"breast": 9, "wine": 12, "letter": 0, "spam": 57}
KIND = {
    "real": "real",
    "pos": "positive",
    "count": "count",
    "cat": "categorical",
    "ordinal": "ordinal",
}


def load_table(root, name, masks, max_rows=None):
    """The table (float codes), its column kinds and numbers of levels, and each mask's hidden cells."""
    X = np.loadtxt(root / name / "data.csv", delimiter=",")
    types = pd.read_csv(root / name / "data_types.csv")
    hidden = {}
    for k in masks:
        cells = (
            np.loadtxt(root / name / f"missing20_{k}.csv", delimiter=",", dtype=int) - 1
        )
        hidden[k] = np.zeros(X.shape, dtype=bool)
        hidden[k][cells[:, 0], cells[:, 1]] = True
    # Cells missing in the original table (adult, breast) are never scored.
    hidden = {k: mask & ~np.isnan(X) for k, mask in hidden.items()}
    if max_rows is not None and max_rows < len(X):
        rows = np.sort(np.random.RandomState(0).choice(len(X), max_rows, replace=False))
        X, hidden = X[rows], {k: mask[rows] for k, mask in hidden.items()}
    return (
        X,
        [KIND[t] for t in types["type"]],
        types["nclass"].fillna(0).astype(int).tolist(),
        hidden,
    )


def hivae_error(X, filled, hidden, kinds, n_levels):
    """The mean over columns of the per-column error on hidden cells, and the per-column errors."""
    errors = []
    for j, kind in enumerate(kinds):
        cells = hidden[:, j]
        if not cells.any():
            continue
        truth, guess = X[cells, j], filled[cells, j]
        if kind == "categorical":
            errors.append(np.mean(truth != guess))
        elif kind == "ordinal":
            errors.append(np.mean(np.abs(truth - guess)) / n_levels[j])
        else:
            span = np.nanmax(X[:, j]) - np.nanmin(X[:, j])
            errors.append(
                np.sqrt(np.mean((truth - guess) ** 2)) / (span if span > 0 else 1.0)
            )
    return float(np.mean(errors)), errors


def categorical_accuracy(X, filled, hidden, kinds):
    """Accuracy on the hidden cells of all categorical columns together (NaN without any)."""
    columns = [j for j, kind in enumerate(kinds) if kind == "categorical"]
    cells = hidden[:, columns]
    return (
        float(np.mean(X[:, columns][cells] == filled[:, columns][cells]))
        if cells.any()
        else np.nan
    )


# ------------------------------------------------------------------ imputers: (X with NaN, kinds, seed) -> filled
def mean_mode(X, kinds, seed):
    filled = X.copy()
    strategy = {"categorical": "most_frequent", "ordinal": "median"}
    for j, kind in enumerate(kinds):
        imputer = SimpleImputer(
            strategy=strategy.get(kind, "mean"), keep_empty_features=True
        )
        filled[:, [j]] = imputer.fit_transform(X[:, [j]])
    return filled


def knn_one_hot(X, kinds, seed):
    codes, layout = one_hot(X, kinds)
    centre, spread = np.nanmean(codes, axis=0), np.nanstd(codes, axis=0)
    numeric = np.array(
        [kind != "categorical" for kind, _, _ in layout_columns(layout, codes.shape[1])]
    )
    spread = np.where(numeric & (spread > 0), spread, 1.0)
    centre = np.where(numeric, centre, 0.0)
    filled = KNNImputer().fit_transform((codes - centre) / spread) * spread + centre
    return from_one_hot(filled, layout, X)


def missforest(X, kinds, seed):
    return MissForest(
        [kind == "categorical" for kind in kinds], random_state=seed
    ).fit_transform(X)


def skae_before(X, kinds, seed):
    codes, layout = one_hot(X, kinds)
    return from_one_hot(
        AutoencoderImputer(random_state=seed).fit_transform(codes), layout, X
    )


def skae_mixed_imputer(seed, kinds):
    """The mixed-type skae imputer (issue 21) with its defaults.

    Its ``fit_transform`` takes the typed DataFrame of ``typed_frame`` (count columns ``Int64``, categorical ones
    ``category``, ordinal ones ordered ``category``, real and positive ones float, missing cells NA) and returns it
    filled, each column in its own kind. ``kinds`` (``{position: "positive"}``) names the positive columns, the one
    kind that no dtype says; the other kinds are inferred from the dtypes.
    """
    return AutoencoderImputer(kinds=kinds or None, random_state=seed)


def skae_mixed(X, kinds, seed):
    imputer = skae_mixed_imputer(
        seed, {j: kind for j, kind in enumerate(kinds) if kind == "positive"}
    )
    if imputer is None:
        return None
    return imputer.fit_transform(typed_frame(X, kinds)).astype(np.float64).to_numpy()


def qolmat_em(X, kinds, seed):
    """qolmat's ImputerEM (a multivariate normal fitted by EM) on the one-hot codes, as KNNImputer gets them."""
    from qolmat.imputations.imputers import ImputerEM

    codes, layout = one_hot(X, kinds)
    filled = ImputerEM(model="multinormal", method="mle", random_state=seed)
    return from_one_hot(filled.fit_transform(pd.DataFrame(codes)).to_numpy(), layout, X)


class _LearnedScaleDAE(DenoisingAE):
    """The ablation of the fixed scale: the decoder also predicts each real or positive cell's scale (the
    likelihood the VAE uses), through the base estimator's ``_learns_cell_scales`` slot."""

    _learns_cell_scales = True


def skae_mixed_learned_scale(X, kinds, seed):
    positive = {j: kind for j, kind in enumerate(kinds) if kind == "positive"}
    default = AutoencoderImputer._default_autoencoder(len(kinds), table=True)
    imputer = AutoencoderImputer(
        _LearnedScaleDAE(**default.get_params()),
        kinds=positive or None,
        random_state=seed,
    )
    return imputer.fit_transform(typed_frame(X, kinds)).astype(np.float64).to_numpy()


IMPUTERS = {
    "mean": mean_mode,
    "knn": knn_one_hot,
    "missforest": missforest,
    "skae-before": skae_before,
    "skae-mixed": skae_mixed,
    "skae-mixed-learned-scale": skae_mixed_learned_scale,
    "qolmat-em": qolmat_em,
}


# ------------------------------------------------------------------------------------------------- encodings
def typed_frame(X, kinds):
    """The table as a user would hand it over: one pandas dtype per kind, NA where missing."""
    columns = {}
    for j, kind in enumerate(kinds):
        values = pd.Series(X[:, j])
        if kind == "count":
            values = values.astype("Int64")
        elif kind in ("categorical", "ordinal"):
            levels = np.unique(X[~np.isnan(X[:, j]), j])
            values = pd.Series(
                pd.Categorical(values, categories=levels, ordered=kind == "ordinal")
            )
        columns[j] = values
    return pd.DataFrame(columns)


def one_hot(X, kinds):
    """Categorical columns one-hot (a missing cell: NaN over its block), the others as they are."""
    blocks, layout = [], []
    for j, kind in enumerate(kinds):
        levels = np.unique(X[~np.isnan(X[:, j]), j])
        if kind == "categorical":
            block = (X[:, [j]] == levels).astype(np.float64)
            block[np.isnan(X[:, j])] = np.nan
        else:
            block = X[:, [j]]
        blocks.append(block)
        layout.append((kind, levels, block.shape[1]))
    return np.hstack(blocks), layout


def layout_columns(layout, width):
    return [entry for entry in layout for _ in range(entry[2])][:width]


def from_one_hot(codes, layout, X):
    """Back to one code per column: the most likely level of a block, the nearest level of an ordinal column;
    observed cells as they were."""
    filled, start = np.empty(X.shape), 0
    for j, (kind, levels, width) in enumerate(layout):
        block = codes[:, start : start + width]
        if kind == "categorical":
            filled[:, j] = levels[block.argmax(axis=1)]
        elif kind == "ordinal":
            filled[:, j] = levels[np.abs(block - levels).argmin(axis=1)]
        else:
            filled[:, j] = block[:, 0]
        start += width
    return np.where(np.isnan(X), filled, X)


def to_levels(filled, X, kinds):
    """Categorical and ordinal cells rounded to the nearest observed level."""
    filled = filled.copy()
    for j, kind in enumerate(kinds):
        if kind in ("categorical", "ordinal"):
            levels = np.unique(X[~np.isnan(X[:, j]), j])
            filled[:, j] = levels[np.abs(filled[:, [j]] - levels).argmin(axis=1)]
    return filled


# ---------------------------------------------------------------------------------------------------- running
def impute(name, X_missing, kinds, seed):
    start = time.perf_counter()
    filled = IMPUTERS[name](X_missing, kinds, seed)
    seconds = time.perf_counter() - start
    return (
        (None, seconds)
        if filled is None
        else (to_levels(filled, X_missing, kinds), seconds)
    )


def downstream_accuracy(features, y):
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.3, random_state=0, stratify=y
    )
    model = HistGradientBoostingClassifier(random_state=0).fit(
        features[train], y[train]
    )
    return float(model.score(features[test], y[test]))


def measure(name, X, X_missing, features, mask, kinds, n_levels, target, seed):
    """One imputer on one mask: error, categorical accuracy, fit seconds and (with a target) downstream accuracy."""
    filled, seconds = impute(name, X_missing, kinds, seed=seed)
    if filled is None:
        return None
    measures = {
        "error": hivae_error(X, filled, mask, kinds, n_levels)[0],
        "cat": categorical_accuracy(X, filled, mask, kinds),
        "seconds": seconds,
    }
    if target is not None:
        imputed, _ = impute(
            name, features, kinds[:target] + kinds[target + 1 :], seed=seed
        )
        measures["downstream"] = downstream_accuracy(imputed, X[:, target])
    return measures


def load_cache(path):
    if path is None or not Path(path).exists():
        return {}
    return json.loads(Path(path).read_text())


def save_cache(path, cache):
    if path is not None:
        Path(path).write_text(json.dumps(cache, indent=1))


def run_table(root, table, args):
    X, kinds, n_levels, hidden = load_table(root, table, args.masks, args.max_rows)
    results = {
        name: {"error": [], "cat": [], "seconds": [], "downstream": []}
        for name in args.imputers
    }
    target = CLASS_COLUMN.get(table) if args.downstream else None
    cache = load_cache(args.cache)
    for k, mask in hidden.items():
        X_missing = np.where(mask, np.nan, X)
        features = np.delete(X_missing, target, axis=1) if target is not None else None
        for name in args.imputers:
            key = f"{table}/{k}/{name}/{args.max_rows}/{target is not None}"
            if key not in cache:
                measures = measure(
                    name, X, X_missing, features, mask, kinds, n_levels, target, k
                )
                if measures is None:
                    continue
                cache[key] = measures
                save_cache(args.cache, cache)
            for measure_name, value in cache[key].items():
                results[name][measure_name].append(value)
            print(
                table,
                k,
                name,
                f"error {results[name]['error'][-1]:.4f}",
                f"{results[name]['seconds'][-1]:.1f} s",
                flush=True,
            )
    complete = (
        downstream_accuracy(np.delete(X, target, axis=1), X[:, target])
        if target is not None
        else np.nan
    )
    return results, complete


def summary_rows(results, complete):
    rows = []
    for name, measures in results.items():
        if not measures["error"]:
            continue
        mean = {
            key: float(np.nanmean(values)) if values else np.nan
            for key, values in measures.items()
        }
        rows.append(
            [
                name,
                f"{mean['error']:.4f} ± {np.std(measures['error']):.4f}",
                mean["cat"],
                mean["downstream"],
                mean["seconds"],
            ]
        )
    if np.isfinite(complete):
        rows.append(["(complete table)", "", "", complete, ""])
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(DATA / "mixed"))
    parser.add_argument("--tables", nargs="*", default=list(TABLES), choices=TABLES)
    parser.add_argument(
        "--masks", nargs="*", type=int, default=[1, 2, 3], choices=[1, 2, 3]
    )
    parser.add_argument(
        "--imputers", nargs="*", default=list(IMPUTERS), choices=list(IMPUTERS)
    )
    parser.add_argument(
        "--max-rows",
        type=int,
        default=None,
        help="random rows per table (quick runs only)",
    )
    parser.add_argument("--no-downstream", dest="downstream", action="store_false")
    parser.add_argument("--out", default=None)
    parser.add_argument(
        "--cache",
        default=None,
        help="JSON file of finished (table, mask, imputer) measurements: kept, and reused on the next run",
    )
    args = parser.parse_args()
    torch.set_num_threads(1)

    overview = []
    for table in args.tables:
        results, complete = run_table(Path(args.data), table, args)
        rows = summary_rows(results, complete)
        print_table(
            f"{table}: HI-VAE error (mean ± sd over masks {args.masks}), categorical accuracy, downstream "
            f"accuracy, fit seconds"
            + (f" ({args.max_rows} rows)" if args.max_rows else ""),
            ["imputer", "error", "categorical acc.", "downstream acc.", "fit s"],
            rows,
            args.out,
        )
        overview.append(
            [table]
            + [
                np.mean(results[n]["error"]) if results[n]["error"] else "n/a"
                for n in args.imputers
            ]
        )
    print_table(
        "HI-VAE error per table (mean over masks; lower is better)",
        ["table"] + args.imputers,
        overview,
        args.out,
    )


if __name__ == "__main__":
    main()
