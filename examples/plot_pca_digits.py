"""
Dimensionality reduction: an autoencoder against PCA on digits
===============================================================

An :class:`~skae.AutoencoderTransformer` and :class:`~sklearn.decomposition.PCA`
compress scikit-learn's 8x8 digits to the same number of components. We compare
the held-out reconstruction error at several code sizes and look at the 2-D
codes of each.
"""

# %%
# Data: 1797 images of 64 pixels scaled to [0, 1], split into training and
# test rows so that the errors below are measured on images neither model saw.
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler

from skae import AutoencoderTransformer

torch.set_num_threads(1)  # tiny networks train fastest on one thread
X, y = load_digits(return_X_y=True)
X = MinMaxScaler().fit_transform(X)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

# %%
# Reconstruction error against code size
# --------------------------------------
# PCA is the best *linear* code of each size; the autoencoder's non-linear
# encoder and decoder (one hidden layer of 128 units) can do better, most
# clearly at small sizes. A coarse stopping rule (``tol=1e-3`` per pixel, 3
# epochs of patience) keeps this example to seconds; the benchmark trains
# with the defaults.
sizes = [2, 4, 8, 16]
errors = {"PCA": [], "AutoencoderTransformer": []}
for k in sizes:
    models = {
        "PCA": PCA(k, random_state=0),
        "AutoencoderTransformer": AutoencoderTransformer(
            k,
            hidden_layer_sizes=(128,),
            max_iter=300,
            tol=1e-3,
            n_iter_no_change=3,
            random_state=0,
        ),
    }
    for name, model in models.items():
        model.fit(X_train)
        reconstruction = model.inverse_transform(model.transform(X_test))
        errors[name].append(np.mean((reconstruction - X_test) ** 2))

fig, ax = plt.subplots(figsize=(5, 3.5))
for name, values in errors.items():
    ax.plot(sizes, values, marker="o", label=name)
ax.set(xlabel="n_components", ylabel="test MSE per pixel", xscale="log", yscale="log")
ax.set_xticks(sizes, [str(k) for k in sizes])
ax.legend()
fig.tight_layout()

# %%
# Two-dimensional codes
# ---------------------
# The same comparison as a picture: each test image placed at its 2-D code,
# coloured by the digit it shows (the labels were not used for fitting).
fig, axes = plt.subplots(1, 2, figsize=(9, 4))
for ax, model in zip(
    axes,
    [
        PCA(2, random_state=0),
        AutoencoderTransformer(
            2,
            hidden_layer_sizes=(128,),
            max_iter=300,
            tol=1e-3,
            n_iter_no_change=3,
            random_state=0,
        ),
    ],
):
    codes = model.fit(X_train).transform(X_test)
    points = ax.scatter(codes[:, 0], codes[:, 1], c=y_test, cmap="tab10", s=8)
    ax.set(title=type(model).__name__, xticks=[], yticks=[])
fig.colorbar(points, ax=axes, label="digit")
plt.show()
