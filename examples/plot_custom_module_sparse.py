"""
Your own torch module in a sparse autoencoder
=============================================

Every skae autoencoder accepts your own ``encoder`` and ``decoder``. The
estimator keeps its scikit-learn face (``fit`` / ``transform``, pipelines,
``clone``, grid search, pickling) and its variant's difference still applies:
here :class:`~skae.SparseAE` keeps the ``k`` largest units of a code computed
by a small residual network of our own.
"""

# %%
# A module and a builder
# ----------------------
# A network can be given as a module instance (deep-copied at every fit, so
# the instance itself is never trained) or, as here, as a builder: any
# callable that takes ``n_features`` and ``n_components`` and returns the
# module. A builder adapts to the data's width and to a search over
# ``n_components``; a class or ``functools.partial`` of one pickles, a lambda
# does not.
from functools import partial

import numpy as np
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from torch import nn

from skae import SparseAE

torch.set_num_threads(1)


class ResidualMLP(nn.Module):
    """Linear in, ``depth`` residual blocks, linear out."""

    def __init__(self, n_features, n_components, width=64, depth=2):
        super().__init__()
        self.first = nn.Linear(n_features, width)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(width), nn.Linear(width, width), nn.GELU())
            for _ in range(depth)
        )
        self.last = nn.Linear(width, n_components)

    def forward(self, x):
        h = self.first(x)
        for block in self.blocks:
            h = h + block(h)
        return self.last(h)


def residual_decoder(n_features, n_components):
    """The decoder maps codes back: its input is the code, its output the data."""
    return ResidualMLP(n_components, n_features)


X, y = load_digits(return_X_y=True)
X = X / 16
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

# %%
# The variant's difference on top: k active units
# -----------------------------------------------
# Training keeps the ``k`` largest units; ``transform`` keeps
# ``transform_k_factor * k`` (2k by default, the paper's alpha).
sparse = SparseAE(
    64,
    k=6,
    encoder=partial(ResidualMLP, width=96),
    decoder=residual_decoder,
    likelihood="bernoulli",
    max_iter=100,
    tol=1e-3,
    n_iter_no_change=3,
    random_state=0,
).fit(X_train)
codes = sparse.transform(X_test)
print("non-zero units per code:", np.unique((codes != 0).sum(axis=1)))
print(f"units never used: {sparse.dead_units_fraction_:.0%}")
print(
    type(sparse.module_.encoder).__name__,
    "->",
    type(sparse.module_.code_layer).__name__,
)

# %%
# Model selection as for any transformer
# --------------------------------------
# The sparse codes feed a classifier; ``k`` is tuned by cross-validation.
# Each candidate is a clone whose builder makes a fresh network; a larger
# ``tol`` stops each fit of the search sooner.
pipe = make_pipeline(
    clone(sparse).set_params(tol=1e-2), LogisticRegression(max_iter=2000)
)
search = GridSearchCV(pipe, {"sparseae__k": [3, 12]}, cv=2).fit(X_train, y_train)
print(
    "best k:",
    search.best_params_["sparseae__k"],
    f"test accuracy {search.score(X_test, y_test):.3f}",
)
