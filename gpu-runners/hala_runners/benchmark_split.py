"""The validation split held out of each benchmark (recipe `stages.evaluate.validation`).

A row belongs to the validation part when a hash of its content falls below `fraction`, else to the
test part: not random (the same rows every run), not by position (reordering or resharding a file
moves no row across), the same on every host (SHA-256 of the row as canonical JSON, not Python's
salted hash()), and a duplicated row lands in the same part as its twin, so no question is both
chosen on and reported on. stages.choose scores the validation part; evaluate reports the test part.
"""
from __future__ import annotations

import hashlib
import json

from .errors import bad_input

PARTS = ("validation", "test")
_FIELD = "stages.evaluate.validation.fraction"


def row_position(row: dict) -> float:
    """Where the row falls in [0, 1): the first 8 bytes of the SHA-256 of its canonical JSON."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") / 2 ** 64


def part_of(row: dict, fraction: float) -> str:
    return "validation" if row_position(row) < fraction else "test"


def select(rows: list[dict], split: dict | None, where: str) -> list[dict]:
    """The rows of `split`'s part ({part, fraction}); every row when there is no split."""
    if split is None:
        return rows
    part, fraction = split.get("part"), split.get("fraction")
    if part not in PARTS:
        raise bad_input(f"split.part must be one of {PARTS} (got {part!r})")
    if not isinstance(fraction, (int, float)) or not 0 < fraction < 1:
        raise bad_input(f"{_FIELD} must be above 0 and below 1 to split the benchmarks (got {fraction!r})")
    kept = [row for row in rows if part_of(row, fraction) == part]
    if not kept:
        raise bad_input(f"{where}: its {part} part at {_FIELD} {fraction} holds none of its {len(rows)} rows; "
                        f"give the benchmark more rows or set {_FIELD} nearer 0.5")
    return kept
