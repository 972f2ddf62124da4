"""Warnings and errors of skae's own, as :mod:`sklearn.exceptions` holds scikit-learn's."""

__all__ = ["InconsistentVersionWarning", "UntrustedTypesError"]


class InconsistentVersionWarning(UserWarning):
    """A saved model was written by another patch release of skae, and loaded.

    Patch releases keep what weights and parameters mean, so the model loads;
    another minor or major version refuses to load it (:ref:`persistence`).
    Refit or save the model again with this version to silence the warning.

    Parameters
    ----------
    estimator_name : str
        The loaded estimator's class name.
    current_version : str
        The skae version loading the model.
    original_version : str
        The skae version that saved it.
    """

    def __init__(self, *, estimator_name, current_version, original_version):
        self.estimator_name = estimator_name
        self.current_version = current_version
        self.original_version = original_version

    def __str__(self):
        return (
            f"This {self.estimator_name} was saved by skae {self.original_version} and is loaded by skae "
            f"{self.current_version}, another patch release: it loads, but save it again with this version "
            "(or refit it) to be sure it behaves as it did."
        )


class UntrustedTypesError(TypeError):
    """A skops file names types that :func:`skae.load` does not trust; nothing in it was created.

    Parameters
    ----------
    untrusted_types : list of str
        The types the file names and the loader does not trust, as
        ``"module.Class"``, each with how skops would have created it.
    """

    def __init__(self, untrusted_types):
        self.untrusted_types = sorted(untrusted_types)
        super().__init__(
            f"This file names types that skae.load does not trust: {', '.join(self.untrusted_types)}. A skops "
            "file of a skae estimator with skae's own networks holds none of them, so the file was written by other "
            "code or altered; nothing in it was created. If you wrote it yourself and reviewed these types (your own "
            "network builder, say), pass them as skae.load(file, trusted=[...]); otherwise do not load it."
        )

    def __reduce__(self):
        # Rebuilt from the list, not the message (exceptions pickle their args), e.g. across joblib workers.
        return type(self), (self.untrusted_types,)
