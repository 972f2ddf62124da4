"""Outlier scores on the ODDS cardio set: inliers vs outliers, against IsolationForest.

    python examples/outlier_histogram.py   # writes examples/outlier_histogram.png
"""

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderOutlierDetector

DATA = Path(os.environ.get("SKAE_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
data = np.load(DATA / "outliers" / "cardio.npz")
X, y = data["X"], data["y"]

detector = make_pipeline(StandardScaler(), AutoencoderOutlierDetector(random_state=0)).fit(X)
scores = detector.score_samples(X)
forest = IsolationForest(n_estimators=200, random_state=0).fit(X)
print(f"cardio ROC-AUC: skae {roc_auc_score(y, -scores):.3f}, IsolationForest {roc_auc_score(y, -forest.score_samples(X)):.3f}")
flagged = detector.predict(X) == -1
print(f"flagged {flagged.sum()} of {len(X)} ('auto' threshold); precision {y[flagged].mean():.2f}, recall {flagged[y == 1].mean():.2f}")

# Rows trimmed from the refits score orders of magnitude lower: plot minus the score on a log axis.
outlyingness = -scores
fig, ax = plt.subplots(figsize=(7, 4))
bins = np.geomspace(outlyingness.min(), outlyingness.max(), 60)
ax.hist(outlyingness[y == 0], bins=bins, alpha=0.6, label="inliers")
ax.hist(outlyingness[y == 1], bins=bins, alpha=0.6, label="outliers")
ax.axvline(-detector[-1].offset_, color="k", linestyle="--", label="-offset_ ('auto')")
ax.set_xscale("log")
ax.set(xlabel="-score_samples (higher = more outlying)", ylabel="rows", title="AutoencoderOutlierDetector on cardio")
ax.legend()
fig.tight_layout()
out = Path(__file__).with_suffix(".png")
fig.savefig(out, dpi=80)
print(f"wrote {out}")
