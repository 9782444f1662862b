"""store.fetch from a real S3 (SeaweedFS): a local copy that verifies is reused, not downloaded again
(issue 22, finding 3b). Every GetObject the store's clients send is counted by key."""
from __future__ import annotations

import os

import pytest

from hala_runners import store


class Calls:
    """What the store's S3 clients were asked: the key of every GetObject, in order; and the keys
    whose download is made to fail (a connection lost mid-download)."""

    def __init__(self):
        self.gets: list[str] = []
        self.fail: set[str] = set()

    def clear(self):
        self.gets.clear()


@pytest.fixture
def calls(monkeypatch):
    seen = Calls()
    real = store._s3

    def counted():
        client = real()
        client.meta.events.register("provide-client-params.s3.GetObject",
                                    lambda params, **_: seen.gets.append(params["Key"]))
        download_file = client.download_file

        def failing(bucket, key, path, **kw):
            if key in seen.fail:
                raise ConnectionError(f"connection reset while reading {key} (injected)")
            return download_file(bucket, key, path, **kw)

        client.download_file = failing
        return client

    monkeypatch.setattr(store, "_s3", counted)
    return seen


def _model(root, weights: bytes = b"\x07" * 70_000):
    (root / "sub").mkdir(parents=True, exist_ok=True)
    (root / "config.json").write_text('{"model_type": "lfm2"}')
    (root / "tokenizer.json").write_text('{"مرحبا": 1}')
    (root / "sub" / "model.safetensors").write_bytes(weights)
    return root


def _key(uri: str) -> str:
    return store.split(uri)[2]


def test_a_model_fetched_again_reuses_the_verified_local_copy(s3_root, tmp_path, calls):
    uri = store.join(s3_root, "models", "translator")
    ref = store.publish_dir(_model(tmp_path / "model"), uri, "model")
    first = store.fetch(ref)
    files = {f"{_key(uri)}/{rel}" for rel in ("config.json", "tokenizer.json", "sub/model.safetensors")}
    assert files <= set(calls.gets)

    calls.clear()
    again = store.fetch(ref)  # an engine restart asking for the same model
    assert again == first
    assert calls.gets == [f"{_key(uri)}/{store.MANIFEST}"], "only the manifest is read; no file is downloaded again"
    calls.clear()
    assert store.fetch(uri) == first and calls.gets == [f"{_key(uri)}/{store.MANIFEST}"]  # by URI (engines) too


def test_a_partial_or_corrupt_local_copy_is_downloaded_again(s3_root, tmp_path, calls):
    uri = store.join(s3_root, "models", "student")
    ref = store.publish_dir(_model(tmp_path / "model"), uri, "model")
    local = store.fetch(ref)
    (local / "sub" / "model.safetensors").write_bytes(b"\x07" * 1000)  # truncated: wrong size
    (local / "config.json").write_text('{"model_type": "xxxx"}')  # same size, other bytes: digest differs
    (local / "tokenizer.json").unlink()  # missing
    (local / "stray.bin").write_bytes(b"left by someone")

    calls.clear()
    store.fetch(ref)  # verify() passes: the copy is whole again
    assert sorted(calls.gets) == sorted(f"{_key(uri)}/{rel}" for rel in
                                  (store.MANIFEST, "config.json", "tokenizer.json", "sub/model.safetensors"))
    assert not (local / "stray.bin").exists()


def test_an_interrupted_download_resumes_with_the_files_it_had(s3_root, tmp_path, calls):
    uri = store.join(s3_root, "models", "teacher")
    ref = store.publish_dir(_model(tmp_path / "model"), uri, "model")
    weights = f"{_key(uri)}/sub/model.safetensors"
    calls.fail.add(weights)
    with pytest.raises(ConnectionError):
        store.fetch(ref)
    calls.fail.clear()
    calls.clear()
    store.fetch(ref)
    # Files go in name order: config.json arrived whole before the failure and is not read again.
    assert sorted(calls.gets) == sorted([f"{_key(uri)}/{store.MANIFEST}", weights, f"{_key(uri)}/tokenizer.json"])


def test_a_republished_model_downloads_only_what_changed(s3_root, tmp_path, calls):
    uri = store.join(s3_root, "models", "forced")
    store.publish_dir(_model(tmp_path / "v1"), uri, "model")
    local = store.fetch(uri)
    ref = store.publish_dir(_model(tmp_path / "v2", weights=b"\x08" * 70_000), uri, "model")  # same size
    calls.clear()
    assert store.fetch(ref) == local
    assert sorted(calls.gets) == sorted([f"{_key(uri)}/{store.MANIFEST}", f"{_key(uri)}/sub/model.safetensors"])
    assert (local / "sub" / "model.safetensors").read_bytes() == b"\x08" * 70_000


def test_a_file_is_reused_until_it_is_overwritten(s3_root, calls):
    uri = store.join(s3_root, "checkpoints", "latest.json")
    store.write_bytes(uri, b'{"step": 4}')
    assert store.fetch(uri).read_bytes() == b'{"step": 4}'
    calls.clear()
    assert store.fetch(uri).read_bytes() == b'{"step": 4}' and calls.gets == []
    store.write_bytes(uri, b'{"step": 8}')  # same size, new content: a new ETag
    assert store.fetch(uri).read_bytes() == b'{"step": 8}' and calls.gets == [_key(uri)]


def test_a_missing_prefix_is_bad_input(s3_root):
    from hala_runners.errors import HalaError

    with pytest.raises(HalaError) as info:
        store.fetch(store.join(s3_root, "nothing", "here"))
    assert info.value.type == "BadInput" and "does not exist" in info.value.message
    assert os.environ["HALA_S3_ENDPOINT"].startswith("http://127.0.0.1:")


def test_a_directory_published_by_several_processes_is_complete_only_once_sealed(s3_root, tmp_path, calls):
    """A sharded checkpoint (issue 22, finding 6): each rank uploads its own files, one seals it; the
    result is the same artifact, digest included, as one process publishing the whole directory."""
    local = _model(tmp_path / "checkpoint-4")
    (local / "rng_state_1.pth").write_bytes(b"\x01" * 300)
    uri = store.join(s3_root, "sft", "checkpoints", "checkpoint-4")
    rank1 = store.publish_files(local, ["rng_state_1.pth"], uri)
    rank0 = store.publish_files(local, ["config.json", "sub/model.safetensors", "tokenizer.json"], uri)
    assert not store.is_complete_dir(uri), "unfinished until sealed"
    ref = store.seal_dir(uri, {**rank0, **rank1}, "checkpoint")
    assert store.is_complete_dir(uri)
    whole = store.publish_dir(local, store.join(s3_root, "whole"), "checkpoint")
    assert (ref["sha256"], ref["bytes"], ref["files"]) == (whole["sha256"], whole["bytes"], whole["files"])
    assert (store.fetch(ref) / "rng_state_1.pth").read_bytes() == b"\x01" * 300  # verifies the digest

    store.unseal_dir(uri)  # a retry about to rewrite the files
    assert not store.is_complete_dir(uri)


def test_ranks_resuming_together_download_the_checkpoint_once(s3_root, tmp_path, calls):
    """Every rank of a node fetches the resume checkpoint; the node's cache serves all but the first."""
    from concurrent.futures import ThreadPoolExecutor

    uri = store.join(s3_root, "sft", "checkpoints", "checkpoint-8")
    store.publish_dir(_model(tmp_path / "ckpt"), uri, "checkpoint")
    with ThreadPoolExecutor(4) as ranks:
        paths = set(ranks.map(lambda _: store.fetch(uri), range(4)))
    assert len(paths) == 1
    weights = f"{_key(uri)}/sub/model.safetensors"
    assert calls.gets.count(weights) == 1, calls.gets
