"""Missing-value imputation with any skae autoencoder."""

import time
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._compat import (
    HasMethods,
    Interval,
    _BaseImputer,
    _check_feature_names_in,
    _fit_context,
    _get_mask,
    is_pandas_na,
    is_scalar_nan,
)
from ._denoising import DenoisingAE
from ._mixed import is_mixed, set_table_features
from ._persistence import VersionedStateMixin
from ._scores import is_bernoulli
from ._validation import check_params, row_weights, validate_input


class AutoencoderImputer(VersionedStateMixin, _BaseImputer):
    """Fill missing values with an autoencoder's reconstruction.

    Each feature is centred on its observed mean and divided by its observed
    range (max - min), so the loss counts an error relative to the feature's
    range, as min-max-scaled RMSE does; missing cells start at the mean (zero).
    Dividing by the standard deviation instead lets features that are rarely
    non-zero (MNIST's border pixels) dominate the loss.
    With a Bernoulli autoencoder (``likelihood="bernoulli"``) the cells are
    kept as they are, in [0, 1],
    and missing cells start at their feature's observed mean.
    Training runs in
    ``n_rounds`` rounds: the autoencoder is trained with a loss on observed
    cells only (a placeholder is never a target), then the missing cells of its
    input are replaced by its reconstruction and training continues on the
    refined input. ``transform`` repeats the refinement ``n_rounds`` times, so
    the model sees inputs like those it was trained on (refining with a model
    trained only on mean-filled input made the fills worse).
    **Observed cells are returned unchanged.** The measurements behind these
    choices and the defaults are in :ref:`bench_imputation`.

    Features with no observed value are dropped with a warning
    (``keep_empty_features=False``) or filled with 0, as in scikit-learn's
    imputers; rows with no observed value get the model's reconstruction of
    the all-mean row.

    Parameters
    ----------
    autoencoder : skae autoencoder or None, default=None
        Cloned and trained in ``fit`` through its public interface only:
        ``fit(Z, observed=~missing)`` (its own parameter validation applies),
        ``warm_start=True`` between rounds, ``reconstruct`` and, with
        ``sample_posterior``, ``sample_reconstruction``. None uses ``DenoisingAE(n_features,
        noise="masking", noise_level=0.15, hidden_layer_sizes=(512,),
        early_stopping=True, n_iter_no_change=200, max_iter=3000)``
        (``n_iter_no_change=20`` on a mixed table): masking noise zeroes
        observed cells at random, which in centred space is exactly the mean
        placeholder of a missing cell (on a mixed table, all the units of a
        masked cell together), so the model learns to predict cells from
        their row.
    n_rounds : int, default=3
        Training and refinement rounds of the missing cells.
    sample_posterior : bool, default=False
        In the last round, draw the missing cells from the decoder's
        distribution (needs a :class:`VAE`) instead of taking its mean, so that
        several imputers with different ``random_state`` give a multiple
        imputation.
    missing_values : int, float, np.nan or pd.NA, default=np.nan
        The placeholder of missing values. The data are numbers, so a string
        or None placeholder is refused, as :class:`~sklearn.impute.SimpleImputer`
        refuses it on numeric data: read such files with the placeholder as
        NaN (``pd.read_csv(..., na_values="?")``).
    add_indicator : bool, default=False
        Append a :class:`~sklearn.impute.MissingIndicator` of the missing cells.
    keep_empty_features : bool, default=False
        Keep features with no observed value in fit, filled with 0.
    random_state : int, RandomState instance or None, default=None
        Seeds the autoencoder (overriding its own ``random_state``) and the
        posterior draws.
    verbose : int, default=0
        1 prints a line per training round (epochs, loss, seconds); 2 also
        the autoencoder's own per-epoch table (its ``verbose=1``).
    kinds : dict, list or None, default=None
        Column kinds of a mixed table, given to the autoencoder (its
        ``kinds`` parameter: "real", "positive", "count", "binary",
        "categorical", "ordinal", by column name or position). Given, or when
        ``X`` is a DataFrame with a column that is not plain numpy numbers
        (strings, categories, booleans, nullable dtypes), the table is
        imputed as it is: the autoencoder models each column by its kind
        and is trained, round after round, on the table with its missing
        cells (NaN, None, ``pd.NA``) refilled, without the scaling above;
        each column comes back in its own kind and dtype (labels, integer
        counts), observed cells unchanged, as a DataFrame for a DataFrame
        (an array of the fitted dtype for an array). Such tables take
        ``missing_values=np.nan`` only, and a column with no observed
        value is dropped (``keep_empty_features=False``, with a warning) or
        returned as it is.

    Attributes
    ----------
    autoencoder_ : skae autoencoder
        The trained autoencoder, in scaled feature space.
    mean_, scale_ : ndarray of shape (`n_features_in_`,)
        Observed mean and range (max - min; 1 for a constant feature) used
        to scale the features (the scale is 1 for a Bernoulli autoencoder).
    offset_ : ndarray of shape (`n_features_in_`,)
        Subtracted from each feature before dividing by ``scale_``: ``mean_``,
        or 0 for a Bernoulli autoencoder (cells kept in [0, 1]).
    placeholder_ : ndarray of shape (`n_features_in_`,)
        Where each feature's missing cells start, in the model's units: the
        observed mean, ``(mean_ - offset_) / scale_``.
    constant_features_ : ndarray of bool of shape (`n_features_in_`,)
        Features whose observed values are all equal (or that have none): their
        missing cells get that value, not the model's.
    observed_features_ : ndarray of bool of shape (`n_features_in_`,)
        Features with at least one observed value in ``fit``; the others are
        dropped or filled with 0 (``keep_empty_features``).
    indicator_ : MissingIndicator or None
        The indicator, with ``add_indicator``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderImputer, AutoencoderTransformer
    >>> X = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, np.nan], [3.0, np.nan, 9.0], [4.0, 8.0, 12.0]])
    >>> imputer = AutoencoderImputer(AutoencoderTransformer(2, max_iter=50), random_state=0)
    >>> filled = imputer.fit_transform(X)
    >>> bool(np.isnan(filled).any()), filled[0].tolist()
    (False, [1.0, 2.0, 3.0])
    """

    _parameter_constraints = {
        **_BaseImputer._parameter_constraints,
        "autoencoder": [HasMethods(["fit", "transform", "inverse_transform"]), None],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "sample_posterior": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "kinds": [dict, list, tuple, None],
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        n_rounds=3,
        sample_posterior=False,
        missing_values=np.nan,
        add_indicator=False,
        keep_empty_features=False,
        random_state=None,
        verbose=0,
        kinds=None,
    ):
        super().__init__(
            missing_values=missing_values,
            add_indicator=add_indicator,
            keep_empty_features=keep_empty_features,
        )
        self.autoencoder = autoencoder
        self.n_rounds = n_rounds
        self.sample_posterior = sample_posterior
        self.random_state = random_state
        self.verbose = verbose
        self.kinds = kinds

    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder on the observed cells of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row (None: all equal), passed to the
            autoencoder's ``fit``. The features' means (``mean_``, the
            placeholders of missing cells) are weighted means of their
            observed cells. Rows of weight zero take no part in fitting:
            neither the model nor ``mean_``, ``scale_`` or which features
            count as empty depend on them.

        Returns
        -------
        self : object
        """
        self.fit_transform(X, sample_weight=sample_weight)
        return self

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_transform(self, X, y=None, sample_weight=None):
        """Fit, then impute the missing cells of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row, as in :meth:`fit`. Every row is
            imputed, those of weight zero included.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
        """
        self._table = is_mixed(X, self.kinds)
        if self._table:
            return self._fit_transform_table(X, sample_weight)
        return self._fit_transform_numbers(X, sample_weight)

    def _fit_transform_numbers(self, X, sample_weight):
        """``fit_transform`` of numbers: scaled, mean-filled, then trained in rounds."""
        X_all = self._validate_input(X, reset=True)
        weights = row_weights(sample_weight, X_all)
        missing_all = _get_mask(X_all, self.missing_values)
        self._fit_indicator(missing_all)
        # The model and statistics are fitted on the rows of positive weight.
        training = slice(None) if weights is None else weights > 0
        X, missing = X_all[training], missing_all[training]
        weights = None if weights is None else weights[training]
        self.observed_features_ = ~missing.all(axis=0)
        autoencoder = self._new_autoencoder(X.shape[1])
        self._fit_scaling(X, missing, weights, keep_units=is_bernoulli(autoencoder))
        self._train_in_rounds(
            autoencoder, self._scale(X, missing), missing, fill_in_place, weights
        )
        return self._impute(X_all, missing_all)

    def _fit_scaling(self, X, missing, weights, keep_units):
        """``mean_``, ``offset_``, ``scale_``, ``placeholder_`` and ``constant_features_`` from the observed cells."""
        observed = np.where(missing, np.nan, X)
        self.mean_, counts = self._observed_means(observed, missing, weights)
        spread = np.where(counts > 0, self._spread(observed), 0.0)
        self.constant_features_ = spread == 0
        if keep_units:
            # A Bernoulli likelihood models cells in [0, 1] as they are:
            # centring them would produce values it refuses.
            self.offset_, self.scale_ = (
                np.zeros_like(self.mean_),
                np.ones_like(self.mean_),
            )
        else:
            self.offset_, self.scale_ = self.mean_, np.where(spread > 0, spread, 1.0)
        self.placeholder_ = (self.mean_ - self.offset_) / self.scale_

    def _train_in_rounds(self, autoencoder, inputs, missing, refill, sample_weight):
        """Train ``autoencoder`` in ``n_rounds`` rounds, each on the previous round's fills; sets ``autoencoder_``.

        ``refill(inputs, reconstruction, missing)`` returns ``inputs`` with
        their missing cells taken from the reconstruction.
        """
        warm_start = autoencoder.warm_start
        fit_params = {} if sample_weight is None else {"sample_weight": sample_weight}
        for round_ in range(self.n_rounds):
            started = time.perf_counter()
            epochs_before = autoencoder.n_iter_ if round_ else 0
            if round_ > 0:
                inputs = refill(inputs, autoencoder.reconstruct(inputs), missing)
            # Later rounds continue training the same model on the refined
            # input; refilled cells are its input, never its targets.
            autoencoder.set_params(warm_start=round_ > 0).fit(
                inputs, observed=~missing, **fit_params
            )
            if self.verbose:
                print(
                    f"[{type(self).__name__}] round {round_ + 1}/{self.n_rounds}: "
                    f"{autoencoder.n_iter_ - epochs_before} epochs, loss {autoencoder.loss_curve_[-1]:.4g}, "
                    f"{time.perf_counter() - started:.1f} s ({int(missing.sum())} missing cells)"
                )
        self.autoencoder_ = autoencoder.set_params(warm_start=warm_start)

    def _refined(self, inputs, missing, refill, sample_last=False):
        """``inputs`` after ``n_rounds`` refinements of their missing cells by ``autoencoder_``.

        ``refill`` as in ``_train_in_rounds``; ``sample_last`` draws the last
        round's cells from the model's distribution instead of its mean.
        """
        if not missing.any():
            return inputs
        for round_ in range(self.n_rounds):
            if sample_last and round_ == self.n_rounds - 1:
                reconstruction = self.autoencoder_.sample_reconstruction(
                    inputs, random_state=self.random_state
                )
            else:
                reconstruction = self.autoencoder_.reconstruct(inputs)
            inputs = refill(inputs, reconstruction, missing)
        return inputs

    def _new_autoencoder(self, n_features, table=False):
        """The autoencoder to train: a clone of ``autoencoder`` (or the default) with the imputer's settings."""
        autoencoder = (
            clone(self.autoencoder)
            if self.autoencoder is not None
            else self._default_autoencoder(n_features, table)
        )
        if not isinstance(autoencoder, BaseAutoencoder):
            raise TypeError(
                f"autoencoder must be a skae autoencoder, got {type(autoencoder).__name__}."
            )
        self._check_sample_posterior(autoencoder)
        if self.verbose >= 2:
            autoencoder.set_params(verbose=1)
        if self.random_state is not None:
            autoencoder.set_params(
                random_state=check_random_state(self.random_state).randint(
                    np.iinfo(np.int32).max
                )
            )
        if self.kinds is not None:
            autoencoder.set_params(kinds=self.kinds)
        return autoencoder

    # ------------------------------------------------------------ mixed tables
    def _fit_transform_table(self, X, sample_weight=None):
        """``fit_transform`` of a mixed table: rounds of training and refilling, as for numbers, on the table itself."""
        missing = self._table_mask(X)
        set_table_features(self, X)
        self._fit_indicator(missing)
        self.observed_features_ = ~missing.all(axis=0)
        table, missing = (
            select_columns(X, self.observed_features_),
            missing[:, self.observed_features_],
        )
        autoencoder = self._new_autoencoder(table.shape[1], table=True)
        self._train_in_rounds(autoencoder, table, missing, fill_cells, sample_weight)
        return self._impute_table(X, missing)

    def _table_mask(self, X):
        """The missing cells of a mixed table (``pandas.isna``); other placeholders are refused."""
        if not (
            is_scalar_nan(self.missing_values) or is_pandas_na(self.missing_values)
        ):
            raise ValueError(
                f"missing_values={self.missing_values!r}: a mixed table marks its missing cells with NaN, None or "
                "pd.NA; replace the placeholder first (X.replace(placeholder, np.nan)) and keep missing_values=np.nan."
            )
        return np.asarray(
            pd.isna(X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=object))
        )

    def _impute_table(self, X, missing):
        """``X``'s missing cells filled by ``n_rounds`` refinements; observed cells returned as they are."""
        filled = self._refined(
            select_columns(X, self.observed_features_), missing, fill_cells
        )
        if self.keep_empty_features:
            filled = insert_columns(X, filled, self.observed_features_)
        else:
            self._warn_empty_features()
        indicator = self._transform_indicator(self._table_mask(X))
        return (
            filled
            if indicator is None
            else append_columns(filled, indicator, self.get_feature_names_out())
        )

    def transform(self, X):
        """Impute the missing cells of ``X``; observed cells are returned unchanged.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with missing values.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features_out)
        """
        check_is_fitted(self)
        # Parameters that transform reads: changing them needs no refit, so fit has not validated them.
        check_params(
            self,
            (
                "n_rounds",
                "sample_posterior",
                "missing_values",
                "keep_empty_features",
                "random_state",
            ),
        )
        self._check_sample_posterior(self.autoencoder_)
        if getattr(self, "_table", False):
            return self._impute_table(
                X, self._table_mask(X)[:, self.observed_features_]
            )
        X = self._validate_input(X, reset=False)
        return self._impute(X, _get_mask(X, self.missing_values))

    def _validate_input(self, X, reset):
        nan_marks_missing = is_scalar_nan(self.missing_values) or is_pandas_na(
            self.missing_values
        )
        if not (nan_marks_missing or isinstance(self.missing_values, Real)):
            raise ValueError(
                f"missing_values={self.missing_values!r} cannot mark cells of numeric data, which is what "
                f"{type(self).__name__} imputes (SimpleImputer refuses it too); mark missing cells with NaN "
                "(e.g. pd.read_csv(..., na_values='?') or X.replace('?', np.nan)) and keep missing_values=np.nan."
            )
        return validate_input(
            self,
            X,
            reset=reset,
            nan_remedy=f"missing_values={self.missing_values!r} marks the missing cells, so NaN is not allowed: set "
            "missing_values=np.nan if NaN marks missing cells too, or fill the NaN first",
            ensure_all_finite="allow-nan" if nan_marks_missing else True,
            copy=False,
        )

    def _check_sample_posterior(self, autoencoder):
        if self.sample_posterior and not hasattr(autoencoder, "sample_reconstruction"):
            raise ValueError(
                "sample_posterior=True needs an autoencoder with a sample_reconstruction method "
                "(a likelihood to draw from): use skae.VAE."
            )

    def _scale(self, X, missing):
        """``X`` in the model's units, missing cells at their feature's mean, in ``X``'s dtype."""
        Z = ((X - self.offset_) / self.scale_).astype(X.dtype, copy=False)
        return np.where(missing, self.placeholder_.astype(X.dtype), Z)

    def _impute(self, X, missing):
        """``X``'s missing cells filled by ``n_rounds`` refinements in the model's units; observed cells as they are."""
        Z = self._refined(
            self._scale(X, missing), missing, fill_in_place, self.sample_posterior
        )
        # A constant feature's missing cells get its value.
        Z[:, self.constant_features_] = self.placeholder_[self.constant_features_]
        imputed = np.where(missing, Z * self.scale_ + self.offset_, X).astype(
            X.dtype, copy=False
        )
        if self.keep_empty_features:
            imputed[:, ~self.observed_features_] = 0.0
        else:
            self._warn_empty_features()
            imputed = imputed[:, self.observed_features_]
        return self._concatenate_indicator(imputed, self._transform_indicator(missing))

    def _warn_empty_features(self):
        """SimpleImputer's warning when features without any observed value in fit are dropped."""
        empty = np.flatnonzero(~self.observed_features_)
        if len(empty):
            names = (
                self.feature_names_in_[empty]
                if hasattr(self, "feature_names_in_")
                else empty
            )
            warnings.warn(
                f"Skipping features without any observed values: {names}. At least one non-missing value is "
                "needed for imputation; set keep_empty_features=True to keep them (filled with 0).",
                UserWarning,
                stacklevel=3,
            )

    @staticmethod
    def _observed_means(observed, missing, weights):
        """Each feature's mean over its observed cells (rows weighted; 0 if none), and their count or weight."""
        if weights is None:
            counts = (~missing).sum(axis=0)
            return np.where(
                counts > 0, np.nansum(observed, axis=0) / np.maximum(counts, 1), 0.0
            ), counts
        totals = np.where(missing, 0.0, weights[:, None]).sum(axis=0)
        sums = np.nansum(observed * weights[:, None], axis=0)
        return np.divide(
            sums, totals, out=np.zeros_like(totals), where=totals > 0
        ), totals

    @staticmethod
    def _spread(observed):
        """Each feature's observed range, the unit the loss counts its errors in (class docstring)."""
        return np.nanmax(observed, axis=0, initial=-np.inf) - np.nanmin(
            observed, axis=0, initial=np.inf
        )

    @staticmethod
    def _default_autoencoder(n_features, table=False):
        # No bottleneck: masking noise, not a narrow code, is what makes the
        # model infer a cell from the rest of its row (a narrow code imputed
        # worse). The masking rate, the width and the patience were chosen on
        # development sets kept out of the imputation benchmarks (a mixed
        # table's on the tables of benchmarks/tune_mixed_imputer.py, where a
        # shorter patience imputed better and faster); the comparisons are on
        # the imputation benchmark pages.
        return DenoisingAE(
            n_features,
            noise="masking",
            noise_level=0.15,
            hidden_layer_sizes=(512,),
            early_stopping=True,
            n_iter_no_change=20 if table else 200,
            max_iter=3000,
        )

    def get_feature_names_out(self, input_features=None):
        """Input feature names (less those dropped as empty), then the indicator's.

        Parameters
        ----------
        input_features : array-like of str or None, default=None

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self)
        input_features = _check_feature_names_in(self, input_features)
        names = (
            input_features
            if self.keep_empty_features
            else input_features[self.observed_features_]
        )
        return self._concatenate_indicator_feature_names_out(names, input_features)


# ---------------------------------------------------------------- mixed tables
def select_columns(X, kept):
    """The columns of the table ``X`` marked in ``kept``."""
    return (
        X.iloc[:, np.flatnonzero(kept)]
        if isinstance(X, pd.DataFrame)
        else np.asarray(X)[:, kept]
    )


def fill_in_place(Z, filled, missing):
    """The array ``Z`` with its ``missing`` cells overwritten by ``filled``'s."""
    Z[missing] = filled[missing]
    return Z


def fill_cells(X, filled, missing):
    """``X`` with its ``missing`` cells taken from ``filled``: each column keeps ``X``'s dtype and observed values."""
    if not isinstance(X, pd.DataFrame):
        return np.where(missing, filled, X).astype(np.asarray(X).dtype, copy=False)
    columns = {
        j: X.iloc[:, j]
        .where(~missing[:, j], filled.iloc[:, j].set_axis(X.index))
        .astype(X.dtypes.iloc[j])
        for j in range(X.shape[1])
    }
    return pd.DataFrame(columns, index=X.index).set_axis(X.columns, axis=1)


def insert_columns(X, kept_table, kept):
    """``X`` with its ``kept`` columns replaced by ``kept_table``'s; the others (never observed) as they are."""
    if not isinstance(X, pd.DataFrame):
        table = np.array(X, dtype=kept_table.dtype)
        table[:, kept] = kept_table
        return table
    table = X.copy()
    for source, j in enumerate(np.flatnonzero(kept)):
        table.isetitem(j, kept_table.iloc[:, source])
    return table


def append_columns(table, indicator, names):
    """The imputed ``table`` with the missing indicator's columns after it."""
    if not isinstance(table, pd.DataFrame):
        return np.hstack([table.astype(object), indicator])
    extra = pd.DataFrame(indicator, index=table.index, columns=names[table.shape[1] :])
    return pd.concat([table, extra], axis=1)
