"""The artifact store seen from Python: the same file:// and s3:// URIs as the TypeScript side.

Rules shared with activities/store (TypeScript):
- a file artifact's sha256 is the digest of its bytes;
- a directory artifact's sha256 is the digest of its manifest: the lines
  "<file sha256>  <posix relative path>\\n" of every file, sorted by path, excluding the manifest;
- the manifest is written last as `_hala_manifest.txt`: a directory without it is unfinished;
- writes are atomic (temp file + rename locally; S3 puts are atomic per object).
S3 credentials come from the usual AWS environment; HALA_S3_ENDPOINT points at SeaweedFS or MinIO.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path, PurePosixPath
from urllib.parse import urlparse

from .errors import artifact_corrupt, bad_input

MANIFEST = "_hala_manifest.txt"


# ---- URIs ---------------------------------------------------------------------------------------

def split(uri: str) -> tuple[str, str, str]:
    """(scheme, bucket or '', path) of a store URI; rejects '..' and unknown schemes."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("file", "s3"):
        raise bad_input(f"{uri!r}: the store serves file:// and s3:// URIs only")
    path = parsed.path
    if ".." in path.split("/"):
        raise bad_input(f"{uri!r}: '..' segments are not allowed in artifact URIs")
    if parsed.scheme == "file":
        if parsed.netloc:
            raise bad_input(f"{uri!r}: use file:///absolute/path (three slashes)")
        return "file", "", path
    return "s3", parsed.netloc, path.lstrip("/")


def join(prefix: str, *parts: str) -> str:
    return "/".join([prefix.rstrip("/"), *[p.strip("/") for p in parts]])


def local_path(uri: str) -> Path:
    scheme, _, path = split(uri)
    if scheme != "file":
        raise bad_input(f"{uri!r} is not a local file:// URI")
    return Path(path)


# ---- digests ------------------------------------------------------------------------------------

def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest_of(digests: dict[str, str]) -> str:
    """The manifest of a directory whose files (posix relative paths) have these sha256 digests:
    sorted as pathlib sorts paths, segment by segment (the TypeScript side does the same)."""
    return "".join(f"{digests[rel]}  {rel}\n" for rel in sorted(digests, key=lambda rel: PurePosixPath(rel).parts))


def manifest_text(directory: Path) -> str:
    return manifest_of({p.relative_to(directory).as_posix(): file_sha256(p)
                        for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST})


def dir_stats(directory: Path) -> tuple[int, int]:
    files = [p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST]
    return len(files), sum(p.stat().st_size for p in files)


# ---- S3 -----------------------------------------------------------------------------------------

def _s3():
    import boto3  # heavy, and only needed for s3:// stores

    return boto3.client("s3", endpoint_url=os.environ.get("HALA_S3_ENDPOINT") or None,
                        region_name=os.environ.get("AWS_REGION", "us-east-1"))


def _cache_dir() -> Path:
    return Path(os.environ.get("HALA_CACHE", Path.home() / ".cache" / "hala-flow")) / "s3-objects"


# ---- publishing (local work -> store) -----------------------------------------------------------

def publish_file(src: Path, uri: str, kind: str, rows: int | None = None) -> dict:
    """Copy a finished local file to `uri` atomically and return its ArtifactRef."""
    digest, size = file_sha256(src), src.stat().st_size
    scheme, bucket, key = split(uri)
    if scheme == "file":
        dest = Path(key)
        if dest.resolve() != src.resolve():
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
    else:
        _s3().upload_file(str(src), bucket, key)
    ref = {"uri": uri, "sha256": digest, "kind": kind, "bytes": size}
    if rows is not None:
        ref["rows"] = rows
    return ref


def publish_dir(src: Path, uri: str, kind: str) -> dict:
    """Publish a finished local directory at `uri` (manifest last) and return its ArtifactRef."""
    rels = [p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file() and p.name != MANIFEST]
    scheme, _, key = split(uri)
    dest = Path(key)
    if scheme == "file" and dest.resolve() != src.resolve():
        # Copied whole beside the destination, sealed there, then renamed into place: atomic.
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
        shutil.copytree(src, tmp)
        ref = seal_dir(f"file://{tmp}", publish_files(tmp, rels, f"file://{tmp}"), kind)
        if dest.exists():  # an earlier attempt finished too: same content by construction
            shutil.rmtree(dest)
        os.replace(tmp, dest)
        return {**ref, "uri": uri}
    return seal_dir(uri, publish_files(src, rels, uri), kind)


def publish_files(src: Path, rels: list[str], uri: str) -> dict[str, tuple[str, int]]:
    """Copy some files of the local directory `src` into the directory artifact at `uri`, leaving it
    unfinished (no manifest): several processes publish their own files of one directory at once,
    then one of them seals it (`seal_dir`). Returns {rel: (sha256, bytes)} for the sealer."""
    scheme, bucket, key = split(uri)
    in_place = scheme == "file" and Path(key).resolve() == src.resolve()
    client = _s3() if scheme == "s3" and rels else None
    published = {}
    for rel in rels:
        path = src / rel
        published[rel] = (file_sha256(path), path.stat().st_size)
        if in_place:
            continue
        if client is None:
            dest = Path(key) / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex}.tmp")
            shutil.copyfile(path, tmp)
            os.replace(tmp, dest)
        else:
            client.upload_file(str(path), bucket, f"{key.rstrip('/')}/{rel}")
    return published


def unseal_dir(uri: str) -> None:
    """Remove a directory artifact's manifest before its files are rewritten: no reader may take a
    half-rewritten directory for the finished one it was."""
    scheme, bucket, key = split(uri)
    if scheme == "file":
        (Path(key) / MANIFEST).unlink(missing_ok=True)
    else:
        _s3().delete_object(Bucket=bucket, Key=f"{key.rstrip('/')}/{MANIFEST}")


def seal_dir(uri: str, files: dict[str, tuple[str, int]], kind: str) -> dict:
    """Finish a directory artifact whose files are all published (`publish_files`, by any process):
    write its manifest, last, and return its ArtifactRef."""
    manifest = manifest_of({rel: digest for rel, (digest, _) in files.items()})
    write_bytes(join(uri, MANIFEST), manifest.encode())
    return {"uri": uri, "sha256": hashlib.sha256(manifest.encode()).hexdigest(), "kind": kind,
            "bytes": sum(size for _, size in files.values()), "files": len(files)}


def _write_atomic(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, dest)


def write_bytes(uri: str, data: bytes) -> None:
    scheme, bucket, key = split(uri)
    if scheme == "file":
        _write_atomic(Path(key), data)
    else:
        _s3().put_object(Bucket=bucket, Key=key, Body=data)


def exists(uri: str) -> bool:
    scheme, bucket, key = split(uri)
    if scheme == "file":
        return Path(key).exists()
    try:
        _s3().head_object(Bucket=bucket, Key=key)
        return True
    except Exception:
        return False


def read_bytes(uri: str) -> bytes:
    """The object's bytes, read straight from the store (no local cache: `hala doctor` reads what it wrote)."""
    scheme, bucket, key = split(uri)
    if scheme == "file":
        return Path(key).read_bytes()
    return _s3().get_object(Bucket=bucket, Key=key)["Body"].read()


def delete(uri: str) -> None:
    """Remove one object (a file, never a directory); absent already is fine."""
    scheme, bucket, key = split(uri)
    if scheme == "file":
        Path(key).unlink(missing_ok=True)
    else:
        _s3().delete_object(Bucket=bucket, Key=key)


def is_complete_dir(uri: str) -> bool:
    return exists(join(uri, MANIFEST))


# ---- fetching (store -> local path) -------------------------------------------------------------

def fetch(ref_or_uri: dict | str) -> Path:
    """A local path holding the artifact. With an ArtifactRef, the digest is verified. An s3://
    artifact is copied into the local cache once and reused while the copy verifies (s3_cache.py)."""
    ref = ref_or_uri if isinstance(ref_or_uri, dict) else None
    uri = ref["uri"] if ref else ref_or_uri
    scheme, bucket, key = split(uri)
    if scheme == "file":
        path = Path(key)
        if not path.exists():
            raise bad_input(f"artifact {uri} does not exist: was the store root moved or cleaned?")
    else:
        path = _cache_dir() / bucket / key
        _download_s3(bucket, key, path)
    if ref:
        verify(path, ref)
    return path


def verify(path: Path, ref: dict) -> None:
    if path.is_dir():
        if not (path / MANIFEST).exists():
            raise artifact_corrupt(f"{ref['uri']} has no {MANIFEST}: it was never finished; rerun its stage")
        actual = hashlib.sha256(manifest_text(path).encode()).hexdigest()
    else:
        actual = file_sha256(path)
    if actual != ref["sha256"]:
        raise artifact_corrupt(f"{ref['uri']}: sha256 {actual[:12]}… does not match the reference "
                               f"{ref['sha256'][:12]}…; the artifact changed after it was produced")


def _download_s3(bucket: str, key: str, dest: Path) -> None:
    """A verified local copy of s3://bucket/key: reused while it verifies, else (re)downloaded (s3_cache.py)."""
    from . import s3_cache  # it builds on this module

    s3_cache.download(_s3(), bucket, key, dest, _cache_dir().parent / "s3-stamps")
