"""Export fitted skae estimators, and the scikit-learn pipelines around them, to ONNX.

Importing this module registers a converter for every skae estimator with
skl2onnx (:func:`register`), after which ``skl2onnx.to_onnx(pipeline, X[:1])``
converts a pipeline holding skae steps as it converts any other; :func:`to_onnx`
does both. Needs the ``onnx`` extra (``pip install skae[onnx]``).

The network part is exported with ``torch.onnx.export`` (the dynamo exporter,
dynamic batch size) in the input's dtype and spliced into skl2onnx's graph:

- the five autoencoders: ``transform`` (one output); with the option
  ``{"inverse_transform": True}`` the graph is ``inverse_transform`` instead
  (its input is the codes);
- :class:`~skae.AutoencoderOutlierDetector`: outputs ``label`` (``predict``)
  and ``scores`` (``decision_function``, shape ``(n, 1)``), as skl2onnx's
  IsolationForest converter does; the option ``{"score_samples": True}`` adds
  a third, ``score_samples``;
- :class:`~skae.AutoencoderImputer`: ``transform``, its refinement rounds
  unrolled; observed cells pass through unchanged.

The graphs compute what the estimators compute, to rounding: a VAE-based
detector's ELBO uses the same fixed posterior draws as ``score_samples``.
"""

import logging
import warnings
from contextlib import contextmanager

import numpy as np

try:
    import onnx
    import onnx.inliner
    import onnx_ir
    import skl2onnx
    from onnxscript import opset18
    from skl2onnx.common.data_types import (
        DoubleTensorType,
        FloatTensorType,
        Int64TensorType,
        guess_tensor_type,
    )
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError(
        "skae.onnx needs the onnx extra: pip install 'skae[onnx]'."
    ) from error
import torch
from sklearn.utils.validation import check_is_fitted

from ._contractive import ContractiveAE
from ._denoising import DenoisingAE
from ._impute import AutoencoderImputer
from ._onnx_graphs import Decode, DetectorOutputs, Encode, Impute
from ._outlier import AutoencoderOutlierDetector
from ._sparse import SparseAE
from ._vae import VAE
from ._vanilla import AutoencoderTransformer

__all__ = ["register", "to_onnx"]

# The lowest ONNX opset the dynamo exporter writes.
_MIN_OPSET = 18

_AUTOENCODERS = (AutoencoderTransformer, DenoisingAE, SparseAE, ContractiveAE, VAE)


def register():
    """Register skae's converters with skl2onnx (done once when :mod:`skae.onnx` is imported).

    Calling it again is harmless. After it, ``skl2onnx.to_onnx`` and
    ``skl2onnx.convert_sklearn`` convert skae estimators, alone or inside a
    :class:`~sklearn.pipeline.Pipeline` or
    :class:`~sklearn.compose.ColumnTransformer`.
    """
    for cls in _AUTOENCODERS:
        skl2onnx.update_registered_converter(
            cls,
            f"Skae{cls.__name__}",
            _autoencoder_shape,
            _convert_autoencoder,
            options={"inverse_transform": [False, True]},
        )
    skl2onnx.update_registered_converter(
        AutoencoderOutlierDetector,
        "SkaeAutoencoderOutlierDetector",
        _detector_shape,
        _convert_detector,
        parser=_parse_detector,
        options={"score_samples": [False, True]},
    )
    skl2onnx.update_registered_converter(
        AutoencoderImputer,
        "SkaeAutoencoderImputer",
        _imputer_shape,
        _convert_imputer,
    )


def to_onnx(model, X, *, target_opset=None, options=None, **kwargs):
    """Convert a fitted skae estimator, or a pipeline holding one, to an ONNX model.

    ``skl2onnx.to_onnx`` with skae's converters registered.

    Parameters
    ----------
    model : estimator
        A fitted skae estimator, or a scikit-learn pipeline or column
        transformer with skae steps.
    X : array-like
        A few rows like those the model will see: their dtype (float32 or
        float64) and width set the graph's input.
    target_opset : int or None, default=None
        ONNX opset of the graph, at least 18; None uses
        skl2onnx's latest.
    options : dict or None, default=None
        skl2onnx's converter options, e.g. ``{"inverse_transform": True}``
        for an autoencoder's ``inverse_transform`` or ``{"zipmap": False}``
        for a classifier's probabilities as one array.
    **kwargs
        Passed to ``skl2onnx.to_onnx``.

    Returns
    -------
    onnx_model : onnx.ModelProto

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skae import SparseAE
    >>> from skae.onnx import to_onnx
    >>> X = np.random.RandomState(0).rand(100, 8)
    >>> model = SparseAE(8, k=2, max_iter=5, random_state=0).fit(X)
    >>> session = ort.InferenceSession(to_onnx(model, X[:1]).SerializeToString())
    >>> codes = session.run(None, {"X": X})[0]
    >>> bool(np.allclose(codes, model.transform(X), atol=1e-10))
    True
    """
    register()
    return skl2onnx.to_onnx(
        model, X, target_opset=target_opset, options=options, **kwargs
    )


# ------------------------------------------------------------------ shapes
def _rows(operator):
    return operator.inputs[0].get_first_dimension()


def _wants(operator, option):
    return bool(
        operator.scope_inst.get_options(operator.raw_operator, {option: False})[option]
    )


def _autoencoder_shape(operator):
    estimator = operator.raw_operator
    check_is_fitted(estimator)
    if _wants(operator, "inverse_transform"):
        width = estimator.n_features_in_
    else:
        width = len(estimator.get_feature_names_out())
    operator.outputs[0].type = type(operator.inputs[0].type)([_rows(operator), width])


def _detector_shape(operator):
    check_is_fitted(operator.raw_operator)
    rows, float_type = _rows(operator), type(operator.inputs[0].type)
    operator.outputs[0].type = Int64TensorType([rows])
    for output in operator.outputs[1:]:
        output.type = float_type([rows, 1])


def _imputer_shape(operator):
    imputer = operator.raw_operator
    check_is_fitted(imputer)
    width = len(imputer.get_feature_names_out())
    operator.outputs[0].type = type(operator.inputs[0].type)([_rows(operator), width])


def _parse_detector(scope, model, inputs, custom_parsers=None):
    check_is_fitted(model)
    operator = scope.declare_local_operator("SkaeAutoencoderOutlierDetector", model)
    operator.inputs = inputs
    names = ["label", "scores"]
    if scope.get_options(model, {"score_samples": False})["score_samples"]:
        names.append("score_samples")
    for name in names:
        kind = (
            Int64TensorType() if name == "label" else guess_tensor_type(inputs[0].type)
        )
        operator.outputs.append(scope.declare_local_variable(name, kind))
    return operator.outputs


# -------------------------------------------------------------- converters
def _refuse_mixed(*estimators):
    """A model fitted on a mixed table reads the schema's codes, not raw columns: its graph would be wrong."""
    mixed = [
        type(estimator).__name__
        for estimator in estimators
        if getattr(estimator, "schema_", None) is not None
    ]
    if mixed:
        raise NotImplementedError(
            f"{mixed[0]} was fitted on a mixed table (kinds=, or a DataFrame with non-numeric columns), which ONNX "
            "export does not support yet; keep it in Python (pickle or skops), or fit on numbers without kinds."
        )


def _convert_autoencoder(scope, operator, container):
    estimator = operator.raw_operator
    _refuse_mixed(estimator)
    graph = Decode if _wants(operator, "inverse_transform") else Encode
    module = graph(estimator, _torch_dtype(operator))
    _splice(_export(module, operator, container, estimator), scope, operator, container)


def _convert_detector(scope, operator, container):
    detector = operator.raw_operator
    module = DetectorOutputs(
        detector, _torch_dtype(operator), score_samples=len(operator.outputs) == 3
    )
    _splice(
        _export(module, operator, container, *detector.estimators_),
        scope,
        operator,
        container,
    )


def _convert_imputer(scope, operator, container):
    imputer = operator.raw_operator
    _refuse_mixed(imputer.autoencoder_)
    if imputer.sample_posterior:
        raise ValueError(
            "AutoencoderImputer(sample_posterior=True) draws its fills at random and has no deterministic "
            "ONNX form; use sample_posterior=False (fills with the decoder's mean) for the exported model."
        )
    module = Impute(imputer, _torch_dtype(operator))
    _splice(
        _export(module, operator, container, imputer.autoencoder_),
        scope,
        operator,
        container,
    )


def _torch_dtype(operator):
    kind = operator.inputs[0].type
    if isinstance(kind, DoubleTensorType):
        return torch.float64
    if isinstance(kind, FloatTensorType):
        return torch.float32
    raise TypeError(
        f"{type(operator.raw_operator).__name__} converts float32 or float64 input, got {type(kind).__name__}; "
        "cast X to a float dtype before calling to_onnx."
    )


# ------------------------------------------------------- torch -> graph
def _export(module, operator, container, *estimators):
    """The ONNX model of ``module`` (dynamic batch size), its local functions inlined."""
    opset = container.target_opset
    if opset is not None and opset < _MIN_OPSET:
        raise ValueError(
            f"skae's converters need target_opset >= {_MIN_OPSET} (torch's dynamo exporter), got {opset}."
        )
    width = operator.inputs[0].get_second_dimension()
    example = torch.zeros(2, width, dtype=_torch_dtype(operator))
    try:
        with _quiet():
            program = torch.onnx.export(
                module.eval(),
                (example,),
                dynamo=True,
                dynamic_shapes=({0: "batch"},),
                opset_version=opset,
                verbose=False,
                custom_translation_table={
                    torch.ops.aten.scalar_tensor.default: _scalar_tensor
                },
            )
    except Exception as error:
        raise ValueError(
            f"torch.export cannot trace the network of {_describe(estimators)}: {str(error).strip().splitlines()[0]} "
            "Make its forward traceable (torch operations only, no Python branches on tensor values) "
            "to export it to ONNX."
        ) from error
    return onnx.inliner.inline_local_functions(program.model_proto)


def _scalar_tensor(s, dtype=None, layout=None, device=None, pin_memory=None):
    """A Python number as a constant of ``dtype`` itself: torch's exporter makes a float32 constant
    and casts it, which rounds a float64 graph's constants (log(2 pi) in the VAE's likelihood) to float32."""
    dtype = onnx_ir.DataType.FLOAT if dtype is None else onnx_ir.DataType(dtype)
    return opset18.Constant(value=onnx_ir.tensor(np.asarray(s, dtype=dtype.numpy())))


def _describe(estimators):
    parts = []
    for estimator in estimators:
        children = ", ".join(
            f"{name}={type(child).__name__}"
            for name, child in estimator.module_.named_children()
        )
        parts.append(
            f"{type(estimator).__name__} ({type(estimator.module_).__name__}: {children})"
        )
    return " and ".join(dict.fromkeys(parts))


@contextmanager
def _quiet():
    """The exporter's progress messages and warnings about torch's internals are not the user's concern."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


_SUBGRAPHS = (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)


def _splice(model, scope, operator, container):
    """Add ``model``'s initializers and nodes to skl2onnx's graph, every name made unique in ``scope``."""
    graph = model.graph
    versions = {entry.domain: entry.version for entry in model.opset_import}
    names = {"": ""}
    names.update(
        (given.name, variable.onnx_name)
        for given, variable in zip(graph.input, operator.inputs)
    )
    for tensor in graph.initializer:
        renamed = onnx.TensorProto()
        renamed.CopyFrom(tensor)
        renamed.name = names[tensor.name] = scope.get_unique_variable_name(tensor.name)
        container.initializers.append(renamed)
    for node in graph.node:
        if any(attribute.type in _SUBGRAPHS for attribute in node.attribute):
            raise ValueError(
                f"The exported network holds a {node.op_type} node with a subgraph, which skae cannot splice."
            )
        for name in node.output:
            names[name] = scope.get_unique_variable_name(name)
        container.add_node(
            node.op_type,
            [names[name] for name in node.input],
            [names[name] for name in node.output],
            op_domain=node.domain,
            op_version=versions[node.domain],
            name=scope.get_unique_operator_name(node.op_type),
        )
        container.nodes[-1].attribute.extend(node.attribute)
    for given, variable in zip(graph.output, operator.outputs):
        name = scope.get_unique_operator_name("Identity")
        container.add_node("Identity", names[given.name], variable.onnx_name, name=name)


register()
