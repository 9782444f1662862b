"""The wire contract of the Python activities, from contracts/json-schema/activities.json (contract_file).

One table, `activities[name]`: the queue role that serves it, the runner doing the work, and the
input and output JSON Schemas. A second, `every_role_activities[name]`, holds the activities every
worker serves whatever its role (`hala doctor`'s probe): schemas and timeouts, no role, no runner.

Python's Temporal converter silently drops unknown keys, so every payload is validated here
against the same schema the TypeScript side derives its types from.
"""
from __future__ import annotations

from typing import Any

from . import contract_file
from .errors import HalaError, bad_input


def _activities() -> dict[str, dict[str, Any]]:
    return contract_file.load()["activities"]


def _every_role() -> dict[str, dict[str, Any]]:
    return contract_file.load().get("every_role_activities", {})


def _spec(activity: str) -> dict[str, Any]:
    return _activities().get(activity) or _every_role()[activity]


def activity_names() -> list[str]:
    """The activities of the role table (each served by one role, through its runner)."""
    return sorted(_activities())


def every_role_activity_names() -> list[str]:
    """The activities every worker serves, whatever its role."""
    return sorted(_every_role())


def queue_role(activity: str) -> str:
    return _activities()[activity]["queue_role"]


def queue_roles() -> list[str]:
    """The roles a Python worker can serve: those with at least one activity in the table."""
    return sorted({spec["queue_role"] for spec in _activities().values()})


def runner(activity: str) -> str:
    """The runner module (hala_runners/runners/<name>.py) that does the activity's work."""
    return _activities()[activity]["runner"]


def default_queue(role: str) -> str:
    return contract_file.load()["default_queues"][role]


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
    _check(_spec(activity)["input"], payload, activity)
    return payload


def validate_output(activity: str, payload: Any) -> dict:
    try:
        _check(_spec(activity)["output"], payload, f"{activity} result")
    except HalaError as e:
        # Our own output breaking the contract is a bug, not bad input from the caller.
        raise RuntimeError(e.message) from e
    return payload


def train_knob_names() -> tuple[str, ...]:
    """TrainKnobs' fields (contracts/stages/train-knobs.ts), each present once the recipe parser has
    filled its default: the export lists them all as required."""
    return tuple(contract_file.load()["train_knobs"]["required"])


def benchmark_formats() -> tuple[str, ...]:
    """The benchmark layouts a recipe may name (contracts/recipe.ts BenchmarkFormat)."""
    return tuple(contract_file.load()["benchmark_formats"])


def evaluate_formulations() -> tuple[str, ...]:
    """How a benchmark row is asked (contracts/stages/evaluate.ts EvalFormulation)."""
    return tuple(contract_file.load()["evaluate_formulations"])


def progress_fields() -> tuple[str, ...]:
    """The fields of every heartbeat's details (contracts/progress.ts Progress)."""
    return tuple(contract_file.load()["progress"]["properties"])


def _validate_own_file(schema: str, payload: Any, label: str) -> dict:
    """A file this project writes, checked against its exported schema before it is written."""
    try:
        _check(contract_file.load()[schema], payload, label)
    except HalaError as e:
        raise RuntimeError(e.message) from e  # our own file breaking the contract is a bug
    return payload


def validate_loss_history(payload: Any) -> dict:
    """The train runner's loss_history.json (contracts/gpu-activities.ts LossHistory), before it is written."""
    return _validate_own_file("loss_history", payload, "loss_history.json")


def validate_translation_cache_part(payload: Any) -> dict:
    """A translation-cache pointer (contracts/translation-cache.ts TranslationCachePart), before it is written."""
    return _validate_own_file("translation_cache_part", payload, "translation cache part")
