"""Supervised fine-tuning of a causal LM on chat data with TRL's SFTTrainer, resumable.

    python -m hala_runners.runners.train --config config.json

Input: contracts/gpu-activities.ts TrainSftInput — `dataset` (parquet, column `messages` =
list<struct<role, content>>), `seed`, `knobs` (contracts/recipe.ts TrainKnobs: the base model and
the hyperparameters), `base_field` (the recipe path of knobs.base, which errors name). Loss is on
assistant tokens only (the chat template's {% generation %} spans); a base whose template TRL cannot
mask that way is trained on a marked template that renders like it, or with completion-only loss, or
refused before any model is loaded (training_template.py; the choice is in the result).

Layout below `output_prefix`:
  checkpoints/checkpoint-<step>/   every `save_every_steps` and at the end (optimizer, scheduler,
                                    RNG and data position included); complete once its manifest exists
  checkpoints/latest.json          {"step", "uri"} of the newest complete checkpoint
  model/                           final weights in knobs.dtype (final_model.py) + tokenizer + hala_run_config.json
  loss_history.json                the loss per logged step (contracts LossHistory), for `hala report`
With an s3:// prefix the Trainer writes into a local scratch dir and each checkpoint is uploaded
when saved (train_checkpoints.py). A retry resumes from `resume.checkpoint_uri` (the last heartbeat),
else latest.json.

With `knobs.gpus` > 1 this process is the launcher of that many ranks (runners/distributed.py):
same command, same outputs; every rank publishes the checkpoint files it wrote, rank 0 alone seals
them, publishes the model and reports progress.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .. import contract, hub, progress, store, training_template
from ..errors import bad_input
from ..runner_harness import reproducible_config, run, save_config, scratch_dir
from . import distributed, final_model, oom, preemption, train_checkpoints


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    dataset: dict  # ArtifactRef of the training parquet
    seed: int
    knobs: dict  # TrainKnobs, defaults already applied by the recipe parser
    resume: dict | None = None
    logging_steps: int = 10  # optimizer steps between progress events (each one is a heartbeat)
    save_total_limit: int = 2  # local checkpoints kept; >= 2 so the one latest.json names survives
    # Trade compute for activation memory. None = on a GPU only: on CPU the activations live in host
    # RAM and recomputing them slowed the tiny translator from 6.7 to 5.3 steps/s.
    gradient_checkpointing: bool | None = None
    base_field: str = "knobs.base"  # recipe path of knobs.base (stages.sft.students[0].base), named by errors


# ---- pure helpers -----------------------------------------------------------------------------

# TrainKnobs (contracts/stages/train-knobs.ts, where each is documented with its default) -> the
# SFTConfig field it sets and how its value is read. The knobs read elsewhere: `base` (prepare_inputs),
# `dtype` (bf16 here, final_model.py), `gpus` and `strategy` (distributed.py). The recipe parser fills
# every default, so all are present; test_contract_lists.py fails when the contract and these differ.
SFT_FIELDS = {
    "learning_rate": ("learning_rate", float),
    "epochs": ("num_train_epochs", float),
    "per_device_batch_size": ("per_device_train_batch_size", int),
    "gradient_accumulation_steps": ("gradient_accumulation_steps", int),
    "max_seq_len": ("max_length", int),
    # transformers 5 reads warmup_steps in [0, 1) as a ratio of the run and >= 1 as a step count.
    "warmup_ratio": ("warmup_steps", float),
    "weight_decay": ("weight_decay", float),
    "lr_scheduler": ("lr_scheduler_type", str),
    "save_every_steps": ("save_steps", int),
}
READ_ELSEWHERE = ("base", "dtype", "gpus", "strategy")
OPTIONAL_KNOBS = ("cpu_threads",)  # a recipe may leave them out: the export does not list them as required


def use_cpu_threads(knobs: dict, use_cpu: bool) -> None:
    """knobs.cpu_threads on CPU: the intra-op threads of this process (OMP_NUM_THREADS otherwise)."""
    if use_cpu and knobs.get("cpu_threads"):
        import torch
        torch.set_num_threads(int(knobs["cpu_threads"]))


def sft_args(cfg: Config, output_dir: Path, use_cpu: bool, loss: str = "assistant_only") -> dict[str, Any]:
    """TrainKnobs -> SFTConfig keyword arguments (TRL's names on the left); `loss` as training_template chose."""
    k = cfg.knobs
    missing = [name for name in contract.train_knob_names() if name not in k]
    if missing:
        raise bad_input(f"train knobs {missing} missing: pass the TrainKnobs parsed by contracts/recipe.ts "
                        "(it fills every default)")
    if not 0.0 <= k["warmup_ratio"] < 1.0:
        raise bad_input(f"knobs.warmup_ratio must be in [0, 1) (got {k['warmup_ratio']}); use a smaller ratio")
    bf16 = k["dtype"] == "bfloat16"
    checkpointing = cfg.gradient_checkpointing if cfg.gradient_checkpointing is not None else not use_cpu
    args = dict(
        **{field: read(k[knob]) for knob, (field, read) in SFT_FIELDS.items()},
        output_dir=str(output_dir),
        save_strategy="steps",
        save_total_limit=cfg.save_total_limit,
        # Weights are loaded in the knob's dtype and trained in it (TRL's usual bf16 recipe).
        bf16=bf16,
        model_init_kwargs={"dtype": "bfloat16" if bf16 else "float32"},
        assistant_only_loss=loss == "assistant_only",
        completion_only_loss=loss == "completion_only",
        gradient_checkpointing=checkpointing,
        seed=cfg.seed,
        data_seed=cfg.seed,
        logging_steps=cfg.logging_steps,
        report_to="none",
        disable_tqdm=True,
        use_cpu=use_cpu,
    )
    return {**args, **distributed.strategy_args(k, checkpointing)}  # nothing with one process


def loss_history(log_history: list[dict]) -> dict:
    """Trainer.state.log_history -> LossHistory: one point per logged training step (the final
    summary entry carries `train_loss`, not `loss`, and is left out)."""
    keep = ("learning_rate", "grad_norm", "epoch")
    points = [{"step": int(e["step"]), "loss": float(e["loss"]), **{k: float(e[k]) for k in keep if k in e}}
              for e in log_history if "loss" in e and "step" in e]
    return {"points": points}


def checkpoint_step(uri_or_path: str) -> int:
    name = str(uri_or_path).rstrip("/").rsplit("/", 1)[-1]
    if not name.startswith("checkpoint-") or not name[len("checkpoint-"):].isdigit():
        raise bad_input(f"resume.checkpoint_uri {uri_or_path!r} does not end in checkpoint-<step>")
    return int(name[len("checkpoint-"):])


def _check_dataset(path: Path, uri: str) -> None:
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    layout = "parquet column `messages` = list<struct<role: string, content: string>>"
    if "messages" not in schema.names:
        raise bad_input(f"dataset {uri}: no column `messages` (found {schema.names}); expected {layout}")
    kind = schema.field("messages").type
    item = getattr(kind, "value_type", None)  # list<item>; item must be a struct with role, content
    fields = {item.field(i).name for i in range(item.num_fields)} if hasattr(item, "num_fields") else set()
    if not {"role", "content"} <= fields:
        raise bad_input(f"dataset {uri}: column `messages` has type {kind}; expected {layout}")


# ---- the run ----------------------------------------------------------------------------------

@dataclass
class Inputs:
    """The run's inputs, fetched and checked before any model is loaded."""
    data_path: Path
    base: Path
    tokenizer: Any
    template: training_template.Choice


def prepare_inputs(cfg: Config) -> Inputs:
    from transformers import AutoTokenizer

    data_path = store.fetch(cfg.dataset)
    _check_dataset(data_path, cfg.dataset["uri"])
    base = hub.resolve(cfg.knobs["base"], cfg.base_field)
    tokenizer = AutoTokenizer.from_pretrained(base)
    chosen = training_template.choose(tokenizer, data_path, f"{cfg.base_field} = {cfg.knobs['base']}")
    return Inputs(data_path, base, tokenizer, chosen)


@dataclass
class Prepared:
    trainer: Any  # trl.SFTTrainer
    progress: Any  # the StoreProgress callback: the newest published checkpoint
    resume_uri: str | None  # the checkpoint training continues from, None for a fresh start
    resume_path: str | None  # its local copy
    template: training_template.Choice  # the chat template and loss it trains with


def build_trainer(cfg: Config, extra_callbacks: tuple = (), inputs: Inputs | None = None) -> Prepared:
    """Everything up to trainer.train(): inputs fetched and checked, resume point found."""
    import torch
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback
    from trl import SFTConfig, SFTTrainer

    inputs = inputs or prepare_inputs(cfg)
    base, tokenizer, chosen = inputs.base, inputs.tokenizer, inputs.template
    work = scratch_dir(cfg.stage_key)

    ckpt_prefix = store.join(cfg.output_prefix, "checkpoints")
    # A file:// store is a local directory: checkpoint in place instead of copying every save.
    in_place = store.split(cfg.output_prefix)[0] == "file"
    output_dir = store.local_path(ckpt_prefix) if in_place else work / "checkpoints"
    resume_uri = train_checkpoints.resume_point((cfg.resume or {}).get("checkpoint_uri"), ckpt_prefix)

    dataset = Dataset.from_parquet(str(inputs.data_path), cache_dir=str(work / "hf-datasets"))
    if chosen.loss == "completion_only":
        dataset = training_template.as_prompt_completion(dataset)
    own_template = tokenizer.chat_template
    if chosen.chat_template:  # the marked template renders the base's text: only the loss mask is new
        tokenizer.chat_template = chosen.chat_template
    use_cpu_threads(cfg.knobs, use_cpu := not torch.cuda.is_available())
    args = SFTConfig(**sft_args(cfg, output_dir, use_cpu=use_cpu, loss=chosen.loss))
    callback = train_checkpoints.progress_callback(ckpt_prefix)
    callback.checkpoint_uri = resume_uri
    trainer = SFTTrainer(model=str(base), args=args, train_dataset=dataset, processing_class=tokenizer,
                         callbacks=[callback, *extra_callbacks])
    # The dataset is tokenized by now; checkpoints and the published model keep the base's own template.
    tokenizer.chat_template = own_template
    # stdout is the progress protocol: drop the Trainer's dict printer (our callback reports instead).
    trainer.remove_callback(PrinterCallback)
    resume_path = train_checkpoints.fetch_once_per_node(resume_uri) if resume_uri else None
    return Prepared(trainer, callback, resume_uri, resume_path, chosen)


def _launch(cfg: Config, started: float) -> dict:
    """gpus > 1: run the ranks and speak for them (runners/distributed.py)."""
    save_config(cfg)
    knobs, halvings = oom.adapted_knobs(cfg.knobs, cfg.output_prefix)
    # The resume point is settled here, once, so every rank starts from the same checkpoint.
    resume_uri = train_checkpoints.resume_point((cfg.resume or {}).get("checkpoint_uri"),
                                                store.join(cfg.output_prefix, "checkpoints"))
    ranks = replace(cfg, knobs=knobs, resume={"checkpoint_uri": resume_uri} if resume_uri else None)
    try:
        result = distributed.launch(ranks, __spec__.name)
    except distributed.RankOutOfMemory as e:  # recorded here, once, whichever ranks ran out
        raise oom.after_train_oom(e, knobs, halvings, cfg.output_prefix) from e
    return {**result, "seconds": round(time.time() - started, 3)}


def _run(cfg: Config, extra_callbacks: tuple = ()) -> dict:
    started = time.time()
    launching = distributed.launches(cfg.knobs)
    if not launching:  # the launcher leaves SIGTERM to torch elastic, which forwards it to the ranks
        preemption.watch()
    if distributed.is_main():
        progress.emit_progress("load", 0, 1)
    # Settled before any rank starts or any model is loaded: a base whose chat template cannot be
    # trained is refused now, as BadInput naming its recipe field (training_template.py).
    inputs = prepare_inputs(cfg)
    if launching:
        return _launch(cfg, started)
    if not distributed.is_rank():  # a rank's launcher has written it
        save_config(cfg)
    # An earlier attempt that ran out of memory left a halved batch for this one.
    cfg.knobs, halvings = oom.adapted_knobs(cfg.knobs, cfg.output_prefix)
    prep = build_trainer(cfg, extra_callbacks, inputs)
    trainer = prep.trainer
    # Trainer restores weights, optimizer, scheduler, RNG and skips the batches already seen.
    try:
        trainer.train(resume_from_checkpoint=prep.resume_path)
    except Exception as e:
        if oom.is_oom(e) and not distributed.is_rank():  # a rank's launcher records the halving
            raise oom.after_train_oom(e, cfg.knobs, halvings, cfg.output_prefix) from e
        raise
    if distributed.any_rank(preemption.requested(), trainer.args.device):
        raise preemption.preempted(trainer.state.global_step, prep.progress.checkpoint_uri)

    final = scratch_dir(cfg.stage_key) / "model"
    if distributed.is_main():
        progress.emit_progress("save", trainer.state.global_step, trainer.state.max_steps)
        shutil.rmtree(final, ignore_errors=True)  # nothing stale from an earlier attempt
    final_model.save(trainer, final, cfg.knobs["dtype"])  # every rank (FSDP gathers), rank 0 writes
    if not distributed.is_main():
        return {}  # rank 0 speaks for the run
    (final / "hala_run_config.json").write_text(json.dumps(
        {"runner": reproducible_config(cfg), "sft_config": trainer.args.to_dict(), "training_template": prep.template.record()},
        indent=2, sort_keys=True, default=str))
    model_ref = store.publish_dir(final, store.join(cfg.output_prefix, "model"), "model")
    curve = final.parent / "loss_history.json"
    curve.write_text(json.dumps(contract.validate_loss_history(loss_history(trainer.state.log_history)), indent=1))
    curve_ref = store.publish_file(curve, store.join(cfg.output_prefix, "loss_history.json"), "report")
    # The last logged step loss; Trainer's run average when no step was logged (short runs).
    history = trainer.state.log_history
    losses = [e["loss"] for e in history if "loss" in e] or [e["train_loss"] for e in history if "train_loss" in e]
    return {
        "model": model_ref,
        "loss_history": curve_ref,
        "steps": int(trainer.state.global_step),
        "final_loss": float(losses[-1]) if losses else 0.0,
        "resumed_from_step": checkpoint_step(prep.resume_uri) if prep.resume_uri else 0,
        "seconds": round(time.time() - started, 3),
        # What it trained with: the recipe's batch, or the halved one after out-of-memory retries.
        "per_device_batch_size": int(cfg.knobs["per_device_batch_size"]),
        "gradient_accumulation_steps": int(cfg.knobs["gradient_accumulation_steps"]),
        "oom_halvings": halvings,
        "training_template": prep.template.record(),
        **({"checkpoint": prep.progress.record()} if prep.progress.last else {}),
    }


def main(argv: list[str] | None = None) -> int:
    if distributed.is_rank():
        return distributed.run_rank(Config, _run, argv)
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
