"""VAE likelihoods.

1. Binarized MNIST (``--binarize threshold``: pixels > 0.5; ``stochastic``: one
   fixed-seed Bernoulli draw per pixel), 784-400-40 with a Bernoulli decoder: test negative log-likelihood by importance sampling
   (K samples) after each block of epochs, with the ELBO, the ELBO-to-IWAE gap
   and the time per epoch. The anchor (pythae's reproduction of the VAE, 500
   epochs) is 89.78 nats.
2. scikit-learn's digits, standardised: held-out log-likelihood of a VAE vs
   PCA.score_samples (probabilistic PCA) at equal latent size.

    python benchmarks/bench_vae.py [--epochs 30] [--every 10] [--k 1000] [--test-rows 2000]
        [--device cuda] [--save vae.pkl] [--resume vae.pkl]

``--save`` pickles the model after every block and ``--resume`` continues from
such a pickle, so a long run can be split over several sessions.
"""

import argparse
import pickle
import time
import warnings

import torch
from _common import load_mnist, print_table
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skae import VAE

warnings.simplefilter("ignore")


def mnist_curve(args):
    X_train, _, X_test, _ = load_mnist(binarize=args.binarize)
    X_test = X_test[: args.test_rows]
    vae = VAE(
        40,
        likelihood="bernoulli",
        hidden_layer_sizes=(400,),
        activation="relu",
        batch_size=100,
        learning_rate_init=1e-3,
        max_iter=args.every,
        tol=0.0,
        warm_start=True,
        random_state=0,
        device=args.device,
    )
    if args.resume:
        with open(args.resume, "rb") as f:
            vae = pickle.load(f).set_params(device=args.device, max_iter=args.every)
    rows = []
    while getattr(vae, "n_iter_", 0) + args.every <= args.epochs:
        start = time.perf_counter()
        vae.fit(X_train)
        per_epoch = (time.perf_counter() - start) / args.every
        if args.save:
            with open(args.save, "wb") as f:
                pickle.dump(vae, f)
        elbo = vae.score_samples(X_test).mean()
        iwae = vae.score_samples(X_test, n_samples=args.k).mean()
        rows.append(
            [
                vae.n_iter_,
                f"{-elbo:.2f}",
                f"{-iwae:.2f}",
                f"{iwae - elbo:.2f}",
                f"{per_epoch:.1f}",
                vae.n_active_units_,
            ]
        )
        print(rows[-1], flush=True)
    print_table(
        f"Binarized MNIST ({args.binarize}), 784-400-40 Bernoulli VAE, first {args.test_rows} test images",
        [
            "epochs",
            "-ELBO nats",
            f"NLL (IWAE K={args.k}) nats",
            "ELBO-IWAE gap",
            "s / epoch",
            "active units",
        ],
        rows,
        args.out,
    )


def digits_vs_pca(args):
    X = StandardScaler().fit_transform(load_digits().data)
    X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
    rows = []
    for k in (2, 8, 16):
        pca = PCA(k).fit(X_train).score_samples(X_test).mean()
        vae = VAE(
            k,
            hidden_layer_sizes=(128,),
            max_iter=500,
            early_stopping=True,
            n_iter_no_change=30,
            random_state=0,
        ).fit(X_train)
        rows.append(
            [
                k,
                f"{pca:.2f}",
                f"{vae.score_samples(X_test).mean():.2f}",
                f"{vae.score_samples(X_test, n_samples=100).mean():.2f}",
            ]
        )
        print(rows[-1], flush=True)
    print_table(
        "digits (standardised): held-out mean log-likelihood, nats",
        ["latent size", "PCA (exact pPCA)", "VAE ELBO", "VAE IWAE K=100"],
        rows,
        args.out,
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--every", type=int, default=10)
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--test-rows", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--skip-digits", action="store_true")
    parser.add_argument(
        "--binarize", choices=["threshold", "stochastic"], default="stochastic"
    )
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save", default=None)
    parser.add_argument("--resume", default=None)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not args.skip_digits:
        digits_vs_pca(args)
    if not args.skip_mnist:
        mnist_curve(args)


if __name__ == "__main__":
    main()
