"""A standalone torch replica of bench_features' SparseAE, for changes skae does not expose.

784 -> 1000 linear units, top-k by value, decoder back to 784; Adam, batch 128,
squared error summed over pixels, weight decay on weights only, k annealed
linearly from ``--anneal-from`` to k over the first half of training,
encoding with 3k units. It matches skae's SparseAE (2.28 % vs 2.38 % at k = 25,
15 epochs) and tests what skae has no parameter for: tied decoder weights and
the anneal's starting k (README, "Features for a classifier").

    python benchmarks/ksparse_replica.py [--tied] [--weight-decay 1e-4] [--anneal-from 1000] [--epochs 15] [--k 25]

Prints the fraction of units that never fire at k, and the validation (last
10k training images) and test error of MaxAbsScaler + LogisticRegression at
C = 1 and 10.
"""

import argparse
import time
import warnings

import numpy as np
import torch
from _common import load_mnist
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from torch import nn

from skae.nn import TopK

warnings.simplefilter("ignore")


class KSparse(nn.Module):
    """skae's k-sparse model with an optionally tied decoder; ``code_layer.k`` is annealed by the caller."""

    def __init__(self, n_features, n_units, k_eval, tied):
        super().__init__()
        self.encoder = nn.Linear(n_features, n_units)
        self.code_layer = TopK(n_units, k_eval)
        self.decoder_bias = nn.Parameter(torch.zeros(n_features))
        self.decoder_weight = (
            None
            if tied
            else nn.Parameter(nn.Linear(n_units, n_features).weight.detach().T.clone())
        )

    def encode(self, x):
        return self.code_layer(self.encoder(x))

    def forward(self, x):
        weight = (
            self.encoder.weight if self.decoder_weight is None else self.decoder_weight
        )
        return self.encode(x) @ weight + self.decoder_bias


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--tied", action="store_true")
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--anneal-from", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--k", type=int, default=25)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    X_train, y_train, X_test, y_test = load_mnist()
    X = torch.from_numpy(X_train)
    model = KSparse(784, 1000, 3 * args.k, args.tied)
    weights = [p for name, p in model.named_parameters() if "bias" not in name]
    biases = [p for name, p in model.named_parameters() if "bias" in name]
    optimizer = torch.optim.Adam(
        [
            {"params": weights, "weight_decay": args.weight_decay},
            {"params": biases, "weight_decay": 0.0},
        ],
        lr=1e-3,
    )
    start = time.perf_counter()
    for epoch in range(args.epochs):
        progress = min(1.0, epoch / (0.5 * args.epochs))
        model.code_layer.k = int(
            round(args.anneal_from + progress * (args.k - args.anneal_from))
        )
        for batch in torch.randperm(len(X)).split(128):
            x = X[batch]
            loss = ((model(x) - x) ** 2).sum(dim=1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.code_layer.k = args.k
    with torch.no_grad():
        dead = np.mean(
            ~(model.encode(X).numpy() > 0).any(axis=0)
        )  # training mode: k units
        model.eval()  # 3k units, the paper's alpha * k
        F_train = model.encode(X).numpy()
        F_test = model.encode(torch.from_numpy(X_test)).numpy()
    print(f"dead units {dead:.3f}, fit {time.perf_counter() - start:.0f} s")
    for C in [1.0, 10.0]:
        classifier = make_pipeline(
            MaxAbsScaler(), LogisticRegression(max_iter=500, C=C)
        )
        validation = 100 * (
            1
            - classifier.fit(F_train[:50_000], y_train[:50_000]).score(
                F_train[50_000:], y_train[50_000:]
            )
        )
        test = 100 * (1 - classifier.fit(F_train, y_train).score(F_test, y_test))
        print(f"C={C:g}: validation error {validation:.2f} %, test error {test:.2f} %")


if __name__ == "__main__":
    main()
