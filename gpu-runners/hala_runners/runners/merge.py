"""Slerp-merge a fine-tuned model with its base, streaming one tensor at a time.

    python -m hala_runners.runners.merge --config config.json

Input: contracts/gpu-activities.ts MergeSlerpInput — `base` (hf://, file:// or s3://), `tuned`
(ArtifactRef of the SFT model), `t` (0 = base, 1 = tuned; a list = anchors over depth, see
hala_runners/slerp.py), `colinear_threshold`. The math lives in hala_runners/slerp.py; this file
only plumbs tensors. Memory stays bounded by one tensor pair plus one output shard: both models
are memory-mapped with safe_open and never loaded whole, so a 9B merge fits a small CPU box.
Config, tokenizer and generation settings come from the tuned model (its chat template is the
one the merged model will be prompted with). Output: `<output_prefix>/model`.

Resume per output shard: each shard, once written, is published to `<output_prefix>/partial/`
with a sidecar (its tensors, bytes, digest, linear fallbacks) written last. Shard boundaries are a
pure function of the tensor order and `max_shard_bytes`, so a retry adopts the finished shards,
skips their tensors, and writes the same bytes an undisturbed merge would.
"""
from __future__ import annotations

import json
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from .. import hub, progress, store
from ..errors import bad_input
from ..runner_harness import reproducible_config, run, save_config, scratch_dir
from ..slerp import slerp, t_for_tensor

INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"
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


def _dtypes() -> dict:
    import torch

    return {"F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
            "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
            "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2}


class _LazyDtypes(dict):
    def __missing__(self, key):
        self.update(_dtypes())
        return dict.__getitem__(self, key)


_DTYPES = _LazyDtypes()  # safetensors dtype names -> torch dtypes (torch imported on first use)
_ST_NAMES = {}  # torch dtype -> safetensors name, filled with _DTYPES


class Weights:
    """The tensors of a safetensors checkpoint (one file or sharded with an index), opened lazily."""

    def __init__(self, directory: Path, label: str):
        self.directory, self.label = directory, label
        if (directory / INDEX).exists():
            weight_map = json.loads((directory / INDEX).read_text())["weight_map"]
        elif (directory / SINGLE).exists():
            weight_map = None
        else:
            raise bad_input(f"{label} model {directory} has neither {SINGLE} nor {INDEX}: "
                            "merge needs safetensors weights (re-save with safe_serialization=True)")
        self._handles: dict[str, object] = {}
        self._headers: dict[str, tuple[int, dict]] = {}
        if weight_map is None:
            self.file_of = {name: SINGLE for name in self._open(SINGLE).keys()}
        else:
            self.file_of = dict(weight_map)

    def _open(self, filename: str):
        from safetensors import safe_open

        if filename not in self._handles:
            self._handles[filename] = safe_open(str(self.directory / filename), framework="pt", device="cpu")
        return self._handles[filename]

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._open(self.file_of[name]).get_slice(name).get_shape())

    def entry(self, name: str) -> dict:
        """The tensor's safetensors header entry: dtype (its safetensors name), shape, data_offsets."""
        return self._header(self.file_of[name])[1][name]

    def _header(self, filename: str) -> tuple[int, dict]:
        if filename not in self._headers:
            with open(self.directory / filename, "rb") as f:
                size = int.from_bytes(f.read(8), "little")
                self._headers[filename] = (8 + size, json.loads(f.read(size)))
        return self._headers[filename]

    def tensor(self, name: str):
        """One tensor, read from its file into fresh memory. Not through safe_open's memory map:
        every page a map touches stays in the process's RSS until it closes, so streaming two
        mapped checkpoints would grow to their whole size."""
        import torch

        filename = self.file_of[name]
        data_start, _ = self._header(filename)
        entry = self.entry(name)
        begin, end = entry["data_offsets"]
        buf = bytearray(end - begin)
        with open(self.directory / filename, "rb") as f:
            f.seek(data_start + begin)
            f.readinto(buf)
        dtype = _DTYPES[entry["dtype"]]
        if not buf:
            return torch.empty(entry["shape"], dtype=dtype)
        return torch.frombuffer(buf, dtype=dtype).reshape(entry["shape"])


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
    return names


# Bytes per element of each safetensors dtype.
_ITEM_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
               "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def output_layout(tuned: Weights, names: list[str]) -> list[tuple[str, str, list[int]]]:
    """(name, dtype, shape) of each merged tensor in merge order: the tuned model's storage dtype."""
    return [(name, tuned.entry(name)["dtype"], list(tuned.entry(name)["shape"])) for name in names]


def _plan_shards(layout: list[tuple[str, str, list[int]]], max_bytes: int) -> list[dict]:
    """Each shard's header entries, in order: a new shard starts when the next tensor would take the
    open one past max_bytes. A pure function of the layout, so a retry plans the same shards."""
    shards: list[dict] = [{}]
    used = 0
    for name, dtype, shape in layout:
        size = math.prod(shape) * _ITEM_BYTES[dtype]
        if shards[-1] and used + size > max_bytes:
            shards.append({})
            used = 0
        shards[-1][name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [used, used + size]}
        used += size
    return shards


class ShardWriter:
    """Write tensors into safetensors shards as they come, holding none of them. The layout (every
    tensor's name, dtype and shape in order) is known before the first tensor, so each shard's
    header goes first and each tensor's bytes straight after it: the data is written once.
    `on_flush(index, path, names, nbytes)` runs after each shard is on disk (durable resume)."""

    def __init__(self, directory: Path, max_bytes: int, layout: list[tuple[str, str, list[int]]], on_flush=None):
        self.directory, self.on_flush = directory, on_flush
        self.plan = _plan_shards(layout, max_bytes)
        self.shards: list[tuple[str, list[str]]] = []  # (temporary file name, tensor names)
        self.total_bytes = 0
        self._out = None  # the open shard's file
        self._written = 0  # tensors written to it

    def _next(self) -> tuple[str, dict]:
        if len(self.shards) >= len(self.plan):
            raise ValueError(f"merge: more tensors than the {len(self.plan)} planned shards hold")
        return f"shard-{len(self.shards):05d}.tmp", self.plan[len(self.shards)]

    def adopt(self, path: Path, names: list[str], nbytes: int) -> None:
        """Take a shard an earlier attempt finished as the next shard."""
        filename, planned = self._next()
        if list(planned) != list(names):
            raise ValueError(f"merge: finished shard {path} holds {names[:3]}..., the plan {list(planned)[:3]}...: "
                             "max_shard_bytes or the tuned model changed between attempts")
        shutil.copyfile(path, self.directory / filename)
        self.shards.append((filename, list(names)))
        self.total_bytes += nbytes

    def add(self, name: str, tensor) -> None:
        import torch

        filename, planned = self._next()
        entries = list(planned.items())
        expected, entry = entries[self._written]
        tensor = tensor.detach().contiguous().cpu()
        if (name, _st_name(tensor.dtype), list(tensor.shape)) != (expected, entry["dtype"], entry["shape"]):
            raise ValueError(f"merge: tensor {name} {_st_name(tensor.dtype)}{list(tensor.shape)} does not match "
                             f"the planned {expected} {entry['dtype']}{entry['shape']}")
        if self._out is None:
            header = json.dumps({"__metadata__": {"format": "pt"}, **planned}, separators=(",", ":")).encode()
            header += b" " * (-len(header) % 8)  # the format allows space padding; 8 keeps the data aligned
            self._out = open(self.directory / filename, "wb")
            self._out.write(len(header).to_bytes(8, "little"))
            self._out.write(header)
        if tensor.numel():
            self._out.write(tensor.reshape(-1).view(torch.uint8).numpy().data)
        self._written += 1
        self.total_bytes += entry["data_offsets"][1] - entry["data_offsets"][0]
        if self._written == len(entries):
            self._finish(filename, planned)

    def _finish(self, filename: str, planned: dict) -> None:
        if self._out is None:  # a model without tensors: one shard with an empty header
            self._out = open(self.directory / filename, "wb")
            header = json.dumps({"__metadata__": {"format": "pt"}}, separators=(",", ":")).encode()
            header += b" " * (-len(header) % 8)
            self._out.write(len(header).to_bytes(8, "little") + header)
        self._out.close()
        self._out, self._written = None, 0
        self.shards.append((filename, list(planned)))
        if self.on_flush:
            nbytes = max((e["data_offsets"][1] for e in planned.values()), default=0)
            self.on_flush(len(self.shards) - 1, self.directory / filename, list(planned), nbytes)

    def close(self) -> None:
        """Give the shards their transformers names, with an index when there is more than one."""
        if not self.plan[0] and not self.shards:
            self._finish(*self._next())
        if len(self.shards) < len(self.plan):
            raise ValueError(f"merge: {len(self.shards)} of {len(self.plan)} planned shards written when the writer closed")
        if len(self.shards) == 1:
            (self.directory / self.shards[0][0]).rename(self.directory / SINGLE)
            return
        weight_map = {}
        for i, (tmp, names) in enumerate(self.shards, start=1):
            final = f"model-{i:05d}-of-{len(self.shards):05d}.safetensors"
            (self.directory / tmp).rename(self.directory / final)
            weight_map.update({name: final for name in names})
        index = {"metadata": {"total_size": self.total_bytes}, "weight_map": dict(sorted(weight_map.items()))}
        (self.directory / INDEX).write_text(json.dumps(index, indent=2))


def _st_name(dtype) -> str:
    if not _ST_NAMES:
        _ST_NAMES.update({v: k for k, v in _dtypes().items()})
    return _ST_NAMES[dtype]


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
        v1 = tuned.tensor(name)
        merged, linear = slerp(base.tensor(name), v1, t_for_tensor(name, cfg.t, num_layers),
                               cfg.colinear_threshold, overwrite_v0=True)  # the base copy is ours
        if linear:  # before add: the shard it completes records its fallbacks
            fallbacks.append(name)
        writer.add(name, merged.to(v1.dtype))  # keep the tuned model's storage dtype
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
