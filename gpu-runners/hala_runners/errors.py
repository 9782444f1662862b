"""The closed set of failure types shared with TypeScript (contracts/errors.ts), as the exported
contract lists them (`errors` in contracts/json-schema/activities.json).

A runner raises HalaError; the activity turns it into an ApplicationError with the same `type`,
non-retryable for bad input, retryable for transient trouble.
"""
from __future__ import annotations

import re
import signal
from pathlib import Path

from . import contract_file

# CUDA's words, and the CPU allocator's when an allocation is refused (a memory limit, a full host).
_OUT_OF_MEMORY = re.compile(r"out of memory|DefaultCPUAllocator: (can't allocate|not enough) memory", re.IGNORECASE)


def non_retryable_types() -> list[str]:
    return contract_file.load()["errors"]["non_retryable"]


def retryable_types() -> list[str]:
    return contract_file.load()["errors"]["retryable"]


def is_non_retryable(type: str) -> bool:
    return type in non_retryable_types()


class HalaError(Exception):
    def __init__(self, type: str, message: str):
        if type not in non_retryable_types() + retryable_types():
            raise ValueError(f"unknown Hala error type {type!r}")
        super().__init__(message)
        self.type = type
        self.message = message

    @property
    def non_retryable(self) -> bool:
        return is_non_retryable(self.type)


def bad_input(message: str) -> HalaError:
    return HalaError("BadInput", message)


def artifact_corrupt(message: str) -> HalaError:
    return HalaError("ArtifactCorrupt", message)


def mentions_out_of_memory(text: str) -> bool:
    return bool(_OUT_OF_MEMORY.search(text))


def at_address_space_limit() -> bool:
    """This process holds nearly all the address space its limit allows (`ulimit -v`, RLIMIT_AS).

    Where a cluster bounds memory that way, a refused allocation often surfaces as a library's own
    words ("could not create a primitive" from oneDNN), not as an out-of-memory message: failing
    near the limit is what tells them apart from a bug.
    """
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return False
    try:
        held = int(Path("/proc/self/statm").read_text().split()[0]) * resource.getpagesize()
    except OSError:  # not Linux: no way to tell
        return False
    # Close to it either way: a big process's last tenth, or a small one's last half GiB.
    return held >= 0.9 * soft or soft - held < 512 * 2**20


def silent_exit_type(returncode: int | None, stderr_tail: str = "") -> str:
    """The failure type of a process that ended without an error event: -9 is almost always the
    kernel's OOM killer (retried); any other silent exit is a crash."""
    if returncode == -signal.SIGKILL or mentions_out_of_memory(stderr_tail):
        return "OutOfMemory"
    return "RunnerFailed"


def classify(exc: BaseException) -> HalaError:
    """Map an arbitrary exception from heavy libraries onto the shared types."""
    if isinstance(exc, HalaError):
        return exc
    from .hub_errors import classify_hub  # it builds on HalaError

    hub = classify_hub(exc)  # a gated or missing repo is BadInput, not a crash worth retrying
    if hub is not None:
        return hub
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError" or mentions_out_of_memory(text):
        return HalaError("OutOfMemory", text)
    if at_address_space_limit():
        return HalaError("OutOfMemory", f"{text} (raised at this process's address-space limit, RLIMIT_AS)")
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return HalaError("StorageUnavailable", text)
    # Unknown: most likely a bug or a bad artifact the checks missed. Retried a few times only
    # (supervision.runner_failed_attempts), with the exception's own words first.
    return HalaError("RunnerFailed", text)
