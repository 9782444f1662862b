"""SIGTERM as a preemption notice, for runners that can checkpoint on demand (train).

A spot VM or a pod eviction gives seconds to minutes of warning as SIGTERM. The activity passes it
on to the runner's process group (child_process.ChildProcess.kill, SIGKILL after
HALA_KILL_GRACE_S). A runner that calls `watch()` keeps running on SIGTERM; its training loop polls
`requested()` at each step end, saves a checkpoint there and stops, then raises `Preempted` so the
activity fails retryably at once and the next attempt resumes at that very step. Runners that do
not call `watch()` die on SIGTERM as usual and resume from their last chunk or tensor group.
"""
from __future__ import annotations

import signal
import threading

from ..errors import HalaError

_requested = threading.Event()


def watch() -> None:
    """Turn SIGTERM into a request to checkpoint and stop (main thread only)."""
    signal.signal(signal.SIGTERM, lambda signum, frame: _requested.set())


def requested() -> bool:
    return _requested.is_set()


def preempted(step: int, checkpoint_uri: str | None) -> HalaError:
    where = f"checkpoint {checkpoint_uri}" if checkpoint_uri else "no checkpoint (stopped before the first step)"
    return HalaError("Preempted", f"preempted by SIGTERM at step {step}; saved {where}; the retry resumes there")
