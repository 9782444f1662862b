"""The translation cache's write side (contracts/translation-cache.ts): a translated shard, once
published, is registered by a pointer named by its sha256 under the namespace's parts prefix, so
later stages find its rows by content (model, prompt, engine, max_new_tokens, source text).

Written right after the shard is published: a crash mid fan-out loses no finished shard. The pointer
is content-addressed, so writing it twice (a retry, another campaign) writes the same file.
"""
from __future__ import annotations

import json

from . import contract, store


def register_part(cache: dict | None, stage_key: str, translations: dict) -> None:
    """Write `<parts_prefix>/<sha256>.json` naming the published shard and who produced it (lineage)."""
    if not cache:
        return
    pointer = contract.validate_translation_cache_part(
        {"translations": translations, "stage_key": stage_key, "campaign_id": cache["campaign_id"]})
    uri = store.join(cache["parts_prefix"], f"{translations['sha256']}.json")
    store.write_bytes(uri, json.dumps(pointer, sort_keys=True).encode())
