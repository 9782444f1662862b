"""Safetensors checkpoints read and written one tensor at a time, for runners/merge.py.

Weights reads single tensors of a checkpoint (one file or sharded with an index) into fresh
memory; ShardWriter writes tensors into shards as they come. Neither holds more than the tensor
in hand, so a merge's memory stays bounded by one tensor pair whatever the model's size.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

from .errors import bad_input

INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"


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


def _st_name(dtype) -> str:
    if not _ST_NAMES:
        _ST_NAMES.update({v: k for k, v in _dtypes().items()})
    return _ST_NAMES[dtype]


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
