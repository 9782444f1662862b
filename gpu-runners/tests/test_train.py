"""runners/train.py: TRL SFT on a tiny LFM2 — checkpoints, assistant-only loss, exact resume."""
from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from train_world import SAVE_EVERY, STEPS, model_weights, train_config, write_config

from hala_runners import contract, progress, store
from hala_runners.runners import train


def _main(cfg, root, capsys):
    code = train.main(["--config", write_config(root, cfg)])
    events = [e for e in map(progress.parse_line, capsys.readouterr().out.splitlines()) if e]
    assert code == 0, events[-1]
    return events


@pytest.fixture(scope="module")
def uninterrupted(world, tmp_path_factory):
    """One full run, shared by the tests below (capsys is function-scoped, so capture by hand)."""
    import contextlib
    import io

    root = tmp_path_factory.mktemp("train-a")
    out = io.StringIO()
    with pytest.MonkeyPatch.context() as mp, contextlib.redirect_stdout(out):
        mp.setenv("HALA_WORK_DIR", str(root / "work"))
        code = train.main(["--config", write_config(root, train_config(world, f"file://{root}/store/sft"))])
    events = [e for e in map(progress.parse_line, out.getvalue().splitlines()) if e]
    assert code == 0, events[-1]
    return {"events": events, "result": events[-1]["result"], "prefix": f"file://{root}/store/sft"}


def test_training_checkpoints_reports_progress_and_learns(uninterrupted):
    result, events = uninterrupted["result"], uninterrupted["events"]
    contract.validate_output("train_sft", result)
    assert result["steps"] == STEPS and result["resumed_from_step"] == 0

    steps = [e for e in events if e.get("phase") == "train"]
    assert [e["done"] for e in steps] == list(range(1, STEPS + 1))
    assert all(e["total"] == STEPS and "learning_rate" in e["metrics"] for e in steps)
    first, last = steps[0]["metrics"]["loss"], steps[-1]["metrics"]["loss"]
    assert last < 0.85 * first, (first, last)  # 8 steps from random init: ~7.7 -> ~6.0
    assert result["final_loss"] == pytest.approx(last)

    ckpts = store.join(uninterrupted["prefix"], "checkpoints")
    for step in range(SAVE_EVERY, STEPS + 1, SAVE_EVERY):
        assert store.is_complete_dir(store.join(ckpts, f"checkpoint-{step}"))
    saves = [e["checkpoint_uri"] for e in events if e.get("phase") == "save" and e["checkpoint_uri"]]
    assert saves[0].endswith(f"checkpoint-{SAVE_EVERY}")
    assert steps[SAVE_EVERY]["checkpoint_uri"] == saves[0]  # later heartbeats carry the checkpoint
    model_dir = store.fetch(result["model"])
    assert (model_dir / "tokenizer.json").exists() and (model_dir / "hala_run_config.json").exists()
    # What the last checkpoint cost, for the kill grace: one process published all of it.
    assert result["checkpoint"]["step"] == STEPS and result["checkpoint"]["seconds"] > 0
    assert result["checkpoint"]["bytes_by_rank"] == [store.dir_stats(store.local_path(saves[-1]))[1]]

    # The loss curve `hala report` plots: every logged step, the same losses the heartbeats carried.
    curve = json.loads(store.fetch(result["loss_history"]).read_text())["points"]
    assert [p["step"] for p in curve] == list(range(1, STEPS + 1))
    assert [p["loss"] for p in curve] == pytest.approx([e["metrics"]["loss"] for e in steps])


def test_the_final_model_is_in_the_recipes_dtype_even_where_training_upcast_the_weights(world, tmp_path, monkeypatch):
    """FSDP2 in mixed precision trains a bf16 student in fp32 (accelerate upcasts the parameters):
    the published model is still bf16, says so in config.json, and loads (issue 22, finding 6)."""
    from safetensors import safe_open
    from transformers import AutoModelForCausalLM, TrainerCallback

    class UpcastLikeFsdp2(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            for param in model.parameters():
                param.data = param.data.to(torch.float32)

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    cfg = train_config(world, f"file://{tmp_path}/store/sft", knobs={"dtype": "bfloat16"})
    result = train._run(cfg, extra_callbacks=(UpcastLikeFsdp2(),))
    model_dir = store.fetch(result["model"])
    with safe_open(model_dir / "model.safetensors", "pt") as f:
        dtypes = {f.get_slice(name).get_dtype() for name in f.keys()}
    assert dtypes == {"BF16"}
    assert json.loads((model_dir / "config.json").read_text())["dtype"] == "bfloat16"
    loaded = AutoModelForCausalLM.from_pretrained(model_dir, dtype="auto")
    assert loaded.dtype == torch.bfloat16


def test_loss_is_on_assistant_tokens_only(world, tmp_path, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    trainer = train.build_trainer(train_config(world, f"file://{tmp_path}/store/sft")).trainer
    assert trainer.args.assistant_only_loss
    batch = trainer.data_collator([trainer.train_dataset[0]])
    tok = trainer.processing_class
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = tok.decode([i for i, l in zip(ids, labels) if l != -100])
    masked = tok.decode([i for i, l in zip(ids, labels) if l == -100])
    assert trained.startswith("Item ") and trained.endswith(".<|im_end|>")  # the answer and its stop token
    assert "What colour is item" in masked and "<|im_start|>user" in masked


def test_resume_after_a_crash_continues_from_the_checkpoint_with_identical_weights(
        world, uninterrupted, tmp_path, capsys, monkeypatch):
    from transformers import TrainerCallback

    class Crash(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            raise RuntimeError("worker lost")  # after the checkpoint was published

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    prefix = f"file://{tmp_path}/store/sft"
    with pytest.raises(RuntimeError, match="worker lost"):
        train._run(train_config(world, prefix), extra_callbacks=(Crash(),))
    capsys.readouterr()

    # The heartbeat names a checkpoint that never completed: the newest complete one is used.
    stale = {"phase": "train", "done": 6, "total": STEPS, "metrics": {},
             "checkpoint_uri": store.join(prefix, "checkpoints", f"checkpoint-{STEPS}")}
    events = _main(train_config(world, prefix, resume=stale), tmp_path, capsys)
    result = events[-1]["result"]
    assert result["resumed_from_step"] == SAVE_EVERY and result["steps"] == STEPS
    assert [e["done"] for e in events if e.get("phase") == "train"] == list(range(SAVE_EVERY + 1, STEPS + 1))

    # Same seed, same data order, optimizer and RNG restored: bit-identical on CPU.
    resumed, straight = model_weights(result["model"]), model_weights(uninterrupted["result"]["model"])
    assert resumed.keys() == straight.keys()
    for name in straight:
        assert torch.equal(resumed[name], straight[name]), name
    assert result["final_loss"] == pytest.approx(uninterrupted["result"]["final_loss"], rel=1e-6)


def _out_of_memory_above(fits: int):
    """A callback standing in for a GPU that fits at most `fits` sequences per device: CUDA's OOM past it."""
    from transformers import TrainerCallback

    class OutOfMemory(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            if args.per_device_train_batch_size > fits and state.global_step >= 2:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")

    return OutOfMemory()


def test_out_of_memory_halves_the_batch_keeps_the_effective_batch_and_completes(world, uninterrupted, tmp_path, monkeypatch):
    from hala_runners.errors import HalaError

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    prefix = f"file://{tmp_path}/store/sft"
    fits_one = (_out_of_memory_above(1),)
    for batch, accumulation in ((4, 1), (2, 2)):
        with pytest.raises(HalaError) as info:
            train._run(train_config(world, prefix), extra_callbacks=fits_one)
        assert info.value.type == "OutOfMemory" and not info.value.non_retryable
        assert (f"out of memory at per_device_batch_size {batch}" in info.value.message
                and f"per_device_batch_size {batch // 2} with gradient_accumulation_steps {accumulation * 2}" in info.value.message)
    result = train._run(train_config(world, prefix), extra_callbacks=fits_one)
    assert (result["per_device_batch_size"], result["gradient_accumulation_steps"], result["oom_halvings"]) == (1, 4, 2)
    assert result["steps"] == uninterrupted["result"]["steps"]  # same effective batch: same optimizer steps
    contract.validate_output("train_sft", result)


def test_out_of_memory_at_batch_one_is_final_and_names_the_knobs(world, tmp_path, monkeypatch):
    from hala_runners.errors import HalaError

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    cfg = train_config(world, f"file://{tmp_path}/store/sft")
    cfg.knobs["per_device_batch_size"] = 1
    with pytest.raises(HalaError) as info:
        train._run(cfg, extra_callbacks=(_out_of_memory_above(0),))
    assert info.value.type == "BadRecipe" and info.value.non_retryable
    assert "out of memory at per_device_batch_size 1" in info.value.message and "max_seq_len" in info.value.message


def test_sigterm_checkpoints_at_once_and_the_resume_redoes_no_step(world, uninterrupted, tmp_path):
    """A preemption notice mid-training: checkpoint at the current step, typed Preempted error, and a
    retry that continues from exactly that step to the same weights as an undisturbed run."""
    import os
    import signal
    import subprocess
    import sys

    prefix = f"file://{tmp_path}/store/sft"
    env = {**os.environ, "HALA_WORK_DIR": str(tmp_path / "work")}
    proc = subprocess.Popen([sys.executable, "-m", "hala_runners.runners.train", "--config",
                             write_config(tmp_path, train_config(world, prefix))],
                            stdout=subprocess.PIPE, text=True, env=env)
    events = []
    for line in proc.stdout:
        event = progress.parse_line(line)
        if event:
            events.append(event)
            if event.get("phase") == "train" and event["done"] == SAVE_EVERY + 1:  # between two saves
                proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 1
    error = events[-1]
    assert error["event"] == "error" and error["type"] == "Preempted", error
    stopped_at = max(e["done"] for e in events if e.get("phase") == "train")
    assert SAVE_EVERY < stopped_at < STEPS
    assert f"checkpoint-{stopped_at}" in error["message"]
    assert store.is_complete_dir(store.join(prefix, "checkpoints", f"checkpoint-{stopped_at}"))

    retry = subprocess.run([sys.executable, "-m", "hala_runners.runners.train", "--config",
                            write_config(tmp_path, train_config(world, prefix, resume=events[-2]))],
                           capture_output=True, text=True, env=env, timeout=300)
    result = [e for e in map(progress.parse_line, retry.stdout.splitlines()) if e][-1]["result"]
    assert result["resumed_from_step"] == stopped_at, "rework after a preemption notice is zero steps"
    resumed, straight = model_weights(result["model"]), model_weights(uninterrupted["result"]["model"])
    for name in straight:
        assert torch.equal(resumed[name], straight[name]), name
    # The model card holds no trace of the interruption (the store prefix differs between the two runs).
    card = json.loads((store.fetch(result["model"]) / "hala_run_config.json").read_text())
    assert "resume" not in card["runner"]


def test_a_dataset_without_messages_is_bad_input_naming_the_layout(world, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    pq.write_table(pa.Table.from_pylist([{"text": "hello"}]), tmp_path / "bad.parquet")
    bad = store.publish_file(tmp_path / "bad.parquet", f"file://{tmp_path}/store/bad.parquet", "dataset")
    cfg = train_config(world, f"file://{tmp_path}/store/sft")
    cfg.dataset = bad
    assert train.main(["--config", write_config(tmp_path, cfg)]) == 1
    error = progress.parse_line(capsys.readouterr().out.splitlines()[-1])
    assert error["type"] == "BadInput" and "bad.parquet" in error["message"]
    assert "list<struct<role: string, content: string>>" in error["message"]


def test_cpu_threads_sets_the_intra_op_threads_on_cpu_only():
    before = torch.get_num_threads()
    try:
        train.use_cpu_threads({"cpu_threads": 2}, use_cpu=False)
        assert torch.get_num_threads() == before  # on GPUs the knob is ignored
        train.use_cpu_threads({}, use_cpu=True)
        assert torch.get_num_threads() == before  # absent: OMP_NUM_THREADS stands
        train.use_cpu_threads({"cpu_threads": before + 1}, use_cpu=True)
        assert torch.get_num_threads() == before + 1
    finally:
        torch.set_num_threads(before)
