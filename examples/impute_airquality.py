"""Filling the real gaps of R's airquality data (37 Ozone and 7 Solar.R values missing).

    python examples/impute_airquality.py   # writes examples/impute_airquality.png
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer

from skae import AutoencoderImputer

DATA = Path(os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
data = np.load(DATA / "tabular" / "airquality.npz")
X = pd.DataFrame(data["X"], columns=[str(name) for name in data["feature_names"]])
missing = X.isna()

imputer = AutoencoderImputer(random_state=0).set_output(transform="pandas")
filled = imputer.fit_transform(X)
iterative = pd.DataFrame(IterativeImputer(random_state=0).fit_transform(X), columns=X.columns)
assert filled[~missing].equals(X[~missing]), "observed cells must come back unchanged"

rows = missing["Ozone"] | missing["Solar.R"]
comparison = pd.concat(
    {"skae": filled.loc[rows, ["Ozone", "Solar.R"]], "IterativeImputer": iterative.loc[rows, ["Ozone", "Solar.R"]]}, axis=1
)
print(comparison.head(10).round(1))

fig, ax = plt.subplots(figsize=(6, 4))
ax.scatter(X["Temp"], X["Ozone"], s=12, label="observed Ozone")
ax.scatter(filled.loc[missing["Ozone"], "Temp"], filled.loc[missing["Ozone"], "Ozone"], s=18, marker="x", label="skae imputed")
ax.scatter(iterative.loc[missing["Ozone"], "Temp"], iterative.loc[missing["Ozone"], "Ozone"], s=18, marker="+", label="IterativeImputer")
ax.set(xlabel="Temp (°F)", ylabel="Ozone (ppb)", title="airquality: imputed Ozone")
ax.legend()
fig.tight_layout()
out = Path(__file__).with_suffix(".png")
fig.savefig(out, dpi=80)
print(f"wrote {out}")
