"""Run a stage runner for the current activity: a subprocess in its own process group.

    result = await run_runner("compress", payload)   # python -m hala_runners.runners.compress --config ...

Why a subprocess: CUDA, NCCL and vLLM cannot be torn down reliably inside a process, and a hung
kernel cannot be interrupted from Python. A process group can always be killed, so cancellation and
worker shutdown free the GPU at once. The runner talks back over stdout (hala_runners.progress):
every progress event becomes a heartbeat `{phase, done, total, checkpoint_uri, metrics}`; between
events the last details are re-sent, so a long quiet step (loading 200 GB of weights) neither times
out nor loses the resume point. On a retry the last heartbeat goes to the runner as config["resume"].

Supervision (contract `supervision`, from the recipe): a runner that sends no progress event for
`stall_s` is hung (a deadlocked collective, a frozen engine): its group is killed and the activity
fails `Stalled`, retryably. A `RunnerFailed` failure (a crash or an unknown exception) on attempt
`runner_failed_attempts` or later is final: retrying a bug burns GPU hours and says nothing new.

The building blocks (child_process.ChildProcess, Heartbeater, read_until_terminal, supervise) are shared with the
long-lived engine subprocess of the infer queue (hala_runners.engines.service).
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable

from temporalio import activity
from temporalio.exceptions import ApplicationError

from . import progress, steering
from .live_limits import LiveLimits
from .child_process import ChildProcess, runner_module, signal_group
from .stage_progress import ProgressSignals
from .errors import is_non_retryable, silent_exit_type

# How soon a running activity hears that it was cancelled (`hala cancel`, a cancelled stage). The
# server says so only in its answer to a heartbeat, and the SDK sends one at most once per throttle
# interval: by default 0.8 x the heartbeat timeout capped at 60 s (temporalio/worker/_worker.py,
# Worker(max_heartbeat_throttle_interval=60 s, default_heartbeat_throttle_interval=30 s), handed to
# the Rust core as *_heartbeat_throttle_interval_millis), so a runner ran on up to a minute after a
# cancel. The worker throttles at this (worker.py) and a quiet runner's last heartbeat is re-sent this
# often, so the cancel arrives within about this, plus CANCEL_KILL_GRACE_S to end the group: 10 s in
# all, the bound of issue 26. One heartbeat RPC per running activity every 2 s is nothing to a server.
CANCEL_NOTICE_S = 2.0
QUIET_HEARTBEAT_S = float(os.environ.get("HALA_QUIET_HEARTBEAT_S", str(CANCEL_NOTICE_S)))
MESSAGE_CHARS = 1000  # of a runner's error message passed on in a failure
STALL_KILL_GRACE_S = 2.0  # a hung runner will not checkpoint on SIGTERM: do not wait for it
# A cancelled runner gets this long after SIGTERM, not HALA_KILL_GRACE_S (what preemption needs for a
# full checkpoint): CANCEL_NOTICE_S plus this keeps `hala cancel` within its 10 s. A checkpoint cut
# short is incomplete and ignored: the next run of the stage resumes from the newest complete one
# (train_checkpoints.resume_point), the SIGTERM one when it finished in time, else the last periodic one.
CANCEL_KILL_GRACE_S = 4.0


@dataclass(frozen=True)
class Supervision:
    """How the activity watches its runner; None fields switch the check off (tests, a runner run alone)."""
    stall_s: float | None = None
    runner_failed_attempts: int | None = None
    progress_s: float | None = None  # least seconds between progress signals to the stage (stage_progress)

    @classmethod
    def from_payload(cls, value: dict | None) -> "Supervision":
        value = value or {}
        return cls(stall_s=value.get("stall_s"), runner_failed_attempts=value.get("runner_failed_attempts"),
                   progress_s=value.get("progress_s"))


class Heartbeater:
    """Turns progress events into heartbeats (and, throttled, into progress signals to the stage
    workflow); re-sends the last one while the runner is quiet."""

    def __init__(self, resume: dict | None, signals: ProgressSignals | None = None):
        # Until the runner reports, keep heartbeating the resume point: a crash during model
        # loading must not wipe the details the next attempt resumes from.
        self.last: dict[str, Any] = resume or {"phase": "start", "done": 0, "total": 0,
                                               "checkpoint_uri": None, "metrics": {}}
        self.last_event_at = time.monotonic()  # the start counts: a runner hung from birth is caught too
        self.signals = signals

    def progress(self, event: dict) -> None:
        self.last_event_at = time.monotonic()
        self.last = {"phase": event.get("phase", ""), "done": int(event.get("done", 0)),
                     "total": int(event.get("total", 0)), "checkpoint_uri": event.get("checkpoint_uri"),
                     "metrics": dict(event.get("metrics") or {})}
        activity.heartbeat(self.last)
        if self.signals:
            self.signals.report(self.last)

    async def quiet_loop(self) -> None:
        timeout = activity.info().heartbeat_timeout
        every = min(QUIET_HEARTBEAT_S, timeout.total_seconds() / 3) if timeout else QUIET_HEARTBEAT_S
        if self.signals:  # a worker has the activity now: the stage stops wondering whether anyone serves its queue
            self.signals.report(self.last)
        while True:
            activity.heartbeat(self.last)
            await asyncio.sleep(every)


def resume_details() -> dict | None:
    """The last heartbeat of the previous attempt, passed to the runner as config["resume"]."""
    info = activity.info()
    if info.heartbeat_details:  # attempt 1 too: an unpause with reset_attempts starts over at 1
        details = info.heartbeat_details[0]
        return details if isinstance(details, dict) else None
    return None


async def read_until_terminal(child: ChildProcess, beat: Heartbeater) -> dict | None:
    """Heartbeat progress events until a result or error event; None if stdout closes first."""
    assert child.proc.stdout is not None
    while True:
        raw = await child.proc.stdout.readline()
        if not raw:
            return None
        line = raw.decode(errors="replace")
        event = progress.parse_line(line)
        if event is None:
            sys.stderr.write(f"[{child.label}] {line.rstrip()}\n")  # a log line on stdout
        elif event["event"] == "progress":
            beat.progress(event)
        else:
            return event


def result_of(event: dict | None, child: ChildProcess, rc: int | None, supervision: Supervision = Supervision()) -> dict:
    """The runner's result, or the ApplicationError that its error event or silent exit means."""
    if event is not None and event["event"] == "result":
        return event["result"]
    if event is not None:
        kind = str(event.get("type") or "RunnerFailed")
        message = str(event.get("message", ""))
        if len(message) > MESSAGE_CHARS:  # keep the failure under Temporal's 2 KB; the log has the rest
            message = message[:MESSAGE_CHARS] + " … (cut; the worker log has the full message)"
        raise failure(kind, message, supervision)
    tail = child.stderr_tail()
    kind = silent_exit_type(rc, tail)
    raise failure(kind, f"{child.label} exited with code {rc} without a result event (full stderr in the "
                        f"worker log); stderr tail:\n{tail}", supervision)


def failure(kind: str, message: str, supervision: Supervision) -> ApplicationError:
    """The failure of `kind`: non-retryable for bad input, and for a runner failure once its attempts are used up."""
    attempt = activity.info().attempt
    limit = supervision.runner_failed_attempts
    if kind == "RunnerFailed" and limit is not None and attempt >= limit:
        return ApplicationError(f"{message}\n(attempt {attempt}: runner failures stop after {limit}, recipe "
                                f"retries.runner_failed)", type=kind, non_retryable=True)
    return ApplicationError(message, type=kind, non_retryable=is_non_retryable(kind))


async def _watch_for_stall(child: ChildProcess, beat: Heartbeater, limits: LiveLimits) -> str:
    """Returns (with a message) once the runner has sent no progress for the stall limit, read on
    every tick (an operator may change it while the runner runs: live_limits)."""
    while True:
        quiet = time.monotonic() - beat.last_event_at
        stall_s = limits.stall_s
        if quiet >= stall_s:
            last = beat.last
            return (f"{child.label} (pid {child.pgid}) sent no progress for {quiet:.0f} s (timeouts.stall_s = "
                    f"{stall_s:g}); last: {last.get('phase')} {last.get('done')}/{last.get('total')}. Its "
                    f"process group was killed; the retry resumes from the last heartbeat")
        await asyncio.sleep(max(0.05, min(1.0, stall_s - quiet)))


async def supervise(child: ChildProcess, beat: Heartbeater, work: Awaitable[Any],
                    supervision: Supervision = Supervision()) -> Any:
    """Await `work` while heartbeating; on cancellation, worker shutdown or a stall kill the child's group."""
    shutdown = asyncio.create_task(activity.wait_for_worker_shutdown())
    limits = LiveLimits.for_current_activity(supervision.stall_s) if supervision.stall_s is not None else None
    stall = asyncio.create_task(_watch_for_stall(child, beat, limits)) if limits else None
    ends = {shutdown, *([stall] if stall else [])}  # what stops the runner before it finishes
    tasks = [asyncio.create_task(beat.quiet_loop()), *ends, *([asyncio.create_task(limits.follow())] if limits else [])]
    work_task = asyncio.ensure_future(work)
    try:
        await asyncio.wait({work_task, *ends}, return_when=asyncio.FIRST_COMPLETED)
        if work_task.done():
            return work_task.result()
        if stall is not None and stall.done():
            await child.kill(grace_s=STALL_KILL_GRACE_S)
            raise ApplicationError(stall.result(), type="Stalled")
        # SIGTERM to the group is the preemption notice: a runner that can (train) checkpoints now
        # and says so in an error event; progress read meanwhile still becomes heartbeats.
        await child.kill()
        await asyncio.wait({work_task}, timeout=2)
        last_words = _error_event(work_task)
        message = (last_words or {}).get("message") or (
            f"worker shutting down: {child.label} (pid {child.pgid}) was stopped; "
            "the retry resumes from the last heartbeat")
        raise ApplicationError(str(message), type="Preempted")
    except asyncio.CancelledError:
        details = activity.cancellation_details()
        if details is not None and details.paused:
            # `hala steer ... pause`: the same notice as a preemption, so the runner checkpoints at
            # its current step and the unpaused attempt resumes there (steering.paused_failure).
            await child.kill()
            await asyncio.wait({work_task}, timeout=STALL_KILL_GRACE_S)  # drain the checkpoint's heartbeat
            raise steering.paused_failure(child.label, _error_event(work_task), beat.last) from None
        # Cancellation (or the SDK cancelling us at the end of graceful shutdown): free the GPU now.
        await child.kill(grace_s=CANCEL_KILL_GRACE_S)
        raise
    finally:
        for task in (*tasks, work_task):
            task.cancel()


def _error_event(task: asyncio.Future) -> dict | None:
    """The error event a finished reader returned, if any (a runner's last words before exiting)."""
    if not task.done() or task.cancelled() or task.exception() is not None:
        return None
    event = task.result()
    return event if isinstance(event, dict) and event.get("event") == "error" else None


async def run_runner(name: str, config: dict, supervision: Supervision = Supervision()) -> dict:
    """Run runner `name` on `config` (the contract input) for the current activity; return its result."""
    config = {**config, "resume": resume_details()}
    beat = Heartbeater(config["resume"], ProgressSignals.for_current_activity(supervision.progress_s))
    with tempfile.TemporaryDirectory(prefix=f"hala-{name.rsplit('.', 1)[-1]}-") as tmp:
        path = Path(tmp) / "config.json"
        path.write_text(json.dumps(config))
        child = await ChildProcess.start([sys.executable, "-m", runner_module(name), "--config", str(path)],
                                         label=name)
        try:
            event = await supervise(child, beat, read_until_terminal(child, beat), supervision)
            # stdout closed or the last event came: the runner is exiting; don't wait forever on it.
            rc = await child.wait(timeout=60)
            return result_of(event, child, rc, supervision)
        finally:
            if child.alive:
                await child.kill()
            signal_group(child.pgid, signal.SIGKILL)  # no stray grandchildren after a normal exit
