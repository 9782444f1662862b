"""Resolve model and dataset sources (hf://, file://, s3://) to local paths.

hf://org/name                      -> a model repo snapshot
hf://datasets/org/name/path.parquet -> one file of a dataset repo
With HALA_HUB_MIRROR set (tests, air-gapped clusters) the same ids are read from that directory,
laid out as <mirror>/<org>/<name> and <mirror>/datasets/<org>/<name>/<path>; otherwise the real
Hugging Face hub is used through huggingface_hub.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import store
from .errors import bad_input


def _mirror() -> Path | None:
    value = os.environ.get("HALA_HUB_MIRROR")
    return Path(value) if value else None


def resolve(uri: str) -> Path:
    if not uri.startswith("hf://"):
        return store.fetch(uri)
    rest = uri[len("hf://"):].strip("/")
    if ".." in rest.split("/"):
        raise bad_input(f"{uri!r}: '..' segments are not allowed")
    mirror = _mirror()
    if mirror is not None:
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
        return Path(hf_hub_download(f"{parts[1]}/{parts[2]}", "/".join(parts[3:]), repo_type="dataset"))
    if len(parts) != 2:
        raise bad_input(f"{uri}: model URIs are hf://<org>/<name>")
    return Path(snapshot_download(rest))
