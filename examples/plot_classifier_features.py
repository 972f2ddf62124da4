"""
Autoencoder features for a classifier, tuned with GridSearchCV
==============================================================

Every skae autoencoder is a transformer, so it sits in a
:class:`~sklearn.pipeline.Pipeline` between a scaler and a classifier, and
:class:`~sklearn.model_selection.GridSearchCV` tunes its hyperparameters
(``ae__k``) together with the classifier's (``clf__C``) by cross-validation.
Here a :class:`~skae.SparseAE` learns k-sparse codes of the digits.
"""

# %%
from tempfile import mkdtemp

import matplotlib.pyplot as plt
import pandas as pd
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import SparseAE

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0, stratify=y
)

# %%
# The pipeline: 256 code units of which only the ``k`` largest are kept for
# each image. ``k`` is annealed down from 256 over the first tenth of
# ``max_iter`` (20 epochs here); after that, training stops once the loss per
# feature has improved by less than ``tol=1e-2`` for 3 epochs in a row, about
# 30 epochs in all: enough for good features (a smaller ``tol`` trains
# longer). ``memory`` caches each fitted scaler and autoencoder, so the search
# trains one autoencoder per value of ``k`` and fold, not one per value of
# ``C`` as well; standardised codes make the classifier converge quickly.
pipe = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "ae",
            SparseAE(
                256, k=25, max_iter=200, tol=1e-2, n_iter_no_change=3, random_state=0
            ),
        ),
        ("scale_codes", StandardScaler()),
        ("clf", LogisticRegression(max_iter=1000)),
    ],
    memory=mkdtemp(),
)
search = GridSearchCV(pipe, {"ae__k": [10, 40], "clf__C": [0.1, 1.0]}, cv=3)
search.fit(X_train, y_train)
print(
    f"best parameters {search.best_params_}, cross-validated accuracy {search.best_score_:.3f}"
)
print(f"test accuracy of the refitted pipeline: {search.score(X_test, y_test):.3f}")

# %%
# Cross-validated accuracy over the grid:
results = pd.DataFrame(search.cv_results_)
table = results.pivot(
    index="param_ae__k", columns="param_clf__C", values="mean_test_score"
)
print(table.round(3))
fig, ax = plt.subplots(figsize=(5, 3.5))
for C in table.columns:
    ax.plot(table.index, table[C], marker="o", label=f"C = {C}")
ax.set(xlabel="k (active code units per image)", ylabel="cross-validated accuracy")
ax.legend()
fig.tight_layout()
plt.show()
