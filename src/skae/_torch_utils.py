"""Devices and tensors: the ``device`` parameters, numpy <-> tensor conversion, module copies and version stamps."""

import numpy as np
import torch

DEVICE_OPTIONS = ("cpu", "cuda", "mps", "auto")


def resolve_device(device, name="device"):
    """Turn the ``device`` parameter (or the one called ``name``) into an available :class:`torch.device`.

    Raises a ValueError naming the problem when the device is not usable here.
    """
    if isinstance(device, torch.device):
        requested = device
    elif device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    else:
        try:
            requested = torch.device(device)
        except (RuntimeError, TypeError) as exc:
            raise ValueError(
                f"{name}={device!r} is not a valid torch device; use one of "
                f"{DEVICE_OPTIONS}, 'cuda:N' or a torch.device."
            ) from exc
    if requested.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"{name}={device!r} was requested but CUDA is not available on this "
                f"machine; use {name}='cpu' or {name}='auto'."
            )
        index = requested.index or 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"{name}={device!r} was requested but only "
                f"{torch.cuda.device_count()} CUDA device(s) are visible."
            )
    elif requested.type == "mps" and not _mps_available():
        raise ValueError(
            f"{name}={device!r} was requested but MPS is not available on this "
            f"machine; use {name}='cpu' or {name}='auto'."
        )
    elif requested.type not in ("cpu", "cuda", "mps"):
        raise ValueError(
            f"{name}={device!r} is not supported; use 'cpu', 'cuda' or 'mps'."
        )
    return requested


def _mps_available():
    backend = getattr(torch.backends, "mps", None)
    return backend is not None and backend.is_available()


def to_tensor(X, device="cpu", dtype=torch.float32):
    """A tensor (float32 unless told) holding a copy of ``X``.

    Always a copy: the caller's array is never modified and read-only arrays
    (pandas 3 hands them out) need no special casing.
    """
    return torch.tensor(np.asarray(X), dtype=dtype, device=device)


def to_cpu_module(module, dtype):
    """``module`` moved to the CPU in ``dtype`` (floating tensors only), in place, without gradients.

    Each tensor is cast directly rather than through ``module.to``'s
    recursive walk, which also casts the gradients a fitted model does not
    keep (measured, see the engine benchmark page).
    """
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.grad = None
        for tensor in [*module.parameters(), *module.buffers()]:
            target = dtype if tensor.is_floating_point() else tensor.dtype
            if tensor.device.type != "cpu" or tensor.dtype != target:
                tensor.data = tensor.data.to("cpu", target)
    return module


def to_numpy(tensor, dtype):
    """A numpy array of ``dtype`` from a tensor on any device."""
    return tensor.detach().to("cpu").numpy().astype(dtype, copy=False)


def supports_fused_adam(device):
    """Fused Adam runs one kernel per step instead of one per parameter tensor.

    It exists for CUDA since torch 2.0 and for CPU/MPS since torch 2.4.
    """
    if device.type == "cuda":
        return True
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    return (major, minor) >= (2, 4) and device.type in ("cpu", "mps")


# Whether a module changed since a stamp was taken, without comparing or
# copying its tensors: torch's version counter (``tensor._version``, a private
# attribute) and the storage address move with every in-place update (fill_,
# copy_, load_state_dict, optimizer steps, ``.data = ...``). It lets inference
# reuse its copies of module_ on other devices and dtypes and partial_fit its
# engine instead of copying module_ at every call (measured, see the engine
# benchmark page). tests/test_inference.py fails if the counter stops moving.
def version_stamp(module):
    """The versions and storage addresses of ``module``'s parameters and buffers."""
    return [
        (tensor._version, tensor.data_ptr())
        for tensor in [*module.parameters(), *module.buffers()]
    ]


def unchanged(module, stamp):
    """Whether ``module``'s tensors are as they were when :func:`version_stamp` gave ``stamp``."""
    return version_stamp(module) == stamp
