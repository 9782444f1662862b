"""Out of memory adapts instead of repeating: the retry trains at half the per-device batch.

On an OOM the runner halves `per_device_batch_size` and doubles `gradient_accumulation_steps` (the
effective batch, and so the optimisation, stay the same when the batch is even), writes that to
`<output_prefix>/oom-adapted.json` (durable: the retry may run on another machine) and fails
retryably; the next attempt reads it before building the trainer and resumes from the last
checkpoint. At batch 1 there is nothing left to halve: the failure is final, naming the knobs that
can still help.
"""
from __future__ import annotations

import json

from .. import store
from ..errors import HalaError, classify


def adapted_uri(output_prefix: str) -> str:
    return store.join(output_prefix, "oom-adapted.json")


def adapted_knobs(knobs: dict, output_prefix: str) -> tuple[dict, int]:
    """The knobs this attempt trains with, and how many times OOM halved the batch before it."""
    uri = adapted_uri(output_prefix)
    if not store.exists(uri):
        return knobs, 0
    adapted = json.loads(store.fetch(uri).read_text())
    return ({**knobs, "per_device_batch_size": adapted["per_device_batch_size"],
             "gradient_accumulation_steps": adapted["gradient_accumulation_steps"]}, adapted["halvings"])


def is_oom(exc: BaseException) -> bool:
    return classify(exc).type == "OutOfMemory"


def after_oom(exc: BaseException, knobs: dict, halvings: int, output_prefix: str) -> HalaError:
    """Record the halved batch for the retry and return the error to raise (final at batch 1)."""
    batch, accumulation = int(knobs["per_device_batch_size"]), int(knobs["gradient_accumulation_steps"])
    if batch <= 1:
        return HalaError("BadRecipe", f"out of memory at per_device_batch_size 1 after {halvings} halving(s) "
                                      f"({type(exc).__name__}): lower the student's max_seq_len (now "
                                      f"{knobs['max_seq_len']}), train in dtype bfloat16, or give the train queue "
                                      f"GPUs with more memory")
    half = batch // 2
    store.write_bytes(adapted_uri(output_prefix), json.dumps(
        {"per_device_batch_size": half, "gradient_accumulation_steps": accumulation * 2, "halvings": halvings + 1}).encode())
    return HalaError("OutOfMemory", f"out of memory at per_device_batch_size {batch} ({type(exc).__name__}); the retry "
                                    f"trains at per_device_batch_size {half} with gradient_accumulation_steps "
                                    f"{accumulation * 2}{'' if batch % 2 == 0 else ' (an odd batch: the effective batch shrinks slightly)'}")
