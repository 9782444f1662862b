"""The Hala side of bench/slerp.ts: generate two checkpoints, slerp-merge them the way
runners/merge.py does, and compare two merged outputs.

    python bench/slerp.py generate DIR [--params N]   -> DIR/base, DIR/tuned (fp32 safetensors)
    python bench/slerp.py hala DIR OUT                 -> OUT/model*.safetensors; one JSON line
    python bench/slerp.py diff OUT_A OUT_B             -> one JSON line {"max_abs_diff"}

`hala` is runners/merge.py's own loop (merge.Weights reads one tensor of each checkpoint at a time,
merge.merge_tensor slerps the pair in numpy, merge.ShardWriter streams it into shards of
`max_shard_bytes`) without the store around it (publishing to file:// or s3:// is a copy and a
digest, not the merge). Like the runner, it never imports torch (generate does).
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from hala_runners.runners import merge  # first: it sets the runner's OpenBLAS threads before numpy loads
from hala_runners.slerp import t_for_tensor

import numpy as np

T = 0.5
COLINEAR = 0.9995


def layout(params: int) -> dict[str, tuple[int, ...]]:
    """A Llama-shaped stack: the embedding is the largest tensor, layers add 10.5M parameters each."""
    hidden, ffn, vocab = 1024, 2816, 32768
    shapes: dict[str, tuple[int, ...]] = {"model.embed_tokens.weight": (vocab, hidden)}
    layers = max(1, round((params - 2 * vocab * hidden) / (4 * hidden * hidden + 3 * hidden * ffn)))
    for i in range(layers):
        for p in ("q", "k", "v", "o"):
            shapes[f"model.layers.{i}.self_attn.{p}_proj.weight"] = (hidden, hidden)
        shapes[f"model.layers.{i}.mlp.gate_proj.weight"] = (ffn, hidden)
        shapes[f"model.layers.{i}.mlp.up_proj.weight"] = (ffn, hidden)
        shapes[f"model.layers.{i}.mlp.down_proj.weight"] = (hidden, ffn)
        shapes[f"model.layers.{i}.input_layernorm.weight"] = (hidden,)
    shapes["model.norm.weight"] = (hidden,)
    shapes["lm_head.weight"] = (vocab, hidden)
    return shapes


def generate(directory: Path, params: int) -> None:
    import torch
    from safetensors.torch import save_file

    shapes = layout(params)
    g = torch.Generator().manual_seed(0)
    for name in ("base", "tuned"):
        (directory / name).mkdir(parents=True, exist_ok=True)
        (directory / name / "config.json").write_text(json.dumps({"num_hidden_layers": sum(1 for n in shapes if n.endswith("q_proj.weight"))}))
    base = {n: torch.randn(s, generator=g) * 0.02 for n, s in shapes.items()}
    save_file(base, str(directory / "base" / merge.SINGLE), metadata={"format": "pt"})
    # The fine-tune moves every tensor far enough for a real arc (no colinear fallback).
    tuned = {n: t + 0.01 * torch.randn(t.shape, generator=g) for n, t in base.items()}
    save_file(tuned, str(directory / "tuned" / merge.SINGLE), metadata={"format": "pt"})
    largest = max(t.numel() * 4 for t in base.values())
    print(json.dumps({"params": sum(t.numel() for t in base.values()), "tensors": len(base), "largest_tensor_bytes": largest}))


def hala(directory: Path, out: Path, max_shard_bytes: int) -> None:
    t0 = time.perf_counter()
    base, tuned = merge.Weights(directory / "base", "base"), merge.Weights(directory / "tuned", "tuned")
    names = merge.check_compatible(base, tuned)
    num_layers = json.loads((directory / "tuned" / "config.json").read_text())["num_hidden_layers"]
    out.mkdir(parents=True, exist_ok=True)
    writer = merge.ShardWriter(out, max_shard_bytes, merge.output_layout(tuned, names))
    for name in names:
        writer.add(name, merge.merge_tensor(base, tuned, name, t_for_tensor(name, T, num_layers), COLINEAR)[0])
    writer.close()
    print(json.dumps({"seconds": time.perf_counter() - t0, "bytes": writer.total_bytes}))


def diff(a: Path, b: Path) -> None:
    wa, wb = merge.Weights(a, "a"), merge.Weights(b, "b")
    worst = 0.0
    for name in wa.file_of:
        worst = max(worst, float(np.abs(wa.tensor(name) - wb.tensor(name)).max(initial=0.0)))
    print(json.dumps({"max_abs_diff": worst, "tensors": len(wa.file_of)}))


def main() -> None:
    cmd, *args = sys.argv[1:]
    if cmd == "generate":
        generate(Path(args[0]), int(args[2]) if len(args) > 2 and args[1] == "--params" else 100_000_000)
    elif cmd == "hala":
        hala(Path(args[0]), Path(args[1]), int(args[2]) if len(args) > 2 else merge.Config.__dataclass_fields__["max_shard_bytes"].default)
    elif cmd == "diff":
        diff(Path(args[0]), Path(args[1]))
    else:
        sys.exit(f"unknown command {cmd}; see the docstring")


if __name__ == "__main__":
    main()
