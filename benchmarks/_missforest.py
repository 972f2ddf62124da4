"""A MissForest-style imputer for mixed tables (Stekhoven & Bühlmann, Bioinformatics 2012), on extremely
randomised trees.

Missing cells start at their column's mean (numeric) or mode (categorical); then, round after round, each column
with gaps, fewest gaps first, is predicted from all the others by an ``ExtraTreesRegressor`` (numeric columns) or an
``ExtraTreesClassifier`` (categorical ones, read as integer codes). Training stops when the change between rounds
grows for every column type at once, and the previous round is returned, as MissForest does; or after ``max_iter``
rounds. scikit-learn's ``IterativeImputer`` takes one regressor for all columns, hence this loop.
"""

import numpy as np
from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor


class MissForest:
    """Impute a float table with NaN gaps whose columns are numeric or categorical codes.

    Parameters
    ----------
    categorical : sequence of bool
        Per column: predicted by a classifier (True) or a regressor.
    n_estimators : int, default=100
    max_iter : int, default=10
    random_state : int or None, default=None
    n_jobs : int or None, default=None
    """

    def __init__(
        self, categorical, n_estimators=100, max_iter=10, random_state=None, n_jobs=None
    ):
        self.categorical = np.asarray(categorical, dtype=bool)
        self.n_estimators, self.max_iter = n_estimators, max_iter
        self.random_state, self.n_jobs = random_state, n_jobs

    def fit_transform(self, X):
        """``X`` (float, NaN where missing) with every missing cell predicted; observed cells unchanged."""
        X = np.asarray(X, dtype=np.float64)
        missing = np.isnan(X)
        filled = self._initial(X, missing)
        order = [
            j
            for j in np.argsort(missing.sum(axis=0), kind="stable")
            if missing[:, j].any()
        ]
        change = (np.inf, np.inf)
        for _ in range(self.max_iter):
            previous = filled.copy()
            for j in order:
                rows = missing[:, j]
                others = np.delete(filled, j, axis=1)
                model = self._model(j).fit(others[~rows], X[~rows, j])
                filled[rows, j] = model.predict(others[rows])
            new_change = self._change(filled, previous, missing)
            if all(new >= old for new, old in zip(new_change, change)):
                return previous
            change = new_change
        return filled

    def _initial(self, X, missing):
        filled = X.copy()
        for j in range(X.shape[1]):
            observed = X[~missing[:, j], j]
            if self.categorical[j]:
                levels, counts = np.unique(observed, return_counts=True)
                filled[missing[:, j], j] = levels[counts.argmax()]
            else:
                filled[missing[:, j], j] = observed.mean()
        return filled

    def _model(self, j):
        kind = ExtraTreesClassifier if self.categorical[j] else ExtraTreesRegressor
        return kind(
            n_estimators=self.n_estimators,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    def _change(self, filled, previous, missing):
        """MissForest's stopping statistics: relative squared change (numeric), share of changed cells (categorical)."""
        numeric, categorical = ~self.categorical, self.categorical
        numeric_change = np.sum((filled[:, numeric] - previous[:, numeric]) ** 2) / max(
            np.sum(filled[:, numeric] ** 2), 1e-300
        )
        n_missing = max(missing[:, categorical].sum(), 1)
        categorical_change = (
            np.sum(filled[:, categorical] != previous[:, categorical]) / n_missing
        )
        return numeric_change, categorical_change
