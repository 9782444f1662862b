"""hub: hf:// ids against an offline mirror, and globs over sharded dataset splits."""
from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hala_runners import hub
from hala_runners.errors import HalaError


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    split = tmp_path / "mirror" / "datasets" / "org" / "bench" / "data"
    split.mkdir(parents=True)
    for k in (1, 0):  # written out of order: resolution sorts by name
        pq.write_table(pa.table({"q": [f"row {k}"]}), split / f"test-{k:05d}-of-00002.parquet")
    pq.write_table(pa.table({"q": ["train"]}), split / "train-00000-of-00001.parquet")
    monkeypatch.setenv("HALA_HUB_MIRROR", str(tmp_path / "mirror"))
    return split


def test_a_glob_in_the_file_name_gives_every_shard_of_the_split_in_order(mirror):
    files = hub.resolve_files("hf://datasets/org/bench/data/test-*.parquet")
    assert [f.name for f in files] == ["test-00000-of-00002.parquet", "test-00001-of-00002.parquet"]


def test_a_plain_uri_is_one_file(mirror):
    assert hub.resolve_files("hf://datasets/org/bench/data/train-00000-of-00001.parquet") == [
        mirror / "train-00000-of-00001.parquet"]


@pytest.mark.parametrize("uri, message", [
    ("hf://datasets/org/bench/data/valid-*.parquet", "matches no file"),
    ("hf://datasets/org/*/data/test-*.parquet", "only the file name"),
    ("hf://datasets/org/nothing/data/test-*.parquet", "not in the hub mirror"),
])
def test_bad_globs_name_the_uri_and_the_fix(mirror, uri, message):
    with pytest.raises(HalaError) as info:
        hub.resolve_files(uri)
    assert info.value.type == "BadInput" and message in info.value.message


def test_a_pinned_revision_reads_the_mirror_snapshot(mirror):
    assert hub.resolve_files("hf://datasets/org/bench@0123abc/data/train-00000-of-00001.parquet") == [
        mirror / "train-00000-of-00001.parquet"]


def test_a_pinned_revision_is_what_the_hub_download_asks_for(monkeypatch):
    """The hub itself cannot be reached here: its download functions stand in, recording what they are asked."""
    import huggingface_hub

    asked = []
    monkeypatch.delenv("HALA_HUB_MIRROR", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, revision=None: asked.append((repo, revision)) or "/m")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo, file, repo_type=None, revision=None: asked.append((repo, file, revision)) or "/d")
    hub.resolve("hf://CohereLabs/command-a@" + "c" * 40)
    hub.resolve("hf://datasets/Helsinki-NLP/opus-100@v1/en-ar/test-00000-of-00001.parquet")
    hub.resolve("hf://LiquidAI/LFM2-350M")
    assert asked == [("CohereLabs/command-a", "c" * 40),
                     ("Helsinki-NLP/opus-100", "en-ar/test-00000-of-00001.parquet", "v1"),
                     ("LiquidAI/LFM2-350M", None)]


def test_the_hub_token_is_HF_TOKEN_the_variable_deploy_fills_from_hala_hf(monkeypatch):
    """deploy/ passes Secret hala-hf as HF_TOKEN, the variable the TypeScript revision lookup reads
    (activities/hub-revision-lookup.ts); every hf:// download here goes through huggingface_hub, which reads it."""
    from huggingface_hub import get_token

    monkeypatch.setenv("HF_TOKEN", "hf_from_hala_hf")
    assert get_token() == "hf_from_hala_hf"
