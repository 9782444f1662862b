"""The Python activities, one per entry of the contract's activity table (contracts/gpu-activities.ts).

Each activity is thin: validate the payload against the exported JSON Schema, run the contract's
runner for it in a subprocess (activity_process.run_runner, or the long-lived engine for
translate_shard), validate the result, return it. Payloads are plain dicts with snake_case keys.
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import contract
from .activity_process import Supervision, run_runner
from .activity_run import AttemptClock
from .engines.service import EngineService
from .errors import HalaError


def _validated_input(name: str, payload: Any) -> tuple[dict, Supervision]:
    """The runner's config and how to watch it: `supervision` is the activity's, never the runner's."""
    try:
        config = dict(contract.validate_input(name, payload))
    except HalaError as e:  # bad input never heals by retrying
        raise ApplicationError(e.message, type=e.type, non_retryable=True) from None
    return config, Supervision.from_payload(config.pop("supervision", None))


def _runner_activity(name: str, runner: str) -> Callable:
    @activity.defn(name=name)
    async def run_stage(payload: dict) -> dict:
        clock = AttemptClock()
        result = await run_runner(runner, *_validated_input(name, payload))
        return contract.validate_output(name, {**result, "run": clock.record()})

    return run_stage


def _translate_activity(engines: EngineService) -> Callable:
    @activity.defn(name="translate_shard")
    async def translate_shard(payload: dict) -> dict:
        clock = AttemptClock()
        result = await engines.translate(*_validated_input("translate_shard", payload))
        return contract.validate_output("translate_shard", {**result, "run": clock.record()})

    return translate_shard


def create_activities(engines: EngineService | None = None) -> dict[str, Callable]:
    """activity name -> activity function; `engines` holds the infer worker's loaded models."""
    acts = {name: _runner_activity(name, contract.runner(name)) for name in contract.activity_names()}
    # Same runner, but in a long-lived process that keeps the model loaded across shards.
    acts["translate_shard"] = _translate_activity(engines or EngineService())
    return acts


def runs_engines(role: str) -> bool:
    """Whether a worker of `role` serves translate_shard, whose engines (engines/service.py) start with
    ENGINE_ENV over the worker's environment: its fork server must start with it too."""
    return contract.queue_role("translate_shard") == role


def _doctor_activity(role: str) -> Callable:
    @activity.defn(name="doctor_probe")
    async def doctor_probe(payload: dict) -> dict:
        from .doctor_probe import probe  # the checks import nothing heavy; their children do

        try:
            request = contract.validate_input("doctor_probe", payload)
        except HalaError as e:
            raise ApplicationError(e.message, type=e.type, non_retryable=True) from None
        # A thread: the checks wait on child processes (GPU ranks, an engine) for seconds to minutes.
        result = await asyncio.to_thread(probe, request, role)
        return contract.validate_output("doctor_probe", result)

    return doctor_probe


def every_role_activities(role: str) -> dict[str, Callable]:
    """The activities every worker serves whatever its role (contract.every_role_activity_names)."""
    makers = {"doctor_probe": _doctor_activity}
    return {name: makers[name](role) for name in contract.every_role_activity_names()}


def activities_for_role(role: str, engines: EngineService | None = None) -> list[Callable]:
    """The activities a worker of queue role `role` serves: its own (contract.queue_role), then those of every role."""
    own = [fn for name, fn in sorted(create_activities(engines).items()) if contract.queue_role(name) == role]
    return own + [fn for _, fn in sorted(every_role_activities(role).items())]
