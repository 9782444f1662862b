"""The local copy of s3:// artifacts (store.fetch): downloaded once, then reused while it verifies.

An engine fetches its model on every (re)start; a 9B student or an FP8 teacher is tens of GB, so a
copy that is still right must not be downloaded again.

- A directory artifact carries the store's manifest (store.MANIFEST: each file's sha256 and path).
  The local copy keeps the manifest it was downloaded under. A fetch reads the remote manifest (one
  small GET) and lists the prefix (sizes, no GET), then keeps each local file that the local
  manifest lists with the remote digest, whose size is the listed size and, below HASH_BELOW bytes
  where hashing is cheap, whose sha256 is that digest. Only the other files are downloaded; files
  the manifest does not list are removed, so the copy's digest is the artifact's.
- While a download runs, the remote manifest is the claim (kept beside the copy, in the stamps tree);
  the copy's own manifest is written last. A file reaches its final name by rename, and a file the
  claim does not cover is removed before the claim is written, so every file present is the claim's
  and whole: an interrupted download resumes with what it had.
- A single object is reused while its size and ETag match the ones recorded when it was downloaded
  (a pointer such as checkpoints/latest.json is rewritten in place).
- A prefix without a manifest (an unfinished directory, a folder staged by hand) has nothing to
  verify against: it is downloaded whole, as before.
A lock file serialises the processes of one host that fetch the same artifact.
"""
from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import artifact_corrupt, bad_input
from .store import MANIFEST, _write_atomic, file_sha256

HASH_BELOW = 64 * 2**20  # configs, tokenizers, shard indexes: re-hashed on reuse; weight shards: sized


def download(client, bucket: str, key: str, dest: Path, stamps: Path) -> None:
    """Make `dest` a verified copy of s3://bucket/key (an object or a prefix). `stamps` is where what
    was downloaded is recorded, outside the copy so the copy's digest stays the artifact's."""
    stamp = stamps / bucket / key.rstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with _locked(stamp.with_name(f"{stamp.name}.lock")):
        head = _head(client, bucket, key)
        if head is not None:
            _object(client, bucket, key, dest, head, stamp.with_name(f"{stamp.name}.etag"))
            return
        prefix = key.rstrip("/") + "/"
        sizes = _sizes(client, bucket, prefix)
        if not sizes:
            raise bad_input(f"s3://{bucket}/{key} does not exist")
        if MANIFEST in sizes:
            _directory(client, bucket, prefix, dest, sizes, stamp.with_name(f"{stamp.name}.partial"))
        else:
            for rel in sorted(sizes):
                _get(client, bucket, prefix + rel, dest / rel)


@contextmanager
def _locked(lock: Path) -> Iterator[None]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _head(client, bucket: str, key: str) -> dict | None:
    """The object's metadata, or None when no object has this key (a prefix, or nothing)."""
    from botocore.exceptions import ClientError

    try:
        return client.head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise


def _object(client, bucket: str, key: str, dest: Path, head: dict, etag_file: Path) -> None:
    recorded = f"{head['ContentLength']} {head.get('ETag', '')}"
    if dest.is_file() and dest.stat().st_size == head["ContentLength"] and _read(etag_file) == recorded:
        return
    if dest.is_dir():  # the key was a prefix when it was fetched last
        shutil.rmtree(dest)
    _get(client, bucket, key, dest)
    _write_atomic(etag_file, recorded.encode())


def _directory(client, bucket: str, prefix: str, dest: Path, sizes: dict[str, int], partial: Path) -> None:
    remote_text = client.get_object(Bucket=bucket, Key=prefix + MANIFEST)["Body"].read().decode()
    remote = _parse(remote_text)
    unlisted = sorted(rel for rel in remote if rel not in sizes)
    if unlisted:
        raise artifact_corrupt(f"s3://{bucket}/{prefix}{MANIFEST} lists {unlisted[:3]} but the store holds no such "
                               "object; the artifact lost files after it was published: rerun the stage that made it")
    if dest.is_file():  # the key was an object when it was fetched last
        dest.unlink()
    local_text = _read(dest / MANIFEST)
    claim = _parse(local_text if local_text is not None else _read(partial) or "")
    keep = {rel for rel, digest in remote.items()
            if claim.get(rel) == digest and _verifies(dest / rel, sizes[rel], digest)}
    present = {p.relative_to(dest).as_posix() for p in dest.rglob("*") if p.is_file()} if dest.is_dir() else set()
    if local_text == remote_text and keep == set(remote) and present == keep | {MANIFEST}:
        return  # the verified copy: nothing to download
    # What the new claim does not cover goes first, so any file present under the claim is the claim's.
    (dest / MANIFEST).unlink(missing_ok=True)
    for rel in present - keep:
        (dest / rel).unlink(missing_ok=True)
    _write_atomic(partial, remote_text.encode())
    for rel in sorted(set(remote) - keep):
        _get(client, bucket, prefix + rel, dest / rel)
    _write_atomic(dest / MANIFEST, remote_text.encode())  # last: the copy is complete
    partial.unlink(missing_ok=True)


def _verifies(path: Path, size: int, digest: str) -> bool:
    if not path.is_file() or path.stat().st_size != size:
        return False
    return size >= HASH_BELOW or file_sha256(path) == digest


def _sizes(client, bucket: str, prefix: str) -> dict[str, int]:
    """Every object below `prefix`: path relative to it -> size (a listing, no object read)."""
    sizes = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("/"):  # a folder marker some tools write: no file
                sizes[obj["Key"][len(prefix):]] = obj["Size"]
    return sizes


def _parse(manifest: str) -> dict[str, str]:
    """store.manifest_text's lines "<sha256>  <path>" -> {path: sha256}."""
    return {path: digest for digest, _, path in (line.partition("  ") for line in manifest.splitlines()) if path}


def _get(client, bucket: str, key: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        client.download_file(bucket, key, str(tmp))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
