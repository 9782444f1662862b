"""Progress signals from a GPU activity to the stage workflow that scheduled it.

The stage shows them in its current details (what the Temporal UI says it is doing now): phase,
done/total, loss, rate, ETA, last checkpoint. The signal is `activity-progress`, defined once for the
workflows in workflows/definitions.ts (activityProgressSignal) with its payload in
contracts/activity-progress.ts; SIGNAL below is the same name.

Throttled so that a run of days cannot flood the history (Temporal ends a workflow at 50K events):
one signal when the phase changes, else at most one per max(min_s, elapsed / GROWTH) seconds, i.e.
about GROWTH signals per e-fold of run time (~400 in a three-day run with min_s = 30). Shards of the
translation fan-out send none: its progress is its own completions.
"""
from __future__ import annotations

import asyncio
import sys
import time
from typing import Any, Callable

from temporalio import activity

SIGNAL = "activity-progress"
FAN_OUT_WORKFLOW = "translateCorpus"
GROWTH = 50


def stage_workflow_handle():
    """The stage workflow that scheduled the running activity, which it signals (progress) and asks
    (steered limits, live_limits.py); None for a fan-out shard (its workflow is the fan-out) or
    without a client (a test's ActivityEnvironment)."""
    info = activity.info()
    if not info.workflow_id or info.workflow_type == FAN_OUT_WORKFLOW:
        return None
    try:
        return activity.client().get_workflow_handle(info.workflow_id)
    except RuntimeError:
        return None


class Throttle:
    """When the next signal is due: at a phase change, else after max(min_s, elapsed / GROWTH)."""

    def __init__(self, min_s: float, start: float):
        self.min_s = min_s
        self.start = start
        self.last_sent: float | None = None
        self.last_phase: str | None = None

    def due(self, phase: str, now: float) -> bool:
        if self.last_sent is None or phase != self.last_phase:
            return True
        return now - self.last_sent >= max(self.min_s, (now - self.start) / GROWTH)

    def sent(self, phase: str, now: float) -> None:
        self.last_sent, self.last_phase = now, phase


class ProgressSignals:
    """Computes rate and ETA from every runner event and signals the stage when the throttle allows."""

    def __init__(self, min_s: float, send: Callable[[dict], Any], clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.start = clock()
        self.throttle = Throttle(min_s, self.start)
        self._send = send
        self._phase: str | None = None
        self._phase_start = self.start
        self._phase_done0 = 0
        self._pending: dict | None = None
        self._sender: asyncio.Task | None = None
        self._warned = False

    @classmethod
    def for_current_activity(cls, min_s: float | None) -> "ProgressSignals | None":
        """Signals to the workflow of the running activity; None when off (no min_s, a fan-out shard, no client)."""
        handle = stage_workflow_handle()
        if min_s is None or handle is None:
            return None
        info = activity.info()
        base = {"activity": info.activity_type, "activity_id": info.activity_id, "attempt": info.attempt}
        return cls(min_s, lambda payload: handle.signal(SIGNAL, {**base, **payload}))

    def report(self, details: dict) -> None:
        """One heartbeat's details ({phase, done, total, checkpoint_uri, metrics}); signals if due."""
        now = self.clock()
        phase, done, total = str(details.get("phase", "")), int(details.get("done", 0)), int(details.get("total", 0))
        if phase != self._phase:
            self._phase, self._phase_start, self._phase_done0 = phase, now, done
        if not self.throttle.due(phase, now):
            return
        self.throttle.sent(phase, now)
        payload: dict[str, Any] = {"phase": phase, "done": done, "total": total,
                                   "checkpoint_uri": details.get("checkpoint_uri"),
                                   "metrics": dict(details.get("metrics") or {}), "elapsed_s": round(now - self.start, 3)}
        in_phase = now - self._phase_start
        if in_phase > 0 and done > self._phase_done0:
            rate = (done - self._phase_done0) / in_phase
            payload["rate"] = rate
            if total > done:
                payload["eta_s"] = (total - done) / rate
        self._pending = payload
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        # One signal in flight at a time; a report arriving meanwhile replaces the one waiting.
        while self._pending is not None:
            payload, self._pending = self._pending, None
            try:
                await self._send(payload)
            except Exception as err:  # the stage is gone or busy: progress is a nicety, the work goes on
                if not self._warned:
                    self._warned = True
                    sys.stderr.write(f"hala: progress signal {SIGNAL} not delivered ({err}); the work goes on\n")
