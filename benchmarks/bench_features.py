"""MNIST: unsupervised features + LogisticRegression, test error (Makhzani & Frey's protocol).

Each autoencoder is trained on the 60k training images (pixels / 255) without
labels; a LogisticRegression is then fit on its codes and scored on the 10k
test images. Raw pixels and PCA are the baselines.

The classifier is the same for every row: MaxAbsScaler (it keeps sparse codes
sparse and does not blow up rarely firing units, as StandardScaler does) and
LogisticRegression with C picked on the last 10k training images, the paper's
50k / 10k split, then refit on all 60k.

    python benchmarks/bench_features.py [--epochs 15] [--alpha 1e-4] [--threads 2] [--device cuda] [--only NAME ...]
        [--batch-size 128] [--learning-rate 1e-3] [--decay-after-half {cosine,step}] [--seed 0]
"""

import argparse
import math
import time
import warnings

import numpy as np
import torch
from _common import load_mnist, print_table
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from skorch.callbacks import LRScheduler
from torch.optim.lr_scheduler import LambdaLR

from skae import AutoencoderTransformer, ContractiveAE, DenoisingAE, SparseAE

warnings.simplefilter("ignore")


def models(
    epochs,
    device="cpu",
    alpha=1e-4,
    batch_size=128,
    learning_rate=1e-3,
    decay_after_half=None,
    seed=0,
):
    schedule = (
        [("lr", _decay_after_half(epochs, decay_after_half))]
        if decay_after_half
        else None
    )
    common = dict(
        hidden_layer_sizes=(),
        batch_size=batch_size,
        learning_rate_init=learning_rate,
        max_iter=epochs,
        tol=0.0,
        alpha=alpha,
        random_state=seed,
        device=device,
        callbacks=schedule,
    )
    return {
        "raw pixels": None,
        "PCA (100)": PCA(100, random_state=0),
        "AutoencoderTransformer (1000 linear units)": AutoencoderTransformer(
            1000, **common
        ),
        "SparseAE k=10, by magnitude": SparseAE(
            1000,
            k=10,
            transform_k_factor=3.0,
            k_anneal_fraction=0.5,
            k_selection="magnitude",
            **common,
        ),
        "SparseAE k=25, by magnitude": SparseAE(
            1000,
            k=25,
            transform_k_factor=3.0,
            k_anneal_fraction=0.5,
            k_selection="magnitude",
            **common,
        ),
        "SparseAE k=40, by magnitude": SparseAE(
            1000,
            k=40,
            transform_k_factor=3.0,
            k_anneal_fraction=0.5,
            k_selection="magnitude",
            **common,
        ),
        "SparseAE k=10, by value": SparseAE(
            1000, k=10, transform_k_factor=3.0, k_anneal_fraction=0.5, **common
        ),
        "SparseAE k=25, by value": SparseAE(
            1000, k=25, transform_k_factor=3.0, k_anneal_fraction=0.5, **common
        ),
        "SparseAE k=40, by value": SparseAE(
            1000, k=40, transform_k_factor=3.0, k_anneal_fraction=0.5, **common
        ),
        "DenoisingAE (1000 linear units, masking 0.25)": DenoisingAE(
            1000, noise="masking", noise_level=0.25, **common
        ),
        "ContractiveAE (1000, sigmoid)": ContractiveAE(
            1000, contractive_weight=0.1, **common
        ),
    }


def _decay_after_half(epochs, policy):
    """Constant learning rate for the first half (while SparseAE anneals k), then a cosine to 0 or a 10x step."""
    half = epochs // 2

    def factor(epoch):
        progress = max(0.0, (epoch - half) / max(1, epochs - half))
        if policy == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        return 1.0 if progress < 0.5 else 0.1

    return LRScheduler(policy=LambdaLR, lr_lambda=factor)


def validated_classifier(n_train, n_validation=10_000):
    """MaxAbsScaler + LogisticRegression with C chosen on the last ``n_validation`` rows."""
    fold = np.r_[np.full(n_train - n_validation, -1), np.zeros(n_validation)]
    return GridSearchCV(
        make_pipeline(MaxAbsScaler(), LogisticRegression(max_iter=500)),
        {"logisticregression__C": [0.1, 1.0, 10.0]},
        cv=PredefinedSplit(fold),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", default=None)
    # Weight decay of every autoencoder; 1e-3 won on the validation split for k = 25 (README).
    parser.add_argument("--alpha", type=float, default=1e-4)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--decay-after-half", choices=["cosine", "step"], default=None)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X_train, y_train, X_test, y_test = load_mnist()
    rows = []
    settings = models(
        args.epochs,
        args.device,
        args.alpha,
        args.batch_size,
        args.learning_rate,
        args.decay_after_half,
        args.seed,
    )
    for name, model in settings.items():
        if args.only and name not in args.only:
            continue
        start = time.perf_counter()
        if model is None:
            F_train, F_test = X_train, X_test
        else:
            F_train = model.fit_transform(X_train)
            F_test = model.transform(X_test)
        fit_seconds = time.perf_counter() - start
        classifier = validated_classifier(len(F_train))
        start = time.perf_counter()
        error = 100 * (1 - classifier.fit(F_train, y_train).score(F_test, y_test))
        C = classifier.best_params_["logisticregression__C"]
        validation_error = 100 * (1 - classifier.best_score_)
        rows.append(
            [
                name,
                f"{error:.2f}",
                f"{validation_error:.2f}",
                f"{C:g}",
                f"{fit_seconds:.0f}",
                f"{time.perf_counter() - start:.0f}",
            ]
        )
        print(rows[-1], flush=True)
    print_table(
        f"MNIST features + MaxAbsScaler + LogisticRegression, C on validation ({args.epochs} epochs per autoencoder, "
        f"alpha={args.alpha:g}, batch {args.batch_size}, learning rate {args.learning_rate:g}, "
        f"decay after half {args.decay_after_half}, seed {args.seed})",
        [
            "features",
            "test error %",
            "validation error %",
            "C",
            "feature fit s",
            "classifier s",
        ],
        rows,
        args.out,
    )


if __name__ == "__main__":
    main()
