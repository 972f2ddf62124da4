"""Image search on MNIST: nearest neighbours in a skae code space vs PCA space vs pixels.

Precision at 10: the fraction of a query's 10 nearest database images that share
its label. Database: 10,000 training images; queries: 1,000 test images.

    python examples/image_search.py   # writes examples/image_search.png
"""

import os
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.neighbors import NearestNeighbors

from skae import AutoencoderTransformer

torch.set_num_threads(2)
DATA = Path(os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
mnist = np.load(DATA / "mnist.npz")
X_train = mnist["x_train"].reshape(-1, 784).astype(np.float32) / 255
X_test = mnist["x_test"].reshape(-1, 784).astype(np.float32) / 255
y_train, y_test = mnist["y_train"], mnist["y_test"]
database, database_labels = X_train[:10000], y_train[:10000]
queries, query_labels = X_test[:1000], y_test[:1000]
epochs = int(sys.argv[1]) if len(sys.argv) > 1 else 20

spaces = {
    "pixels (784)": None,
    "PCA (32)": PCA(32, random_state=0).fit(X_train),
    "AutoencoderTransformer (32)": AutoencoderTransformer(
        32, hidden_layer_sizes=(512, 256), loss="binary_crossentropy", batch_size=256, max_iter=epochs, tol=0.0, random_state=0
    ).fit(X_train),
}
neighbours = {}
for name, model in spaces.items():
    encode = (lambda X: X) if model is None else model.transform
    index = NearestNeighbors(n_neighbors=10).fit(encode(database))
    neighbours[name] = index.kneighbors(encode(queries), return_distance=False)
    precision = np.mean(database_labels[neighbours[name]] == query_labels[:, None])
    print(f"{name:32s} precision@10 = {precision:.3f}")

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
out = Path(__file__).with_suffix(".png")
fig.savefig(out, dpi=70)
print(f"wrote {out}")
