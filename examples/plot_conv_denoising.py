"""
Denoising images with a convolutional autoencoder
=================================================

A :class:`~skae.DenoisingAE` learns to undo a corruption by training on
corrupted inputs against clean targets. Given ``skae.nn.ConvEncoder`` and
``skae.nn.ConvDecoder`` as its networks it sees each row as an image, while its
inputs and outputs stay the 2-D arrays of flattened pixels that scikit-learn
works with. Here both a convolutional and a multilayer-perceptron denoiser
restore scikit-learn's 8x8 digits with half of their pixels erased.
"""

# %%
# Data and corruption
# -------------------
# Rows are images flattened in (channels, height, width) order: the digits'
# 64 columns are one channel of 8x8 pixels, scaled to [0, 1].
from functools import partial

import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import DenoisingAE
from skae.nn import ConvDecoder, ConvEncoder

torch.set_num_threads(1)  # small networks train fastest on one thread
X = load_digits().data / 16
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
noisy = X_test * (np.random.RandomState(1).rand(*X_test.shape) >= 0.5)

# %%
# Two denoisers with the same corruption
# --------------------------------------
# ``encoder`` and ``decoder`` take a builder called with the data's width and
# ``n_components``: ``functools.partial`` fixes the image shape and channels.
# The variant's difference, the masking corruption during training, applies
# on top of whichever network is given.
image = dict(image_shape=(1, 8, 8), channels=(16, 32))
common = dict(
    noise="masking",
    noise_level=0.5,
    likelihood="bernoulli",
    learning_rate_init=3e-3,
    batch_size=64,
    max_iter=300,
    tol=1e-3,
    n_iter_no_change=3,
    random_state=0,
)
models = {
    "MLP": DenoisingAE(16, hidden_layer_sizes=(128,), **common),
    "convolutional": DenoisingAE(
        16,
        encoder=partial(ConvEncoder, **image),
        decoder=partial(ConvDecoder, **image),
        **common,
    ),
}


def psnr(images):
    return 10 * np.log10(1 / np.mean((images - X_test) ** 2))


# %%
# On 8x8 digits the two are close, with a tenth of the parameters in the
# convolutional model; on MNIST's 28x28 images the convolutional denoiser is
# clearly ahead (``benchmarks/bench_images.py``).
restored = {"noisy input": noisy}
for name, model in models.items():
    model.fit(X_train)
    restored[name] = model.reconstruct(noisy)
    n_parameters = sum(p.numel() for p in model.module_.parameters())
    print(f"{name:14s} {n_parameters:6d} parameters")
for name, images in restored.items():
    print(f"{name:14s} PSNR {psnr(images):5.1f} dB")

# %%
# The first test digits: erased, restored by each model, and the originals.
rows = {**restored, "original": X_test}
fig, axes = plt.subplots(len(rows), 10, figsize=(8, 0.9 * len(rows)))
for row, (name, images) in zip(axes, rows.items()):
    for ax, pixels in zip(row, images):
        ax.imshow(pixels.reshape(8, 8), cmap="gray_r", vmin=0, vmax=1)
        ax.set(xticks=[], yticks=[])
    row[0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=8)
fig.tight_layout()
plt.show()
