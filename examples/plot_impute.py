"""
Imputing missing values
=======================

:class:`~skae.AutoencoderImputer` fills missing cells with an autoencoder's
reconstruction. Its loss counts observed cells only, and observed cells come
back unchanged. We hide 20 % of the cells of scikit-learn's breast cancer data
at random and compare the fills with scikit-learn's imputers.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import torch
from sklearn.datasets import load_breast_cancer
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer, KNNImputer, SimpleImputer

from skae import VAE, AutoencoderImputer, DenoisingAE

torch.set_num_threads(1)
X = load_breast_cancer().data
rng = np.random.RandomState(0)
missing = rng.rand(*X.shape) < 0.2
X_missing = np.where(missing, np.nan, X)


def rmse(X_filled):
    """RMSE on the hidden cells, each feature scaled by its range."""
    span = X.max(axis=0) - X.min(axis=0)
    return np.sqrt(np.mean(((X_filled - X) / span)[missing] ** 2))


# %%
# The default autoencoder trains for up to 3000 epochs per round; a shorter
# schedule keeps this example to a few seconds (the benchmark uses the default).
imputers = {
    "mean": SimpleImputer(),
    "KNNImputer": KNNImputer(),
    "IterativeImputer": IterativeImputer(max_iter=10, random_state=0),
    "AutoencoderImputer": AutoencoderImputer(
        DenoisingAE(
            X.shape[1],
            noise="masking",
            noise_level=0.15,
            hidden_layer_sizes=(512,),
            max_iter=200,
            random_state=0,
        ),
        random_state=0,
    ),
}
errors = {}
for name, imputer in imputers.items():
    filled = imputer.fit_transform(X_missing)
    errors[name] = rmse(filled)
    print(f"{name:20s} RMSE on hidden cells {errors[name]:.4f}")
assert np.array_equal(filled[~missing], X[~missing])  # observed cells unchanged

# %%
# Multiple imputation
# -------------------
# With a :class:`~skae.VAE` and ``sample_posterior=True`` each ``transform``
# draws the missing cells from the model's distribution, so repeated draws
# show how uncertain each fill is, as ``IterativeImputer(sample_posterior=True)``
# does.
vae_imputer = AutoencoderImputer(
    VAE(8, hidden_layer_sizes=(128,), max_iter=200, random_state=0),
    sample_posterior=True,
    random_state=0,
).fit(X_missing)
feature = 0  # mean radius
rows = np.flatnonzero(missing[:, feature])[:8]
# ``random_state`` seeds the draws of each ``transform``; changing it after
# ``fit`` gives another draw from the same trained model.
draws = np.stack(
    [
        vae_imputer.set_params(random_state=seed).transform(X_missing[rows])[:, feature]
        for seed in range(20)
    ]
)

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
axes[0].barh(list(errors), list(errors.values()))
axes[0].set(xlabel="RMSE on hidden cells (range-scaled)", title="single imputation")
axes[1].boxplot(draws, positions=range(len(rows)))
axes[1].scatter(
    range(len(rows)),
    X[rows, feature],
    color="k",
    marker="x",
    zorder=3,
    label="true value",
)
axes[1].set(
    xlabel="row with a hidden 'mean radius'",
    ylabel="mean radius",
    title="20 VAE draws per cell",
)
axes[1].legend()
fig.tight_layout()
plt.show()
