"""Outlier detection with any skae autoencoder, with IsolationForest's contract."""

import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, OutlierMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._base import BaseAutoencoder
from ._compat import (
    HasMethods,
    Interval,
    RealNotInt,
    StrOptions,
    _check_feature_names_in,
    _fit_context,
)
from ._mixed import column_names, is_mixed, set_table_features
from ._persistence import VersionedStateMixin
from ._scores import (
    at_least_lowest_float,
    honest_scores,
    is_bernoulli,
)
from ._vae import VAE
from ._validation import row_weights, validate_input
from ._vanilla import AutoencoderTransformer

# "auto" contamination: a sample is an outlier when its score lies more than
# this many robust standard deviations (1.4826 * MAD) below the training median.
_AUTO_ROBUST_Z = 3.0


class AutoencoderOutlierDetector(VersionedStateMixin, OutlierMixin, BaseEstimator):
    """Unsupervised outlier detection with an autoencoder.

    Follows :class:`~sklearn.ensemble.IsolationForest`: ``score_samples`` is
    higher for more normal samples, ``decision_function = score_samples -
    offset_`` is negative for outliers, ``predict`` gives +1 (inlier) / -1
    (outlier).

    Scoring rules (``scoring``):

    - "reconstruction": minus the squared reconstruction error.
    - "likelihood": the analogue of probabilistic PCA's log-likelihood for a
      deterministic autoencoder, up to a constant: minus half of
      ``sum_j r_j^2 / s_j^2 + (c - m)' S^-1 (c - m)``, where ``r`` is the
      reconstruction residual and ``s_j^2`` its per-feature variance on the
      training data, and ``c`` the code with ``m``, ``S`` the mean and
      covariance of the training codes. An outlier can hide in the code (far
      along the learned manifold) as well as off it; reconstruction error sees
      only the latter.
    - "elbo": a :class:`VAE`'s evidence lower bound, in nats.
    - "auto": "elbo" for a VAE, "likelihood" otherwise.

    Mixed tables (a DataFrame with string, category, boolean or nullable
    columns, or ``kinds`` given) are taken as they are, missing cells
    included, and handed to the autoencoder, which models each column by its
    kind's likelihood (see its ``kinds``). The score of a row is then the
    autoencoder's own ``score_samples``, its log-likelihood in nats summed
    over the observed cells ("reconstruction": each column's reconstruction
    log-likelihood; "elbo" for a VAE: the ELBO), which is what "auto" picks;
    "likelihood" reads numeric residuals and is refused there.
    :meth:`score_samples_per_column` shows which columns made a row unusual.

    Trimmed refits (``n_trim_rounds``): the training data holds the outliers
    too, and a model fitted to them learns to reconstruct them. After the first
    fit, the ``trim_fraction`` of rows scoring lowest is set aside and a fresh
    model (same seed) is fitted, with its scoring statistics, on the rest; this
    repeats ``n_trim_rounds`` times. Every sample is still scored.

    Two rounds with a 0.3 trim cost three fits; what they gain on benchmark
    data is in :ref:`bench_outliers`.

    Feature bagging (``n_estimators``, ``max_features``): several models, each
    on a random subset of the features, as an IsolationForest's trees each see
    part of the data, so that an outlier standing out in a few features is not
    drowned by the many it shares with inliers. It costs ``n_estimators``
    fits, and its gain on benchmark data (:ref:`bench_outliers`) was too small
    and too variable to make it the default.

    Parameters
    ----------
    autoencoder : skae autoencoder or None, default=None
        Cloned and trained in ``fit``. None uses
        ``AutoencoderTransformer(n_components, hidden_layer_sizes=(32,),
        activation="tanh", max_iter=50)`` with ``n_components = max(1,
        n_features // 3)``: small and briefly trained, because a model fitted
        long enough on data that contains the outliers learns to reconstruct
        them too.
    contamination : "auto" or float in (0, 0.5], default="auto"
        Expected fraction of outliers, which sets ``offset_`` to that
        quantile of the training scores. "auto": outliers are samples scoring
        more than 3 robust standard deviations (1.4826 * MAD) below the
        training median. Rows set aside by the trimmed refits score far lower
        than the rest, so "auto" flags more of them than a single fit would;
        give the expected fraction where it is known.
    scoring : {"auto", "reconstruction", "likelihood", "elbo"}, default="auto"
        The scoring rule, described above (on a mixed table: "auto", or the
        autoencoder's own rule that "auto" picks).
    n_trim_rounds : int, default=2
        Refits on the rows not trimmed as outlying, described above; 0 fits once.
        Use 0 when the training data is known to be clean (novelty
        detection): there trimming only discards normal rows
        (:ref:`bench_outliers`).
    trim_fraction : float in [0, 1), default=0.3
        Fraction of the training rows set aside before each refit.
    n_estimators : int, default=1
        Autoencoders trained with different seeds (and feature subsets); their
        scores are averaged, at ``n_estimators`` times the cost of one.
    max_features : int or float, default=1.0
        Features each autoencoder sees, drawn without replacement, as in
        :class:`~sklearn.ensemble.IsolationForest`: an int is a count, a float
        the fraction ``max(1, int(max_features * n_features_in_))`` (feature
        bagging, Lazarevic & Kumar 2005). Scores of models on different
        feature subsets are on different scales, so with fewer than all
        features each model's scores are first made robust z-scores (centred
        on the median of its training scores, divided by 1.4826 times their
        median absolute deviation) and then averaged.
    random_state : int, RandomState instance or None, default=None
        Seeds the autoencoders (overriding their own ``random_state``).
    verbose : int, default=0
        0 is silent; 1 prints a line per fit (the first fit and each trimmed
        refit, for each autoencoder) and the threshold; 2 or more also sets
        each autoencoder's ``verbose`` to ``verbose - 1`` (its progress per
        epoch).
    kinds : dict, list or None, default=None
        Column kinds of a mixed table ("real", "positive", "count", "binary",
        "categorical", "ordinal"), by name or position, given to the
        autoencoder (its ``kinds`` parameter), as :class:`AutoencoderImputer`
        does. Given, ``X`` is a mixed table even when every column holds
        numbers (a numpy array of codes). Feature bagging (``max_features``
        below all features) is refused on a mixed table.

    Attributes
    ----------
    estimators_ : list of skae autoencoders
        The trained autoencoders.
    estimators_features_ : list of ndarray
        The features (column indices) each autoencoder was trained on.
    scoring_ : str
        The scoring rule in use.
    scoring_statistics_ : list of tuple or None
        For each autoencoder, what the "likelihood" rule learned on its
        training rows: the tuple ``(residual_variance, code_mean,
        code_precision)`` of arrays (the per-feature residual variance ``s^2``,
        and the mean ``m`` and inverse covariance ``S^-1`` of the codes);
        None for the other rules, which need no statistics.
    score_scaling_ : list of tuple or None
        For each autoencoder, the ``(location, scale)`` its scores are
        standardised by before averaging, ``(score - location) / scale`` (the
        median of its training scores and 1.4826 times their median absolute
        deviation), when it sees fewer than all features (``max_features``);
        None when it sees all of them.
    offset_ : float
        Threshold on ``score_samples``.
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (`n_features_in_`,)

    Examples
    --------
    >>> import numpy as np
    >>> from skae import AutoencoderOutlierDetector
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(size=(300, 4)), [[8.0, 8.0, -8.0, 8.0]]])
    >>> detector = AutoencoderOutlierDetector(contamination=0.01, random_state=0).fit(X)
    >>> int(detector.predict(X)[-1]), int(np.argmin(detector.score_samples(X)))
    (-1, 300)
    """

    _parameter_constraints = {
        "autoencoder": [HasMethods(["fit", "transform", "score_samples"]), None],
        "contamination": [StrOptions({"auto"}), Interval(Real, 0, 0.5, closed="right")],
        "scoring": [StrOptions({"auto", "reconstruction", "likelihood", "elbo"})],
        "n_trim_rounds": [Interval(Integral, 0, None, closed="left")],
        "trim_fraction": [Interval(Real, 0, 1, closed="left")],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "max_features": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "kinds": [dict, list, tuple, None],
    }

    def __init__(
        self,
        autoencoder=None,
        *,
        contamination="auto",
        scoring="auto",
        n_trim_rounds=2,
        trim_fraction=0.3,
        n_estimators=1,
        max_features=1.0,
        random_state=None,
        verbose=0,
        kinds=None,
    ):
        self.autoencoder = autoencoder
        self.contamination = contamination
        self.scoring = scoring
        self.n_trim_rounds = n_trim_rounds
        self.trim_fraction = trim_fraction
        self.n_estimators = n_estimators
        self.max_features = max_features
        self.random_state = random_state
        self.verbose = verbose
        self.kinds = kinds

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Train the autoencoder(s) on ``X`` and set the threshold.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Training data, outliers included (unsupervised). A mixed table
            (see ``kinds``) is taken as it is, missing cells included.
        y : Ignored
            Not used, present for API consistency by convention.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row (None: all equal), as frequencies:
            a weight of 2 counts a row twice. The weights reach the
            autoencoder's ``fit`` and weigh every statistic fitted here: the
            trimmed refits set aside ``trim_fraction`` of the total weight
            (the row on the boundary keeps part of its weight), the
            likelihood scoring's residual variances, code mean and covariance
            are weighted (with Bessel's correction counted in weight), and
            ``offset_`` is a weighted quantile (or median and median absolute
            deviation) of the training scores, equal to that of the data with
            each row repeated as its weight says. Rows of weight zero take no
            part in any of it.

        Returns
        -------
        self : object
        """
        X, weights = self._training_rows(X, sample_weight)
        rng = check_random_state(self.random_state)
        self.estimators_ = []
        self.estimators_features_ = []
        self.scoring_statistics_ = []
        self.score_scaling_ = []
        n_features = self._n_features_per_model(X.shape[1])
        for index in range(self.n_estimators):
            features = np.arange(X.shape[1])
            if n_features < X.shape[1]:
                features = np.sort(rng.choice(X.shape[1], n_features, replace=False))
            self._fit_member(index, self._template(X, rng), features, X, weights)
        self._set_offset(X, weights)
        return self

    def _training_rows(self, X, sample_weight):
        """``(X, weights)``: ``X`` checked (numbers validated; a mixed table as it is), rows of weight zero dropped."""
        self._table = is_mixed(X, self.kinds)
        if self._is_table():
            set_table_features(self, X)
            X = X if isinstance(X, pd.DataFrame) else np.asarray(X, dtype=object)
            self._check_table_options(X)
        else:
            X = validate_input(self, X, reset=True)
        weights = row_weights(sample_weight, X)
        if weights is not None:
            X, weights = _rows(X, weights > 0), weights[weights > 0]
        return X, weights

    def _check_table_options(self, X):
        """Refuse the options that need numeric columns on a mixed table."""
        if self._n_features_per_model(X.shape[1]) < X.shape[1]:
            raise ValueError(
                f"max_features={self.max_features!r} (feature bagging) averages robust z-scores of models that "
                "each read a subset of columns, which needs numeric columns to subset and has no per-column "
                "breakdown in nats; on a mixed table (kinds=, or a DataFrame with non-numeric columns) keep "
                "max_features=1.0."
            )

    def _template(self, X, rng):
        """The unfitted autoencoder of the next member, seeded from ``rng``; sets ``scoring_``."""
        template = (
            clone(self.autoencoder)
            if self.autoencoder is not None
            else self._default_autoencoder(X)
        )
        if not isinstance(template, BaseAutoencoder):
            raise TypeError(
                f"autoencoder must be a skae autoencoder, got {type(template).__name__}."
            )
        if self.random_state is not None or self.n_estimators > 1:
            template.set_params(random_state=rng.randint(np.iinfo(np.int32).max))
        if self.verbose > 1:
            template.set_params(verbose=self.verbose - 1)
        if self._is_table() and self.kinds is not None:
            template.set_params(kinds=self.kinds)
        self.scoring_ = self._resolve_scoring(template)
        return template

    def _fit_member(self, index, template, features, X, weights):
        """Fit one member on ``features`` of ``X``, with its trimmed refits and score scaling."""
        X_model = _columns(X, features)
        self._report(
            f"model {index + 1}/{self.n_estimators}: fit 1/{self.n_trim_rounds + 1} on all {len(X)} rows"
        )
        estimator, statistics = self._fit_one(template, X_model, weights)
        for round_ in range(self.n_trim_rounds):
            kept, kept_weights = self._most_normal(
                self._score(estimator, statistics, X_model), weights
            )
            self._report(
                f"model {index + 1}/{self.n_estimators}: fit {round_ + 2}/{self.n_trim_rounds + 1} on the "
                f"{len(kept)} most normal rows ({len(X) - len(kept)} set aside)"
            )
            estimator, statistics = self._fit_one(
                template, _rows(X_model, kept), kept_weights
            )
        scaling = None
        if len(features) < X.shape[1]:
            location, spread = _robust_location_scale(
                self._score(estimator, statistics, X_model), weights
            )
            scaling = (location, spread if spread > 0 else 1.0)
        self.estimators_.append(estimator)
        self.estimators_features_.append(features)
        self.scoring_statistics_.append(statistics)
        self.score_scaling_.append(scaling)

    def _set_offset(self, X, weights):
        """``offset_`` from the training scores, as ``contamination`` says."""
        scores = self._score_samples(X)  # not score_samples: X is already validated
        if self.contamination == "auto":
            median, spread = _robust_location_scale(scores, weights)
            self.offset_ = float(median - _AUTO_ROBUST_Z * spread)
        else:
            self.offset_ = float(
                _quantile(at_least_lowest_float(scores), self.contamination, weights)
            )
        n_below = int(np.sum(scores < self.offset_))
        self._report(
            f"offset_ = {self.offset_:.6g}: {n_below} of {len(X)} training rows below it"
        )

    def _most_normal(self, scores, weights):
        """The rows a trimmed refit keeps, the most normal ones, and their weights (None: unweighted).

        Rows are kept in order of score, highest first (a stable sort keeps
        ties deterministic), until ``1 - trim_fraction`` of the rows, or of
        the total weight, is kept: the row on the boundary keeps the part of
        its weight that is needed, as some of its repetitions would be.
        """
        order = np.argsort(-scores, kind="stable")
        if weights is None:
            n_kept = len(scores) - int(np.floor(self.trim_fraction * len(scores)))
            return np.sort(order[:n_kept]), None
        total = weights.sum()
        kept_weight = total - np.floor(self.trim_fraction * total)
        more_normal = np.cumsum(weights[order]) - weights[order]
        kept = np.zeros_like(weights)
        kept[order] = np.clip(kept_weight - more_normal, 0, weights[order])
        rows = np.flatnonzero(kept > 0)
        return rows, kept[rows]

    def _report(self, message):
        if self.verbose:
            print(f"[{type(self).__name__}] {message}", flush=True)

    def score_samples(self, X):
        """Normality score of each sample: higher means more normal.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            Finite, or -inf for a row the model cannot explain: one so far from
            the training data that its score overflows (never NaN), or, with a
            Bernoulli autoencoder, one with a value outside [0, 1]. Such rows
            are always predicted as outliers. In the float dtype of ``X``;
            float64 for a mixed table.
        """
        check_is_fitted(self)
        return self._score_samples(self._scoring_input(X))

    def score_samples_per_column(self, X):
        """Each column's share of :meth:`score_samples`: which columns made a row unusual.

        The mean over the autoencoders of each cell's term in their score:
        with ``scoring="reconstruction"``, minus the cell's squared error;
        with "likelihood", minus half its standardised squared residual; on a
        mixed table, or with "elbo", the autoencoder's own
        ``score_samples_per_column`` (the cell's log-likelihood; 0 for a
        missing cell). A term of a row that belongs to no column (the code's
        Mahalanobis term of "likelihood", a VAE's KL) is spread evenly over
        the row's cells (its observed cells on a mixed table). Each row sums
        to its :meth:`score_samples`, up to floating-point rounding; a cell
        that makes the row impossible (a value outside [0, 1] for a Bernoulli
        autoencoder) is -inf. Not available with feature bagging
        (``max_features`` below all features), whose scores are z-scores of
        models on different columns rather than sums over cells.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : DataFrame of shape (n_samples, n_features)
            One column per input column (named as in ``fit``; ``X``'s index
            for a DataFrame), finite or -inf, never NaN; a row's lowest cells
            are the columns that made it unusual.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from skae import AutoencoderOutlierDetector
        >>> rng = np.random.RandomState(0)
        >>> X = pd.DataFrame({"size": rng.normal(10, 1, 200), "colour": rng.choice(["red", "blue"], 200)})
        >>> detector = AutoencoderOutlierDetector(n_trim_rounds=0, random_state=0).fit(X)
        >>> odd = pd.DataFrame({"size": [60.0], "colour": ["red"]})
        >>> detector.score_samples_per_column(odd).iloc[0].idxmin()
        'size'
        """
        check_is_fitted(self)
        if any(scaling is not None for scaling in self.score_scaling_):
            raise ValueError(
                f"max_features={self.max_features!r}: the score is an average of robust z-scores of models on "
                "different columns, not a sum over cells, so it has no per-column breakdown; fit with "
                "max_features=1.0 to explain rows column by column."
            )
        rows = self._scoring_input(X)
        cells = np.mean(
            [
                self._cells(estimator, statistics, rows)
                for estimator, statistics in zip(
                    self.estimators_, self.scoring_statistics_
                )
            ],
            axis=0,
        )
        names = (
            column_names(self.estimators_[0].schema_)
            if self._is_table()
            else _check_feature_names_in(self, None)
        )
        return pd.DataFrame(
            np.where(np.isnan(cells), -np.inf, cells),
            columns=names,
            index=X.index if isinstance(X, pd.DataFrame) else None,
        )

    def _scoring_input(self, X):
        """``X`` validated (numbers), or as it is (a mixed table: the autoencoders read it)."""
        if self._is_table():
            return X
        return validate_input(self, X, reset=False)

    def _is_table(self):
        """Whether the detector is fitted (or being fitted) on a mixed table."""
        return getattr(self, "_table", False)

    def _cells(self, estimator, statistics, X):
        """One member's per-cell score terms (see :meth:`score_samples_per_column`)."""
        if self.scoring_ == "elbo" or self._is_table():
            return estimator.score_samples_per_column(X).to_numpy()
        with np.errstate(over="ignore", invalid="ignore"):
            residual = X - estimator.reconstruct(X)
            if self.scoring_ == "reconstruction":
                cells = -(residual**2)
            else:
                residual_variance, code_mean, precision = statistics
                code_term = _mahalanobis(estimator.transform(X) - code_mean, precision)
                cells = -0.5 * (
                    (residual / np.sqrt(residual_variance)) ** 2
                    + code_term[:, None] / X.shape[1]
                )
        if is_bernoulli(estimator):
            cells = np.where((X < 0) | (X > 1), -np.inf, cells)
        return cells

    def _score_samples(self, X):
        scores = np.mean(
            [self._member_score(i, X) for i in range(len(self.estimators_))], axis=0
        )
        if self._is_table():
            return scores  # float64: a table has no one float dtype
        with np.errstate(
            over="ignore"
        ):  # a float64 score beyond float32's range is -inf there
            return scores.astype(X.dtype, copy=False)

    def _member_score(self, i, X):
        estimator, statistics, scaling = (
            self.estimators_[i],
            self.scoring_statistics_[i],
            self.score_scaling_[i],
        )
        if scaling is None:
            return self._score(estimator, statistics, X)
        location, scale = scaling
        return (
            self._score(estimator, statistics, X[:, self.estimators_features_[i]])
            - location
        ) / scale

    def _n_features_per_model(self, n_features):
        if isinstance(self.max_features, Integral):
            if self.max_features > n_features:
                raise ValueError(
                    f"max_features={self.max_features} must be at most n_features={n_features}."
                )
            return self.max_features
        return max(1, int(self.max_features * n_features))

    def decision_function(self, X):
        """``score_samples(X) - offset_``: negative for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
        """
        return self.score_samples(X) - self.offset_

    def predict(self, X):
        """+1 for inliers, -1 for outliers.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data to score.

        Returns
        -------
        labels : ndarray of shape (n_samples,)
        """
        return np.where(self.decision_function(X) < 0, -1, 1)

    def _fit_one(self, template, X, weights=None):
        with warnings.catch_warnings():
            if self.autoencoder is None:
                # The default model stops early on purpose (see _default_autoencoder).
                warnings.simplefilter("ignore", ConvergenceWarning)
            # Unweighted, fit(X) as before: an autoencoder subclass may not take sample_weight.
            estimator = clone(template).fit(
                X, **({} if weights is None else {"sample_weight": weights})
            )
        return estimator, self._fit_statistics(estimator, X, weights)

    def _resolve_scoring(self, estimator):
        is_vae = isinstance(estimator, VAE)
        if self._is_table():
            # The autoencoder's own score on a table: each column's log-likelihood.
            own = "elbo" if is_vae else "reconstruction"
            if self.scoring not in ("auto", own):
                raise ValueError(
                    f"scoring={self.scoring!r} reads numeric residuals; on a mixed table (kinds=, or a DataFrame "
                    f"with non-numeric columns) the score is {type(estimator).__name__}.score_samples, each "
                    f"column's log-likelihood in nats: use scoring='auto' (here {own!r})."
                )
            return own
        if self.scoring == "auto":
            return "elbo" if is_vae else "likelihood"
        if self.scoring == "elbo" and not is_vae:
            raise ValueError("scoring='elbo' needs a VAE autoencoder.")
        return self.scoring

    def _fit_statistics(self, estimator, X, weights=None):
        if self.scoring_ != "likelihood":
            return None
        residual_variance = np.average(
            (X - estimator.reconstruct(X)) ** 2, axis=0, weights=weights
        )
        codes = estimator.transform(X)
        covariance = _covariance(codes, weights)
        # A small ridge keeps the precision finite for collapsed or duplicated code units.
        ridge = 1e-6 * max(np.trace(covariance) / len(covariance), 1e-12)
        precision = np.linalg.pinv(
            covariance + ridge * np.eye(len(covariance)), hermitian=True
        )
        floor = 1e-6 * max(residual_variance.mean(), 1e-12)
        return (
            residual_variance + floor,
            np.average(codes, axis=0, weights=weights),
            precision,
        )

    def _score(self, estimator, statistics, X):
        if self.scoring_ == "elbo" or self._is_table():
            return estimator.score_samples(X)
        # Far from the data these sums overflow to +inf, which is the honest
        # answer (score -inf), not a warning.
        with np.errstate(over="ignore", invalid="ignore"):
            if self.scoring_ == "reconstruction":
                scores = -np.sum((X - estimator.reconstruct(X)) ** 2, axis=1)
            else:
                residual_variance, code_mean, precision = statistics
                # Standardised before squaring: a residual whose square overflows may not once scaled.
                residual = (
                    (X - estimator.reconstruct(X)) / np.sqrt(residual_variance)
                ) ** 2
                centred = estimator.transform(X) - code_mean
                scores = -0.5 * (
                    residual.sum(axis=1) + _mahalanobis(centred, precision)
                )
        return honest_scores(scores, X, is_bernoulli(estimator))

    @staticmethod
    def _default_autoencoder(X):
        # Small and briefly trained on purpose: in the transductive setting a
        # model that fits long enough also learns to reconstruct the outliers.
        return AutoencoderTransformer(
            max(1, X.shape[1] // 3),
            hidden_layer_sizes=(32,),
            activation="tanh",
            max_iter=50,
        )


def _rows(X, rows):
    """The rows ``rows`` (indices or a mask) of an array or DataFrame."""
    return X.iloc[rows] if isinstance(X, pd.DataFrame) else X[rows]


def _columns(X, features):
    """The columns ``features`` (indices) of an array or DataFrame."""
    return X.iloc[:, features] if isinstance(X, pd.DataFrame) else X[:, features]


def _mahalanobis(centred, precision):
    """Squared Mahalanobis norm of each row of ``centred``.

    Each row is divided by its largest absolute value first, and the square
    of that scale multiplied back in last: the quadratic form of a code far
    from the training codes then overflows to +inf rather than summing
    ``inf - inf`` (NaN) between products of opposite signs.
    """
    scale = np.max(np.abs(centred), axis=1)
    scale = np.where(scale > 0, scale, 1.0)
    unit = centred / scale[:, None]
    quadratic = np.maximum(np.einsum("ij,jk,ik->i", unit, precision, unit), 0.0)
    return scale**2 * quadratic


def _robust_location_scale(scores, weights=None):
    """Median and 1.4826 * median absolute deviation (a standard deviation for Gaussian scores), rows weighted.

    -inf scores (rows the model cannot explain) count as the lowest float.
    """
    scores = at_least_lowest_float(scores)
    median = _quantile(scores, 0.5, weights)
    spread = 1.4826 * _quantile(np.abs(scores - median), 0.5, weights)
    return float(median), float(spread)


def _quantile(values, q, weights=None):
    """numpy's (linear) ``q``-quantile of ``values``; with ``weights``, that of each value repeated ``weight`` times.

    Frequency weights: the sorted values, each spanning its weight, are read
    at position ``q * (total weight - 1)`` and interpolated linearly, which
    for integer weights is ``np.quantile`` of the repeated values.
    """
    if weights is None:
        return np.median(values) if q == 0.5 else np.percentile(values, 100.0 * q)
    order = np.argsort(values, kind="stable")
    values, ends = values[order], np.cumsum(weights[order])
    position = q * max(ends[-1] - 1, 0.0)
    below = np.floor(position)
    lower, upper = np.minimum(
        np.searchsorted(ends, [below, below + 1], side="right"), len(values) - 1
    )
    fraction = position - below
    # Weighted sum rather than a difference, which overflows between the lowest float and a finite score.
    return values[lower] * (1 - fraction) + values[upper] * fraction


def _covariance(codes, weights=None):
    """The codes' covariance (identity for one row); with ``weights`` as frequencies.

    Bessel's correction divides by the total weight minus one, as for the
    repeated rows, but by at least half of it, so that small weight totals
    (weights summing to 1) do not blow the spread up.
    """
    if weights is None:
        return (
            np.atleast_2d(np.cov(codes, rowvar=False))
            if len(codes) > 1
            else np.eye(codes.shape[1])
        )
    total = weights.sum()
    spread = np.atleast_2d(np.cov(codes, rowvar=False, aweights=weights, ddof=0))
    return spread * (total / max(total - 1, total / 2))
