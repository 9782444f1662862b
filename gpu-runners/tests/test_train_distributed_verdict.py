"""runners/distributed.py's bookkeeping without launching ranks: which rank's error names a failed run,
an out-of-memory rank recorded once by the launcher (not the rank), and when one process is used.

    PYTHONPATH=gpu-runners python -m pytest gpu-runners/tests/test_train_distributed_verdict.py -q
"""
from __future__ import annotations

import json

import pytest
import torch
from train_world import ddp_config, train_config

from hala_runners import store
from hala_runners.errors import HalaError
from hala_runners.runners import distributed, train


def _err(kind: str, message: str = "m") -> dict:
    return {"event": "error", "type": kind, "message": message}


def test_verdict_names_the_cause_not_its_consequences():
    ok = {0: {"event": "result", "result": {"steps": 8}}, 1: {"event": "result", "result": {}}}
    assert distributed.verdict(2, ok, {}, False) == {"steps": 8}

    cases = [
        # rank 1 out of memory, rank 0 saw the broken connection in the same poll
        (({0: _err("RunnerFailed", "Connection closed by peer"), 1: _err("OutOfMemory", "CUDA out of memory")},
          {0: 1, 1: 1}, False), "OutOfMemory", "rank 1 of 2: CUDA out of memory"),
        # rank 1 SIGKILLed: silent, typed like a killed single runner, whatever rank 0 said
        (({0: _err("RunnerFailed", "Connection reset")}, {0: 1, 1: -9}, False), "OutOfMemory",
         "rank 1 of 2 was killed by SIGKILL"),
        (({}, {1: -11}, False), "RunnerFailed", "rank 1 of 2 was killed by SIGSEGV"),
        # rank 0 reported after the agent had seen rank 1 fail: only rank 1 counts
        (({0: _err("Preempted"), 1: _err("BadInput", "bad row")}, {1: 1}, False), "BadInput", "rank 1 of 2: bad row"),
        (({0: _err("Preempted", "at step 5"), 1: _err("Preempted", "at step 5")}, {}, True), "Preempted",
         "rank 0 of 2: at step 5"),
        (({}, {}, True), "Preempted", "before any rank reported"),
        (({1: _err("RunnerFailed", "boom")}, {1: 1}, False), "RunnerFailed", "rank 1 of 2: boom"),
        (({}, {0: 3}, False), "RunnerFailed", "exited with code(s) [3]"),
        (({0: {"event": "result", "result": {}}}, {}, False), "RunnerFailed", "without a result from every rank"),
    ]
    for (outcomes, exits, signalled), kind, words in cases:
        with pytest.raises(HalaError) as info:
            distributed.verdict(2, outcomes, exits, signalled)
        assert info.value.type == kind and words in info.value.message, (outcomes, exits, info.value.message)
        assert isinstance(info.value, distributed.RankOutOfMemory) == (words.endswith("CUDA out of memory"))


def test_a_rank_out_of_memory_is_recorded_once_by_the_launcher_not_the_rank(world, tmp_path, monkeypatch):
    from transformers import TrainerCallback

    class OutOfMemory(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    prefix = f"file://{tmp_path}/store/sft"
    adapted = store.join(prefix, "oom-adapted.json")
    # A rank (this process, as rank 0 of a run whose launcher is elsewhere) reports, and records nothing.
    monkeypatch.setenv(distributed.OUTCOMES_ENV, str(tmp_path))
    with pytest.raises(torch.OutOfMemoryError):
        train._run(ddp_config(world, prefix), extra_callbacks=(OutOfMemory(),))
    assert not store.exists(adapted)
    monkeypatch.delenv(distributed.OUTCOMES_ENV)

    # The launcher records the halving once per run, whichever ranks ran out, and the next launch trains at it.
    launched = []

    def out_of_memory_on_rank_1(cfg, module):
        launched.append((cfg.knobs["per_device_batch_size"], cfg.knobs["gradient_accumulation_steps"]))
        raise distributed.RankOutOfMemory("rank 1 of 2: OutOfMemoryError: CUDA out of memory (injected)")

    monkeypatch.setattr(distributed, "launch", out_of_memory_on_rank_1)
    for halvings, (batch, accumulation) in enumerate(((4, 1), (2, 2)), start=1):
        cfg = ddp_config(world, prefix)
        cfg.knobs["per_device_batch_size"] = 4
        with pytest.raises(HalaError) as info:
            train._run(cfg)
        assert info.value.type == "OutOfMemory" and f"per_device_batch_size {batch} (rank 1 of 2: " in info.value.message
        assert json.loads(store.local_path(adapted).read_text()) == {
            "per_device_batch_size": batch // 2, "gradient_accumulation_steps": accumulation * 2, "halvings": halvings}
    with pytest.raises(HalaError) as info:
        train._run(cfg)
    assert info.value.type == "BadRecipe" and "max_seq_len" in info.value.message
    assert launched == [(4, 1), (2, 2), (1, 4)]


def test_one_process_takes_todays_path_and_fsdp_needs_gpus(world, tmp_path, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    one = train_config(world, "file:///s", knobs={"strategy": "fsdp"})
    assert not distributed.launches(one.knobs)
    assert train.sft_args(one, tmp_path, use_cpu=True) == train.sft_args(train_config(world, "file:///s"), tmp_path, use_cpu=True)
    assert "fsdp" not in train.sft_args(one, tmp_path, use_cpu=True)
    two = ddp_config(world, "file:///s")
    two.knobs["strategy"] = "fsdp"
    assert train.sft_args(two, tmp_path, use_cpu=False)["fsdp_config"]["state_dict_type"] == "SHARDED_STATE_DICT"
    if not torch.cuda.is_available():
        with pytest.raises(HalaError) as info:
            distributed.launch(two, "hala_runners.runners.train")
        assert info.value.type == "BadRecipe" and "strategy ddp" in info.value.message
