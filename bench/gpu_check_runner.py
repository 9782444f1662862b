"""Start a runner through its own command line, as the worker's activity does, and read its events.

    python -m hala_runners.runners.<name> --config <file>     (hala_runners/runner_harness.py)

Each runner gets its own process group (the activity signals the group: preemption and cancellation
reach every process the runner started) and dies with the part that started it (PR_SET_PDEATHSIG and
HALA_PARENT_PID, the runner's own watchdog), so a part killed at its timeout leaves nothing behind.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
KEY = "0" * 64  # the stage key: one scratch folder per runner under the part's work dir


class Skip(Exception):
    """A part that cannot run here; the message says why (a missing module, a missing input)."""


class PartFailed(Exception):
    """A part that ran to its end with a wrong figure: its figures still go into the report."""

    def __init__(self, why: str, figures: dict):
        super().__init__(why)
        self.figures = figures


@dataclass
class RunnerRun:
    code: int
    events: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    log: Path | None = None

    def result(self, what: str) -> dict:
        """The result event's payload, or an error naming the runner's typed error and its log."""
        last = self.events[-1] if self.events else {}
        if last.get("event") != "result":
            raise RuntimeError(f"{what}: {last.get('type', 'no result event')}: {last.get('message', '')} "
                               f"(exit {self.code}; log {self.log}){log_tail(self.log)}")
        return last["result"]


def log_tail(log: Path | None, chars: int = 1500) -> str:
    if not log or not log.exists():
        return ""
    return "\n--- log tail ---\n" + log.read_text(errors="replace")[-chars:]


def runner_env(work: Path, **extra: str) -> dict:
    from hala_runners.engines import ENGINE_ENV

    # ENGINE_ENV: the environment the infer worker gives every engine process (vLLM's spawn, NVML counting).
    return {**os.environ, **ENGINE_ENV, "HALA_WORK_DIR": str(work / "scratch"), "HALA_PARENT_PID": str(os.getpid()),
            "PYTHONUNBUFFERED": "1", **extra}


def _die_with_parent() -> None:
    from hala_runners.runner_harness import killed_with_parent

    killed_with_parent()


def run_runner(runner: str, config: dict, work: Path,
               on_event: Callable[[dict, subprocess.Popen], None] | None = None) -> RunnerRun:
    """Run one runner to its end; `on_event(event, proc)` sees each protocol event (it may signal proc).
    No timeout of its own: the part's timeout (gpu_check.py) bounds it, and the runner dies with the part."""
    from hala_runners import progress

    work.mkdir(parents=True, exist_ok=True)
    cfg = work / f"{runner}-{time.monotonic_ns()}.json"
    cfg.write_text(json.dumps(config))
    log = work / f"{runner}.log"
    started = time.monotonic()
    with open(log, "a") as err:
        proc = subprocess.Popen([sys.executable, "-m", f"hala_runners.runners.{runner}", "--config", str(cfg)],
                                stdout=subprocess.PIPE, stderr=err, text=True, env=runner_env(work),
                                start_new_session=True, preexec_fn=_die_with_parent)
        run = RunnerRun(code=-1, log=log)
        try:
            for line in proc.stdout:
                event = progress.parse_line(line)
                if event:
                    run.events.append(event)
                    if on_event:
                        on_event(event, proc)
            run.code = proc.wait()
        finally:
            stop_group(proc)
    run.seconds = time.monotonic() - started
    return run


def stop_group(proc: subprocess.Popen, grace_s: float = 5.0) -> None:
    """SIGTERM the runner's group, SIGKILL it after `grace_s`: whatever it started goes too."""
    if proc.poll() is not None:
        _kill_group(proc.pid, signal.SIGKILL)  # a leader gone, children of its group may remain
        return
    _kill_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
