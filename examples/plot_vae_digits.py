"""
A variational autoencoder: samples, interpolation and latent map
================================================================

A :class:`~skae.VAE` is a generative model: besides encoding and decoding, it
can draw new samples from its prior (``sample``), walk between two images
through its latent space (``interpolate``), and score each row with a lower
bound on its log-likelihood in nats (``score_samples``).
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits

from skae import VAE

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16.0  # in [0, 1], as the Bernoulli likelihood needs

vae = VAE(
    8, likelihood="bernoulli", hidden_layer_sizes=(256,), max_iter=150, random_state=0
).fit(X)
print(
    f"ELBO {vae.score(X):.2f} nats per image, "
    f"importance-weighted bound (100 samples) {vae.score_samples(X, n_samples=100).mean():.2f} nats; "
    f"{vae.n_active_units_} of 8 latent units active"
)

# %%
# The importance-weighted bound is tighter than the ELBO (it is never lower);
# both are lower bounds on log p(x). Latent units whose posterior mean does not
# vary across the data have collapsed to the prior and carry no information
# (``n_active_units_``).
#
# Training curve and samples from the prior
# -----------------------------------------
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
axes[0].plot(vae.loss_curve_)
axes[0].set(title="training loss (-ELBO, nats)", xlabel="epoch")
samples = vae.sample(16, random_state=0)
axes[1].imshow(
    samples.reshape(4, 4, 8, 8).transpose(0, 2, 1, 3).reshape(32, 32), cmap="gray_r"
)
axes[1].set(title="16 samples from the prior")
axes[1].axis("off")
fig.tight_layout()

# %%
# Interpolation
# -------------
# ``interpolate`` decodes points on the straight line between two images'
# posterior means.
start, end = X[y == 0][0], X[y == 7][0]
path = vae.interpolate(start, end, n_steps=10)
fig, ax = plt.subplots(figsize=(9, 1.4))
ax.imshow(np.hstack(list(path.reshape(10, 8, 8))), cmap="gray_r")
ax.set(title="from a 0 to a 7 through the latent space")
ax.axis("off")

# %%
# A two-dimensional latent map
# ----------------------------
# With two latent units the posterior means can be plotted directly; the labels,
# unused in training, colour the points.
vae_2d = VAE(
    2, likelihood="bernoulli", hidden_layer_sizes=(256,), max_iter=150, random_state=0
).fit(X)
codes = vae_2d.transform(X)
fig, ax = plt.subplots(figsize=(6, 5))
points = ax.scatter(codes[:, 0], codes[:, 1], c=y, cmap="tab10", s=6)
fig.colorbar(points, ax=ax, label="digit")
ax.set(title="2-D latent space (posterior means)", xlabel="z1", ylabel="z2")
plt.show()
