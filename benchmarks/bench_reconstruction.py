"""Held-out reconstruction MSE of AutoencoderTransformer vs PCA at equal n_components.

digits: 1347 train / 450 test rows (min-max scaled); MNIST: 60k train / 10k test
(pixels / 255). Prints MSE per pixel and the ratio to PCA.

    python benchmarks/bench_reconstruction.py [--mnist-epochs 30] [--skip-mnist]
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import load_digits_scaled, load_mnist, print_table
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer

warnings.simplefilter("ignore")


def mse(model, X):
    return float(np.mean((model.inverse_transform(model.transform(X)) - X) ** 2))


def compare(name, X_train, X_test, ks, make_ae, out):
    rows = []
    for k in ks:
        pca_error = mse(PCA(k, random_state=0).fit(X_train), X_test)
        start = time.perf_counter()
        ae = make_ae(k).fit(X_train)
        seconds = time.perf_counter() - start
        ae_error = mse(ae, X_test)
        rows.append([k, pca_error, ae_error, ae_error / pca_error, ae.n_iter_, seconds])
        print(rows[-1], flush=True)
    print_table(
        f"{name}: held-out reconstruction MSE",
        [
            "n_components",
            "PCA",
            "AutoencoderTransformer",
            "AE / PCA",
            "epochs",
            "fit s",
        ],
        rows,
        out,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mnist-epochs", type=int, default=30)
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    X, _ = load_digits_scaled()
    X_train, X_test = train_test_split(
        X.astype(np.float64), test_size=0.25, random_state=0
    )
    if not args.skip_digits:
        compare(
            "digits",
            X_train,
            X_test,
            [2, 8, 16, 32],
            lambda k: AutoencoderTransformer(
                k,
                hidden_layer_sizes=(256,),
                max_iter=1000,
                early_stopping=True,
                n_iter_no_change=30,
                random_state=0,
            ),
            args.out,
        )
    if not args.skip_mnist:
        X_train, _, X_test, _ = load_mnist()
        compare(
            f"MNIST ({args.mnist_epochs} epochs)",
            X_train,
            X_test,
            [2, 8, 16, 32],
            lambda k: AutoencoderTransformer(
                k,
                hidden_layer_sizes=(512, 256),
                likelihood="bernoulli",
                batch_size=256,
                max_iter=args.mnist_epochs,
                tol=0.0,
                random_state=0,
                verbose=args.verbose,
            ),
            args.out,
        )


if __name__ == "__main__":
    main()
