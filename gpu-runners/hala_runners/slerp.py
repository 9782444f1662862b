"""Spherical linear interpolation of two weight tensors, and the per-tensor choice of t.

Pure functions on numpy arrays: no I/O, no model classes. runners/merge.py only plumbs tensors
through them. No torch: the merge pod's memory is sized for one tensor pair, and `import torch`
alone takes ~640 MiB RSS, more than the merge itself. The results agree with the torch
implementation this replaced to one step of the storage dtype: the weighted sum is rounded once
from float64 (torch rounded w0 * v0 to float32 before adding), and the angle's float32 block dots
come from numpy's BLAS, not torch's MKL, which may round their last bit differently.

Convention (the recipe's): t = 0 gives the base model's tensor (v0), t = 1 the fine-tuned one (v1).
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import numpy as np

# Below this norm a tensor has no direction, so there is no angle to interpolate along.
_EPS = 1e-8

# Tensors that belong to decoder layer i: `model.layers.<i>.…` (LFM2, Llama, Cohere2, …),
# `transformer.h.<i>.…` (GPT-2 style), `….blocks.<i>.…`.
_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.")
# Input-side tensors outside the layers: they sit "before layer 0".
_INPUT_SIDE = re.compile(r"embed_tokens|word_embeddings|tok_embeddings|(?:^|\.)wte\.")


# Elements per block of the dots and sums below. float32 reductions over a whole tensor lose digits
# (a float32 norm of 33M weights is off by ~2e-3, which moves merged weights by ~1e-4); float32
# BLAS dots of 64K elements summed in a Python float (float64) are within ~1e-8 and allocate
# nothing, where dots of float64 copies take three times as long. Blocks also keep _combine's
# float64 temporaries small.
_BLOCK = 1 << 16


def _dots(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """(a.a, b.b, a.b) of two flat float32 vectors, block by block, summed in float64.

    Threads: numpy cannot change its OpenBLAS's thread count once loaded (threadpoolctl is not a
    dependency); the merge runner sets OPENBLAS_NUM_THREADS=1 before numpy loads (runners/merge.py
    says why)."""
    aa = bb = ab = 0.0
    for start in range(0, a.size, _BLOCK):
        x, y = a[start:start + _BLOCK], b[start:start + _BLOCK]
        aa += float(np.dot(x, x))
        bb += float(np.dot(y, y))
        ab += float(np.dot(x, y))
    return aa, bb, ab


def _combine(a: np.ndarray, b: np.ndarray, w0: float, w1: float, out: np.ndarray) -> np.ndarray:
    """out = w0 * a + w1 * b over flat float32 vectors, computed in float64 block by block and
    rounded to float32 once: each merged weight is the float32 nearest the float64 result (a float32
    product rounded before the addition can land on a halfway point and round the other way).
    `out` may be `a` itself: each block is read before it is written."""
    n = min(a.size, _BLOCK)
    acc, term = np.empty(n, np.float64), np.empty(n, np.float64)
    for start in range(0, a.size, _BLOCK):
        end = min(start + _BLOCK, a.size)
        s, u = acc[:end - start], term[:end - start]
        np.multiply(a[start:end], w0, out=s, dtype=np.float64)
        np.multiply(b[start:end], w1, out=u, dtype=np.float64)
        np.add(s, u, out=s)
        out[start:end] = s
    return out


def _flat32(v0: np.ndarray, v1: np.ndarray, overwrite_v0: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """v0 and v1 as flat float32 vectors, and the float32 vector the result goes into: v0's own
    memory when the caller gave it up, or a float32 copy of v0 made here anyway (wider, narrower
    or strided inputs)."""
    own = v0.dtype != np.float32 or not v0.flags.c_contiguous  # a is a copy made here
    a = np.ascontiguousarray(v0, dtype=np.float32).reshape(-1)
    b = np.ascontiguousarray(v1, dtype=np.float32).reshape(-1)
    return a, b, a if overwrite_v0 or own else np.empty_like(a)


def lerp(v0: np.ndarray, v1: np.ndarray, t: float, overwrite_v0: bool = False) -> np.ndarray:
    """(1 - t) v0 + t v1, rounded to float32 once."""
    a, b, out = _flat32(v0, v1, overwrite_v0)
    return _combine(a, b, 1.0 - t, t, out).reshape(v0.shape)


def slerp(v0: np.ndarray, v1: np.ndarray, t: float,
          colinear_threshold: float = 0.9995, *, overwrite_v0: bool = False) -> tuple[np.ndarray, bool]:
    """Interpolate v0 -> v1 along the great circle between them; returns (merged, used_linear).

    The whole tensor is treated as one flattened vector (as MergeKit does), not row by row.
    The inputs are float arrays of any width (bfloat16 arrives widened to float32: safetensors_shards);
    the result is float32 of v0's shape, computed in float64 (the angle's dots and the weighted sum)
    so that bfloat16 weights do not lose the small differences a fine-tune makes. The caller rounds it to
    the storage dtype. `overwrite_v0` lets the result take v0's memory when v0 is float32 (a caller
    streaming tensors that has no further use for v0): one tensor less at the peak.
    """
    if v0.shape != v1.shape:
        raise ValueError(f"slerp needs equal shapes, got {tuple(v0.shape)} and {tuple(v1.shape)}")
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1] (got {t})")
    a, b, out = _flat32(v0, v1, overwrite_v0)

    # Step 1: the angle. The dot product of the two vectors scaled to unit length is cos(theta),
    # theta being the angle between the two weight vectors (a.b / (|a| |b|), every product
    # accumulated in float64). The originals are kept: the interpolation below runs on them, so their magnitudes
    # still matter.
    aa, bb, ab = _dots(a, b)
    na, nb = math.sqrt(aa), math.sqrt(bb)
    if na < _EPS or nb < _EPS:
        # A zero tensor has no direction: the angle is undefined, the straight line is the only
        # meaningful path (and equals the great circle when one end is the origin).
        return _combine(a, b, 1.0 - t, t, out).reshape(v0.shape), True
    cos = max(-1.0, min(1.0, ab / (na * nb)))

    # Step 2: nearly colinear vectors. When |cos| is close to 1, sin(theta) -> 0 and the weights
    # below divide by almost zero; the arc is then indistinguishable from the chord, so the
    # linear interpolation is both exact enough and numerically safe. (A fine-tune that barely
    # moved a tensor lands here, which is why merge.py counts these fallbacks.)
    if abs(cos) > colinear_threshold:
        return _combine(a, b, 1.0 - t, t, out).reshape(v0.shape), True

    # Step 3: the sin-weighted combination. A point at fraction t of the arc from v0 to v1 is
    #   sin((1 - t) * theta) / sin(theta) * v0  +  sin(t * theta) / sin(theta) * v1,
    # which gives v0 at t = 0, v1 at t = 1, and keeps a unit-norm input on the unit sphere.
    # Applied to the ORIGINAL (unnormalised) tensors, as in MergeKit: for vectors of equal norm the
    # result keeps that norm, where plain lerp would shrink it by cos(theta / 2) at t = 0.5.
    theta = math.acos(cos)
    sin_theta = math.sin(theta)
    w0 = math.sin((1.0 - t) * theta) / sin_theta
    w1 = math.sin(t * theta) / sin_theta
    # Into one float32 array (v0's own with overwrite_v0): whole-tensor temporaries would triple the peak.
    return _combine(a, b, w0, w1, out).reshape(v0.shape), False


def layer_index(name: str) -> int | None:
    """Decoder layer a tensor belongs to, or None for tensors outside the layers."""
    m = _LAYER.search(name)
    return int(m.group(1)) if m else None


def t_for_tensor(name: str, t: float | Sequence[float], num_layers: int) -> float:
    """The interpolation factor for one tensor.

    - A scalar t applies to every tensor.
    - A list of anchors is a gradient over depth: the anchors are spread evenly from the first
      layer (position 0) to the last (position 1), and layer i at position i / (num_layers - 1)
      takes the piecewise-linear interpolation between its two neighbouring anchors. So [0, 1]
      moves from all-base at the bottom to all-tuned at the top; [a] is the same as a.
    - Tensors outside the layers take the value of the end of the stack they feed: input-side
      tensors (token embeddings) the first anchor, everything else (the final norm — which LFM2
      calls `embedding_norm` — and an untied lm_head) the last anchor. MergeKit does the same.
    """
    if isinstance(t, (int, float)):
        return float(t)
    anchors = [float(x) for x in t]
    if not anchors:
        raise ValueError("t must be a number or a non-empty list of numbers")
    if len(anchors) == 1:
        return anchors[0]
    idx = layer_index(name)
    if idx is None:
        return anchors[0] if _INPUT_SIDE.search(name) else anchors[-1]
    if num_layers < 1 or idx >= num_layers:
        raise ValueError(f"{name}: layer {idx} is outside a model of {num_layers} layers")
    position = idx / (num_layers - 1) if num_layers > 1 else 0.0
    # Anchor k sits at k / (n - 1); find the segment holding `position` and interpolate within it.
    scaled = position * (len(anchors) - 1)
    k = min(int(scaled), len(anchors) - 2)
    frac = scaled - k
    return anchors[k] * (1.0 - frac) + anchors[k + 1] * frac
