"""The vLLM engine in the infer worker's engine process, against a fake vllm (tests/fake_vllm).

No GPU and no vLLM here: what is checked is how the engine process treats vLLM. CUDA stays
untouched until vLLM starts its workers, and they spawn; vLLM's logs and errors reach the failure;
a dead engine is replaced before the next shard; vLLM gets a shard whole and batches it itself.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from temporalio.exceptions import ApplicationError

from hala_runners import store
from hala_runners.engines.service import EngineService

FAKE_VLLM = Path(__file__).resolve().parent / "fake_vllm"
ROOT = Path(__file__).resolve().parents[2]
MODEL = "hf://hala-tiny/command-a-translate"  # resolved from the hub mirror; the fake never reads it
TEMPLATE = "Translate: {text}"
DIES = "<the engine dies here>"  # fake_vllm/vllm/__init__.py: a prompt holding it kills the engine
ROOT_CAUSE = "CUDA error: an illegal memory access was encountered"  # what the fake EngineCore logs then


@pytest.fixture
def fake_vllm(tmp_path, monkeypatch) -> Path:
    """Engine processes started from now on import the fake vllm on a fake one-GPU node; returns
    the file each import of vllm and each LLM(...) is recorded in."""
    record = tmp_path / "vllm-calls.jsonl"
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(FAKE_VLLM), os.environ.get("PYTHONPATH")) if p))
    monkeypatch.setenv("FAKE_VLLM_RECORD", str(record))
    return record


def _calls(record: Path) -> list[dict]:
    return [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []


def _payload(root: Path, texts: list[str], name: str, engine: str = "vllm", batch_size: int = 2) -> dict:
    path = root / f"{name}.parquet"
    pq.write_table(pa.table({"id": [f"{name}-{i}" for i in range(len(texts))], "text": texts}), path)
    shard = store.publish_file(path, f"file://{root}/store/in/{name}.parquet", "dataset", rows=len(texts))
    return {"stage_key": "e" * 64, "output_prefix": f"file://{root}/store/out/{name}", "model": MODEL, "shard": shard,
            "engine": engine, "batch_size": batch_size, "max_new_tokens": 32, "tensor_parallel_size": 1,
            "prompt_template": TEMPLATE}


def _translations(result: dict) -> list[str]:
    return pq.read_table(store.fetch(result["translations"])).column("translation").to_pylist()


def _serve(activity_env, payloads: list[dict]) -> list[dict | ApplicationError]:
    """Each payload as one translate_shard activity on one EngineService, in turn: results or failures."""
    engines = EngineService()

    async def scenario():
        outcomes = []
        try:
            for payload in payloads:
                try:
                    outcomes.append(await activity_env.env.run(engines.translate, payload))
                except ApplicationError as e:
                    outcomes.append(e)
        finally:
            await engines.close()
        return outcomes

    return asyncio.run(scenario())


def test_the_engine_process_leaves_cuda_alone_until_vllm_and_vllm_spawns_its_workers(fake_vllm, activity_env, hub_mirror, work_dir):
    """torch.cuda.is_available() initialises CUDA without torch.cuda.is_initialized() saying so, so
    vLLM keeps its default (fork) and its EngineCore fails: "Cannot re-initialize CUDA in forked subprocess"."""
    [result] = _serve(activity_env, [_payload(work_dir, ["the dog", "a cat"], "auto", engine="auto")])

    assert not isinstance(result, ApplicationError), result
    assert result["engine"] == "vllm"  # auto: vLLM importable and a GPU visible (through NVML)
    calls = {c["call"]: c for c in _calls(fake_vllm)}
    for moment in ("import vllm", "LLM"):
        assert calls[moment]["fork_poisoned"] is False, (
            f"at {moment}, CUDA was already initialised in the engine process: a worker vLLM forks could not use it")
        assert calls[moment]["multiproc_method"] == "spawn", f"at {moment}: {calls[moment]}"


def test_a_dead_engine_fails_its_shard_with_the_cause_and_the_next_shard_gets_a_fresh_one(fake_vllm, activity_env, hub_mirror, work_dir):
    dying = _payload(work_dir, ["one", "two", "three", f"four {DIES}", "five"], "dying")
    healthy = _payload(work_dir, ["six", "seven", "eight"], "healthy")

    failed, served = _serve(activity_env, [dying, healthy])

    assert isinstance(failed, ApplicationError), failed
    assert failed.type == "RunnerFailed" and not failed.non_retryable
    # vLLM's own exception and, from the engine's stderr, the cause its EngineCore logged before it died.
    assert failed.message.startswith("EngineDeadError: EngineCore encountered an issue"), failed.message
    assert ROOT_CAUSE in failed.message, failed.message
    assert not isinstance(served, ApplicationError), served
    assert served["rows"] == 3 and _translations(served) == [TEMPLATE.format(text=t).upper() for t in ("six", "seven", "eight")]
    engines = [c["pid"] for c in _calls(fake_vllm) if c["call"] == "LLM"]
    assert len(engines) == 2 and engines[0] != engines[1], "the next shard must run on a freshly started engine"
    with pytest.raises(ProcessLookupError):
        os.killpg(engines[0], 0)  # the dead engine's process group is gone
    # Chunks that finished before the engine died stay for the retry ("five" finished before "four ...").
    chunks = sorted(p.name for p in (work_dir / "store" / "out" / "dying" / "partial").iterdir())
    assert chunks == ["chunk-00000.parquet", "chunk-00002.parquet"]


def test_vllm_gets_the_whole_shard_in_one_call_and_the_chunks_are_still_checkpointed(fake_vllm, activity_env, hub_mirror, work_dir):
    texts = [f"sentence {'long ' * (9 - i)}{i}" for i in range(10)]  # the fake finishes the last rows first

    [result] = _serve(activity_env, [_payload(work_dir, texts, "whole", batch_size=4)])

    assert not isinstance(result, ApplicationError), result
    submitted = [c for c in _calls(fake_vllm) if c["call"] in ("chat", "enqueue_chat")]
    assert [c["prompts"] for c in submitted] == [10], "one call for the whole shard; vLLM's scheduler batches it"
    assert _translations(result) == [TEMPLATE.format(text=t).upper() for t in texts]
    assert result["generated_tokens"] == sum(len(TEMPLATE.format(text=t).split()) for t in texts)
    chunks = sorted(p.name for p in (work_dir / "store" / "out" / "whole" / "partial").iterdir())
    assert chunks == ["chunk-00000.parquet", "chunk-00001.parquet", "chunk-00002.parquet"]


def test_the_infer_image_sets_the_environment_the_engine_service_gives_its_engines():
    """One list, two places: a worker in the image, or started locally, runs engines alike."""
    from hala_runners.engines import ENGINE_ENV

    dockerfile = (ROOT / "images" / "infer" / "Dockerfile").read_text().replace("\\\n", " ")
    image_env = dict(re.findall(r"(\w+)=(\S+)", " ".join(line for line in dockerfile.splitlines() if line.startswith("ENV "))))
    assert {k: image_env.get(k) for k in ENGINE_ENV} == ENGINE_ENV


def test_a_prompt_longer_than_max_model_len_is_quarantined_and_the_engine_lives_on(fake_vllm, activity_env, hub_mirror, work_dir, monkeypatch):
    """vLLM refuses such a prompt at enqueue (VLLMValidationError) and aborts the rest of the call,
    its engine unharmed: the row is quarantined, the shard completes, the next shard uses the same engine."""
    monkeypatch.setenv("HALA_VLLM_MAX_MODEL_LEN", "20")
    too_long = "word " * 40
    first = _payload(work_dir, ["one", "two", too_long, "four", "five"], "poison")
    second = _payload(work_dir, ["six"], "after")

    served, after = _serve(activity_env, [first, second])

    assert not isinstance(served, ApplicationError), served
    assert (served["rows"], served["quarantined_rows"]) == (5, 1)
    assert _translations(served) == [TEMPLATE.format(text=t).upper() for t in ("one", "two", "four", "five")]
    [row] = pq.read_table(store.fetch(served["quarantine"])).to_pylist()
    assert (row["id"], row["error_type"], row["attempts"]) == ("poison-2", "VLLMValidationError", 1)
    assert "longer than the maximum model length of 20" in row["error"]
    assert not isinstance(after, ApplicationError) and after["quarantined_rows"] == 0
    assert len([c for c in _calls(fake_vllm) if c["call"] == "LLM"]) == 1, "one engine served both shards"
