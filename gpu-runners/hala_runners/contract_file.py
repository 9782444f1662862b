"""The exported contract file, contracts/json-schema/activities.json (from contracts/gpu-activities.ts), read once.

Kept apart from contract.py, which validates payloads and raises HalaError: errors.py takes its
failure types from this file too, and would otherwise import contract.py while being imported by it.
HALA_CONTRACTS names another directory holding activities.json (a deployment without the clone, tests).
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any


def path() -> Path:
    env = os.environ.get("HALA_CONTRACTS")
    if env:
        return Path(env) / "activities.json"
    return Path(__file__).resolve().parents[2] / "contracts" / "json-schema" / "activities.json"


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    return json.loads(path().read_text())
