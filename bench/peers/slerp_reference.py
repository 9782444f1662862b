"""The reference of bench/slerp.ts: load both checkpoints whole, slerp every tensor, save.

    python bench/peers/slerp_reference.py DIR OUT   -> OUT/model.safetensors; one JSON line

Written from the formula (as MergeKit's merge_methods/slerp.py states it), not from
hala_runners/slerp.py, so the max abs difference compares two implementations: float64 copies
give cos(theta) = a.b / (|a| |b|), |cos| > 0.9995 falls back to lerp, else
sin((1-t)theta)/sin(theta) * v0 + sin(t theta)/sin(theta) * v1 in float32.
"""
from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

T = 0.5


def slerp(v0: torch.Tensor, v1: torch.Tensor, t: float) -> torch.Tensor:
    a, b = v0.flatten(), v1.flatten()
    # float64 copies: a float32 norm of 33M weights is off by ~2e-3, which moves the result by ~1e-4.
    a64, b64 = a.double(), b.double()
    cos = float(torch.dot(a64, b64) / (a64.norm() * b64.norm()))
    if abs(cos) > 0.9995:
        return ((1 - t) * v0 + t * v1)
    theta = math.acos(max(-1.0, min(1.0, cos)))
    return (math.sin((1 - t) * theta) / math.sin(theta)) * v0 + (math.sin(t * theta) / math.sin(theta)) * v1


def main() -> None:
    directory, out = Path(sys.argv[1]), Path(sys.argv[2])
    t0 = time.perf_counter()
    base = load_file(str(directory / "base" / "model.safetensors"))
    tuned = load_file(str(directory / "tuned" / "model.safetensors"))
    merged = {name: slerp(base[name], tuned[name], T).contiguous() for name in tuned}
    out.mkdir(parents=True, exist_ok=True)
    save_file(merged, str(out / "model.safetensors"), metadata={"format": "pt"})
    print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": sum(t.numel() * t.element_size() for t in merged.values())}))


if __name__ == "__main__":
    main()
