"""Doctest collection over ``src/skae/``: modules of an optional extra are skipped where it is not installed."""

import importlib.util

_EXTRAS = {
    "src/skae/onnx.py": ("skl2onnx", "onnx", "onnxscript", "onnxruntime"),
    "src/skae/_skops.py": ("skops",),
}

collect_ignore = [
    path
    for path, modules in _EXTRAS.items()
    if not all(importlib.util.find_spec(name) for name in modules)
]
