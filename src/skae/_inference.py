"""Inference: module_ in eval mode on the inference device, in the input's float dtype, in batches.

Training runs in float32; the fitted ``module_`` is kept in float64 on the
CPU (pickles load anywhere, and a float64 row's output does not depend on
which other rows share its batch: float32 matrix products round differently
for different batch shapes). Float32 input and other devices use copies of
it, cached per module_ and remade when module_'s tensors change.
"""

import copy
import weakref

import numpy as np
import torch

from ._torch_utils import resolve_device, to_numpy, unchanged, version_stamp

INFERENCE_DTYPE = torch.float64

# module_'s copies for other devices and dtypes, keyed by module_ itself: a
# cache that is never part of the estimator's state, so pickles, skops files
# and clones hold module_ alone, and a new module_ (refit) drops its copies.
_MODULE_COPIES = weakref.WeakKeyDictionary()


def predict(module, function, X, device, rows_per_pass, autograd=False):
    """``function(module, rows)`` over ``X`` ``rows_per_pass`` rows at a time, on ``device`` in X's dtype.

    ``module`` (module_) is used, or copied, on that device in eval mode; the
    result is a numpy array in X's dtype. ``autograd`` runs without torch's
    inference mode (for torch.func).
    """
    module, torch_dtype = inference_copy(module, device, X.dtype)
    result = None
    with torch.no_grad() if autograd else torch.inference_mode():
        for start in range(0, len(X), rows_per_pass):
            rows = rows_as_tensor(X[start : start + rows_per_pass], device, torch_dtype)
            output = to_numpy(function(module, rows), X.dtype)
            if len(X) <= rows_per_pass:
                return output
            if result is None:
                result = np.empty((len(X), *output.shape[1:]), dtype=X.dtype)
            result[start : start + rows_per_pass] = output
    return result


def inference_copy(module, device, dtype):
    """``(module, torch_dtype)``: ``module`` on ``device`` in eval mode, for input of numpy ``dtype``.

    Call it outside torch's inference mode: a copy made inside could not be
    used with autograd later.
    """
    # MPS has no float64.
    torch_dtype = (
        torch.float32 if dtype == np.float32 or device.type == "mps" else torch.float64
    )
    if module.training:  # stored in eval mode; someone switched it
        module.eval()
    if device.type == "cpu" and torch_dtype == INFERENCE_DTYPE:
        return module, torch_dtype
    copies = _MODULE_COPIES.setdefault(module, {})
    cached = copies.get((device, torch_dtype))
    if cached is None or not unchanged(
        module, cached[1]
    ):  # remade when module_ changed since
        copied = copy.deepcopy(module).to(device, torch_dtype).eval()
        cached = copies[device, torch_dtype] = (copied, version_stamp(module))
    return cached[0], torch_dtype


def inference_device(requested, trained_on):
    """The torch.device that ``inference_device`` (``requested``) names; for None ``trained_on`` if usable, else CPU."""
    if requested is None:
        try:
            return resolve_device(trained_on)
        except ValueError:  # trained on a device this machine lacks
            return torch.device("cpu")
    return resolve_device(requested, name="inference_device")


def rows_as_tensor(rows, device, dtype):
    """``rows`` as a tensor on ``device`` in ``dtype``, sharing memory when it is already a CPU array of that dtype.

    Inference never writes to its input, so sharing is safe; DLPack shares
    read-only arrays too (torch.from_numpy warns on them), except on numpy
    1.x, which refuses to export them (BufferError on 1.26, TypeError on
    1.23): there the batch is copied.
    """
    rows = np.ascontiguousarray(
        rows, dtype=np.float32 if dtype == torch.float32 else np.float64
    )
    try:
        tensor = torch.from_dlpack(rows)
    except (BufferError, TypeError):
        tensor = torch.from_numpy(rows.copy())
    return tensor.to(device)
