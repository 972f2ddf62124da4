"""Quality floors on real data (slow: run with ``pytest -m slow``); failures quote the numbers."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderImputer, AutoencoderOutlierDetector

pytestmark = pytest.mark.slow


def test_outlier_detector_keeps_up_with_isolation_forest(shared_data):
    gaps = {}
    for name in ("letter", "vowels", "satellite", "pima", "wbc"):
        data = np.load(shared_data / "outliers" / f"{name}.npz")
        X, y = StandardScaler().fit_transform(data["X"]), data["y"]
        ours = roc_auc_score(y, -AutoencoderOutlierDetector(random_state=0).fit(X).score_samples(X))
        forest = roc_auc_score(y, -IsolationForest(n_estimators=200, random_state=0).fit(X).score_samples(X))
        gaps[name] = (round(ours, 3), round(forest, 3))
    mean_ours = np.mean([v[0] for v in gaps.values()])
    mean_forest = np.mean([v[1] for v in gaps.values()])
    assert mean_ours >= mean_forest, f"skae vs IsolationForest ROC-AUC: {gaps}"


def test_imputer_beats_iterative_imputer_on_digits(digits):
    X = digits[0]
    mask = np.random.RandomState(0).rand(*X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    ours = np.sqrt(np.mean((AutoencoderImputer(random_state=0).fit_transform(X_missing)[mask] - X[mask]) ** 2))
    theirs = np.sqrt(np.mean((IterativeImputer(random_state=0).fit_transform(X_missing)[mask] - X[mask]) ** 2))
    assert ours < theirs * 1.02, f"RMSE skae {ours:.4f} vs IterativeImputer {theirs:.4f}"
