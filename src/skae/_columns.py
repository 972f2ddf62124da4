"""The column schema of a mixed table: kinds, levels, and the codes a network reads and predicts.

A column has one of six kinds, each with its likelihood (see ``skae._likelihoods``):

============  =================================  =====================================================
kind          likelihood                         values
============  =================================  =====================================================
real          Gaussian, on the standardised      any finite number
              value
positive      log-normal of ``1 + x`` (as in     ``x >= 0``; zeros are allowed, which a plain
              HI-VAE)                            log-normal would forbid
count         Poisson                            non-negative integers
binary        Bernoulli                          at most two levels
categorical   softmax over its levels            any hashable labels
ordinal       ordered logit (cumulative link)    labels with an order
============  =================================  =====================================================

**Inference from dtypes** (a ``kinds`` entry always wins): ``category`` dtype is ``ordinal`` when ordered, else
``categorical``; ``bool`` / ``boolean`` is ``binary``; integer dtypes (``int64``, ``Int64``) are ``count`` when every
observed value is ``>= 0``, else ``real``; float dtypes are ``real``; ``object`` / ``string`` columns are read by
their values: booleans give ``binary``, integers follow the integer rule, other numbers give ``real``, anything else
(strings, mixed labels) gives ``categorical``. ``positive`` is never inferred: no dtype says a number is a scale
measurement rather than a signed one. A CSV integer column with gaps arrives as float, hence ``real``; give it
``count`` in ``kinds`` (or read it with ``convert_dtypes()``). Any other dtype (dates, complex) is refused.

**Missing cells** are NaN, None and ``pd.NA`` (what ``pandas.isna`` says). A level not seen in ``fit`` is refused
with ``handle_unknown="error"`` (the default) and treated as a missing cell with ``"ignore"``, as in
:class:`~sklearn.preprocessing.OneHotEncoder`.

**Network input** (``encode(X).inputs``): real columns standardised; positive and count columns as
``log1p`` standardised; binary as its level index (0 or 1); categorical one-hot; ordinal as a thermometer code of
``n_levels - 1`` units, unit ``k`` being ``level > k``, which keeps the order and lets the network space the levels as
it likes (a single scaled index would fix the spacing). Every input unit is then centred on its training mean, so a
missing cell is exactly 0: the same value that masking noise writes into an observed cell.

**Targets** (``encode(X).targets``): one number per column, what its likelihood scores: the standardised value
(real), the standardised ``log1p`` value (positive), the count, or the level index (binary, categorical, ordinal);
0 where the cell is missing, with ``observed`` False there. ``decode`` maps targets back to the table's own kinds.
"""

from dataclasses import dataclass
from numbers import Integral
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

KINDS = ("real", "positive", "count", "binary", "categorical", "ordinal")
LEVELLED = ("binary", "categorical", "ordinal")


@dataclass(frozen=True)
class Column:
    """What the schema learned about one column.

    ``loc`` and ``scale`` standardise the value (real), its ``log1p`` (positive, count); ``mean`` is the mean
    observed value (counts); ``level_counts`` counts each level in the training data (levelled kinds).
    """

    name: object
    kind: str
    dtype: object
    levels: tuple = ()
    loc: float = 0.0
    scale: float = 1.0
    mean: float = 0.0
    level_counts: tuple = ()

    @property
    def n_levels(self):
        return len(self.levels)

    def __getstate__(self):
        # Plain values only, so that skops stores a Column without trusting pandas' dtypes (see skae.load).
        return {
            **self.__dict__,
            "dtype": dtype_state(self.dtype),
            "levels": list(self.levels),
        }

    def __setstate__(self, state):
        state = {
            **state,
            "dtype": dtype_from_state(state["dtype"]),
            "levels": tuple(state["levels"]),
        }
        self.__dict__.update(
            state
        )  # a frozen dataclass: its fields are set as the dataclass itself sets them

    @property
    def input_width(self):
        return {"categorical": self.n_levels, "ordinal": max(self.n_levels - 1, 0)}.get(
            self.kind, 1
        )


class Encoded(NamedTuple):
    """A table as the network sees it: ``inputs`` (n, n_inputs), ``targets`` and ``observed`` (n, n_columns)."""

    inputs: np.ndarray
    targets: np.ndarray
    observed: np.ndarray


class ColumnSchema(BaseEstimator):
    """Learn each column's kind, levels and statistics; encode a table for a network and decode its predictions.

    Parameters
    ----------
    kinds : dict, sequence or None, default=None
        Kinds that override inference: ``{column: kind}`` where ``column`` is a column name or, when no column
        has that name, a position (negative positions count from the end); or one kind per column. Kinds are
        "real", "positive", "count", "binary", "categorical", "ordinal".
    handle_unknown : {"error", "ignore"}, default="error"
        What ``encode`` does with a level not seen in ``fit``: raise, or treat the cell as missing.

    Attributes
    ----------
    columns_ : tuple of Column
        One entry per column, in the table's order.
    n_inputs_ : int
        Width of ``encode(X).inputs``.
    feature_names_in_ : ndarray of str
        Column names, when fitted on a DataFrame.
    n_features_in_ : int

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"city": ["Lyon", "Oslo", None], "rooms": [2, 3, 1], "area": [40.5, 71.0, 30.0]})
    >>> schema = ColumnSchema().fit(X)
    >>> [(c.name, c.kind) for c in schema.columns_]
    [('city', 'categorical'), ('rooms', 'count'), ('area', 'real')]
    >>> encoded = schema.encode(X)
    >>> encoded.inputs.shape, encoded.observed[:, 0].tolist()
    ((3, 4), [True, True, False])
    >>> schema.decode(encoded.targets)["city"].tolist()
    ['Lyon', 'Oslo', 'Lyon']
    """

    def __init__(self, kinds=None, handle_unknown="error"):
        self.kinds = kinds
        self.handle_unknown = handle_unknown

    def fit(self, X, y=None):
        """Learn the kinds, levels and statistics of ``X``'s columns.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
        y : Ignored

        Returns
        -------
        self : ColumnSchema
        """
        if self.handle_unknown not in ("error", "ignore"):
            raise ValueError(
                f"handle_unknown must be 'error' or 'ignore', got {self.handle_unknown!r}."
            )
        frame, self._is_frame = _as_frame(X), isinstance(X, pd.DataFrame)
        self._numpy_dtype = None if self._is_frame else _numpy_dtype(X)
        given = _resolve_kinds(self.kinds, list(frame.columns))
        self.columns_ = tuple(
            _fit_column(name, frame.iloc[:, j], given.get(j))
            for j, name in enumerate(frame.columns)
        )
        self.n_features_in_ = len(self.columns_)
        if self._is_frame:
            self.feature_names_in_ = np.asarray(
                [str(name) for name in frame.columns], dtype=object
            )
        self.n_inputs_ = sum(column.input_width for column in self.columns_)
        self._input_means = [
            np.nanmean(
                _column_codes(c, *_parse(c, frame.iloc[:, j], "error"))[0],
                axis=0,
                keepdims=True,
            )
            for j, c in enumerate(self.columns_)
        ]
        return self

    def __getstate__(self):
        state = dict(
            super().__getstate__()
        )  # a copy: the estimator's own __dict__ stays as it is
        if (
            state.get("_numpy_dtype") is not None
        ):  # a plain string: skops then needs to trust no numpy dtype
            state["_numpy_dtype"] = state["_numpy_dtype"].str
        return state

    def __setstate__(self, state):
        if state.get("_numpy_dtype") is not None:
            state = {**state, "_numpy_dtype": np.dtype(state["_numpy_dtype"])}
        super().__setstate__(state)

    def encode(self, X, dtype=np.float64):
        """The network's inputs, the likelihood's targets and the observed mask of ``X``.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
            A table with the columns seen in ``fit``.
        dtype : numpy float dtype, default=np.float64

        Returns
        -------
        encoded : Encoded
            ``inputs`` of shape (n_samples, `n_inputs_`), ``targets`` of shape (n_samples, n_columns) and the
            boolean ``observed`` of the same shape.
        """
        inputs, targets, observed = [], [], []
        for column, series, mean in zip(
            self.columns_, self._columns_of(X), self._input_means
        ):
            values, seen = _parse(column, series, self.handle_unknown)
            codes, target = _column_codes(column, values, seen)
            inputs.append(np.where(np.isnan(codes), 0.0, codes - mean))
            targets.append(target)
            observed.append(seen)
        return Encoded(
            _stack(inputs, dtype), _stack(targets, dtype), np.column_stack(observed)
        )

    def decode(self, targets):
        """The table that ``targets`` (one number per column, as in ``encode``) stand for.

        Levels are rounded to the nearest index, counts to the nearest non-negative integer, positive values are
        clipped at 0.

        Parameters
        ----------
        targets : array-like of shape (n_samples, n_columns)

        Returns
        -------
        table : DataFrame or ndarray
            A DataFrame with the fitted columns' names, order and dtypes when fitted on one, else an array of the
            fitted array's dtype.
        """
        targets = np.asarray(targets, dtype=np.float64)
        values = [
            _decode_column(column, targets[:, j])
            for j, column in enumerate(self.columns_)
        ]
        if self._is_frame:
            columns = {
                j: _as_dtype(v, c.dtype)
                for j, (c, v) in enumerate(zip(self.columns_, values))
            }
            return pd.DataFrame(columns).set_axis(
                [column.name for column in self.columns_], axis=1
            )
        table = np.empty((len(targets), len(values)), dtype=self._numpy_dtype)
        for j, column_values in enumerate(values):
            table[:, j] = column_values
        return table

    def impute(self, X, targets):
        """``X`` with its missing cells (and unseen levels under ``handle_unknown="ignore"``) decoded from
        ``targets``; every observed cell is returned as it is.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_columns)
        targets : array-like of shape (n_samples, n_columns)

        Returns
        -------
        table : DataFrame or ndarray
            Of ``X``'s type, index and dtypes.
        """
        observed = np.column_stack(
            [
                _parse(c, s, "ignore")[1]
                for c, s in zip(self.columns_, self._columns_of(X))
            ]
        )
        decoded = self.decode(targets)
        if isinstance(X, pd.DataFrame):
            filled = {
                j: X.iloc[:, j]
                .where(observed[:, j], decoded.iloc[:, j].set_axis(X.index))
                .astype(X.dtypes.iloc[j])
                for j in range(X.shape[1])
            }
            return pd.DataFrame(filled, index=X.index).set_axis(X.columns, axis=1)
        table = np.array(X, dtype=self._numpy_dtype)
        table[~observed] = decoded[~observed]
        return table

    def _columns_of(self, X):
        frame = _as_frame(X)
        if frame.shape[1] != len(self.columns_):
            raise ValueError(
                f"X has {frame.shape[1]} columns; the schema was fitted on {len(self.columns_)}."
            )
        if self._is_frame and isinstance(X, pd.DataFrame):
            names = [column.name for column in self.columns_]
            if list(X.columns) != names:
                raise ValueError(
                    f"X's columns {list(X.columns)} differ from those seen in fit, {names}."
                )
        return [frame.iloc[:, j] for j in range(frame.shape[1])]


def dtype_state(dtype):
    """A column's dtype as plain values (strings, lists, bools) that :func:`dtype_from_state` rebuilds exactly."""
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        return {
            "categories": categories.tolist(),
            "of": dtype_state(categories.dtype),
            "ordered": bool(dtype.ordered),
        }
    if isinstance(dtype, pd.StringDtype):
        return {
            "string": dtype.storage,
            "na_value": "nan" if dtype.na_value is not pd.NA else "NA",
        }
    return (
        dtype.str if isinstance(dtype, np.dtype) and dtype.kind != "O" else str(dtype)
    )


def dtype_from_state(state):
    """The dtype that :func:`dtype_state` described; only names and values are read, nothing is run."""
    if isinstance(state, dict) and "categories" in state:
        categories = pd.Index(state["categories"], dtype=dtype_from_state(state["of"]))
        return pd.CategoricalDtype(categories, ordered=state["ordered"])
    if isinstance(state, dict):
        return pd.StringDtype(
            state["string"], na_value=np.nan if state["na_value"] == "nan" else pd.NA
        )
    return pd.api.types.pandas_dtype(state)


def _as_frame(X):
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"Expected a 2D table (n_samples, n_columns), got an array of shape {array.shape}."
        )
    return pd.DataFrame(array.astype(object) if array.dtype.kind in "US" else array)


def _stack(parts, dtype):
    return np.column_stack(parts).astype(dtype, copy=False)


def _numpy_dtype(X):
    dtype = np.asarray(X).dtype
    return np.dtype(object) if dtype.kind in "USO" else dtype


def _resolve_kinds(kinds, names):
    """``kinds`` as ``{position: kind}``: a name first, else a position."""
    if kinds is None:
        return {}
    if not hasattr(kinds, "items"):
        kinds = list(kinds)
        if len(kinds) != len(names):
            raise ValueError(
                f"kinds lists {len(kinds)} kinds for {len(names)} columns."
            )
        kinds = dict(enumerate(kinds))
    resolved = {}
    for key, kind in kinds.items():
        if kind not in KINDS:
            raise ValueError(
                f"Column {key!r}: unknown kind {kind!r}; kinds are {', '.join(KINDS)}."
            )
        if key in names:
            resolved[names.index(key)] = kind
        elif (
            isinstance(key, Integral)
            and not isinstance(key, bool)
            and -len(names) <= key < len(names)
        ):
            resolved[key % len(names)] = kind
        else:
            raise ValueError(
                f"kinds names column {key!r}, which X does not have (columns: {names[:20]})."
            )
    return resolved


def infer_kind(series):
    """The kind of a column from its dtype and, for ``object`` / ``string`` columns, its values.

    Parameters
    ----------
    series : Series

    Returns
    -------
    kind : str
    """
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return "ordinal" if dtype.ordered else "categorical"
    if pd.api.types.is_bool_dtype(dtype):
        return "binary"
    if pd.api.types.is_integer_dtype(dtype):
        return "count" if (series.dropna() >= 0).all() else "real"
    if pd.api.types.is_float_dtype(dtype):
        return "real"
    if pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype):
        values = pd.api.types.infer_dtype(series, skipna=True)
        if values == "boolean":
            return "binary"
        if values == "integer":
            return "count" if (series.dropna() >= 0).all() else "real"
        return (
            "real"
            if values in ("floating", "mixed-integer-float", "decimal")
            else "categorical"
        )
    raise TypeError(
        f"Column {series.name!r} has dtype {dtype}, which no column kind models; convert it to numbers or "
        f"categories first (kinds: {', '.join(KINDS)})."
    )


def _fit_column(name, series, kind):
    kind = kind or infer_kind(series)
    observed_values = series[series.notna()]
    if len(observed_values) == 0:
        raise ValueError(
            f"Column {name!r} has no observed value; drop it before fitting."
        )
    if kind in LEVELLED:
        levels = _levels(name, series, observed_values, kind)
        counts = np.bincount(
            pd.Index(levels).get_indexer(observed_values.to_numpy()),
            minlength=len(levels),
        )
        return Column(
            name,
            kind,
            series.dtype,
            levels=levels,
            level_counts=tuple(int(c) for c in counts),
        )
    column = Column(name, kind, series.dtype)
    values, _ = _parse(column, series, "error")
    values = values[series.notna().to_numpy()]
    mean = float(values.mean())
    if kind != "real":
        values = np.log1p(values)
    scale = float(values.std())
    return Column(
        name,
        kind,
        series.dtype,
        loc=float(values.mean()),
        scale=scale if scale > 0 else 1.0,
        mean=mean,
    )


def _levels(name, series, observed_values, kind):
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        levels = tuple(dtype.categories)
    elif pd.api.types.is_bool_dtype(dtype):
        levels = (False, True)
    else:
        levels = tuple(pd.Categorical(observed_values.to_numpy()).categories)
    if kind == "binary" and len(levels) > 2:
        raise ValueError(
            f"Column {name!r} has {len(levels)} levels ({list(levels)[:5]}...); a binary column has at most 2: "
            f"give it the kind 'categorical'."
        )
    return levels


def _parse(column, series, handle_unknown):
    """A column's values (numbers, or level indices) and its observed mask; impossible values are refused."""
    observed = series.notna().to_numpy()
    if column.kind in LEVELLED:
        index = pd.Index(column.levels).get_indexer(series.to_numpy())
        unknown = observed & (index < 0)
        if unknown.any() and handle_unknown == "error":
            raise ValueError(
                f"Column {column.name!r} has the level {series.to_numpy()[unknown][0]!r}, not seen in fit "
                f"(levels: {list(column.levels)[:10]}); set such cells to missing (None or NaN) to have them "
                f"imputed, or refit on data that has the level."
            )
        return index, observed & ~unknown
    try:
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError(
            f"Column {column.name!r} is {column.kind} but holds values that are not numbers."
        ) from None
    _check_values(column, values[observed])
    return values, observed


def _check_values(column, values):
    problem = None
    if not np.isfinite(values).all():
        problem = "an infinite value"
    elif column.kind in ("positive", "count") and (values < 0).any():
        problem = f"the negative value {float(values[values < 0][0])!r}"
    elif column.kind == "count" and (values != np.round(values)).any():
        problem = (
            f"the non-integer value {float(values[values != np.round(values)][0])!r}"
        )
    if problem:
        raise ValueError(
            f"Column {column.name!r} is {column.kind} but has {problem}; fix the data or set its kind."
        )


def _column_codes(column, values, observed):
    """A column's input codes before centring (NaN where missing) and its targets (0 where missing)."""
    kind = column.kind
    if kind in ("real", "positive", "count"):
        scaled = (
            (values if kind == "real" else np.log1p(values)) - column.loc
        ) / column.scale
        target = values if kind == "count" else scaled
        return np.where(observed, scaled, np.nan)[:, None], np.where(
            observed, target, 0.0
        )
    index = np.where(observed, values, 0)
    if kind == "binary":
        codes = index[:, None]
    elif kind == "categorical":
        codes = index[:, None] == np.arange(column.n_levels)
    else:
        codes = index[:, None] > np.arange(column.n_levels - 1)
    return np.where(observed[:, None], codes, np.nan), index.astype(np.float64)


def _as_dtype(values, dtype):
    """Decoded values as a Series of the column's own dtype (integers rounded first)."""
    if pd.api.types.is_integer_dtype(dtype) and not isinstance(
        dtype, pd.CategoricalDtype
    ):
        values = np.rint(values.astype(np.float64))
    return pd.Series(values).astype(dtype)


def _decode_column(column, target):
    if column.kind == "real":
        return column.loc + column.scale * target
    if column.kind == "positive":
        return np.maximum(np.expm1(column.loc + column.scale * target), 0.0)
    if column.kind == "count":
        return np.maximum(np.rint(target), 0.0)
    index = np.clip(np.rint(target), 0, column.n_levels - 1).astype(np.intp)
    return np.asarray(column.levels, dtype=object)[index]
