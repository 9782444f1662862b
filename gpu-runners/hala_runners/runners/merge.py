"""Slerp-merge a fine-tuned model with its base, streaming one tensor at a time.

    python -m hala_runners.runners.merge --config config.json

Input: contracts/gpu-activities.ts MergeSlerpInput — `base` (hf://, file:// or s3://), `tuned`
(ArtifactRef of the SFT model), `t` (0 = base, 1 = tuned; a list = anchors over depth, see
hala_runners/slerp.py), `colinear_threshold`. The math lives in hala_runners/slerp.py; this file
only plumbs tensors. Memory stays bounded by one tensor pair: hala_runners/safetensors_shards.py
reads each tensor of both models on its own and streams the merged one into its output shard, so a
9B merge fits a small CPU box. No torch in this process (numpy does the math and the files): its
import alone is ~640 MiB RSS, more than the merge needs above Python; tests/test_merge.py fails if
it comes back.
Config, tokenizer and generation settings come from the tuned model (its chat template is the
one the merged model will be prompted with). Output: `<output_prefix>/model`.

Resume per output shard: each shard, once written, is published to `<output_prefix>/partial/`
with a sidecar (its tensors, bytes, digest, linear fallbacks) written last. Shard boundaries are a
pure function of the tuned model's layout and `max_shard_bytes`, so a retry adopts the finished shards,
skips their tensors, and writes the same bytes an undisturbed merge would.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# The angle's dots are 64K elements: too short to share, and a dot shared by OpenBLAS's threads
# waits for the other thread at its end. Beside a busy core (SFT on the same node) a 320 MB merge
# took 2.1 s with two threads, 1.7 s with one. Read when numpy loads OpenBLAS, so before the import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

from .. import hub, progress, store
from ..errors import bad_input
from ..runner_harness import reproducible_config, run, save_config, scratch_dir
from ..safetensors_shards import FLOATS, INDEX, SINGLE, ShardWriter, Weights, output_layout
from ..slerp import slerp, t_for_tensor

# What a merge does with a tensor that is not float (no arc to interpolate along), said by each check of it.
_NON_FLOAT_RULE = f"only float tensors ({', '.join(FLOATS)}) are interpolated, others must be equal in both"

# Files of the tuned model that are not copied: weights are rewritten, the rest describe training.
_NOT_COPIED = {INDEX, SINGLE, store.MANIFEST, "hala_run_config.json", "training_args.bin"}


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    base: str
    tuned: dict
    t: float | list[float]
    colinear_threshold: float
    resume: dict | None = None  # informational: finished shards under partial/ rule
    max_shard_bytes: int = 2 << 30  # output shard size; bounds the writer's memory (2 GiB)


def check_compatible(base: Weights, tuned: Weights) -> list[str]:
    """Tensor names in merge order; BadInput naming the first tensors that differ."""
    only_base = sorted(set(base.file_of) - set(tuned.file_of))
    only_tuned = sorted(set(tuned.file_of) - set(base.file_of))
    if only_base or only_tuned:
        raise bad_input(f"merge.base and merge.tuned have different tensors: only in base {only_base[:5]}, "
                        f"only in tuned {only_tuned[:5]}; slerp needs the same architecture "
                        "(was the tuned model trained from this base?)")
    names = sorted(tuned.file_of, key=lambda n: (tuned.file_of[n], n))  # file order: sequential reads
    for name in names:
        if base.shape(name) != tuned.shape(name):
            raise bad_input(f"tensor {name}: shape {base.shape(name)} in base but {tuned.shape(name)} in tuned; "
                            "slerp needs identical shapes (a resized vocabulary must be resized in both)")
        dtypes = base.entry(name)["dtype"], tuned.entry(name)["dtype"]
        if not (dtypes[0] in FLOATS and dtypes[1] in FLOATS) and dtypes[0] != dtypes[1]:
            raise bad_input(f"tensor {name}: {dtypes[0]} in base but {dtypes[1]} in tuned; {_NON_FLOAT_RULE}")
    return names


def merge_tensor(base: Weights, tuned: Weights, name: str, t: float,
                 colinear_threshold: float) -> tuple[np.ndarray | bytearray, bool]:
    """One merged tensor for ShardWriter.add, and whether slerp fell back to linear.

    A tensor that is not float (integers, bools, fp8 whose scales live in other tensors) has no
    arc to interpolate along: it is copied when both models hold the same bytes, else BadInput."""
    if tuned.entry(name)["dtype"] in FLOATS:
        return slerp(base.tensor(name), tuned.tensor(name), t, colinear_threshold, overwrite_v0=True)  # the base copy is ours
    data = tuned.raw(name)
    if base.raw(name) != data:
        raise bad_input(f"tensor {name} ({tuned.entry(name)['dtype']}) differs between merge.base and merge.tuned; {_NON_FLOAT_RULE}")
    return data, False


def _partial(cfg: Config, index: int, ext: str) -> str:
    return store.join(cfg.output_prefix, "partial", f"shard-{index:05d}.{ext}")


def finished_shards(cfg: Config) -> list[dict]:
    """The shards earlier attempts published, in order, up to the first one missing."""
    found = []
    while store.exists(_partial(cfg, len(found), "json")):
        found.append(json.loads(store.fetch(_partial(cfg, len(found), "json")).read_text()))
    return found


def _run(cfg: Config) -> dict:
    save_config(cfg)
    progress.emit_progress("load", 0, 1)
    base_dir = hub.resolve(cfg.base)
    tuned_dir = store.fetch(cfg.tuned)
    base, tuned = Weights(base_dir, "base"), Weights(tuned_dir, "tuned")
    names = check_compatible(base, tuned)
    config = json.loads((tuned_dir / "config.json").read_text())
    num_layers = int(config.get("num_hidden_layers") or config.get("text_config", {}).get("num_hidden_layers", 0))
    if isinstance(cfg.t, list) and num_layers < 1:
        raise bad_input(f"merge.t is a per-layer list but {tuned_dir}/config.json has no num_hidden_layers")

    out = scratch_dir(cfg.stage_key) / "merged"
    shutil.rmtree(out, ignore_errors=True)  # local leftovers are never trusted; the store's shards are
    out.mkdir(parents=True)
    fallbacks: list[str] = []

    def publish_shard(index: int, path: Path, shard_names: list[str], nbytes: int) -> None:
        ref = store.publish_file(path, _partial(cfg, index, "safetensors"), "checkpoint")
        linear = set(fallbacks)
        meta = {"names": shard_names, "bytes": nbytes, "file": ref,
                "linear_fallbacks": [n for n in shard_names if n in linear]}
        store.write_bytes(_partial(cfg, index, "json"), json.dumps(meta).encode())  # last: marks it complete

    writer = ShardWriter(out, cfg.max_shard_bytes, output_layout(tuned, names), on_flush=publish_shard)
    adopted: set[str] = set()
    for meta in finished_shards(cfg):
        writer.adopt(store.fetch(meta["file"]), meta["names"], meta["bytes"])  # digest verified
        adopted.update(meta["names"])
        fallbacks += meta["linear_fallbacks"]
    if adopted:
        print(f"merge: resuming after {len(writer.shards)} finished shard(s), {len(adopted)} tensors", file=sys.stderr)
    partial_prefix = store.join(cfg.output_prefix, "partial")
    for i, name in enumerate(names, start=1):
        if name in adopted:
            continue
        merged, linear = merge_tensor(base, tuned, name, t_for_tensor(name, cfg.t, num_layers), cfg.colinear_threshold)
        if linear:  # before add: the shard it completes records its fallbacks
            fallbacks.append(name)
        writer.add(name, merged)  # rounded to the tuned model's storage dtype
        progress.emit_progress("merge", i, len(names), partial_prefix, linear_fallbacks=len(fallbacks))
    writer.close()

    for item in tuned_dir.iterdir():
        if item.is_file() and item.name not in _NOT_COPIED and not item.name.endswith(".safetensors"):
            shutil.copy2(item, out / item.name)
    (out / "hala_merge.json").write_text(json.dumps(
        {"runner": reproducible_config(cfg), "base_path": str(base_dir), "tensors": len(names),
         "linear_fallbacks": fallbacks}, indent=2, default=str))
    progress.emit_progress("save", len(names), len(names))
    model = store.publish_dir(out, store.join(cfg.output_prefix, "model"), "model")
    return {"model": model, "tensors": len(names), "linear_fallbacks": len(fallbacks), "resumed_tensors": len(adopted)}


def main(argv: list[str] | None = None) -> int:
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
