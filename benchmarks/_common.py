"""Shared helpers for the benchmark scripts: data loading and table printing."""

import os
from pathlib import Path

import numpy as np

DATA = Path(
    os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)


def load_mnist(binarize=None):
    """MNIST as float32 in [0, 1]: (X_train, y_train, X_test, y_test).

    ``binarize``: None keeps grey levels; "threshold" sets pixels > 0.5 to 1;
    "stochastic" draws each pixel once from Bernoulli(grey level) with a fixed
    seed (a static binarization in the manner of Larochelle & Murray's, which
    VAE likelihood papers report on; thresholding gives an easier dataset).
    """
    d = np.load(DATA / "mnist.npz")
    X_train = d["x_train"].reshape(-1, 784).astype(np.float32) / 255.0
    X_test = d["x_test"].reshape(-1, 784).astype(np.float32) / 255.0
    if binarize == "threshold":
        X_train, X_test = (
            (X_train > 0.5).astype(np.float32),
            (X_test > 0.5).astype(np.float32),
        )
    elif binarize == "stochastic":
        rng = np.random.RandomState(0)
        X_train = (rng.rand(*X_train.shape) < X_train).astype(np.float32)
        X_test = (rng.rand(*X_test.shape) < X_test).astype(np.float32)
    return X_train, d["y_train"].astype(int), X_test, d["y_test"].astype(int)


def load_digits_scaled():
    from sklearn.datasets import load_digits
    from sklearn.preprocessing import MinMaxScaler

    X, y = load_digits(return_X_y=True)
    return MinMaxScaler().fit_transform(X).astype(np.float32), y


def print_table(title, header, rows, out=None):
    """Print a GitHub-markdown table (and append it to ``out`` if given)."""
    lines = [
        f"\n### {title}\n",
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
    ]
    for row in rows:
        lines.append("| " + " | ".join(_fmt(v) for v in row) + " |")
    text = "\n".join(lines)
    print(text, flush=True)
    if out:
        with open(out, "a") as f:
            f.write(text + "\n")


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)
