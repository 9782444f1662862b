"""Resolve model and dataset sources (hf://, file://, s3://) to local paths.

hf://org/name                      -> a model repo snapshot
hf://datasets/org/name/path.parquet -> one file of a dataset repo
hf://datasets/org/name/data/test-*.parquet -> every file the pattern matches (resolve_files only;
    * and ? in the last path segment, as the hub lays out its parquet shards)
hf://org/name@<revision>, hf://datasets/org/name@<revision>/path -> exactly that revision (a commit,
    branch or tag); stages pin every hub source to the commit they resolved when they opened
With HALA_HUB_MIRROR set (tests, air-gapped clusters) the same ids are read from that directory,
laid out as <mirror>/<org>/<name> and <mirror>/datasets/<org>/<name>/<path>; otherwise the real
Hugging Face hub is used through huggingface_hub, with $HF_TOKEN (gated and private repos) and
$HF_ENDPOINT read on each call, as the TypeScript side's stage-open lookups read them. A refusal
(401/403/404) is BadInput naming the recipe field, the repo, the status and the fix (hub_errors.py).
deploy/ fills HF_TOKEN from the optional Secret hala-hf.
"""
from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import store
from .errors import bad_input
from .hub_errors import hub_failure


def _mirror() -> Path | None:
    value = os.environ.get("HALA_HUB_MIRROR")
    return Path(value) if value else None


def split_revision(rest: str) -> tuple[str, str | None]:
    """'org/name@rev/path' -> ('org/name/path', 'rev'); the revision sits on the repo name."""
    parts = rest.split("/")
    i = 2 if parts[0] == "datasets" else 1
    if len(parts) <= i or "@" not in parts[i]:
        return rest, None
    parts[i], revision = parts[i].split("@", 1)
    return "/".join(parts), revision


def _hub_access() -> dict:
    """How every hub call authenticates and where it goes. A token set in $HF_TOKEN (the Secret
    hala-hf on a cluster) is sent explicitly; unset, huggingface_hub falls back to a stored login."""
    return {"token": os.environ.get("HF_TOKEN") or None, "endpoint": os.environ.get("HF_ENDPOINT") or None}


@contextmanager
def _refused(uri: str, field: str | None, repo: str, revision: str | None, path: str | None = None) -> Iterator[None]:
    """Hub failures typed for the retry policy: a refused or missing source is not retried."""
    try:
        yield
    except Exception as e:
        failure = hub_failure(e, source=f"{field} = {uri}" if field else uri, repo=repo, revision=revision, path=path)
        if failure is None:
            raise
        raise failure from e


def resolve(uri: str, field: str | None = None) -> Path:
    """The local path of a source. `field` is the recipe path holding `uri` (stages.sft.students[0].base),
    named by the errors when it is known."""
    if not uri.startswith("hf://"):
        return store.fetch(uri)
    rest, revision = split_revision(uri[len("hf://"):].strip("/"))
    if ".." in rest.split("/"):
        raise bad_input(f"{uri!r}: '..' segments are not allowed")
    mirror = _mirror()
    if mirror is not None:  # one snapshot per repo: a pinned revision reads it
        path = mirror / rest
        if not path.exists():
            raise bad_input(f"{uri} is not in the hub mirror {mirror} (HALA_HUB_MIRROR); "
                            "add it there or unset HALA_HUB_MIRROR to use the hub")
        return path
    from huggingface_hub import hf_hub_download, snapshot_download

    parts = rest.split("/")
    if parts[0] == "datasets":
        if len(parts) < 4:
            raise bad_input(f"{uri}: dataset URIs are hf://datasets/<org>/<name>/<file>")
        repo, file = f"{parts[1]}/{parts[2]}", "/".join(parts[3:])
        with _refused(uri, field, repo, revision, file):
            return Path(hf_hub_download(repo, file, repo_type="dataset", revision=revision, **_hub_access()))
    if len(parts) != 2:
        raise bad_input(f"{uri}: model URIs are hf://<org>/<name>[@<revision>]")
    # A second call finds the files in huggingface_hub's cache: with the commit known it reads them
    # from disk without asking again (file_download.py, "if user provides a commit_hash ...").
    with _refused(uri, field, rest, revision):
        return Path(snapshot_download(rest, revision=revision, **_hub_access()))


def resolve_small_files(uri: str, field: str | None = None, patterns: tuple[str, ...] = ("*.json", "*.jinja", "*.model", "*.txt")) -> Path:
    """A model source's small files only (config, tokenizer, chat template), not its weights: what
    a check needs to know a model's architecture without downloading a 222 GB snapshot."""
    if not uri.startswith("hf://") or _mirror() is not None:
        return resolve(uri, field)
    from huggingface_hub import snapshot_download

    rest, revision = split_revision(uri[len("hf://"):].strip("/"))
    with _refused(uri, field, rest, revision):
        return Path(snapshot_download(rest, revision=revision, allow_patterns=list(patterns), **_hub_access()))


def is_glob(uri: str) -> bool:
    return any(c in uri for c in "*?")


def resolve_files(uri: str, field: str | None = None) -> list[Path]:
    """The local files of a dataset source, in name order: one for a plain URI, every match of a
    glob in the last path segment (hf://datasets/org/name/data/test-*.parquet)."""
    if not is_glob(uri):
        return [resolve(uri, field)]
    directory, pattern = uri.rstrip("/").rsplit("/", 1)
    if is_glob(directory):
        raise bad_input(f"{uri}: only the file name may hold * or ? (e.g. data/train-*.parquet)")
    if directory.startswith("hf://") and _mirror() is None:
        matches = _hub_glob(uri, field)
    else:  # a local folder: the mirror's copy, a file:// directory, an s3:// prefix fetched whole
        folder = resolve(directory, field)
        matches = sorted(p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern))
    if not matches:
        raise bad_input(f"{uri} matches no file; check the pattern against the repo's file list")
    return matches


def _hub_glob(uri: str, field: str | None) -> list[Path]:
    from huggingface_hub import HfFileSystem, hf_hub_download

    pinned = uri[len("hf://"):].strip("/")
    rest, revision = split_revision(pinned)
    parts = rest.split("/")
    if parts[0] != "datasets" or len(parts) < 4:
        raise bad_input(f"{uri}: globs are for dataset files, hf://datasets/<org>/<name>/<pattern>")
    repo = f"{parts[1]}/{parts[2]}"
    access = _hub_access()
    with _refused(uri, field, repo, revision):
        found = sorted(HfFileSystem(**access).glob(pinned))  # "datasets/org/name[@rev]/data/test-*.parquet"
        prefix = pinned[:len(pinned) - len("/".join(parts[3:]))]
        return [Path(hf_hub_download(repo, f[len(prefix):], repo_type="dataset", revision=revision, **access))
                for f in found]
