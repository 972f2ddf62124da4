"""MNIST denoising: corrupt the test images, reconstruct, compare with the clean originals.

DenoisingAE (trained with the same corruption) vs AutoencoderTransformer vs PCA, all
with a 64-unit code; mean squared error per pixel and PSNR (pixels in [0, 1]).
Also saves benchmarks/results/denoising.png: noisy digits, DenoisingAE
reconstructions and originals.

    python benchmarks/bench_denoising.py [--epochs 10] [--threads 2]
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from _common import load_mnist, print_table
from sklearn.decomposition import PCA

from skae import AutoencoderTransformer, DenoisingAE

warnings.simplefilter("ignore")
RESULTS = Path(__file__).parent / "results"


def corrupt(X, noise, level, rng):
    if noise == "masking":
        return X * (rng.rand(*X.shape) >= level)
    return X + level * rng.normal(size=X.shape).astype(X.dtype)


def psnr(mse):
    return 10 * np.log10(1.0 / mse)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X_train, _, X_test, _ = load_mnist()
    common = dict(
        hidden_layer_sizes=(256,),
        likelihood="bernoulli",
        batch_size=128,
        max_iter=args.epochs,
        tol=0.0,
        random_state=0,
    )
    start = time.perf_counter()
    ae = AutoencoderTransformer(64, **common).fit(X_train)
    ae_seconds = time.perf_counter() - start
    pca = PCA(64, random_state=0).fit(X_train)
    rows = []
    for noise, level in [("masking", 0.5), ("gaussian", 0.3)]:
        start = time.perf_counter()
        dae = DenoisingAE(64, noise=noise, noise_level=level, **common).fit(X_train)
        dae_seconds = time.perf_counter() - start
        noisy = corrupt(X_test, noise, level, np.random.RandomState(1))
        results = {
            "noisy input": noisy,
            "PCA (64)": pca.inverse_transform(pca.transform(noisy)),
            "AutoencoderTransformer": ae.reconstruct(noisy),
            "DenoisingAE": dae.reconstruct(noisy),
        }
        for name, reconstruction in results.items():
            mse = float(np.mean((np.clip(reconstruction, 0, 1) - X_test) ** 2))
            seconds = {
                "DenoisingAE": dae_seconds,
                "AutoencoderTransformer": ae_seconds,
            }.get(name, "")
            rows.append(
                [
                    f"{noise} {level}",
                    name,
                    f"{mse:.4f}",
                    f"{psnr(mse):.2f}",
                    f"{seconds:.0f}" if seconds else "",
                ]
            )
        if noise == "masking":
            save_grid(noisy[:10], results["DenoisingAE"][:10], X_test[:10])
    print_table(
        f"MNIST test-set denoising ({args.epochs} epochs, 784-256-64 nets)",
        ["corruption", "method", "MSE to clean", "PSNR dB", "fit s"],
        rows,
        args.out,
    )


def save_grid(noisy, denoised, clean):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(3, len(clean), figsize=(len(clean), 3.3))
    for row, (label, images) in enumerate(
        [("noisy", noisy), ("DenoisingAE", denoised), ("original", clean)]
    ):
        for col, image in enumerate(images):
            axes[row, col].imshow(np.clip(image, 0, 1).reshape(28, 28), cmap="gray")
            axes[row, col].axis("off")
        axes[row, 0].set_title(label, fontsize=8, loc="left")
    fig.tight_layout()
    RESULTS.mkdir(exist_ok=True)
    fig.savefig(RESULTS / "denoising.png", dpi=80)


if __name__ == "__main__":
    main()
