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
