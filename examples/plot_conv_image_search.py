"""
Image search in a convolutional code space
==========================================

Nearest neighbours in a learned code space find images that look alike. A
convolutional :class:`~skae.AutoencoderTransformer` compresses scikit-learn's
8x8 digits to 16 numbers; we search the training images for each test
image's ten nearest codes and count how many show the same digit
(precision at 10), against PCA codes of the same size and raw pixels.
"""

# %%
# A convolutional autoencoder as a scikit-learn transformer
# ---------------------------------------------------------
# ``image_shape`` is (channels, height, width); rows stay flattened pixels,
# so the model drops into any scikit-learn code that takes a transformer.
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors

from skae import AutoencoderTransformer
from skae.nn import ConvDecoder, ConvEncoder

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

image = dict(image_shape=(1, 8, 8), channels=(16, 32))
conv = AutoencoderTransformer(
    16,
    encoder=partial(ConvEncoder, **image),
    decoder=partial(ConvDecoder, **image),
    likelihood="bernoulli",
    learning_rate_init=3e-3,
    batch_size=64,
    max_iter=300,
    tol=1e-3,
    n_iter_no_change=3,
    random_state=0,
)
spaces = {
    "pixels (64)": None,
    "PCA (16)": PCA(16, random_state=0),
    "convolutional AE (16)": conv,
}

# %%
# Precision at 10
# ---------------
# Labels are used only to score the search, never to fit. On images this
# small, pixels and PCA are already good search spaces and the learned code
# is about as good; on MNIST's 28x28 images (``benchmarks/bench_images.py``)
# the convolutional code is the one to use.
found = {}
for name, model in spaces.items():
    encode = (lambda images: images) if model is None else model.fit(X_train).transform
    index = NearestNeighbors(n_neighbors=10).fit(encode(X_train))
    found[name] = index.kneighbors(encode(X_test), return_distance=False)
    precision = np.mean(y_train[found[name]] == y_test[:, None])
    print(f"{name:24s} precision@10 = {precision:.3f}")

# %%
# Three queries (left) and the ten training images nearest to each in the
# autoencoder's code space.
fig, axes = plt.subplots(3, 11, figsize=(8, 2.4))
for row, query in zip(axes, range(3)):
    images = [X_test[query], *X_train[found["convolutional AE (16)"][query]]]
    for ax, pixels in zip(row, images):
        ax.imshow(pixels.reshape(8, 8), cmap="gray_r")
        ax.set(xticks=[], yticks=[])
axes[0, 0].set_title("query", fontsize=8)
fig.tight_layout()
plt.show()
