"""Common random numbers vs independent draws for VAE.score_samples.

A VAE's scores are Monte Carlo bounds. With common random numbers (CRN, what
skae does) every row uses the same standard normal draws; the alternative
draws independently for every row. For one fitted model, the scores of
several draw seeds are compared:

- rank stability: Spearman correlation of the per-row scores between two draw
  seeds (what an outlier ranking needs), averaged over seed pairs;
- per-row noise: standard deviation over seeds of one row's score, averaged
  over rows (the same for both schemes: each row's estimate is unchanged);
- mean noise: standard deviation over seeds of the mean score over rows
  (what ``score`` and model selection see).

    python benchmarks/vae_score_draws.py [--seeds 8] [--n-score-samples 10]
"""

import argparse
import itertools
import warnings

import numpy as np
import torch
from scipy.stats import spearmanr
from sklearn.datasets import load_digits
from sklearn.preprocessing import StandardScaler

from skae import VAE
from skae._inference import INFERENCE_DTYPE


def draws(scheme, n_draws, n_rows, n_components, seed):
    generator = torch.Generator().manual_seed(seed)
    if scheme == "independent":
        return torch.randn(
            (n_draws, n_rows, n_components), generator=generator, dtype=INFERENCE_DTYPE
        )
    if scheme == "common":
        return torch.randn(
            (n_draws, 1, n_components), generator=generator, dtype=INFERENCE_DTYPE
        )
    if scheme == "common antithetic":
        half = torch.randn(
            ((n_draws + 1) // 2, 1, n_components),
            generator=generator,
            dtype=INFERENCE_DTYPE,
        )
        return torch.cat([half, -half])[:n_draws]
    if scheme == "common sobol":
        points = torch.quasirandom.SobolEngine(
            n_components, scramble=True, seed=seed
        ).draw(n_draws, dtype=INFERENCE_DTYPE)
        return (torch.special.ndtri(points.clamp(1e-12, 1 - 1e-12))).unsqueeze(1)
    raise ValueError(scheme)


SCHEMES = ("common", "common antithetic", "common sobol", "independent")


def scores(vae, X, n_draws, seed, scheme):
    noise = draws(scheme, n_draws, len(X), vae.n_components, seed)
    with torch.inference_mode():
        x = torch.tensor(X, dtype=INFERENCE_DTYPE)
        return vae.log_likelihood_bound(
            vae.module_, x, noise, importance_weighted=False
        ).numpy()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=int, default=8)
    parser.add_argument("--n-score-samples", type=int, default=10)
    args = parser.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    digits = load_digits().data
    settings = {
        "gaussian, standardised": (StandardScaler().fit_transform(digits), "gaussian"),
        "bernoulli, pixels / 16": (digits / 16, "bernoulli"),
    }
    print(
        f"digits: fit on 1200 rows, scored on the other 597; n_score_samples={args.n_score_samples}, {args.seeds} draw seeds\n"
    )
    print(
        "| likelihood | draws | Spearman between seeds (mean, min) | per-row score sd | mean score sd |"
    )
    print("|---|---|---|---|---|")
    for name, (X, likelihood) in settings.items():
        vae = VAE(
            8,
            likelihood=likelihood,
            hidden_layer_sizes=(64,),
            max_iter=100,
            random_state=0,
        ).fit(X[:1200])
        held_out = X[1200:]
        for scheme in SCHEMES:
            runs = np.array(
                [
                    scores(vae, held_out, args.n_score_samples, seed, scheme)
                    for seed in range(args.seeds)
                ]
            )
            rho = [
                spearmanr(runs[i], runs[j])[0]
                for i, j in itertools.combinations(range(args.seeds), 2)
            ]
            print(
                f"| {name} | {scheme} | {np.mean(rho):.5f}, {np.min(rho):.5f} "
                f"| {runs.std(axis=0).mean():.3f} | {runs.mean(axis=1).std():.3f} |"
            )


if __name__ == "__main__":
    main()
