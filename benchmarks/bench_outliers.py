"""Outlier detection on the ODDS / ADBench sets in ../shared/data/outliers.

Transductive protocol: standardise, fit on all of X, score all of X; ROC-AUC and
average precision against y (1 = outlier), mean over seeds.

    python benchmarks/bench_outliers.py [--seeds 3] [--methods ...] [--datasets ...]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from _common import DATA, print_table

from skae import VAE, AutoencoderOutlierDetector, AutoencoderTransformer

warnings.simplefilter("ignore")


def pca_components(X):
    return max(1, X.shape[1] // 3)


def knn_distance(X, seed):
    distances, _ = NearestNeighbors(n_neighbors=6).fit(X).kneighbors(X)
    return -distances[:, 1:].mean(axis=1)


def pyod_score(name):
    def score(X, seed):
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE as PyodVAE

        model = (AutoEncoder if name == "ae" else PyodVAE)(random_state=seed, verbose=0, device="cpu")
        return -model.fit(X).decision_scores_

    return score


METHODS = {
    "IsolationForest": lambda X, s: IsolationForest(n_estimators=200, random_state=s).fit(X).score_samples(X),
    "PCA reconstruction": lambda X, s: -np.sum((X - (p := PCA(pca_components(X)).fit(X)).inverse_transform(p.transform(X))) ** 2, axis=1),
    "PCA log-likelihood": lambda X, s: PCA(pca_components(X)).fit(X).score_samples(X),
    "kNN distance": knn_distance,
    "skae default (likelihood)": lambda X, s: AutoencoderOutlierDetector(random_state=s).fit(X).score_samples(X),
    "skae one model, no trimming": lambda X, s: AutoencoderOutlierDetector(n_trim_rounds=0, random_state=s).fit(X).score_samples(X),
    "skae 5 models x 0.75 features": lambda X, s: AutoencoderOutlierDetector(n_estimators=5, max_features=0.75, random_state=s).fit(X).score_samples(X),
    "skae reconstruction": lambda X, s: AutoencoderOutlierDetector(scoring="reconstruction", random_state=s).fit(X).score_samples(X),
    "skae VAE ELBO": lambda X, s: AutoencoderOutlierDetector(VAE(pca_components(X), hidden_layer_sizes=(64,), max_iter=100), random_state=s).fit(X).score_samples(X),
    "skae AE(64) likelihood": lambda X, s: AutoencoderOutlierDetector(AutoencoderTransformer(pca_components(X), hidden_layer_sizes=(64,), max_iter=100), random_state=s).fit(X).score_samples(X),
    "skae 5 seeds, all features": lambda X, s: AutoencoderOutlierDetector(n_estimators=5, max_features=1.0, random_state=s).fit(X).score_samples(X),
    "PyOD AutoEncoder": pyod_score("ae"),
    "PyOD VAE": pyod_score("vae"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="*", default=list(METHODS))
    parser.add_argument("--datasets", nargs="*", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)

    names = args.datasets or sorted(p.stem for p in (DATA / "outliers").glob("*.npz"))
    auc = {m: {} for m in args.methods}
    ap = {m: {} for m in args.methods}
    seconds = {m: 0.0 for m in args.methods}
    for name in names:
        data = np.load(DATA / "outliers" / f"{name}.npz")
        X, y = StandardScaler().fit_transform(data["X"]), data["y"]
        for method in args.methods:
            aucs, aps = [], []
            for seed in range(args.seeds):
                start = time.perf_counter()
                scores = METHODS[method](X, seed)
                seconds[method] += time.perf_counter() - start
                outlyingness = -np.asarray(scores)
                aucs.append(roc_auc_score(y, outlyingness))
                aps.append(average_precision_score(y, outlyingness))
            auc[method][name], ap[method][name] = (np.mean(aucs), np.std(aucs)), (np.mean(aps), np.std(aps))
            print(f"{name:12s} {method:28s} AUC {np.mean(aucs):.3f} ± {np.std(aucs):.3f}  AP {np.mean(aps):.3f}", flush=True)

    rows = [[name] + [f"{auc[m][name][0]:.3f}" for m in args.methods] for name in names]
    rows.append(["**mean ROC-AUC**"] + [f"**{np.mean([auc[m][n][0] for n in names]):.3f}**" for m in args.methods])
    rows.append(["mean AP"] + [f"{np.mean([ap[m][n][0] for n in names]):.3f}" for m in args.methods])
    rows.append(["mean rank (AUC)"] + [f"{r:.2f}" for r in _mean_ranks(auc, args.methods, names)])
    rows.append(["total fit+score s"] + [f"{seconds[m]:.0f}" for m in args.methods])
    print_table(f"Outlier detection, ROC-AUC (mean of {args.seeds} seeds, transductive)", ["dataset"] + args.methods, rows, args.out)


def _mean_ranks(auc, methods, names):
    from scipy.stats import rankdata

    ranks = np.array([rankdata([-auc[m][n][0] for m in methods]) for n in names])
    return ranks.mean(axis=0)


if __name__ == "__main__":
    main()
