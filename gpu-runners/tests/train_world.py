"""pytest plugin (listed in conftest.py): the train runner's tiny world and config helpers, shared by
test_train.py (one process), test_train_distributed.py (several ranks) and
test_train_distributed_verdict.py (the launcher's bookkeeping).

    def test_x(world, tmp_path):
        cfg = train_config(world, f"file://{tmp_path}/store/sft")
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from hala_runners import store
from hala_runners.runners import train

STEPS, SAVE_EVERY = 8, 4  # one process at per_device_batch_size 4: 32 rows are 8 optimizer steps
COLOURS = ["red", "green", "blue", "black"]


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A tiny base model and a learnable chat set: "colour of item k" -> a fixed colour per k."""
    from tiny_world.models import save_model, tiny_lfm2
    from tiny_world.tokenizer import build_tokenizer

    root = tmp_path_factory.mktemp("train-world")
    tok = build_tokenizer()
    save_model(tiny_lfm2(tok, "350m", seed=0), tok, root / "base")
    rng = random.Random(0)
    rows = []
    for _ in range(STEPS * 4):
        k = rng.randrange(len(COLOURS))
        rows.append({"messages": [{"role": "user", "content": f"What colour is item {k}?"},
                                  {"role": "assistant", "content": f"Item {k} is {COLOURS[k]}."}]})
    pq.write_table(pa.Table.from_pylist(rows), root / "chat.parquet")
    dataset = store.publish_file(root / "chat.parquet", f"file://{root}/store/chat.parquet", "dataset", rows=len(rows))
    return {"root": root, "dataset": dataset, "base": f"file://{root}/base"}


def train_config(world, prefix, knobs: dict | None = None, **extra) -> train.Config:
    """The tiny world's run: every TrainKnobs field (the recipe parser fills them), `knobs` overriding."""
    defaults = {"base": world["base"], "learning_rate": 3e-3, "epochs": 1, "per_device_batch_size": 4,
                "gradient_accumulation_steps": 1, "max_seq_len": 64, "warmup_ratio": 0.1, "weight_decay": 0.0,
                "lr_scheduler": "cosine", "save_every_steps": SAVE_EVERY, "dtype": "float32",
                "strategy": "ddp", "gpus": 1}
    return train.Config(stage_key="d" * 64, output_prefix=prefix, dataset=world["dataset"], seed=7,
                        knobs={**defaults, **(knobs or {})}, logging_steps=1, gradient_checkpointing=False, **extra)


DDP_GPUS, DDP_BATCH = 2, 2  # two CPU ranks over gloo, 2 sequences each


def ddp_config(world, prefix, **extra) -> train.Config:
    """A config that launches DDP_GPUS ranks (runners/distributed.py)."""
    return train_config(world, prefix, knobs={"gpus": DDP_GPUS, "per_device_batch_size": DDP_BATCH}, **extra)


def write_config(root, cfg) -> str:
    (root / "cfg.json").write_text(json.dumps(asdict(cfg)))
    return str(root / "cfg.json")


def model_weights(ref) -> dict:
    from safetensors.torch import load_file

    return load_file(str(store.fetch(ref) / "model.safetensors"))
