"""Gaussian VAE on unscaled N(0, s^2) data: divergences over 10 seeds, and the loss with the scale taken out.

Issue 11: before the VAE standardised its input internally, every seed diverged
for s >= 300 at every learning rate (the log-variance head's exp overflowed on
the first batch). A fit on s * X should now be the fit on X, its loss shifted
by n_features * log(s).

    python benchmarks/vae_unscaled.py
"""

import warnings

import numpy as np

from skae import VAE


def main():
    warnings.simplefilter("ignore")
    for s in (1.0, 300.0, 1e4):
        for lr in (1e-3, 1e-9):
            failures, final_losses = 0, []
            for seed in range(10):
                X = np.random.RandomState(seed).normal(0, s, size=(500, 10))
                try:
                    vae = VAE(
                        random_state=seed, learning_rate_init=lr, max_iter=20
                    ).fit(X)
                    final_losses.append(vae.loss_curve_[-1] - 10 * np.log(s))
                except FloatingPointError:
                    failures += 1
            print(
                f"s={s:g} lr={lr:g}: diverged {failures}/10, final loss - 10 log(s): mean {np.mean(final_losses):.3f}"
            )


if __name__ == "__main__":
    main()
