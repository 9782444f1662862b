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
    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda repo, revision=None, **_: asked.append((repo, revision)) or "/m")
    monkeypatch.setattr(huggingface_hub, "hf_hub_download",
                        lambda repo, file, repo_type=None, revision=None, **_: asked.append((repo, file, revision)) or "/d")
    hub.resolve("hf://CohereLabs/command-a@" + "c" * 40)
    hub.resolve("hf://datasets/Helsinki-NLP/opus-100@v1/en-ar/test-00000-of-00001.parquet")
    hub.resolve("hf://LiquidAI/LFM2-350M")
    assert asked == [("CohereLabs/command-a", "c" * 40),
                     ("Helsinki-NLP/opus-100", "en-ar/test-00000-of-00001.parquet", "v1"),
                     ("LiquidAI/LFM2-350M", None)]


# ---- the hub refusing a source (issue 22, finding 2) -------------------------------------------

class _HubStub:
    """A loopback stand-in for the hub API: answers each path prefix with a status and the hub's
    X-Error-Code header, and records what it was asked (path, Authorization). huggingface_hub's real
    client and its real error mapping run against it; nothing leaves the machine."""

    def __init__(self):
        import http.server
        import threading

        self.answers: dict[str, tuple[int, str | None]] = {}
        self.seen: list[tuple[str, str | None]] = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                stub.seen.append((self.path, self.headers.get("Authorization")))
                status, code = next((a for p, a in stub.answers.items() if self.path.startswith(p)), (404, None))
                self.send_response(status)
                if code:
                    self.send_header("X-Error-Code", code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = _answer

            def log_message(self, *args):  # quiet
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def hub_stub(tmp_path, monkeypatch):
    import huggingface_hub.constants as hf_constants

    stub = _HubStub()
    monkeypatch.delenv("HALA_HUB_MIRROR", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", stub.endpoint)
    # The suite runs offline (conftest.py); this test's only "hub" is the loopback stub above.
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf-cache"))
    yield stub
    stub.server.shutdown()


def _refusal(uri, field=None):
    """What the activity reports for a failed resolve: the error as errors.classify types it."""
    from hala_runners.errors import classify

    with pytest.raises(Exception) as info:
        hub.resolve(uri, field=field)
    return classify(info.value)


GATED_FIX = "accept the model's terms on the hub and give the workers a token: Secret hala-hf / HF_TOKEN"


def test_a_gated_teacher_is_bad_input_naming_the_field_repo_status_and_fix_and_the_token_is_sent(hub_stub, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_workers_token")
    hub_stub.answers["/api/models/CohereLabs/command-a/"] = (403, "GatedRepo")
    failure = _refusal("hf://CohereLabs/command-a", field="inputs.teacher")
    assert failure.type == "BadInput" and failure.non_retryable, failure.message
    for words in ("inputs.teacher", "hf://CohereLabs/command-a", "repo CohereLabs/command-a", "HTTP 403", GATED_FIX):
        assert words in failure.message, (words, failure.message)
    assert hub_stub.seen and all(auth == "Bearer hf_workers_token" for _, auth in hub_stub.seen)


@pytest.mark.parametrize("uri, answer, status, fix", [
    # The hub answers 401 for a repo it will not show an anonymous caller: missing, private or gated.
    ("hf://org/private", ("/api/models/org/private/", (401, None)), "HTTP 401", "check the repo id"),
    ("hf://org/missing", ("/api/models/org/missing/", (404, "RepoNotFound")), "HTTP 404", "check the repo id"),
    ("hf://org/model@v9", ("/api/models/org/model/revision/v9", (404, "RevisionNotFound")), "HTTP 404", "check the revision"),
    ("hf://datasets/org/bench/data/x.parquet", ("/datasets/org/bench/resolve/", (404, "EntryNotFound")), "HTTP 404", "check the path"),
    ("hf://datasets/org/gated/data/x.parquet", ("/datasets/org/gated/resolve/", (403, "GatedRepo")), "HTTP 403", GATED_FIX),
    ("hf://org/forbidden", ("/api/models/org/forbidden/", (403, None)), "HTTP 403", GATED_FIX),
])
def test_refused_or_missing_sources_are_bad_input_with_their_fix(hub_stub, monkeypatch, uri, answer, status, fix):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    hub_stub.answers[answer[0]] = answer[1]
    failure = _refusal(uri, field="stages.sft.students[0].base")
    assert failure.type == "BadInput" and failure.non_retryable, failure.message
    for words in ("stages.sft.students[0].base", uri, status, fix):
        assert words in failure.message, (words, failure.message)
    assert all(auth is None for _, auth in hub_stub.seen)  # no token set: none invented


def test_a_hub_outage_stays_retryable(hub_stub):
    hub_stub.answers["/api/models/org/model/"] = (503, None)
    failure = _refusal("hf://org/model")
    assert failure.type == "StorageUnavailable" and not failure.non_retryable, failure.message


def test_a_hub_refusal_raised_outside_hub_resolve_is_bad_input_too(hub_stub):
    """transformers or HfApi reaching the hub directly: errors.classify types the hub's own exception."""
    from huggingface_hub import HfApi

    from hala_runners.errors import classify

    hub_stub.answers["/api/models/org/gated"] = (403, "GatedRepo")
    with pytest.raises(Exception) as info:
        HfApi(endpoint=hub_stub.endpoint).model_info("org/gated")
    failure = classify(info.value)
    assert failure.type == "BadInput" and failure.non_retryable, failure.message
    for words in ("repo org/gated", "HTTP 403", GATED_FIX):
        assert words in failure.message, (words, failure.message)


def test_a_models_small_files_are_fetched_without_its_weights(monkeypatch):
    """What `hala doctor`'s FP8 check reads of the teacher: config and tokenizer, never the weights."""
    import huggingface_hub

    asked = []
    monkeypatch.delenv("HALA_HUB_MIRROR", raising=False)
    monkeypatch.setattr(huggingface_hub, "snapshot_download",
                        lambda repo, revision=None, allow_patterns=None, **_: asked.append((repo, revision, allow_patterns)) or "/m")
    hub.resolve_small_files("hf://CohereLabs/command-a@" + "c" * 40, "inputs.teacher")
    [(repo, revision, patterns)] = asked
    assert (repo, revision) == ("CohereLabs/command-a", "c" * 40)
    assert "*.json" in patterns and not any("safetensors" in p or p == "*" for p in patterns)
