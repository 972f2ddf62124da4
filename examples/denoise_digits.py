"""Denoising scikit-learn's digits: noisy inputs, DenoisingAE reconstructions, originals.

    python examples/denoise_digits.py   # writes examples/denoise_digits.png
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from skae import AutoencoderTransformer, DenoisingAE

X = load_digits().data / 16.0
X_train, X_test = train_test_split(X, test_size=0.25, random_state=0)
noisy = X_test * (np.random.RandomState(1).rand(*X_test.shape) >= 0.4)  # 40% of pixels dropped

params = dict(n_components=32, hidden_layer_sizes=(128,), loss="binary_crossentropy", max_iter=300, random_state=0)
dae = DenoisingAE(noise="masking", noise_level=0.4, **params).fit(X_train)
ae = AutoencoderTransformer(**params).fit(X_train)
for name, model in [("AutoencoderTransformer", ae), ("DenoisingAE", dae)]:
    print(f"{name:24s} MSE to the clean images: {np.mean((model.reconstruct(noisy) - X_test) ** 2):.4f}")
print(f"{'noisy input':24s} MSE to the clean images: {np.mean((noisy - X_test) ** 2):.4f}")

rows = [("noisy", noisy), ("DenoisingAE", dae.reconstruct(noisy)), ("original", X_test)]
fig, axes = plt.subplots(3, 12, figsize=(12, 3.3))
for r, (label, images) in enumerate(rows):
    for c in range(12):
        axes[r, c].imshow(images[c].reshape(8, 8), cmap="gray_r")
        axes[r, c].axis("off")
    axes[r, 0].set_title(label, fontsize=8, loc="left")
fig.tight_layout()
out = Path(__file__).with_suffix(".png")
fig.savefig(out, dpi=80)
print(f"wrote {out}")
