"""Loading skops files safely: the exact types a skae estimator's state holds, and nothing else.

skops creates only the types a caller trusts, but trusts them by name alone:
a trusted class may be created by any of skops' loaders, and the state it
receives comes from the file. So :func:`load` trusts an explicit table of
types, each with the skops loaders a genuine file uses for it (an estimator
is restored by ``__setstate__`` on its saved attributes, a network builder is
only referenced), checks every node of ``schema.json`` against that table,
then lets skops audit its tree with the same types before it creates anything.
A fitted estimator's state is parameters, plain values and numpy arrays
(``_persistence.py``), plus, for a model fitted on a mixed table, its
``ColumnSchema`` and ``Column`` objects, whose pandas dtypes and levels are
stored as plain values (``_columns.py``), so the table is short and trusts
nothing of pandas; skae's internal classes (the training engine, modules,
callbacks) are not in it.
"""

import io
import json
import os
import zipfile

import numpy as np
from sklearn.impute import MissingIndicator

from . import nn
from ._columns import Column, ColumnSchema
from ._contractive import ContractiveAE
from ._denoising import DenoisingAE
from ._impute import AutoencoderImputer
from ._outlier import AutoencoderOutlierDetector
from ._sparse import SparseAE
from ._vae import VAE
from ._vanilla import AutoencoderTransformer
from .exceptions import UntrustedTypesError

ESTIMATORS = (
    AutoencoderTransformer,
    DenoisingAE,
    SparseAE,
    ContractiveAE,
    VAE,
    AutoencoderOutlierDetector,
    AutoencoderImputer,
)

# numpy scalars (a hyperparameter taken from np.logspace, say) are written as 0-d arrays of their type.
_NUMPY_SCALARS = (np.int32, np.int64, np.float32, np.float64)

# The node skops writes when an object appeared earlier in the file; it stands for that (checked) node.
_REFERENCE_LOADER = "CachedNode"


def _name(cls):
    return f"{cls.__module__}.{cls.__name__}"


def trusted_loaders():
    """``{type name: the skops loaders that may create it}``, for everything a skae estimator's state holds."""
    table = {
        _name(cls): {"ObjectNode"}
        for cls in (*ESTIMATORS, MissingIndicator, ColumnSchema, Column)
    }
    table |= {_name(cls): {"NdArrayNode"} for cls in (np.ndarray, *_NUMPY_SCALARS)}
    table |= {
        _name(cls): {"TypeNode"}
        for cls in (int, float, bool, nn.ConvEncoder, nn.ConvDecoder)
    }
    table |= {
        "builtins.str": {
            "JsonNode",
            "TypeNode",
        },  # every JSON value (None, numbers, strings) is named str
        "builtins.dict": {"DictNode"},
        "builtins.list": {"ListNode"},
        "builtins.tuple": {"TupleNode"},
        "functools.partial": {
            "PartialNode"
        },  # a partial of skae.nn's builders; what it wraps is checked too
        _name(np.random.RandomState): {"RandomStateNode"},
    }
    return table


def _named_types(schema):
    """Every ``(type name, loader)`` that a node of ``schema`` names, at any depth.

    Every dict of the schema is visited, so this is a superset of the nodes
    skops builds (each of which needs ``__class__``, ``__module__`` and
    ``__loader__``).
    """
    stack = [schema]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            if {"__class__", "__module__", "__loader__"} & value.keys():
                yield (
                    f"{value.get('__module__')}.{value.get('__class__')}",
                    str(value.get("__loader__")),
                )
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def _untrusted_nodes(schema, extra):
    table = trusted_loaders()
    untrusted = set()
    for name, loader in _named_types(schema):
        if (
            name in extra
            or loader in table.get(name, ())
            or (loader == _REFERENCE_LOADER and name in table)
        ):
            continue
        untrusted.add(name if name not in table else f"{name} (as {loader})")
    return untrusted


def _read(file):
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as handle:
            return handle.read()
    return file.read()


def _schema(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(
            "This is not a skops file (a zip archive holding schema.json); write one with skops.io.dump. "
            "A pickle loads with pickle.load, and only from a source you trust."
        ) from exc


def load(file, *, trusted=()):
    """Load a skae estimator saved with :func:`skops.io.dump`, creating only the types its state holds.

    The file is checked before anything in it is created: every type it
    names must be one a skae estimator's saved state holds (the estimators,
    scikit-learn's ``MissingIndicator``, the column schema of a model
    fitted on a mixed table, numpy arrays and scalars, a
    ``RandomState``, plain Python values and containers, and
    ``functools.partial`` of :class:`skae.nn.ConvEncoder` or
    :class:`skae.nn.ConvDecoder`), each restored the way skops writes it.
    Anything else is refused, skae's internal classes included. The model is
    rebuilt on the CPU; see :ref:`persistence` for the exact list and the
    version policy.

    Parameters
    ----------
    file : str, path-like or binary file object
        The ``.skops`` file. It is read once, so it cannot change between the
        check and the load.
    trusted : sequence of str, default=()
        Further types to trust, as ``"module.Class"`` names from
        :func:`skops.io.get_untrusted_types`: only types you have reviewed,
        such as your own network builder in a file you wrote, or the
        scikit-learn estimators of a pipeline around a skae estimator.

    Returns
    -------
    object
        What the file holds, usually a fitted skae estimator.

    Raises
    ------
    skae.exceptions.UntrustedTypesError
        If the file names any other type; its message lists them.
    ValueError
        If the file is not a skops file, or was saved by another major.minor
        release of skae (another patch release loads with an
        :class:`~skae.exceptions.InconsistentVersionWarning`).

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> import skops.io as sio
    >>> import skae
    >>> X = np.random.RandomState(0).rand(50, 4)
    >>> model = skae.AutoencoderTransformer(2, hidden_layer_sizes=(8,), max_iter=5, random_state=0).fit(X)
    >>> file = io.BytesIO()
    >>> sio.dump(model, file)
    >>> _ = file.seek(0)
    >>> loaded = skae.load(file)
    >>> np.array_equal(loaded.transform(X), model.transform(X))
    True
    """
    try:
        import skops.io as sio
    except ImportError as exc:
        raise ImportError(
            'skae.load reads skops files and needs skops: pip install "skae[skops]"'
        ) from exc
    data = _read(file)
    extra = {trusted} if isinstance(trusted, str) else set(trusted)
    if not all(isinstance(name, str) for name in extra):
        raise TypeError(
            f"trusted takes type names as strings ('module.Class'), got {sorted(map(repr, extra))}."
        )
    untrusted = _untrusted_nodes(_schema(data), extra)
    if untrusted:
        raise UntrustedTypesError(untrusted)
    # skops audits the tree again with the same types before it creates anything.
    return sio.loads(data, trusted=sorted(trusted_loaders().keys() | extra))
