"""The torch slerp that hala_runners/slerp.py replaced, as the reference the numpy one must match
to one step of the storage dtype (tests only: the merge runner must not import torch), and the conversions between the
two worlds."""
from __future__ import annotations

import math

import numpy as np
import torch

from hala_runners.safetensors_shards import bf16_to_f32
from hala_runners.slerp import _BLOCK, _dots


def torch_dots(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float]:
    """The torch version's block dots: torch.dot (MKL) of 64K-element blocks, one thread."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        aa = bb = ab = 0.0
        for start in range(0, a.numel(), _BLOCK):
            x, y = a[start:start + _BLOCK], b[start:start + _BLOCK]
            aa, bb, ab = aa + float(torch.dot(x, x)), bb + float(torch.dot(y, y)), ab + float(torch.dot(x, y))
        return aa, bb, ab
    finally:
        torch.set_num_threads(threads)


def torch_slerp(v0: torch.Tensor, v1: torch.Tensor, t: float, colinear_threshold: float = 0.9995,
                *, numpy_dots: bool = True) -> tuple[torch.Tensor, bool]:
    """(merged in the wider dtype, used_linear) as the torch implementation computed them. With
    numpy_dots the angle comes from the numpy version's block dots: numpy's BLAS (OpenBLAS) and
    torch's (MKL) round a float32 dot's last bit differently, which is the one place they differ."""
    a, b = v0.to(torch.float32).flatten(), v1.to(torch.float32).flatten()
    aa, bb, ab = _dots(a.numpy(), b.numpy()) if numpy_dots else torch_dots(a, b)
    na, nb = math.sqrt(aa), math.sqrt(bb)
    cos = max(-1.0, min(1.0, ab / (na * nb))) if na >= 1e-8 and nb >= 1e-8 else 1.0
    if abs(cos) > colinear_threshold:
        w0, w1, linear = 1.0 - t, t, True
    else:
        theta = math.acos(cos)
        w0, w1, linear = math.sin((1.0 - t) * theta) / math.sin(theta), math.sin(t * theta) / math.sin(theta), False
    merged = a.mul(w0).add_(b, alpha=w1).reshape(v0.shape)
    return merged.to(torch.promote_types(v0.dtype, v1.dtype)), linear


def as_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A torch tensor as safetensors_shards.Weights.tensor reads it: bfloat16 widened to float32."""
    if tensor.dtype == torch.bfloat16:
        return bf16_to_f32(tensor.view(torch.int16).numpy().view(np.uint16))
    return tensor.numpy()


def storage_bytes(tensor: torch.Tensor) -> bytes:
    return tensor.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def _storage_step(x: np.ndarray, dtype: torch.dtype) -> np.ndarray:
    """The distance from each float32 magnitude to the next value the storage dtype can hold."""
    if dtype == torch.float16:
        return np.spacing(x.astype(np.float16)).astype(np.float32)
    step = np.spacing(x)
    return step * np.float32(2.0 ** 16) if dtype == torch.bfloat16 else step  # bf16 keeps 16 fewer mantissa bits


def agrees_with_torch(ours: torch.Tensor, theirs: torch.Tensor, v0: torch.Tensor, v1: torch.Tensor) -> bool:
    """Two slerps of v0 and v1 stored in one dtype that round the same arithmetic differently (the
    angle's last bit, one rounding or two) agree to one step of that dtype, plus what float32 can
    move a sum of terms the size of |v0| + |v1| (where they cancel, the result's own step is finer)."""
    x, y = as_numpy(ours).astype(np.float32), as_numpy(theirs).astype(np.float32)
    terms = np.abs(as_numpy(v0).astype(np.float32)) + np.abs(as_numpy(v1).astype(np.float32))
    bound = _storage_step(np.maximum(np.abs(x), np.abs(y)), ours.dtype) + np.float32(2.0 ** -22) * terms
    return bool(np.all(np.abs(x - y) <= bound.reshape(x.shape)))
