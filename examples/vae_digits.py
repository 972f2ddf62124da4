"""VAE on scikit-learn's digits: the loss curve, generated samples, an
interpolation strip and a 2-D latent map coloured by label.

    python examples/vae_digits.py   # writes examples/vae_digits.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits

from skae import VAE

X, y = load_digits(return_X_y=True)
X = X / 16.0

vae = VAE(8, likelihood="bernoulli", hidden_layer_sizes=(256,), max_iter=300, random_state=0).fit(X)
vae_2d = VAE(2, likelihood="bernoulli", hidden_layer_sizes=(256,), max_iter=300, random_state=0).fit(X)
print(f"ELBO {vae.score(X):.2f} nats, IWAE(100) {vae.score_samples(X, n_samples=100).mean():.2f} nats, "
      f"{vae.n_active_units_} of 8 latent units active")

fig = plt.figure(figsize=(12, 7))
grid = fig.add_gridspec(3, 4)

ax = fig.add_subplot(grid[0, :2])
ax.plot(vae.loss_curve_)
ax.set(title="training loss (-ELBO, nats)", xlabel="epoch")

ax = fig.add_subplot(grid[1:, :2])
codes = vae_2d.transform(X)
points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
fig.colorbar(points, ax=ax, label="digit")
ax.set(title="2-D latent space (posterior means)")

samples = vae.sample(16, random_state=0)
ax = fig.add_subplot(grid[0:2, 2:])
ax.imshow(samples.reshape(4, 4, 8, 8).transpose(0, 2, 1, 3).reshape(32, 32), cmap="gray_r")
ax.set(title="samples from the prior")
ax.axis("off")

start, end = X[y == 0][0], X[y == 7][0]
path = vae.interpolate(start, end, n_steps=10)
ax = fig.add_subplot(grid[2, 2:])
ax.imshow(np.hstack(list(path.reshape(10, 8, 8))), cmap="gray_r")
ax.set(title="latent interpolation, 0 to 7")
ax.axis("off")

fig.tight_layout()
out = Path(__file__).with_suffix(".png")
fig.savefig(out, dpi=80)
print(f"wrote {out}")
