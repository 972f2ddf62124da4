"""Every public autoencoder at its defaults in the design card's pipeline, against PCA.

    Pipeline([("scale", StandardScaler()), ("ae", estimator), ("clf", LogisticRegression(max_iter=1000))])

with 5-fold stratified cross-validation (shuffled, seed 0) on scikit-learn's
bundled digits, breast cancer and wine, against the same pipeline with PCA at
the estimator's code width (capped at the number of features). SparseAE(k=25)
is the README's line: 100 code units, 25 non-zero per sample, so it is also
compared with PCA(min(25, n_features)), the comparison of issue 11.

Only ``random_state=0`` is set on the autoencoders (reproducibility, not
quality); ``LogisticRegression(max_iter=1000)`` so that the classifier, not the
features, is never the one that stops early. Nothing here was tuned on these
three sets: the SparseAE width rule and the stopping tolerance were chosen on
development data (``benchmarks/tune_defaults.py``).

AutoencoderOutlierDetector and AutoencoderImputer are not transformers of
features, so "the same pipeline with PCA" does not apply to them: the detector
has no transform, and an imputer is compared with other imputers on data with
missing values (``bench_imputation.py``).

    python benchmarks/bench_defaults.py [--out benchmarks/results/defaults.md] [--sets digits wine]
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import VAE, AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE

DATASETS = {"digits": load_digits, "breast_cancer": load_breast_cancer, "wine": load_wine}


def estimators():
    """(label, estimator at its defaults, code width, active units per sample)."""
    return [
        ("SparseAE(k=25)", SparseAE(k=25, random_state=0), 100, 25),
        ("AutoencoderTransformer()", AutoencoderTransformer(random_state=0), 10, 10),
        ("DenoisingAE()", DenoisingAE(random_state=0), 10, 10),
        ("SparseAE()", SparseAE(random_state=0), 10, 10),
        ("ContractiveAE()", ContractiveAE(random_state=0), 10, 10),
        ("VAE()", VAE(random_state=0), 10, 10),
    ]


def pipeline_accuracy(step, X, y):
    pipe = Pipeline([("scale", StandardScaler()), ("ae", step), ("clf", LogisticRegression(max_iter=1000))])
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    return float(np.mean(cross_val_score(pipe, X, y, cv=folds)))


def main(sets, out):
    rows = []
    pca_cache = {}
    for name in sets:
        X, y = DATASETS[name](return_X_y=True)
        for label, estimator, width, active in estimators():
            start = time.perf_counter()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                accuracy = pipeline_accuracy(estimator, X, y)
            seconds = time.perf_counter() - start
            comparisons = sorted({min(width, X.shape[1]), min(active, X.shape[1])})
            for n in comparisons:
                if (name, n) not in pca_cache:
                    pca_cache[name, n] = pipeline_accuracy(PCA(n), X, y)
            pca_equal = pca_cache[name, min(width, X.shape[1])]
            pca_active = pca_cache[name, min(active, X.shape[1])]
            row = [name, label, accuracy, f"PCA({min(width, X.shape[1])}) {pca_equal:.4f}",
                   f"{100 * (accuracy - pca_equal):+.1f}", f"PCA({min(active, X.shape[1])}) {pca_active:.4f}",
                   f"{100 * (accuracy - pca_active):+.1f}", len(caught), f"{seconds:.0f}"]
            rows.append(row)
            print(" | ".join(str(v) for v in row), flush=True)
    header = ["data", "estimator (defaults)", "5-fold accuracy", "PCA at code width", "diff (points)",
              "PCA at active units", "diff (points)", "warnings", "seconds"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(f"{v:.4f}" if isinstance(v, float) else str(v) for v in row) + " |" for row in rows]
    table = "\n".join(lines)
    print(table)
    if out:
        with open(out, "a") as f:
            f.write(table + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--sets", nargs="*", default=list(DATASETS))
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    main(args.sets, args.out)
