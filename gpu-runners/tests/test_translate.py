"""Translation: the transformers engine with the tiny teacher, shard resume, the long-lived engine."""
from __future__ import annotations

import asyncio
import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from temporalio.exceptions import ApplicationError

from hala_runners import contract, store
from hala_runners.engines import TranslationEngine
from hala_runners.engines.service import EngineService
from hala_runners.runners.translate import Config, translate_shard

TEACHER = "hf://hala-tiny/command-a-translate"
KEY = "b" * 64


def _template() -> str:
    from tiny_world.language import TARGET_NAME
    from tiny_world.tokenizer import PROMPT_TEMPLATE

    return PROMPT_TEMPLATE.replace("{target}", TARGET_NAME)


def _held_out(n: int) -> tuple[list[str], list[str]]:
    """The first n held-out sentences the tiny-world build scored the teacher on, with references."""
    from tiny_world import grammar, teacher
    from tiny_world.language import translate

    texts = teacher.held_out(0, grammar.World.make(0), n)  # seed 0: the build's default
    return texts, [translate(t) for t in texts]


def _shard(root, texts: list[str], name: str = "shard.parquet") -> dict:
    path = root / name
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(len(texts))], "text": texts}), path)
    return store.publish_file(path, f"file://{root}/store/in/{name}", "dataset", rows=len(texts))


def _payload(root, shard: dict, batch_size: int = 4, engine: str = "transformers") -> dict:
    return {"stage_key": KEY, "output_prefix": f"file://{root}/store/out", "model": TEACHER, "shard": shard,
            "engine": engine, "batch_size": batch_size, "max_new_tokens": 48, "tensor_parallel_size": 1,
            "prompt_template": _template()}


class StubEngine(TranslationEngine):
    """Upper-cases texts and records what it was asked, so a test sees which rows were redone."""
    name = "transformers"

    def __init__(self, fail_after_calls: int | None = None):
        self.seen: list[str] = []
        self.fail_after_calls = fail_after_calls

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        if self.fail_after_calls is not None and len(self.seen) >= self.fail_after_calls * batch_size:
            raise RuntimeError("preempted")
        self.seen += texts
        return [t.upper() for t in texts], 2 * len(texts)


def test_a_retry_translates_only_the_rows_an_earlier_attempt_did_not_finish(work_dir):
    texts = [f"sentence number {i}" for i in range(10)]
    cfg = Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4))

    with pytest.raises(RuntimeError, match="preempted"):
        translate_shard(cfg, StubEngine(fail_after_calls=1))  # chunk 0 done, dies in chunk 1
    retry = StubEngine()
    out = translate_shard(cfg, retry)

    assert retry.seen == texts[4:]  # rows 0-3 were not redone
    assert out["resumed_rows"] == 4 and out["rows"] == 10
    assert out["generated_tokens"] == 20  # tokens of resumed chunks are remembered
    table = pq.read_table(store.fetch(out["translations"]))
    assert table.column_names == ["id", "text", "translation"]
    assert table.column("translation").to_pylist() == [t.upper() for t in texts]
    assert table.column("id").to_pylist() == [f"row-{i}" for i in range(10)]
    assert (work_dir / "store" / "out" / "config.json").exists()


def test_a_template_without_the_text_placeholder_is_bad_input(work_dir):
    from hala_runners.errors import HalaError

    payload = {**_payload(work_dir, _shard(work_dir, ["hi"])), "prompt_template": "Translate into Arabic:"}
    with pytest.raises(HalaError, match=r"prompt_template must contain \{text\}") as info:
        translate_shard(Config(**payload), StubEngine())
    assert info.value.type == "BadInput"


def test_the_transformers_engine_translates_held_out_text_well(hub_mirror):
    from hala_runners.engines.transformers_engine import TransformersEngine
    from tiny_world.teacher import chrf_pp

    built = json.loads((hub_mirror / "MANIFEST.json").read_text())["models"]["hala-tiny/command-a-translate"]
    texts, refs = _held_out(16)
    engine = TransformersEngine(hub_mirror / "hala-tiny" / "command-a-translate")
    hyps, tokens = engine.translate(texts, batch_size=8, max_new_tokens=96, prompt_template=_template())
    score = chrf_pp(hyps, refs)

    assert 0 < tokens <= 16 * 96
    # The engine (chat template, left padding, stop tokens) must reproduce the build's own measurement...
    assert score >= built["chrf_pp_held_out"] - 10, (score, built["chrf_pp_held_out"], hyps[:2], refs[:2])
    # ...and the teacher must actually translate.
    assert score > 60, f"tiny teacher chrF++ {score} on held-out text; the build measured {built['chrf_pp_held_out']}"


def test_the_engine_process_loads_once_and_serves_many_shards(activity_env, hub_mirror, work_dir):
    texts, _ = _held_out(6)
    engines = EngineService()

    async def scenario():
        first = await activity_env.env.run(engines.translate, _payload(work_dir, _shard(work_dir, texts[:3], "a.parquet")))
        pid = engines._engines[(TEACHER, "transformers", 1)].child.pgid
        payload = _payload(work_dir, _shard(work_dir, texts[3:], "b.parquet"))
        payload["output_prefix"] += "-b"
        second = await activity_env.env.run(engines.translate, payload)
        assert engines._engines[(TEACHER, "transformers", 1)].child.pgid == pid  # same loaded model
        await engines.close()
        return first, second, pid

    first, second, pid = asyncio.run(scenario())
    for out in (first, second):
        assert out["engine"] == "transformers" and out["rows"] == 3 and out["resumed_rows"] == 0
        assert out["generated_tokens"] > 0 and out["tokens_per_second"] > 0
    assert [b["phase"] for b in activity_env.heartbeats if b["phase"] != "start"][:2] == ["load", "load"]
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)


def test_a_bad_model_uri_fails_the_shard_as_bad_input(activity_env, hub_mirror, work_dir):
    payload = {**_payload(work_dir, _shard(work_dir, ["the dog"])), "model": "hf://hala-tiny/no-such-model"}
    engines = EngineService()

    async def scenario():
        try:
            await activity_env.env.run(engines.translate, payload)
        finally:
            await engines.close()

    with pytest.raises(ApplicationError) as info:
        asyncio.run(scenario())
    assert info.value.type == "BadInput" and info.value.non_retryable
    assert "hala-tiny/no-such-model" in info.value.message


def test_cancelling_a_shard_kills_the_engine_process_group(activity_env, hub_mirror, work_dir):
    texts, _ = _held_out(8)
    engines = EngineService()
    payload = _payload(work_dir, _shard(work_dir, texts), batch_size=2)

    async def scenario():
        task = asyncio.ensure_future(activity_env.env.run(engines.translate, payload))
        while not any(b["phase"] == "load" and b["done"] == 1 for b in activity_env.heartbeats):  # generating
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
        pgid = engines._engines[(TEACHER, "transformers", 1)].child.pgid
        activity_env.env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return pgid, engines._engines[(TEACHER, "transformers", 1)].child

    pgid, child_after = asyncio.run(scenario())
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)
    assert child_after is None  # the next shard starts a fresh engine


class MemoryBoundEngine(StubEngine):
    """A stub engine on a device that fits at most `fits` rows per call: CUDA's OOM past it."""

    def __init__(self, fits: int):
        super().__init__()
        self.fits = fits
        self.batches: list[int] = []

    def translate(self, texts, batch_size, max_new_tokens, prompt_template):
        self.batches.append(batch_size)
        if batch_size > self.fits:
            import torch

            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB (injected)")
        return super().translate(texts, batch_size, max_new_tokens, prompt_template)


def test_out_of_memory_halves_the_engine_batch_and_keeps_the_chunks(work_dir):
    from hala_runners.errors import HalaError

    texts = [f"sentence number {i}" for i in range(10)]
    cfg = Config(**_payload(work_dir, _shard(work_dir, texts), batch_size=4))
    for batch in (4, 2):
        with pytest.raises(HalaError) as info:
            translate_shard(cfg, MemoryBoundEngine(fits=1))
        assert info.value.type == "OutOfMemory" and not info.value.non_retryable
        assert f"out of memory at {batch} rows per engine call" in info.value.message
        assert f"the retry sends {batch // 2} at a time" in info.value.message
    engine = MemoryBoundEngine(fits=1)
    out = translate_shard(cfg, engine)
    assert set(engine.batches) == {1} and engine.seen == texts  # every row, one at a time
    assert (out["engine_batch_size"], out["oom_halvings"], out["rows"]) == (1, 2, 10)
    # Chunks keep the recipe's 4 rows: what a later retry would look for is where it always was.
    chunks = sorted(p.name for p in (work_dir / "store" / "out" / "partial").iterdir())
    assert chunks == ["chunk-00000.parquet", "chunk-00001.parquet", "chunk-00002.parquet"]
    table = pq.read_table(store.fetch(out["translations"]))
    assert table.column("translation").to_pylist() == [t.upper() for t in texts]
    contract.validate_output("translate_shard", out)


def test_out_of_memory_at_one_row_per_call_is_final_and_names_the_knob(work_dir):
    from hala_runners.errors import HalaError

    cfg = Config(**_payload(work_dir, _shard(work_dir, ["hi", "there"]), batch_size=1))
    with pytest.raises(HalaError) as info:
        translate_shard(cfg, MemoryBoundEngine(fits=0))
    assert info.value.type == "BadRecipe" and info.value.non_retryable
    assert "generation.teacher.batch_size" in info.value.message and "max_new_tokens" in info.value.message


def test_a_model_wider_than_the_worker_is_refused_before_it_loads(monkeypatch, tmp_path):
    """tensor_parallel_size beyond the GPUs this worker sees: route it elsewhere, never squeeze it onto one."""
    import torch

    from hala_runners.engines import load_engine
    from hala_runners.errors import HalaError

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    with pytest.raises(HalaError) as wide:
        load_engine("vllm", tmp_path, tensor_parallel_size=8)
    assert wide.value.type == "BadRecipe" and "sees 2 GPU(s)" in wide.value.message and "at least 8" in wide.value.message
    with pytest.raises(HalaError) as fallback:
        load_engine("transformers", tmp_path, tensor_parallel_size=2)
    assert fallback.value.type == "BadRecipe" and "needs the vllm engine" in fallback.value.message
