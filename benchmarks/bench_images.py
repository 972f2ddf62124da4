"""MNIST images: a convolutional autoencoder against the MLP and PCA.

Four sections (``--only`` picks some, comma-separated):

recon
    AutoencoderTransformer with ``skae.nn.ConvEncoder`` / ``ConvDecoder``
    (channels 32-64-128, 3x3 stride-2) against the MLP 784-512-256-k of
    ``bench_reconstruction.py`` and PCA, at n_components 2, 8, 16, 32; both
    networks with a Bernoulli decoder, batch 256, ``--epochs`` epochs. Held-out
    reconstruction MSE per pixel (pixels in [0, 1]), parameter count, fit
    seconds per epoch.
search
    Image search in each code space of ``recon`` (trained again if ``recon``
    is not run): precision at 10 by label, training images as the database,
    test images as queries; pixels as the reference.
denoise
    DenoisingAE, 64 code units, trained with the corruption it is tested on
    (masking 50 %, Gaussian sd 0.3): the convolutional network against the
    MLP 784-256-64 of ``bench_denoising.py``, both ``--denoise-epochs``
    epochs (10, as there); MSE to the clean test images and PSNR, every
    image clipped to [0, 1] first, as there.
vae
    A convolutional VAE (latent 40, Bernoulli) against the MLP 784-400-40 of
    ``bench_vae.py`` on statically binarized MNIST (one fixed-seed Bernoulli
    draw per pixel): test ELBO and importance-weighted bound (``--k``
    samples) in nats per image.

Full scale, on a GPU (two runs of a few minutes each):

    python benchmarks/bench_images.py --device cuda --only recon,search
    python benchmarks/bench_images.py --device cuda --only denoise,vae

Small scale on CPU: ``--n-train 5000 --n-test 1000 --epochs 3``.
"""

import argparse
import time
import warnings
from functools import partial

import numpy as np
import torch
from _common import load_mnist, print_table
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from skae import VAE, AutoencoderTransformer, DenoisingAE
from skae.nn import ConvDecoder, ConvEncoder

warnings.simplefilter("ignore")

IMAGE = (1, 28, 28)
CHANNELS = (32, 64, 128)


def conv_networks(channels=CHANNELS):
    return dict(
        encoder=partial(ConvEncoder, image_shape=IMAGE, channels=channels),
        decoder=partial(ConvDecoder, image_shape=IMAGE, channels=channels),
    )


def n_parameters(model):
    return sum(p.numel() for p in model.module_.parameters())


def mse(X_reconstructed, X):
    return float(np.mean((X_reconstructed - X) ** 2))


def psnr(error):
    return 10 * np.log10(1.0 / error)


def fit_timed(model, X):
    start = time.perf_counter()
    model.fit(X)
    return model, (time.perf_counter() - start) / model.n_iter_


def precision_at_10(database, database_labels, queries, query_labels):
    index = NearestNeighbors(n_neighbors=10).fit(database)
    found = index.kneighbors(queries, return_distance=False)
    return float(np.mean(database_labels[found] == query_labels[:, None]))


def reconstruction_models(args, k):
    common = dict(
        likelihood="bernoulli",
        batch_size=256,
        max_iter=args.epochs,
        tol=0.0,
        random_state=0,
        device=args.device,
    )
    return {
        "MLP 784-512-256-k": AutoencoderTransformer(
            k, hidden_layer_sizes=(512, 256), **common
        ),
        "conv 32-64-128": AutoencoderTransformer(k, **conv_networks(), **common),
    }


def recon_and_search(args, data, sections):
    X_train, y_train, X_test, y_test = data
    recon_rows, search_rows = [], []
    if "search" in sections:
        pixels = precision_at_10(X_train, y_train, X_test, y_test)
        search_rows.append(["pixels (784)", "-", f"{pixels:.3f}"])
    for k in args.components:
        pca = PCA(k, random_state=0).fit(X_train)
        pca_error = mse(pca.inverse_transform(pca.transform(X_test)), X_test)
        recon_rows.append([k, "PCA", f"{pca_error:.5f}", "1.00x", k * (784 + 1), "-"])
        if "search" in sections:
            search_rows.append(
                [
                    "PCA",
                    k,
                    f"{precision_at_10(pca.transform(X_train), y_train, pca.transform(X_test), y_test):.3f}",
                ]
            )
        for name, model in reconstruction_models(args, k).items():
            model, per_epoch = fit_timed(model, X_train)
            error = mse(model.reconstruct(X_test), X_test)
            recon_rows.append(
                [
                    k,
                    name,
                    f"{error:.5f}",
                    f"{error / pca_error:.2f}x",
                    n_parameters(model),
                    f"{per_epoch:.2f}",
                ]
            )
            print(recon_rows[-1], flush=True)
            if "search" in sections:
                codes_train, codes_test = (
                    model.transform(X_train),
                    model.transform(X_test),
                )
                search_rows.append(
                    [
                        name,
                        k,
                        f"{precision_at_10(codes_train, y_train, codes_test, y_test):.3f}",
                    ]
                )
                print(search_rows[-1], flush=True)
    scale = f"{len(X_train)} train / {len(X_test)} test images, {args.epochs} epochs, device {args.device}"
    if "recon" in sections:
        print_table(
            f"MNIST held-out reconstruction ({scale})",
            [
                "n_components",
                "model",
                "MSE per pixel",
                "/ PCA",
                "parameters",
                "fit s / epoch",
            ],
            recon_rows,
            args.out,
        )
    if search_rows:
        print_table(
            f"MNIST image search, precision@10 by label ({scale})",
            ["code space", "n_components", "precision@10"],
            search_rows,
            args.out,
        )


def corrupt(X, noise, level, rng):
    if noise == "masking":
        return X * (rng.rand(*X.shape) >= level)
    return X + level * rng.normal(size=X.shape).astype(X.dtype)


def denoise(args, data):
    X_train, _, X_test, _ = data
    common = dict(
        likelihood="bernoulli",
        batch_size=128,
        max_iter=args.denoise_epochs,
        tol=0.0,
        random_state=0,
        device=args.device,
    )
    rows = []
    for noise, level in [("masking", 0.5), ("gaussian", 0.3)]:
        noisy = corrupt(X_test, noise, level, np.random.RandomState(1))
        error = mse(np.clip(noisy, 0, 1), X_test)
        rows.append(
            [
                f"{noise} {level}",
                "noisy input",
                f"{error:.4f}",
                f"{psnr(error):.1f}",
                "-",
                "-",
            ]
        )
        models = {
            "MLP DenoisingAE 784-256-64": DenoisingAE(
                64, noise=noise, noise_level=level, hidden_layer_sizes=(256,), **common
            ),
            "conv DenoisingAE 32-64-128": DenoisingAE(
                64, noise=noise, noise_level=level, **conv_networks(), **common
            ),
        }
        for name, model in models.items():
            model, per_epoch = fit_timed(model, X_train)
            error = mse(np.clip(model.reconstruct(noisy), 0, 1), X_test)
            rows.append(
                [
                    f"{noise} {level}",
                    name,
                    f"{error:.4f}",
                    f"{psnr(error):.1f}",
                    n_parameters(model),
                    f"{per_epoch:.2f}",
                ]
            )
            print(rows[-1], flush=True)
    print_table(
        f"MNIST denoising, 64 code units ({len(X_train)} train / {len(X_test)} test, {args.denoise_epochs} epochs, "
        f"device {args.device})",
        [
            "corruption",
            "model",
            "MSE to clean",
            "PSNR dB",
            "parameters",
            "fit s / epoch",
        ],
        rows,
        args.out,
    )


def vae(args, n_train, n_test):
    X_train, _, X_test, _ = load_mnist(binarize="stochastic")
    X_train, X_test = X_train[:n_train], X_test[: min(n_test, args.vae_test_rows)]
    common = dict(
        likelihood="bernoulli",
        batch_size=100,
        max_iter=args.epochs,
        tol=0.0,
        random_state=0,
        device=args.device,
    )
    models = {
        "MLP VAE 784-400-40": VAE(40, hidden_layer_sizes=(400,), **common),
        "conv VAE 32-64-128": VAE(40, **conv_networks(), **common),
    }
    rows = []
    for name, model in models.items():
        model, per_epoch = fit_timed(model, X_train)
        elbo = model.score_samples(X_test).mean()
        iwae = model.score_samples(X_test, n_samples=args.k).mean()
        rows.append(
            [
                name,
                f"{elbo:.2f}",
                f"{iwae:.2f}",
                n_parameters(model),
                f"{per_epoch:.2f}",
                model.n_active_units_,
            ]
        )
        print(rows[-1], flush=True)
    print_table(
        f"Binarized MNIST (static, stochastic), test log-likelihood bounds on {len(X_test)} test images, nats "
        f"({len(X_train)} train, {args.epochs} epochs, device {args.device})",
        [
            "model",
            "ELBO",
            f"IWAE K={args.k}",
            "parameters",
            "fit s / epoch",
            "active units",
        ],
        rows,
        args.out,
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--denoise-epochs", type=int, default=10)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--n-test", type=int, default=10000)
    parser.add_argument("--only", default="recon,search,denoise,vae")
    parser.add_argument("--components", default="2,8,16,32")
    parser.add_argument(
        "--k", type=int, default=1000, help="importance samples for the VAE's bound"
    )
    parser.add_argument("--vae-test-rows", type=int, default=2000)
    parser.add_argument(
        "--threads", type=int, default=None, help="torch threads (default: torch's)"
    )
    parser.add_argument("--out", default=None, help="append the tables to this file")
    args = parser.parse_args()
    args.components = [int(k) for k in args.components.split(",")]
    sections = set(args.only.split(","))
    unknown = sections - {"recon", "search", "denoise", "vae"}
    if unknown:
        parser.error(f"unknown --only sections {sorted(unknown)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}"
        + (
            f" ({torch.cuda.get_device_name()})"
            if args.device.startswith("cuda")
            else ""
        ),
        flush=True,
    )

    X_train, y_train, X_test, y_test = load_mnist()
    data = (
        X_train[: args.n_train],
        y_train[: args.n_train],
        X_test[: args.n_test],
        y_test[: args.n_test],
    )
    start = time.perf_counter()
    if sections & {"recon", "search"}:
        recon_and_search(args, data, sections)
    if "denoise" in sections:
        denoise(args, data)
    if "vae" in sections:
        vae(args, args.n_train, args.n_test)
    print(f"\ntotal {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
