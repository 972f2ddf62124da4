"""Quality floors on real data (slow: run with ``pytest -m slow``); failures quote the numbers."""

import numpy as np
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.experimental import enable_iterative_imputer  # noqa: F401
from sklearn.impute import IterativeImputer
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.preprocessing import StandardScaler

from skae import AutoencoderImputer, AutoencoderOutlierDetector

pytestmark = pytest.mark.slow


def test_outlier_detector_keeps_up_with_isolation_forest(shared_data):
    # All 16 ODDS sets, including those where trees win (optdigits, pendigits):
    # README's claim is a tie on ROC-AUC and a lead on average precision.
    ours, forest = {}, {}
    for path in sorted((shared_data / "outliers").glob("*.npz")):
        data = np.load(path)
        X, y = StandardScaler().fit_transform(data["X"]), data["y"]
        for scores, model in (
            (ours, AutoencoderOutlierDetector(random_state=0)),
            (forest, IsolationForest(n_estimators=200, random_state=0)),
        ):
            outlyingness = -model.fit(X).score_samples(X)
            scores[path.stem] = (
                roc_auc_score(y, outlyingness),
                average_precision_score(y, outlyingness),
            )
    auc_ours, ap_ours = np.mean(list(ours.values()), axis=0)
    auc_forest, ap_forest = np.mean(list(forest.values()), axis=0)
    message = f"skae ROC-AUC {auc_ours:.3f} AP {ap_ours:.3f}; IsolationForest ROC-AUC {auc_forest:.3f} AP {ap_forest:.3f}"
    assert auc_ours >= 0.84 and auc_ours >= auc_forest - 0.01, message
    assert ap_ours >= ap_forest, message


def test_imputer_beats_iterative_imputer_on_digits(digits):
    X = digits[0]
    mask = np.random.RandomState(0).rand(*X.shape) < 0.2
    X_missing = np.where(mask, np.nan, X)
    ours = np.sqrt(
        np.mean(
            (
                AutoencoderImputer(random_state=0).fit_transform(X_missing)[mask]
                - X[mask]
            )
            ** 2
        )
    )
    theirs = np.sqrt(
        np.mean(
            (IterativeImputer(random_state=0).fit_transform(X_missing)[mask] - X[mask])
            ** 2
        )
    )
    assert ours < theirs * 1.02, (
        f"RMSE skae {ours:.4f} vs IterativeImputer {theirs:.4f}"
    )


def test_default_sparse_ae_pipeline_beats_pca_on_digits():
    # benchmarks/bench_defaults.py's digits row: the design card's line at its
    # defaults against the same pipeline with PCA(k), 5-fold.
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from bench_defaults import pipeline_accuracy
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA

    from skae import SparseAE

    X, y = load_digits(return_X_y=True)
    ours = pipeline_accuracy(SparseAE(k=25, random_state=0), X, y, seed=0)
    pca = pipeline_accuracy(PCA(25), X, y, seed=0)
    assert ours > pca, f"SparseAE(k=25) pipeline {ours:.4f} vs PCA(25) {pca:.4f}"
