"""The one place where scikit-learn's private helpers are imported.

``_fit_context``, ``Interval``, ``StrOptions`` and ``validate_data`` are what every
scikit-learn estimator uses for parameter and input validation, and
``_BaseImputer`` / ``_get_mask`` give imputers ``add_indicator`` and
``missing_values`` exactly as scikit-learn's own; some of them live in private
modules; keeping the imports here means a scikit-learn upgrade
breaks one file, not every estimator.
"""

from sklearn.base import _fit_context
from sklearn.impute._base import _BaseImputer
from sklearn.utils._mask import _get_mask
from sklearn.utils._missing import is_scalar_nan
from sklearn.utils._param_validation import HasMethods, Interval, RealNotInt, StrOptions
from sklearn.utils.validation import _check_feature_names_in, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "RealNotInt",
    "StrOptions",
    "_BaseImputer",
    "_check_feature_names_in",
    "_fit_context",
    "_get_mask",
    "is_scalar_nan",
    "validate_data",
]
