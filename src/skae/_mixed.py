"""Mixed tables in the autoencoders: when a table takes the per-column likelihood path, and the arrays it becomes.

A table is *mixed* when the user gives ``kinds`` or hands over a DataFrame with a column that is not a plain
numpy integer or float (strings, categories, booleans, pandas' nullable dtypes). Such a table is read by a
:class:`~skae._columns.ColumnSchema` (fitted once, in the estimator's ``schema_``) and modelled by a
:class:`~skae._likelihoods.MixedLikelihood`; every other input keeps the numeric path unchanged.

The engine sees one float matrix per table, so batching, shuffling and sharding need no change: a training row
is the encoded inputs followed by the likelihood's targets (:func:`training_rows`), and the per-cell loss
weights are the observed mask (a missing cell is never a target). A scored row also carries the mask
(:func:`scoring_rows`).
"""

import numpy as np
import pandas as pd
from sklearn.utils import _safe_indexing

from ._columns import ColumnSchema
from ._validation import observed_weights, row_weights


def is_mixed(X, kinds):
    """Whether ``X`` takes the per-column likelihood path: ``kinds`` given, or a DataFrame of other than plain numbers."""
    if kinds is not None:
        return True
    if not isinstance(X, pd.DataFrame):
        return False
    return any(
        not (isinstance(dtype, np.dtype) and dtype.kind in "iuf") for dtype in X.dtypes
    )


def fit_schema(estimator, X):
    """Fit ``estimator.schema_`` on ``X``, and set ``n_features_in_`` / ``feature_names_in_`` as validate_data would."""
    schema = ColumnSchema(kinds=estimator.kinds).fit(X)
    estimator.schema_ = schema
    set_table_features(estimator, X)
    return schema


def set_table_features(estimator, X):
    """``n_features_in_`` and ``feature_names_in_`` of a mixed table, as ``validate_data`` sets them."""
    estimator.n_features_in_ = np.shape(X)[1]
    names = list(X.columns) if isinstance(X, pd.DataFrame) else []
    if names and all(isinstance(name, str) for name in names):
        estimator.feature_names_in_ = np.asarray(names, dtype=object)
    elif hasattr(estimator, "feature_names_in_"):
        del estimator.feature_names_in_


def training_rows(schema, X, observed=None):
    """``(rows, weights)``: the encoded inputs and targets side by side (float32), and the per-cell loss weights.

    ``observed`` (the ``fit`` parameter, one entry per column) further removes cells from the loss.
    """
    encoded = schema.encode(X, dtype=np.float32)
    weights = encoded.observed.astype(np.float32)
    if observed is not None:
        weights *= observed_weights(observed, encoded.targets)
    return np.hstack([encoded.inputs, encoded.targets]), weights


def scoring_rows(schema, X):
    """The encoded inputs, targets and observed mask of ``X`` side by side, in float64."""
    encoded = schema.encode(X)
    return np.hstack([encoded.inputs, encoded.targets, encoded.observed])


def split_rows(schema, rows, parts=2):
    """The column blocks of ``rows`` made by :func:`training_rows` (``parts=2``) or :func:`scoring_rows` (3)."""
    n_inputs, n_columns = schema.n_inputs_, len(schema.columns_)
    blocks = [rows[:, :n_inputs], rows[:, n_inputs : n_inputs + n_columns]]
    return blocks + [rows[:, n_inputs + n_columns :]] if parts == 3 else blocks


def column_names(schema):
    """The schema's column names, for per-column outputs."""
    return [column.name for column in schema.columns_]


def rows_of_positive_weight(X, observed, sample_weight):
    """``(X, observed, sample_weight)`` of a mixed table's rows of positive weight.

    The schema (levels, standardisation, level frequencies) is fitted on these
    rows alone, so a row of weight zero takes no part in fitting, as on numbers.
    """
    weights = row_weights(sample_weight, X)
    if weights is None or (weights > 0).all():
        return X, observed, sample_weight
    kept = np.flatnonzero(weights > 0)
    return (
        _safe_indexing(X, kept),
        None if observed is None else _safe_indexing(observed, kept),
        weights[kept],
    )
