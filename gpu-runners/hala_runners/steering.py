"""A running activity paused by an operator (`hala steer <campaign> <stage> pause`, Temporal's
PauseActivity) ends its attempt at a checkpoint instead of dying where it stands.

Temporal tells a paused activity through its next heartbeat's response; the Python SDK then cancels
it with activity.cancellation_details().paused. activity_process.supervise treats that like a
preemption notice: SIGTERM to the runner's group (train saves a checkpoint at its current step and
says so in an error event), the progress read meanwhile becomes the last heartbeat, and the attempt
fails with the typed `Paused` error built here. The server keeps a paused activity unscheduled until
it is unpaused; the next attempt gets that heartbeat as config["resume"] (activity_process.resume_details).
"""
from __future__ import annotations

from temporalio.exceptions import ApplicationError

PAUSED = "Paused"  # the failure type (contracts/errors.ts); retryable, so the unpaused activity runs again


def paused_failure(label: str, last_words: dict | None, last_beat: dict) -> ApplicationError:
    """The failure that ends a paused attempt, naming where the next one resumes."""
    checkpoint = last_beat.get("checkpoint_uri")
    said = (last_words or {}).get("message")
    where = f"resumes from {checkpoint}" if checkpoint else "resumes from the start (no checkpoint yet)"
    message = f"paused by an operator: {label} stopped; the unpaused attempt {where}"
    return ApplicationError(f"{message} ({said})" if said else message, type=PAUSED)
