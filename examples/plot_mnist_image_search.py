"""
Image search on MNIST
=====================

Nearest neighbours in an autoencoder's code space, in PCA space and in pixel
space: precision at 10 is the fraction of a query's 10 nearest database images
that show the same digit.

.. note::

   This example needs MNIST. Set the ``SKAE_DATA`` environment variable to a
   folder holding ``mnist.npz`` (Keras layout: ``x_train``, ``y_train``,
   ``x_test``, ``y_test``). The documentation build runs it only when
   ``SKAE_DATA`` is set; it then takes about a minute on one CPU core (the
   autoencoder trains for 5 epochs on 20,000 images).
"""

# %%
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from skae import AutoencoderTransformer

torch.set_num_threads(1)
data = Path(os.environ.get("SKAE_DATA", "."))
if not (data / "mnist.npz").is_file():
    raise SystemExit(
        f"mnist.npz not found in {data}: set SKAE_DATA to the folder that holds it"
    )
mnist = np.load(data / "mnist.npz")
X_train = mnist["x_train"][:20000].reshape(-1, 784).astype(np.float32) / 255
y_train = mnist["y_train"][:20000]
queries = mnist["x_test"][:1000].reshape(-1, 784).astype(np.float32) / 255
query_labels = mnist["y_test"][:1000]
database, database_labels = X_train[:10000], y_train[:10000]

# %%
# Three spaces to search in: raw pixels, 32 PCA components and a 32-unit
# autoencoder code with a Bernoulli likelihood (pixels in [0, 1]).
spaces = {
    "pixels (784)": None,
    "PCA (32)": PCA(32, random_state=0).fit(X_train),
    "AutoencoderTransformer (32)": AutoencoderTransformer(
        32,
        hidden_layer_sizes=(512, 256),
        likelihood="bernoulli",
        batch_size=256,
        max_iter=5,
        tol=0.0,
        random_state=0,
    ).fit(X_train),
}
neighbours = {}
for name, model in spaces.items():
    encode = (lambda X: X) if model is None else model.transform
    index = NearestNeighbors(n_neighbors=10).fit(encode(database))
    neighbours[name] = index.kneighbors(encode(queries), return_distance=False)
    precision = np.mean(database_labels[neighbours[name]] == query_labels[:, None])
    print(f"{name:32s} precision@10 = {precision:.3f}")

# %%
# Three queries (left) and their 10 nearest neighbours in each space.
fig, axes = plt.subplots(len(spaces) * 3, 11, figsize=(11, len(spaces) * 3 * 1.05))
for block, (name, found) in enumerate(neighbours.items()):
    for q in range(3):
        row = block * 3 + q
        axes[row, 0].imshow(queries[q].reshape(28, 28), cmap="gray")
        for j in range(10):
            axes[row, j + 1].imshow(database[found[q, j]].reshape(28, 28), cmap="gray")
        for ax in axes[row]:
            ax.axis("off")
        if q == 0:
            axes[row, 1].set_title(name, fontsize=8, loc="left")
fig.tight_layout()
plt.show()
