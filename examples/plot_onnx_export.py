"""
Exporting a pipeline to ONNX
============================

A scikit-learn pipeline with a skae step converts to ONNX like any other:
importing :mod:`skae.onnx` registers skae's converters with skl2onnx. The
ONNX file then runs in onnxruntime, from Python as here or from C++, C#,
Java or JavaScript, without torch. We export ``StandardScaler ->
SparseAE(k=25) -> LogisticRegression`` fitted on digits, check that
onnxruntime predicts what the pipeline predicts, and time both on one row.
"""

# %%
import time

import numpy as np
import onnxruntime as ort
import torch
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skae import SparseAE
from skae.onnx import to_onnx

torch.set_num_threads(1)
X, y = load_digits(return_X_y=True)
X = X.astype(np.float32)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, random_state=0
)

# A shorter k schedule and a looser ``tol`` than the defaults keep training to
# a few seconds; the export does not depend on how long the model trained.
pipeline = Pipeline(
    [
        ("scale", StandardScaler()),
        (
            "sparse",
            SparseAE(
                k=25, k_anneal_fraction=0.05, max_iter=200, tol=1e-3, random_state=0
            ),
        ),
        ("classify", LogisticRegression(max_iter=2000)),
    ]
).fit(X_train, y_train)
print(f"test accuracy: {pipeline.score(X_test, y_test):.3f}")

# %%
# Converting
# ----------
# One row fixes the graph's input: its dtype (float32 here) and its width.
# ``zipmap=False`` returns the class probabilities as one array.
onnx_model = to_onnx(pipeline, X_train[:1], options={"zipmap": False})
print(
    f"{len(onnx_model.graph.node)} nodes, {len(onnx_model.SerializeToString()) / 1024:.0f} KiB"
)
print(
    "inputs:",
    [i.name for i in onnx_model.graph.input],
    "outputs:",
    [o.name for o in onnx_model.graph.output],
)

# %%
# Scoring in onnxruntime
# ----------------------
# The session takes the serialised model (or a path to the ``.onnx`` file).
options = ort.SessionOptions()
options.intra_op_num_threads = 1
session = ort.InferenceSession(
    onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
)
labels, probabilities = session.run(None, {"X": X_test})
print("same labels:", bool((labels == pipeline.predict(X_test)).all()))
print(
    f"largest probability difference: {np.abs(probabilities - pipeline.predict_proba(X_test)).max():.1e}"
)

# %%
# One-row latency
# ---------------
# A service scoring one request at a time pays every step's Python overhead
# in scikit-learn and skae; onnxruntime runs the whole graph in C++. The
# measured comparison, batches included, is ``benchmarks/bench_onnx.py``.


def median_seconds(predict, rows):
    times = []
    for row in rows:
        start = time.perf_counter()
        predict(row[None])
        times.append(time.perf_counter() - start)
    return float(np.median(times))


rows = X_test[:200]
python_time = median_seconds(pipeline.predict_proba, rows)
onnx_time = median_seconds(lambda row: session.run(None, {"X": row}), rows)
print(
    f"one row: scikit-learn + skae {python_time * 1e6:.0f} µs, onnxruntime {onnx_time * 1e6:.0f} µs"
)
