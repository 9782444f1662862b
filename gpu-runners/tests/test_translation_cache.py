"""The translation cache's write side: translate_shard registers what it publishes (translation_cache.py)."""
from __future__ import annotations

import json

import pyarrow.parquet as pq

from hala_runners import contract, store
from hala_runners.runners.translate import Config, translate_shard
from test_translate import KEY, StubEngine, _payload, _shard


def test_a_published_shard_is_registered_by_a_pointer_named_by_its_digest(work_dir):
    texts = [f"sentence number {i}" for i in range(5)]
    parts = f"file://{work_dir}/store/translation-cache/{'c' * 64}/parts"
    payload = {**_payload(work_dir, _shard(work_dir, texts)), "cache": {"parts_prefix": parts, "campaign_id": "tiny-1"}}
    # The exported contract carries the field the workflow sends (contracts/gpu-activities.ts).
    assert contract._spec("translate_shard")["input"]["properties"]["cache"]["required"] == ["parts_prefix", "campaign_id"]

    out = translate_shard(Config(**payload), StubEngine())

    pointer_uri = store.join(parts, f"{out['translations']['sha256']}.json")
    pointer = json.loads(store.read_bytes(pointer_uri))
    assert pointer == {"translations": out["translations"], "stage_key": KEY, "campaign_id": "tiny-1"}
    # The pointer names exactly the parquet the shard published, rows and all.
    table = pq.read_table(store.fetch(pointer["translations"]))
    assert table.column("translation").to_pylist() == [t.upper() for t in texts]


def test_without_a_cache_target_nothing_is_registered(work_dir):
    translate_shard(Config(**_payload(work_dir, _shard(work_dir, ["hello"]))), StubEngine())
    assert not (work_dir / "store" / "translation-cache").exists()


def test_a_pointer_that_breaks_the_contract_is_never_written(work_dir):
    import pytest

    from hala_runners import translation_cache

    parts = f"file://{work_dir}/parts"
    with pytest.raises(RuntimeError, match="stage_key"):
        translation_cache.register_part({"parts_prefix": parts, "campaign_id": "c"}, "not-a-key", {"uri": "file:///x", "sha256": "a" * 64, "kind": "dataset", "bytes": 1})
    assert not (work_dir / "parts").exists()
