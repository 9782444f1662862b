"""Why the Hugging Face hub would not give a source, as the shared failure types.

A 401, 403 or 404 never heals by retrying: the repo is gated or private and the workers' token cannot
read it, or the id, revision or path is wrong. Those are BadInput, named after the recipe field that
holds the URI, with the repo, the HTTP status and the fix. A rate limit, a 5xx or a dropped
connection is StorageUnavailable (retried). huggingface_hub is imported only once a failure is seen.
"""
from __future__ import annotations

import os
from collections.abc import Iterator

from .errors import HalaError

GATED_FIX = "accept the model's terms on the hub and give the workers a token: Secret hala-hf / HF_TOKEN"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and its causes: snapshot_download wraps a refusal it could not serve from the
    cache in LocalEntryNotFoundError, the HTTP error as its cause (huggingface_hub _snapshot_download.py)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        # An explicit cause always; the exception being handled only where Python would show it too.
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)


def _status(exc: BaseException) -> int | None:
    for e in _chain(exc):
        status = getattr(getattr(e, "response", None), "status_code", None)
        if isinstance(status, int):
            return status
    return None


def _from_hub(exc: BaseException) -> bool:
    return any(type(e).__module__.startswith("huggingface_hub") for e in _chain(exc))


def _token_said() -> str:
    return "with the workers' HF_TOKEN" if os.environ.get("HF_TOKEN") else "without a token (HF_TOKEN is not set)"


def hub_failure(exc: BaseException, *, source: str, repo: str, revision: str | None = None,
                path: str | None = None) -> HalaError | None:
    """`exc` from a hub call as a HalaError, or None when it is no hub failure. `source` is how the
    message names the input: "<field> = <uri>" where the field is known, else the URI."""
    if not _from_hub(exc):
        return None
    from huggingface_hub.errors import (EntryNotFoundError, GatedRepoError, HFValidationError, LocalEntryNotFoundError,
                                        OfflineModeIsEnabled, RepositoryNotFoundError, RevisionNotFoundError)

    kinds = [type(e) for e in _chain(exc)]
    has = lambda cls: any(issubclass(k, cls) for k in kinds)  # noqa: E731
    status = _status(exc)
    http = f"HTTP {status}" if status else "no HTTP status"
    said = f"{source}: the hub refused repo {repo}"
    if has(GatedRepoError) or status == 403:
        return HalaError("BadInput", f"{said} ({http}: gated or private) {_token_said()}; {GATED_FIX}")
    if has(RevisionNotFoundError):
        return HalaError("BadInput", f"{source}: the hub has repo {repo} but no revision {revision or 'main'} "
                                     f"({http}); check the revision (a commit, branch or tag of {repo})")
    if has(EntryNotFoundError) and not has(LocalEntryNotFoundError) or (status == 404 and path):
        return HalaError("BadInput", f"{source}: the hub has no file {path or '(named above)'} in repo {repo} at {revision or 'main'} "
                                     f"({http}); check the path inside the repo")
    if has(RepositoryNotFoundError) or status in (401, 404):
        # The hub answers 401 to a caller it will not show the repo: missing, private or gated alike.
        return HalaError("BadInput", f"{said} ({http}: no such repo, or one this token cannot see) {_token_said()}; "
                                     f"check the repo id; if the repo is gated or private, {GATED_FIX}")
    if status == 429 or (status or 0) >= 500:
        return HalaError("StorageUnavailable", f"{source}: the hub answered {http} for repo {repo}; it will be retried")
    if has(OfflineModeIsEnabled):
        return HalaError("BadInput", f"{source}: HF_HUB_OFFLINE=1 forbids asking the hub for repo {repo} and it is "
                                     "not in the local cache; serve it through HALA_HUB_MIRROR or unset HF_HUB_OFFLINE")
    if has(HFValidationError):
        return HalaError("BadInput", f"{source}: not a hub repo id ({exc}); write hf://<org>/<name>")
    if status is None and any(isinstance(e, (ConnectionError, TimeoutError)) or type(e).__module__.startswith("httpx")
                              for e in _chain(exc)):  # no answer at all: the network, a proxy, DNS
        return HalaError("StorageUnavailable", f"{source}: the hub did not answer for repo {repo} "
                                               f"({type(exc).__name__}: {exc}); it will be retried")
    return None


def classify_hub(exc: BaseException) -> HalaError | None:
    """A hub exception raised outside hub.resolve (transformers, HfApi): typed the same way, named
    by the repo the hub's exception carries and its own words."""
    if not _from_hub(exc):
        return None
    repo = next((getattr(e, "repo_id", None) for e in _chain(exc) if getattr(e, "repo_id", None)), None)
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return hub_failure(exc, source=f"{type(exc).__name__}: {first_line}", repo=repo or "(named above)")
