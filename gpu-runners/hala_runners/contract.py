"""The wire contract, read from contracts/json-schema/activities.json (exported from the zod source).

Python's Temporal converter silently drops unknown keys, so every payload is validated here
against the same schema the TypeScript side derives its types from.
"""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import HalaError, bad_input


def _schema_path() -> Path:
    env = os.environ.get("HALA_CONTRACTS")
    if env:
        return Path(env) / "activities.json"
    return Path(__file__).resolve().parents[2] / "contracts" / "json-schema" / "activities.json"


@lru_cache(maxsize=1)
def contract() -> dict[str, Any]:
    return json.loads(_schema_path().read_text())


def activity_names() -> list[str]:
    return sorted(contract()["activities"])


def queue_role(activity: str) -> str:
    return contract()["activities"][activity]["queue_role"]


def default_queue(role: str) -> str:
    return contract()["default_queues"][role]


def _check(schema: dict, payload: Any, where: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema)
    problems = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    if problems:
        lines = []
        for e in problems:
            path = ".".join(str(p) for p in e.absolute_path)
            lines.append(f"{where}{'.' + path if path else ''}: {e.message}")
        raise bad_input("; ".join(lines))


def validate_input(activity: str, payload: Any) -> dict:
    _check(contract()["activities"][activity]["input"], payload, activity)
    return payload


def validate_output(activity: str, payload: Any) -> dict:
    try:
        _check(contract()["activities"][activity]["output"], payload, f"{activity} result")
    except HalaError as e:
        # Our own output breaking the contract is a bug, not bad input from the caller.
        raise RuntimeError(e.message) from e
    return payload
