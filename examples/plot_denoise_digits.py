"""
Denoising digits with a DenoisingAE
===================================

A :class:`~skae.DenoisingAE` is trained to reconstruct clean images from
corrupted copies (here: 40 % of the pixels set to zero, drawn afresh every
batch). At test time it is given corrupted images it never saw and asked for
the clean ones. A plain :class:`~skae.AutoencoderTransformer` of the same size,
trained on clean images only, is the baseline.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, DenoisingAE

torch.set_num_threads(1)  # tiny networks train fastest on one thread
X = load_digits().data / 16.0  # pixels in [0, 1]
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
rng = np.random.RandomState(1)
noisy = X_test * (rng.rand(*X_test.shape) >= 0.4)  # 40 % of the pixels dropped

# %%
# Both models use a Bernoulli likelihood (binary cross-entropy), which suits
# pixels in [0, 1]. Only the DenoisingAE corrupts its training inputs; the
# corruption is active during ``fit`` only, so ``reconstruct`` sees the input
# as given.
params = dict(
    n_components=32,
    hidden_layer_sizes=(128,),
    likelihood="bernoulli",
    max_iter=300,
    tol=1e-3,
    n_iter_no_change=3,
    random_state=0,
)
dae = DenoisingAE(noise="masking", noise_level=0.4, **params).fit(X_train)
ae = AutoencoderTransformer(**params).fit(X_train)

for name, images in [
    ("noisy input", noisy),
    ("AutoencoderTransformer", ae.reconstruct(noisy)),
    ("DenoisingAE", dae.reconstruct(noisy)),
]:
    print(f"{name:24s} MSE to the clean images: {np.mean((images - X_test) ** 2):.4f}")

# %%
# The plain autoencoder learned to copy what it is given, holes included; the
# denoising one learned what digits look like.
rows = [
    ("noisy", noisy),
    ("AutoencoderTransformer", ae.reconstruct(noisy)),
    ("DenoisingAE", dae.reconstruct(noisy)),
    ("original", X_test),
]
fig, axes = plt.subplots(len(rows), 10, figsize=(10, 4.4))
for r, (label, images) in enumerate(rows):
    for c in range(10):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r")
        axes[r, c].axis("off")
    axes[r, 0].set_title(label, fontsize=9, loc="left")
fig.tight_layout()
plt.show()
