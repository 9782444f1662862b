"""Resolve model and dataset sources (hf://, file://, s3://) to local paths.

hf://org/name                      -> a model repo snapshot
hf://datasets/org/name/path.parquet -> one file of a dataset repo
hf://datasets/org/name/data/test-*.parquet -> every file the pattern matches (resolve_files only;
    * and ? in the last path segment, as the hub lays out its parquet shards)
hf://org/name@<revision>, hf://datasets/org/name@<revision>/path -> exactly that revision (a commit,
    branch or tag); stages pin every hub source to the commit they resolved when they opened
With HALA_HUB_MIRROR set (tests, air-gapped clusters) the same ids are read from that directory,
laid out as <mirror>/<org>/<name> and <mirror>/datasets/<org>/<name>/<path>; otherwise the real
Hugging Face hub is used through huggingface_hub, which reads HF_TOKEN for gated and private repos (the
TypeScript revision lookup reads the same variable; deploy/ fills it from Secret hala-hf).
"""
from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from . import store
from .errors import bad_input


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


def resolve(uri: str) -> Path:
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
        return Path(hf_hub_download(f"{parts[1]}/{parts[2]}", "/".join(parts[3:]), repo_type="dataset", revision=revision))
    if len(parts) != 2:
        raise bad_input(f"{uri}: model URIs are hf://<org>/<name>[@<revision>]")
    return Path(snapshot_download(rest, revision=revision))


def is_glob(uri: str) -> bool:
    return any(c in uri for c in "*?")


def resolve_files(uri: str) -> list[Path]:
    """The local files of a dataset source, in name order: one for a plain URI, every match of a
    glob in the last path segment (hf://datasets/org/name/data/test-*.parquet)."""
    if not is_glob(uri):
        return [resolve(uri)]
    directory, pattern = uri.rstrip("/").rsplit("/", 1)
    if is_glob(directory):
        raise bad_input(f"{uri}: only the file name may hold * or ? (e.g. data/train-*.parquet)")
    if directory.startswith("hf://") and _mirror() is None:
        matches = _hub_glob(uri)
    else:  # a local folder: the mirror's copy, a file:// directory, an s3:// prefix fetched whole
        folder = resolve(directory)
        matches = sorted(p for p in folder.iterdir() if p.is_file() and fnmatch.fnmatch(p.name, pattern))
    if not matches:
        raise bad_input(f"{uri} matches no file; check the pattern against the repo's file list")
    return matches


def _hub_glob(uri: str) -> list[Path]:
    from huggingface_hub import HfFileSystem, hf_hub_download

    pinned = uri[len("hf://"):].strip("/")
    rest, revision = split_revision(pinned)
    parts = rest.split("/")
    if parts[0] != "datasets" or len(parts) < 4:
        raise bad_input(f"{uri}: globs are for dataset files, hf://datasets/<org>/<name>/<pattern>")
    repo = f"{parts[1]}/{parts[2]}"
    found = sorted(HfFileSystem().glob(pinned))  # "datasets/org/name[@rev]/data/test-*.parquet"
    prefix = pinned[:len(pinned) - len("/".join(parts[3:]))]
    return [Path(hf_hub_download(repo, f[len(prefix):], repo_type="dataset", revision=revision)) for f in found]
