"""The closed set of failure types shared with TypeScript (contracts/errors.ts), as the exported
contract lists them (`errors` in contracts/json-schema/activities.json).

A runner raises HalaError; the activity turns it into an ApplicationError with the same `type`,
non-retryable for bad input, retryable for transient trouble.
"""
from __future__ import annotations

from . import contract_file


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


def classify(exc: BaseException) -> HalaError:
    """Map an arbitrary exception from heavy libraries onto the shared types."""
    if isinstance(exc, HalaError):
        return exc
    text = f"{type(exc).__name__}: {exc}"
    if "out of memory" in text.lower() or type(exc).__name__ == "OutOfMemoryError":
        return HalaError("OutOfMemory", text)
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return HalaError("StorageUnavailable", text)
    # Unknown: most likely a bug or a bad artifact the checks missed. Retried a few times only
    # (supervision.runner_failed_attempts), with the exception's own words first.
    return HalaError("RunnerFailed", text)
