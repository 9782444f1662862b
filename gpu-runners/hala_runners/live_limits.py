"""The stall limit of a running activity, steerable while it runs (`hala steer <campaign> <stage>
limits --stall-s N`).

The limit arrives in the activity's input (`supervision.stall_s`, from the recipe), which nobody can
rewrite once the activity is scheduled. An operator's change goes to the stage workflow instead (the
`steer-supervision` signal, workflows/definitions.ts), which answers the `supervision` query with
it; the activity asks every POLL_S seconds and the stall watchdog (activity_process) reads the
current value on each tick. Shards of a translation fan-out keep their recipe limit: their
workflow is the fan-out, which holds no steering.
"""
from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Awaitable, Callable

from .stage_progress import stage_workflow_handle

QUERY = "supervision"
POLL_S = float(os.environ.get("HALA_STEER_POLL_S", "15"))


class LiveLimits:
    """The stall limit now: the recipe's until the stage workflow says otherwise."""

    def __init__(self, stall_s: float, ask: Callable[[], Awaitable[Any]] | None = None):
        self.stall_s = stall_s
        self._ask = ask
        self._warned = False

    @classmethod
    def for_current_activity(cls, stall_s: float) -> "LiveLimits":
        handle = stage_workflow_handle()
        return cls(stall_s, None if handle is None else lambda: handle.query(QUERY))

    def apply(self, answer: Any) -> None:
        """The stage's answer: {"stall_s": N} once an operator set one; anything else leaves the limit."""
        value = answer.get("stall_s") if isinstance(answer, dict) else None
        if isinstance(value, (int, float)) and value > 0 and value != self.stall_s:
            sys.stderr.write(f"hala: stall limit now {value:g} s (was {self.stall_s:g} s), set by hala steer\n")
            self.stall_s = float(value)

    async def follow(self) -> None:
        """Asks the stage every POLL_S seconds until cancelled; a stage that cannot answer leaves the limit."""
        if self._ask is None:
            return
        while True:
            try:
                self.apply(await self._ask())
            except Exception as err:  # a workflow without the query (tests) or busy: the limit stands
                if not self._warned:
                    self._warned = True
                    sys.stderr.write(f"hala: could not ask the stage for its limits ({err}); keeping stall_s {self.stall_s:g}\n")
            await asyncio.sleep(POLL_S)
