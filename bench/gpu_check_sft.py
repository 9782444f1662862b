"""gpu-check part sft_preempt: SFT in bf16, a preemption notice after the first checkpoint, the resume.

runners/train.py with knobs.dtype bfloat16 from its own command line. Once it has published its first
checkpoint, its process group gets SIGTERM at the next logged step, as the activity passes on a spot
VM's or an eviction's notice (runners/preemption.py): the runner checkpoints at the step it is on and
exits with the typed error Preempted. The retry gets the last heartbeat as `resume`, as the worker
gives it, and must continue from exactly that step: steps redone = 0.
"""
from __future__ import annotations

import os
import random
import re
import signal
from pathlib import Path

from gpu_check_runner import KEY, PartFailed, run_runner

STUDENT = "hf://hala-tiny/lfm2-350m"
ROWS, BATCH, SAVE_EVERY = 160, 8, 5  # 20 optimizer steps, checkpoints at 5, 10, 15 and the stop
COLOURS = ["red", "green", "blue", "black"]


def chat_set(work: Path) -> dict:
    """A learnable chat set in the layout train_sft reads (`messages`): item k -> a fixed colour."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store

    rng = random.Random(0)
    rows = [{"messages": [{"role": "user", "content": f"What colour is item {k}?"},
                          {"role": "assistant", "content": f"Item {k} is {COLOURS[k % 4]}."}]}
            for k in (rng.randrange(40) for _ in range(ROWS))]
    pq.write_table(pa.Table.from_pylist(rows), work / "chat.parquet")
    return store.publish_file(work / "chat.parquet", f"file://{work}/store/in/chat.parquet", "dataset", rows=ROWS)


def train_config(work: Path, dataset: dict, resume: dict | None = None) -> dict:
    # Every TrainKnobs field, as the recipe parser fills them (contracts/recipe.ts).
    knobs = {"base": STUDENT, "learning_rate": 2e-3, "epochs": 1, "per_device_batch_size": BATCH,
             "gradient_accumulation_steps": 1, "max_seq_len": 128, "warmup_ratio": 0.05, "weight_decay": 0.0,
             "lr_scheduler": "cosine", "save_every_steps": SAVE_EVERY, "dtype": "bfloat16", "strategy": "ddp", "gpus": 1}
    return {"stage_key": KEY, "output_prefix": f"file://{work}/store/sft", "dataset": dataset, "seed": 0,
            "knobs": knobs, "logging_steps": 1, "resume": resume}


class PreemptAfterFirstCheckpoint:
    """on_event hook: SIGTERM to the runner's group at the first logged step after its first checkpoint."""

    def __init__(self) -> None:
        self.first_checkpoint_step: int | None = None
        self.signalled_at_step: int | None = None

    def __call__(self, event: dict, proc) -> None:
        if event.get("event") != "progress":
            return
        if event.get("phase") == "save" and event.get("checkpoint_uri") and self.first_checkpoint_step is None:
            self.first_checkpoint_step = int(event["done"])
        elif event.get("phase") == "train" and self.first_checkpoint_step is not None and self.signalled_at_step is None:
            self.signalled_at_step = int(event["done"])
            os.killpg(proc.pid, signal.SIGTERM)


def sft_preempt(work_root: Path, on_gpu: bool) -> dict:
    work = work_root / "sft_preempt"
    work.mkdir(parents=True, exist_ok=True)
    dataset = chat_set(work)
    hook = PreemptAfterFirstCheckpoint()
    first = run_runner("train", train_config(work, dataset), work, on_event=hook)
    error = first.events[-1] if first.events else {}
    figures: dict = {"device": "cuda" if on_gpu else "cpu", "dtype": "bfloat16",
                     "first_checkpoint_step": hook.first_checkpoint_step, "sigterm_at_step": hook.signalled_at_step,
                     "first_run_exit": first.code, "first_run_error": error.get("type"),
                     "seconds_to_preempted": round(first.seconds, 2)}
    if hook.signalled_at_step is None or error.get("type") != "Preempted":
        raise PartFailed(f"expected the typed error Preempted after SIGTERM, got {error.get('type', 'no event')}: "
                         f"{str(error.get('message', error.get('result', '')))[:300]}", figures)
    stopped = re.search(r"at step (\d+)", error.get("message", ""))
    figures["preempted_at_step"] = int(stopped[1]) if stopped else None
    # The worker's retry gets the last heartbeat (the last progress event) as `resume`.
    heartbeat = next(e for e in reversed(first.events) if e.get("event") == "progress")
    second = run_runner("train", train_config(work, dataset, resume=heartbeat), work)
    out = second.result("train (resumed)")
    figures.update({"steps": out["steps"], "resumed_from_step": out["resumed_from_step"],
                    "steps_redone": (figures["preempted_at_step"] or 0) - out["resumed_from_step"],
                    "final_loss": round(out["final_loss"], 4), "seconds_resumed": round(second.seconds, 2)})
    if figures["steps_redone"] != 0 or figures["preempted_at_step"] is None:
        raise PartFailed("the resume redid steps (or the Preempted error named no step)", figures)
    return figures
