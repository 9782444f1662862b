"""The I/O side of `hala doctor`: the store round trip, the hub sources, the scratch disk.

Each check returns {name, ok, seen, fix?, detail?} (contracts/doctor.ts DoctorCheck). They run in the
worker process itself: none of them touches torch or CUDA.
"""
from __future__ import annotations

import fnmatch
import os
import shutil
import socket
import uuid

from . import hub, store
from .errors import HalaError
from .hub_errors import GATED_FIX
from .runner_harness import work_root

GB = 1e9


def check(name: str, ok: bool, seen: str, fix: str | None = None, detail: dict | None = None) -> dict:
    row = {"name": name, "ok": ok, "seen": seen}
    if not ok and fix:
        row["fix"] = fix
    if detail:
        row["detail"] = detail
    return row


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0] if text else ''}"


# ---- store --------------------------------------------------------------------------------------

def store_round_trip(store_root: str, role: str) -> dict:
    """Write, read back and delete one small object below `store_root`, as a stage's outputs would be."""
    uri = store.join(store_root, "doctor", f"probe-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}.txt")
    payload = f"hala doctor {uuid.uuid4().hex}".encode()
    fix = (f"give the {role} workers write access to the store {store_root}: "
           + ("a writable volume mounted at that path (HALA_STORE_ROOT / recipe store.root)" if store_root.startswith("file://")
              else "credentials allowed s3:PutObject, s3:GetObject and s3:DeleteObject on that bucket and prefix (HALA_S3_ENDPOINT for SeaweedFS / MinIO)"))
    step = "write"
    try:
        store.write_bytes(uri, payload)
        step = "read"
        back = store.read_bytes(uri)
        if back != payload:
            return check("store", False, f"store {store_root}: read back {len(back)} bytes that differ from the {len(payload)} written at {uri}",
                         fix, {"uri": uri})
        step = "delete"
        store.delete(uri)
        if store.exists(uri):
            return check("store", False, f"store {store_root}: {uri} is still there after delete", fix, {"uri": uri})
    except Exception as e:  # noqa: BLE001 - which step failed, in the store's own words, is the finding
        return check("store", False, f"store {store_root}: {step} of {uri} failed ({_first_line(e)})", fix, {"uri": uri, "step": step})
    return check("store", True, f"store {store_root}: write, read back and delete of a {len(payload)}-byte object ok")


# ---- hub ----------------------------------------------------------------------------------------

def _pinned(source: dict) -> str:
    """hf://org/name@rev[/path] from {id, revision}: the spelling hub.py reads."""
    uri, revision = source["id"], source.get("revision")
    if not revision:
        return uri
    parts = uri[len("hf://"):].split("/")
    i = 2 if parts[0] == "datasets" else 1
    parts[i] = f"{parts[i]}@{revision}"
    return "hf://" + "/".join(parts)


def _readable_on_hub(uri: str, field: str) -> None:
    """Ask the hub for one file's metadata at the pinned revision with the worker's token: a gated
    repo answers 403 on files even where its card is public. Nothing is downloaded."""
    from huggingface_hub import HfApi, get_hf_file_metadata, hf_hub_url

    rest, revision = hub.split_revision(uri[len("hf://"):].strip("/"))
    parts = rest.split("/")
    dataset = parts[0] == "datasets"
    repo = "/".join(parts[1:3]) if dataset else "/".join(parts[:2])
    path = "/".join(parts[3:]) if dataset else "config.json"
    access = hub._hub_access()
    with hub._refused(uri, field, repo, revision, path if dataset else None):
        if hub.is_glob(path):
            files = HfApi(endpoint=access["endpoint"]).list_repo_files(repo, repo_type="dataset", revision=revision, token=access["token"])
            matches = [f for f in files if fnmatch.fnmatch(f, path)]
            if not matches:
                raise HalaError("BadInput", f"{field} = {uri}: matches no file of {repo} at {revision or 'main'}")
            path = matches[0]
        url = hf_hub_url(repo, path, repo_type="dataset" if dataset else None, revision=revision, endpoint=access["endpoint"])
        get_hf_file_metadata(url, token=access["token"])


def hub_access(sources: list[dict]) -> dict:
    """Every hub source of the recipe readable at its pinned revision (through the mirror where one is set)."""
    if not sources:
        return check("hub", True, "no hub source in the recipe")
    failures, mirror = [], os.environ.get("HALA_HUB_MIRROR")
    for source in sources:
        uri, field = _pinned(source), source["field"]
        try:
            if mirror:
                hub.resolve_files(uri, field)  # the mirror answers from its directory: nothing is copied
            else:
                _readable_on_hub(uri, field)
        except HalaError as e:
            message = e.message if e.message.startswith(field) else f"{field} = {uri}: {e.message}"
            failures.append(message)
        except Exception as e:  # noqa: BLE001 - a failure the hub module does not classify is still a finding
            failures.append(f"{field} = {uri}: {_first_line(e)}")
    where = f"the hub mirror {mirror}" if mirror else ("the hub with the workers' HF_TOKEN" if os.environ.get("HF_TOKEN") else "the hub without a token")
    if failures:
        return check("hub", False, f"{len(failures)} of {len(sources)} hub sources unreadable through {where}: " + "; ".join(failures),
                     f"fix each source named: its recipe field's id or revision, or the workers' access ({GATED_FIX})",
                     {"failures": failures})
    return check("hub", True, f"{len(sources)} hub sources readable at their pinned revisions through {where}",
                 detail={"sources": [_pinned(s) for s in sources]})


# ---- scratch ------------------------------------------------------------------------------------

def scratch_space(needed_bytes: int, basis: str, role: str) -> dict:
    """Free disk under the work directory against what the plan says the pool's stages will hold there."""
    directory = work_root()
    existing = next(p for p in (directory, *directory.parents) if p.exists())  # it is created on first use
    free = shutil.disk_usage(existing).free
    seen = f"{free / GB:.1f} GB free at {directory}; the pool needs ~{needed_bytes / GB:.1f} GB ({basis})"
    fix = (f"give the {role} workers at least {needed_bytes / GB:.0f} GB of scratch at HALA_WORK_DIR "
           f"(a larger local volume), or point HALA_WORK_DIR at a disk that has it")
    return check("scratch", free >= needed_bytes, seen, fix,
                 {"free_bytes": free, "needed_bytes": needed_bytes, "directory": str(directory)})
