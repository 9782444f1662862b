"""Safetensors checkpoints read and written one tensor at a time, for runners/merge.py.

Weights reads single tensors of a checkpoint (one file or sharded with an index) into fresh
memory; ShardWriter writes tensors into shards as they come. Neither holds more than the tensor
in hand, so a merge's memory stays bounded by one tensor pair whatever the model's size.

numpy, not torch: the merge pod's memory is sized for one tensor pair, and `import torch` alone
takes ~640 MiB RSS. numpy has no bfloat16: BF16 weights are read as uint16 and widened to float32
(a bfloat16 is the high half of a float32) and rounded back as torch's .to(torch.bfloat16) rounds.
"""
from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import numpy as np

from .errors import bad_input

INDEX = "model.safetensors.index.json"
SINGLE = "model.safetensors"

# The float dtypes a merge interpolates, and the numpy dtype each is read as (BF16 widened).
FLOATS = {"F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.float32}
# Bytes per element of each safetensors dtype.
_ITEM_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
               "U16": 2, "U32": 4, "U64": 8, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}
_WRITE_BLOCK = 1 << 20  # elements encoded at a time: the storage copy of a tensor is never whole


def bf16_to_f32(bits: np.ndarray) -> np.ndarray:
    """float32 values of bfloat16 bit patterns (uint16): exact, the bits become the high half."""
    out = np.zeros(bits.shape, np.float32)
    out.view(np.uint16).reshape(-1, 2)[:, 1] = bits.reshape(-1)  # little-endian: the high half is second
    return out


def f32_to_bf16(x: np.ndarray) -> np.ndarray:
    """bfloat16 bit patterns (uint16) of float32 values, rounded to nearest even as torch's
    .to(torch.bfloat16) rounds (c10::BFloat16); a NaN stays NaN (0x7FC0, torch's scalar NaN)."""
    u = np.ascontiguousarray(x, np.float32).view(np.uint32)
    bits = ((u + (((u >> 16) & 1) + 0x7FFF)) >> 16).astype(np.uint16)  # no overflow: +inf is 0x7F800000
    bits[np.isnan(x)] = 0x7FC0
    return bits


def encode(values: np.ndarray, dtype: str) -> np.ndarray:
    """The storage bytes (as an array) of float values in safetensors dtype `dtype`. Too large for
    F16 is inf, as torch's .to(torch.float16) makes it."""
    if dtype == "BF16":
        return f32_to_bf16(values)
    with np.errstate(over="ignore"):
        return values.astype(FLOATS[dtype], copy=False)


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
        self._headers: dict[str, tuple[int, dict]] = {}
        if weight_map is None:
            self.file_of = {name: SINGLE for name in self._header(SINGLE)[1] if name != "__metadata__"}
        else:
            self.file_of = dict(weight_map)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.entry(name)["shape"])

    def entry(self, name: str) -> dict:
        """The tensor's safetensors header entry: dtype (its safetensors name), shape, data_offsets."""
        return self._header(self.file_of[name])[1][name]

    def _header(self, filename: str) -> tuple[int, dict]:
        if filename not in self._headers:
            with open(self.directory / filename, "rb") as f:
                size = int.from_bytes(f.read(8), "little")
                self._headers[filename] = (8 + size, json.loads(f.read(size)))
        return self._headers[filename]

    def raw(self, name: str) -> bytearray:
        """One tensor's bytes, read from its file into fresh memory. Not through a memory map:
        every page a map touches stays in the process's RSS until it closes, so streaming two
        mapped checkpoints would grow to their whole size."""
        filename = self.file_of[name]
        data_start, _ = self._header(filename)
        begin, end = self.entry(name)["data_offsets"]
        buf = bytearray(end - begin)
        with open(self.directory / filename, "rb") as f:
            f.seek(data_start + begin)
            f.readinto(buf)
        return buf

    def tensor(self, name: str) -> np.ndarray:
        """One float tensor as a numpy array of its stored dtype, BF16 widened to float32 (FLOATS)."""
        entry = self.entry(name)
        if entry["dtype"] not in FLOATS:
            raise ValueError(f"{self.label} tensor {name} is {entry['dtype']}, not a float dtype; read its raw() bytes")
        if entry["dtype"] == "BF16":
            return bf16_to_f32(np.frombuffer(self.raw(name), np.uint16)).reshape(entry["shape"])
        return np.frombuffer(self.raw(name), FLOATS[entry["dtype"]]).reshape(entry["shape"])


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

    def add(self, name: str, data: np.ndarray | bytes) -> None:
        """The next planned tensor: float values (any float dtype, rounded to the planned dtype
        here, a block at a time) or its storage bytes as they are (bytes: copied through)."""
        filename, planned = self._next()
        entries = list(planned.items())
        expected, entry = entries[self._written]
        nbytes = entry["data_offsets"][1] - entry["data_offsets"][0]
        if isinstance(data, np.ndarray):
            fits, got = list(data.shape) == entry["shape"] and entry["dtype"] in FLOATS, f"{list(data.shape)}"
        else:
            fits, got = len(data) == nbytes, f" ({len(data)} bytes)"
        if name != expected or not fits:
            raise ValueError(f"merge: tensor {name}{got} does not match the planned {expected} {entry['dtype']}{entry['shape']}")
        if self._out is None:
            header = json.dumps({"__metadata__": {"format": "pt"}, **planned}, separators=(",", ":")).encode()
            header += b" " * (-len(header) % 8)  # the format allows space padding; 8 keeps the data aligned
            self._out = open(self.directory / filename, "wb")
            self._out.write(len(header).to_bytes(8, "little"))
            self._out.write(header)
        if not isinstance(data, np.ndarray):
            self._out.write(data)
        else:
            flat = data.reshape(-1)
            for start in range(0, flat.size, _WRITE_BLOCK):
                self._out.write(encode(flat[start:start + _WRITE_BLOCK], entry["dtype"]).data)
        self._written += 1
        self.total_bytes += nbytes
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
