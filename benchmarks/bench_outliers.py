"""Outlier detection on the ODDS / ADBench sets in ../shared/data/outliers.

Two protocols, ROC-AUC and average precision against y (1 = outlier), mean
over seeds:

- transductive (the default, the issue's): standardise, fit on all of X
  (outliers included, unlabelled), score all of X;
- novelty (``--protocol novelty``): each seed draws half of the inliers as
  clean training data; the scaler and the detector are fitted on them, and
  the other half of the inliers plus every outlier are scored. This is the
  setting of a user who has a clean reference sample.

    python benchmarks/bench_outliers.py [--protocol {transductive,novelty}] [--seeds 3] [--methods ...] [--datasets ...]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import DATA, print_table
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler

from skae import VAE, AutoencoderOutlierDetector, AutoencoderTransformer
from skae.losses import sum_features

warnings.simplefilter("ignore")


def pca_components(X):
    return max(1, X.shape[1] // 3)


def knn_distance(X, X_score, seed):
    """Minus the mean distance to the 5 nearest training rows (a row is not its own neighbour)."""
    itself = int(X_score is X)
    distances, _ = NearestNeighbors(n_neighbors=5 + itself).fit(X).kneighbors(X_score)
    return -distances[:, itself:].mean(axis=1)


def pyod_score(name):
    def score(X, X_score, seed):
        from pyod.models.auto_encoder import AutoEncoder
        from pyod.models.vae import VAE as PyodVAE

        model = (AutoEncoder if name == "ae" else PyodVAE)(
            random_state=seed, verbose=0, device="cpu"
        ).fit(X)
        return -(
            model.decision_scores_ if X_score is X else model.decision_function(X_score)
        )

    return score


class SmallLossAE(AutoencoderTransformer):
    """The detector's default model, training each batch only on its lowest-loss rows (the "small-loss" trick).

    Rows with the highest ``trim`` fraction of losses in a batch get no gradient,
    so rows the model fits badly early on (hopefully the outliers) stay
    unlearned. A class attribute, not a parameter, because the detector clones
    its model; measured and left out (README).
    """

    trim = 0.1

    def _objective(
        self, module, X, weights=None, sample_weight=None
    ):  # unweighted fits only
        output, _ = module(X)
        nll = sum_features(self._elementwise_nll(module, output, X), weights)
        if module.training:
            nll = torch.topk(
                nll, len(nll) - int(self.trim * len(nll)), largest=False
            ).values
        return nll.mean()


def small_loss_detector(X, seed):
    default = AutoencoderOutlierDetector._default_autoencoder(X).get_params()
    return AutoencoderOutlierDetector(SmallLossAE(**default), random_state=seed)


def fit_score(make):
    """A method from a detector factory ``make(X, seed)``: fit on X, score X_score."""
    return lambda X, X_score, seed: make(X, seed).fit(X).score_samples(X_score)


# Each method maps (training X, X to score, seed) to scores, higher = more normal.
METHODS = {
    "IsolationForest": fit_score(
        lambda X, s: IsolationForest(n_estimators=200, random_state=s)
    ),
    "PCA reconstruction": lambda X, X_score, s: (
        -np.sum(
            (
                X_score
                - (p := PCA(pca_components(X)).fit(X)).inverse_transform(
                    p.transform(X_score)
                )
            )
            ** 2,
            axis=1,
        )
    ),
    "PCA log-likelihood": fit_score(lambda X, s: PCA(pca_components(X))),
    "kNN distance": knn_distance,
    "skae default (likelihood)": fit_score(
        lambda X, s: AutoencoderOutlierDetector(random_state=s)
    ),
    "skae one model, no trimming": fit_score(
        lambda X, s: AutoencoderOutlierDetector(n_trim_rounds=0, random_state=s)
    ),
    "skae 5 models x 0.75 features": fit_score(
        lambda X, s: AutoencoderOutlierDetector(
            n_estimators=5, max_features=0.75, random_state=s
        )
    ),
    "skae reconstruction": fit_score(
        lambda X, s: AutoencoderOutlierDetector(
            scoring="reconstruction", random_state=s
        )
    ),
    "skae VAE ELBO": fit_score(
        lambda X, s: AutoencoderOutlierDetector(
            VAE(pca_components(X), hidden_layer_sizes=(64,), max_iter=100),
            random_state=s,
        )
    ),
    "skae AE(64) likelihood": fit_score(
        lambda X, s: AutoencoderOutlierDetector(
            AutoencoderTransformer(
                pca_components(X), hidden_layer_sizes=(64,), max_iter=100
            ),
            random_state=s,
        )
    ),
    "skae 5 seeds, all features": fit_score(
        lambda X, s: AutoencoderOutlierDetector(
            n_estimators=5, max_features=1.0, random_state=s
        )
    ),
    "skae small-loss training (0.1), trimmed refits": fit_score(small_loss_detector),
    "PyOD AutoEncoder": pyod_score("ae"),
    "PyOD VAE": pyod_score("vae"),
}


def split(X, y, protocol, seed):
    """(training X, X to score, labels of the scored rows) under the protocol (module docstring)."""
    if protocol == "transductive":
        X = StandardScaler().fit_transform(X)
        return X, X, y
    inliers = np.flatnonzero(y == 0)
    train = np.random.RandomState(seed).permutation(inliers)[: len(inliers) // 2]
    scored = np.setdiff1d(np.arange(len(y)), train)
    scaler = StandardScaler().fit(X[train])
    return scaler.transform(X[train]), scaler.transform(X[scored]), y[scored]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--protocol", choices=["transductive", "novelty"], default="transductive"
    )
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
        # One split per seed, shared by every method (the transductive one is the same for all seeds).
        splits = [
            split(data["X"].astype(float), data["y"], args.protocol, seed)
            for seed in range(args.seeds)
        ]
        for method in args.methods:
            aucs, aps = [], []
            for seed, (X, X_score, y) in enumerate(splits):
                start = time.perf_counter()
                scores = METHODS[method](X, X_score, seed)
                seconds[method] += time.perf_counter() - start
                outlyingness = -np.asarray(scores)
                aucs.append(roc_auc_score(y, outlyingness))
                aps.append(average_precision_score(y, outlyingness))
            auc[method][name], ap[method][name] = (
                (np.mean(aucs), np.std(aucs)),
                (np.mean(aps), np.std(aps)),
            )
            print(
                f"{name:12s} {method:28s} AUC {np.mean(aucs):.3f} ± {np.std(aucs):.3f}  AP {np.mean(aps):.3f}",
                flush=True,
            )

    rows = [[name] + [f"{auc[m][name][0]:.3f}" for m in args.methods] for name in names]
    rows.append(
        ["**mean ROC-AUC**"]
        + [f"**{np.mean([auc[m][n][0] for n in names]):.3f}**" for m in args.methods]
    )
    rows.append(
        ["mean AP"]
        + [f"{np.mean([ap[m][n][0] for n in names]):.3f}" for m in args.methods]
    )
    rows.append(
        ["mean rank (AUC)"]
        + [f"{r:.2f}" for r in _mean_ranks(auc, args.methods, names)]
    )
    rows.append(["total fit+score s"] + [f"{seconds[m]:.0f}" for m in args.methods])
    print_table(
        f"Outlier detection, ROC-AUC (mean of {args.seeds} seeds, {args.protocol})",
        ["dataset"] + args.methods,
        rows,
        args.out,
    )


def _mean_ranks(auc, methods, names):
    from scipy.stats import rankdata

    ranks = np.array([rankdata([-auc[m][n][0] for m in methods]) for n in names])
    return ranks.mean(axis=0)


if __name__ == "__main__":
    main()
