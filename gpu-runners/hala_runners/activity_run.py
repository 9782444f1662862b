"""How one activity attempt ran, attached to its output as `run` (contracts/gpu-activities.ts ActivityRun).

Lineage reads it (producer activity and attempt, GPU-seconds) and the chaos suite reads `attempt`.
GPU count: CUDA_VISIBLE_DEVICES when set, else the GPUs nvidia-smi lists; the worker never imports
torch just to count devices.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from datetime import datetime, timezone
from functools import lru_cache

from temporalio import activity


@lru_cache(maxsize=1)
def visible_gpus() -> int:
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return len([d for d in visible.split(",") if d.strip() and d.strip() != "-1"])
    smi = shutil.which("nvidia-smi")
    if not smi:
        return 0
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return 0
    return sum(1 for line in out.splitlines() if line.startswith("GPU "))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class AttemptClock:
    """Started when the activity starts; `record()` gives the ActivityRun dict at the end."""

    def __init__(self) -> None:
        self.started = time.time()

    def record(self) -> dict:
        info = activity.info()
        ended = time.time()
        gpus = visible_gpus()
        seconds = round(ended - self.started, 3)
        return {
            "activity": info.activity_type,
            "activity_id": info.activity_id,
            "attempt": info.attempt,
            "worker": f"{os.getpid()}@{socket.gethostname()}",
            "device": f"cuda x{gpus}" if gpus else "cpu",
            "gpus": gpus,
            "started_at": _iso(self.started),
            "ended_at": _iso(ended),
            "seconds": seconds,
            "gpu_seconds": round(seconds * gpus, 3),
        }
