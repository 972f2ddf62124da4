"""Doctest collection over ``src/skae/``: modules of an optional extra are skipped where it is not installed."""

import importlib.util

_ONNX_EXTRA = ("skl2onnx", "onnx", "onnxscript", "onnxruntime")

collect_ignore = (
    []
    if all(importlib.util.find_spec(name) for name in _ONNX_EXTRA)
    else ["src/skae/onnx.py"]
)
