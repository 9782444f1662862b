"""Audit an FP8 (compressed-tensors) checkpoint: what is float8, how it is scaled, what was left alone.

    PYTHONPATH=gpu-runners python -m tools.inspect_fp8 /path/to/model   -> one JSON object on stdout

float8_linear_weights: Linear weights stored as torch.float8_e4m3fn
per_channel_scales:    of those, weights whose `weight_scale` has one value per output row ([out, 1])
unquantized:           the 2-D weights kept in higher precision (embeddings, lm_head, ...)
reloads:               transformers loads the checkpoint and runs a forward pass
"""
from __future__ import annotations

import json
import sys
from pathlib import Path


def inspect(model_dir: Path) -> dict:
    import torch
    from safetensors import safe_open

    tensors: dict[str, tuple[torch.dtype, tuple[int, ...]]] = {}
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(file), framework="pt") as f:
            for name in f.keys():
                t = f.get_slice(name)
                dtype = {"F8_E4M3": torch.float8_e4m3fn, "BF16": torch.bfloat16, "F32": torch.float32,
                         "F16": torch.float16}.get(t.get_dtype(), t.get_dtype())
                tensors[name] = (dtype, tuple(t.get_shape()))

    fp8 = [n for n, (d, s) in tensors.items() if d == torch.float8_e4m3fn and n.endswith(".weight")]
    per_channel = [n for n in fp8 if tensors.get(n[: -len("weight")] + "weight_scale", (None, ()))[1]
                   == (tensors[n][1][0], 1)]
    unquantized = sorted(n for n, (d, s) in tensors.items()
                         if n.endswith(".weight") and len(s) == 2 and d != torch.float8_e4m3fn)
    return {
        "float8_linear_weights": len(fp8),
        "per_channel_scales": len(per_channel),
        "unquantized": unquantized,
        "unquantized_dtypes": {n: str(tensors[n][0]) for n in unquantized},
        "reloads": _reloads(model_dir),
    }


def _reloads(model_dir: Path) -> bool:
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(model_dir))
    with torch.no_grad():
        out = model(torch.tensor([[1, 2, 3]]))
    return bool(torch.isfinite(out.logits.float()).all())


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.exit("usage: python -m tools.inspect_fp8 MODEL_DIR")
    print(json.dumps(inspect(Path(args[0])), indent=2))


if __name__ == "__main__":
    main()
