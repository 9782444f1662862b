"""Spherical linear interpolation of two weight tensors, and the per-tensor choice of t.

Pure functions: no I/O, no model classes. runners/merge.py only plumbs tensors through them.

Convention (the recipe's): t = 0 gives the base model's tensor (v0), t = 1 the fine-tuned one (v1).
"""
from __future__ import annotations

import math
import re
from typing import Sequence

import torch

# Below this norm a tensor has no direction, so there is no angle to interpolate along.
_EPS = 1e-8

# Tensors that belong to decoder layer i: `model.layers.<i>.…` (LFM2, Llama, Cohere2, …),
# `transformer.h.<i>.…` (GPT-2 style), `….blocks.<i>.…`.
_LAYER = re.compile(r"(?:^|\.)(?:layers|h|blocks)\.(\d+)\.")
# Input-side tensors outside the layers: they sit "before layer 0".
_INPUT_SIDE = re.compile(r"embed_tokens|word_embeddings|tok_embeddings|(?:^|\.)wte\.")


def lerp(v0: torch.Tensor, v1: torch.Tensor, t: float, overwrite_v0: bool = False) -> torch.Tensor:
    return (v0.mul_(1.0 - t) if overwrite_v0 else v0.mul(1.0 - t)).add_(v1, alpha=t)


# Elements per block of the products below. torch's float32 reductions over a whole tensor lose
# digits (a float32 norm of 33M weights is off by ~2e-3, which moves merged weights by ~1e-4);
# float32 BLAS dots of 64K elements summed in a Python float (float64) are within ~1e-8 and
# allocate nothing, where float64 copies of each block take three times as long.
_DOT_BLOCK = 1 << 16


def _dots(a: torch.Tensor, b: torch.Tensor) -> tuple[float, float, float]:
    """(a.a, b.b, a.b) of two flat float32 vectors, block by block, summed in float64.

    On one thread: a dot of 64K elements is too short to share, and every call that does share
    waits for the other threads at its end, ~5 ms each when other work holds a core (the merge
    took 10–23 s instead of 1–2 s with two threads on two busy cores)."""
    aa = bb = ab = 0.0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for start in range(0, a.numel(), _DOT_BLOCK):
            x, y = a[start:start + _DOT_BLOCK], b[start:start + _DOT_BLOCK]
            aa += float(torch.dot(x, x))
            bb += float(torch.dot(y, y))
            ab += float(torch.dot(x, y))
    finally:
        torch.set_num_threads(threads)
    return aa, bb, ab


def slerp(v0: torch.Tensor, v1: torch.Tensor, t: float,
          colinear_threshold: float = 0.9995, *, overwrite_v0: bool = False) -> tuple[torch.Tensor, bool]:
    """Interpolate v0 -> v1 along the great circle between them; returns (merged, used_linear).

    The whole tensor is treated as one flattened vector (as MergeKit does), not row by row.
    The result has v0's shape and the wider of the two dtypes; the arithmetic runs in float32
    (float64 for the angle) so that bfloat16 weights do not lose the small differences a
    fine-tune makes. `overwrite_v0` lets the result take v0's memory (a caller streaming
    tensors that has no further use for v0): one tensor less at the peak.
    """
    if v0.shape != v1.shape:
        raise ValueError(f"slerp needs equal shapes, got {tuple(v0.shape)} and {tuple(v1.shape)}")
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"t must be in [0, 1] (got {t})")
    out_dtype = torch.promote_types(v0.dtype, v1.dtype)
    a = v0.detach().to(torch.float32).flatten()
    b = v1.detach().to(torch.float32).flatten()

    # Step 1: the angle. The dot product of the two vectors scaled to unit length is cos(theta),
    # theta being the angle between the two weight vectors (a.b / (|a| |b|), every product
    # accumulated in float64). The originals are kept: the interpolation below runs on them, so their magnitudes
    # still matter.
    aa, bb, ab = _dots(a, b)
    na, nb = math.sqrt(aa), math.sqrt(bb)
    if na < _EPS or nb < _EPS:
        # A zero tensor has no direction: the angle is undefined, the straight line is the only
        # meaningful path (and equals the great circle when one end is the origin).
        return lerp(a, b, t, overwrite_v0).reshape(v0.shape).to(out_dtype), True
    cos = max(-1.0, min(1.0, ab / (na * nb)))

    # Step 2: nearly colinear vectors. When |cos| is close to 1, sin(theta) -> 0 and the weights
    # below divide by almost zero; the arc is then indistinguishable from the chord, so the
    # linear interpolation is both exact enough and numerically safe. (A fine-tune that barely
    # moved a tensor lands here, which is why merge.py counts these fallbacks.)
    if abs(cos) > colinear_threshold:
        return lerp(a, b, t, overwrite_v0).reshape(v0.shape).to(out_dtype), True

    # Step 3: the sin-weighted combination. A point at fraction t of the arc from v0 to v1 is
    #   sin((1 - t) * theta) / sin(theta) * v0  +  sin(t * theta) / sin(theta) * v1,
    # which gives v0 at t = 0, v1 at t = 1, and keeps a unit-norm input on the unit sphere.
    # Applied to the ORIGINAL (unnormalised) tensors, as in MergeKit: for vectors of equal norm the
    # result keeps that norm, where plain lerp would shrink it by cos(theta / 2) at t = 0.5.
    theta = math.acos(cos)
    sin_theta = math.sin(theta)
    w0 = math.sin((1.0 - t) * theta) / sin_theta
    w1 = math.sin(t * theta) / sin_theta
    # In place on one new tensor: a whole-tensor temporary per term would triple the peak memory.
    scaled = a.mul_(w0) if overwrite_v0 else a.mul(w0)
    return scaled.add_(b, alpha=w1).reshape(v0.shape).to(out_dtype), False


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
