"""Development-set sweep behind skae's default code widths (``SparseAE(k=...)``)
and the stopping rule, on data kept out of ``bench_defaults.py``.

Development sets: MNIST block-averaged to 8 x 8 pixels (a digits-like set of
64 features; 2000 training rows, none from the benchmark's sklearn digits) and
four ODDS sets whose labels are a real classification (ionosphere: radar
returns good / bad; pima: diabetes) or a rare class (cardio, vowels). The
benchmark's sets (sklearn digits, breast cancer, wine) are never loaded here;
ODDS wbc / breastw derive from the breast-cancer data and are left out.

    python benchmarks/tune_defaults.py --widths 2 4 10 40        # SparseAE(UNITS * k, k=25)
    python benchmarks/tune_defaults.py --stopping                # where each tol stops a default fit, held-out error there
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import DATA, load_mnist, print_table
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skae import VAE, AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE


def mnist_8x8(n_rows=2000):
    X, y, _, _ = load_mnist()
    rows = np.random.RandomState(0).choice(len(X), n_rows, replace=False)
    images = np.pad(X[rows].reshape(-1, 28, 28), ((0, 0), (2, 2), (2, 2)))
    return images.reshape(-1, 8, 4, 8, 4).mean(axis=(2, 4)).reshape(n_rows, 64).astype(np.float64), y[rows]


def development_sets():
    sets = {"mnist8x8": mnist_8x8()}
    for name in ["ionosphere", "pima", "cardio", "vowels"]:
        data = np.load(DATA / "outliers" / f"{name}.npz")
        sets[name] = (data["X"], data["y"])
    return sets


def cv_accuracy(estimator, X, y, seed=0):
    pipe = Pipeline([("scale", StandardScaler()), ("ae", estimator), ("clf", LogisticRegression(max_iter=1000))])
    folds = StratifiedKFold(3, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(pipe, X, y, cv=folds)))


def sweep_widths(sets, units, k):
    rows = []
    for name, (X, y) in sets.items():
        start = time.perf_counter()
        row = [name, X.shape[1], cv_accuracy(PCA(min(k, X.shape[1])), X, y)]
        for u in units:
            row.append(cv_accuracy(SparseAE(u * k, k=k, random_state=0), X, y))
        rows.append(row + [round(time.perf_counter() - start)])
    header = ["set", "features", f"PCA({k})"] + [f"SparseAE({u}k)" for u in units] + ["s"]
    print_table(f"3-fold accuracy, StandardScaler + model + LogisticRegression, k={k}", header, rows)


class HeldOutError(Callback):
    """Records the held-out reconstruction MSE after every epoch (module in eval mode)."""

    def __init__(self, X):
        self.X = X

    def on_train_begin(self, net, **kwargs):
        self.errors_ = []

    def on_epoch_end(self, net, **kwargs):
        net.module_.eval()
        with torch.no_grad():
            x = torch.as_tensor(self.X, dtype=torch.float32)
            self.errors_.append(float(((net.module_(x)[0] - x) ** 2).mean()))
        net.module_.train()


def stop_epoch(losses, tol, patience=10, max_iter=200, warmup=0, rule="sklearn"):
    """Epochs run under scikit-learn's MLP rule (a miss unless the loss beats the best
    by tol; any lower loss is the new best) or skorch's (the best moves only on a
    gain of at least tol, so gains accumulate)."""
    best, misses = np.inf, 0
    for epoch, loss in enumerate(losses[:max_iter], start=1):
        if epoch <= warmup:
            continue
        if loss > best - tol:
            misses += 1
            if rule == "sklearn":
                best = min(best, loss)
        else:
            misses, best = 0, loss
        if misses >= patience:
            return epoch
    return min(len(losses), max_iter)


def stopping(sets, tols, long_epochs=1000, max_iter=200):
    """Default models trained without the rule; where tol (per feature) would stop them, and their held-out error there."""
    models = {
        "AutoencoderTransformer": AutoencoderTransformer, "DenoisingAE": DenoisingAE,
        "ContractiveAE": ContractiveAE, "VAE": VAE, "SparseAE(k=25)": lambda **kw: SparseAE(k=25, **kw),
    }
    rows, curves = [], {}
    for name, (X, y) in sets.items():
        train, test = next(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
        scaler = StandardScaler().fit(X[train])
        X_train, X_test = scaler.transform(X[train]), scaler.transform(X[test])
        for label, make in models.items():
            sparse = label.startswith("SparseAE")
            # SparseAE anneals k over its first 100 epochs, as the default (0.5 x 200) did.
            epochs = long_epochs
            extra = {"k_anneal_fraction": 100 / epochs} if sparse else {}
            recorder = HeldOutError(X_test)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = make(random_state=0, tol=0.0, n_iter_no_change=epochs, max_iter=epochs,
                             callbacks=[("held_out", recorder)], **extra).fit(X_train)
            losses = np.array(model.loss_curve_) / X.shape[1]
            errors = recorder.errors_
            curves[f"{name}/{label}/loss"], curves[f"{name}/{label}/held_out"] = losses, np.array(errors)
            row = [name, label, errors[199], min(errors)]
            for tol in tols:
                for rule in ("sklearn", "skorch"):
                    stop = stop_epoch(losses, tol, max_iter=max_iter, warmup=100 if sparse else 0, rule=rule)
                    row += [stop, errors[stop - 1]]
            rows.append(row)
            print(row, flush=True)
    header = ["set", "model", "MSE@200", f"best MSE (<= {long_epochs} ep)"]
    print(f"max_iter={max_iter}")
    for tol in tols:
        for rule in ("sklearn", "skorch"):
            header += [f"epochs {rule} tol={tol:g}", f"MSE {rule} tol={tol:g}"]
    print_table("held-out reconstruction MSE (standardised units) where the stopping rule would stop a default fit", header, rows)
    np.savez("tune_defaults_curves.npz", **curves)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--widths", type=int, nargs="*", default=None)
    parser.add_argument("--k", type=int, default=25)
    parser.add_argument("--stopping", action="store_true")
    parser.add_argument("--max-iter", type=int, default=200, help="max_iter the stopping rule is simulated under")
    parser.add_argument("--tols", type=float, nargs="*", default=[1e-4, 2e-4, 5e-4, 1e-3])
    parser.add_argument("--sets", nargs="*", default=None)
    args = parser.parse_args()
    sets = development_sets()
    if args.sets:
        sets = {name: sets[name] for name in args.sets}
    if args.widths:
        sweep_widths(sets, args.widths, args.k)
    if args.stopping:
        stopping(sets, args.tols, max_iter=args.max_iter)
