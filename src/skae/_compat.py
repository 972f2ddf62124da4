"""The one place where scikit-learn's private helpers are imported.

``_fit_context``, ``Interval``, ``StrOptions``, ``Hidden``, ``validate_parameter_constraints`` and
``validate_data`` are what every scikit-learn estimator uses for parameter and
input validation, and
``_BaseImputer`` / ``_get_mask`` give imputers ``add_indicator`` and
``missing_values`` exactly as scikit-learn's own; some of them live in private
modules; keeping the imports here means a scikit-learn upgrade
breaks one file, not every estimator.
"""

import numpy as np
from sklearn.base import _fit_context
from sklearn.impute._base import _BaseImputer
from sklearn.utils._mask import _get_mask
from sklearn.utils._missing import is_pandas_na, is_scalar_nan
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    InvalidParameterError,
    RealNotInt,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils._param_validation import Interval as _Interval
from sklearn.utils.validation import (
    _check_feature_names_in,
    _check_sample_weight,
    validate_data,
)

__all__ = [
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "RealNotInt",
    "StrOptions",
    "_BaseImputer",
    "_check_feature_names_in",
    "_check_sample_weight",
    "_fit_context",
    "_get_mask",
    "is_pandas_na",
    "is_scalar_nan",
    "validate_data",
    "validate_parameter_constraints",
]


class Interval(_Interval):
    """scikit-learn's ``Interval`` constraint, which also refuses bools.

    ``True`` is an ``int`` to Python but never a meant count or size: accepted,
    it reached torch and numpy, which raised raw TypeErrors (``n_components=True``).
    """

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)
