"""The one place where scikit-learn's private helpers are imported.

``_fit_context``, ``Interval``, ``StrOptions`` and ``validate_data`` are what every
scikit-learn estimator uses for parameter and input validation, but some of them
live in private modules; keeping the imports here means a scikit-learn upgrade
breaks one file, not every estimator.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import validate_data

__all__ = ["HasMethods", "Interval", "StrOptions", "_fit_context", "validate_data"]
