"""
Imputing and explaining a mixed table
=====================================

A table from a database mixes numbers, counts, yes/no answers, string
categories and ordered levels, with gaps. skae takes it as it is: each column
gets the likelihood of its kind (:ref:`mixed-tables`), missing cells are left
out of the loss, and :class:`~skae.AutoencoderImputer` returns every column in
its own kind: labels stay labels, counts stay integers. We hide 20 % of the
cells of a small synthetic customer table, compare the fills with scikit-learn's
:class:`~sklearn.impute.SimpleImputer` (mean for numbers, most frequent value
for the others), then ask the fitted model which columns make the most
unusual rows unusual.
"""

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.impute import SimpleImputer

from skae import AutoencoderImputer, DenoisingAE

torch.set_num_threads(1)
rng = np.random.RandomState(0)
n = 800
# Two hidden traits (seniority, family) drive every column, so a column can be predicted from the others.
seniority, family = rng.normal(size=(2, n))
X = pd.DataFrame(
    {
        "age": np.round(42 + 11 * seniority + 3 * rng.normal(size=n), 1),
        "income": np.round(np.exp(10 + 0.5 * seniority + 0.2 * rng.normal(size=n)), -2),
        "children": pd.array(rng.poisson(np.exp(0.2 + 0.6 * family)), dtype="Int64"),
        "owner": pd.array(
            seniority + 0.5 * family + 0.5 * rng.normal(size=n) > 0, dtype="boolean"
        ),
        "city": pd.Series(
            np.array(["Lyon", "Oslo", "Rome"])[
                np.digitize(family + 0.4 * rng.normal(size=n), [-0.5, 0.5])
            ]
        ),
        "education": pd.Categorical.from_codes(
            np.digitize(seniority + 0.4 * rng.normal(size=n), [-0.8, 0.2, 1.2]),
            ["school", "bachelor", "master", "phd"],
            ordered=True,
        ),
    }
)
print(X.dtypes.to_string())

# %%
# The kinds are read from the dtypes: floats are real, non-negative integers
# counts, booleans binary, strings categorical, ordered categoricals ordinal.
# Incomes are positive and skewed, which no dtype says: ``kinds=`` sets it.
hidden = rng.rand(*X.shape) < 0.2
X_missing = X.mask(hidden)  # each column keeps its dtype; hidden cells are NaN / pd.NA
imputer = AutoencoderImputer(
    DenoisingAE(
        8,
        noise="masking",
        noise_level=0.15,
        hidden_layer_sizes=(64,),
        max_iter=150,
        random_state=0,
    ),
    kinds={"income": "positive"},
    random_state=0,
)
filled = imputer.fit_transform(X_missing)
print([(column.name, column.kind) for column in imputer.autoencoder_.schema_.columns_])
print("dtypes kept:", filled.dtypes.equals(X.dtypes))
print("observed cells unchanged:", filled.mask(hidden).equals(X_missing))

# %%
# The baseline: the column mean for numbers, the most frequent value otherwise.
numeric, labelled = ["age", "income", "children"], ["owner", "city", "education"]
baseline = X_missing.copy()
baseline[numeric] = SimpleImputer(strategy="mean").fit_transform(
    X_missing[numeric].astype(float)
)
as_objects = (
    X_missing[labelled].astype(object).where(X_missing[labelled].notna(), np.nan)
)
baseline[labelled] = SimpleImputer(strategy="most_frequent").fit_transform(as_objects)


def errors(table):
    """RMSE over the column's range (numbers) and accuracy (labels), on the hidden cells only."""
    result = {}
    for j, name in enumerate(X.columns):
        truth, guess = X[name][hidden[:, j]], table[name][hidden[:, j]]
        if name in numeric:
            span = float(X[name].max() - X[name].min())
            result[name] = (
                np.sqrt(np.mean((guess.astype(float) - truth.astype(float)) ** 2))
                / span
            )
        else:
            result[name] = np.mean(
                guess.astype(object).to_numpy() == truth.astype(object).to_numpy()
            )
    return pd.Series(result)


scores = pd.DataFrame(
    {"SimpleImputer": errors(baseline), "AutoencoderImputer": errors(filled)}
)
print(scores.round(3).to_string())

# %%
# Explaining outliers column by column
# ------------------------------------
# :meth:`~skae.AutoencoderTransformer.score_samples` is the row's
# log-likelihood in nats, summed over its observed cells; its per-column
# breakdown (one column per input column, each row summing to its score) says
# which cells the model found unlikely: the most negative ones. We append two
# odd customers, a 19-year-old with a PhD and a high income, and a family of
# nine children, and print the three lowest rows: the synthetic table's own
# tails compete with them, and the breakdown says why each row is low.
odd = pd.DataFrame(
    {
        "age": [19.0, 40.0],
        "income": [250000.0, 20000.0],
        "children": pd.array([0, 9], dtype="Int64"),
        "owner": pd.array([True, False], dtype="boolean"),
        "city": ["Oslo", "Rome"],
        "education": pd.Categorical(
            ["phd", "school"], X["education"].cat.categories, ordered=True
        ),
    }
).astype(X.dtypes.to_dict())
table = pd.concat([X_missing, odd], ignore_index=True)
model = imputer.autoencoder_
worst = np.argsort(model.score_samples(table))[:3]
per_column = model.score_samples_per_column(table).iloc[worst]
print(table.iloc[worst].to_string())
print(per_column.round(1).to_string())

fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
scores.plot.barh(
    ax=axes[0], title="hidden cells: range-scaled RMSE (numbers), accuracy (labels)"
)
axes[0].legend(loc="lower right", fontsize="small")
image = axes[1].imshow(per_column.to_numpy(), cmap="viridis", aspect="auto")
axes[1].set(
    xticks=range(X.shape[1]),
    yticks=range(len(worst)),
    title="log-likelihood per cell, lowest rows",
    yticklabels=[f"row {i}" for i in per_column.index],
)
axes[1].set_xticklabels(X.columns, rotation=30)
fig.colorbar(image, ax=axes[1], label="nats")
fig.tight_layout()
plt.show()
