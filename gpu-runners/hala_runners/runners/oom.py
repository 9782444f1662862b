"""Out of memory adapts instead of repeating: the retry runs at half the batch.

The runner that ran out of memory writes the halved batch to `<output_prefix>/oom-adapted.json`
(durable: the retry may run on another machine) and fails retryably; the next attempt reads it
before it allocates anything. At batch 1 there is nothing left to halve: the failure is final,
naming the knobs that can still help.

- Training halves `per_device_batch_size` and doubles `gradient_accumulation_steps`, so the
  effective batch (and the optimisation) stay the same when the batch is even; it resumes from the
  last checkpoint.
- Inference (translation, benchmarks) halves only how many rows go to the engine at once. What the
  recipe's batch also means — the resume chunk of a translation shard — stays, so finished chunks
  are still found and the stage key still holds.
"""
from __future__ import annotations

import json

from .. import store
from ..errors import HalaError, classify


def adapted_uri(output_prefix: str) -> str:
    return store.join(output_prefix, "oom-adapted.json")


def _recorded(output_prefix: str) -> dict | None:
    uri = adapted_uri(output_prefix)
    return json.loads(store.fetch(uri).read_text()) if store.exists(uri) else None


def _record(output_prefix: str, adaptation: dict) -> None:
    store.write_bytes(adapted_uri(output_prefix), json.dumps(adaptation).encode())


def is_oom(exc: BaseException) -> bool:
    return classify(exc).type == "OutOfMemory"


def _cause(exc: BaseException) -> str:
    """What ran out, in a few words: the exception's type, or a HalaError's own words (a rank of a
    multi-process run, reported by its launcher: runners/distributed.py)."""
    return exc.message[:300] if isinstance(exc, HalaError) else type(exc).__name__


def _final(exc: BaseException, knob: str, halvings: int, fixes: str) -> HalaError:
    return HalaError("BadRecipe", f"out of memory at {knob} 1 after {halvings} halving(s) "
                                  f"({_cause(exc)}): {fixes}")


# Training -----------------------------------------------------------------------------------------

def adapted_knobs(knobs: dict, output_prefix: str) -> tuple[dict, int]:
    """The knobs this attempt trains with, and how many times OOM halved the batch before it."""
    adapted = _recorded(output_prefix)
    if adapted is None:
        return knobs, 0
    return ({**knobs, "per_device_batch_size": adapted["per_device_batch_size"],
             "gradient_accumulation_steps": adapted["gradient_accumulation_steps"]}, adapted["halvings"])


def after_train_oom(exc: BaseException, knobs: dict, halvings: int, output_prefix: str) -> HalaError:
    """Record the halved batch for the retry and return the error to raise (final at batch 1)."""
    batch, accumulation = int(knobs["per_device_batch_size"]), int(knobs["gradient_accumulation_steps"])
    if batch <= 1:
        return _final(exc, "per_device_batch_size", halvings,
                      f"lower the student's max_seq_len (now {knobs['max_seq_len']}), train in dtype "
                      f"bfloat16, or give the train queue GPUs with more memory")
    half = batch // 2
    _record(output_prefix, {"per_device_batch_size": half, "gradient_accumulation_steps": accumulation * 2,
                            "halvings": halvings + 1})
    return HalaError("OutOfMemory", f"out of memory at per_device_batch_size {batch} ({_cause(exc)}); the retry "
                                    f"trains at per_device_batch_size {half} with gradient_accumulation_steps "
                                    f"{accumulation * 2}{'' if batch % 2 == 0 else ' (an odd batch: the effective batch shrinks slightly)'}")


# Inference ----------------------------------------------------------------------------------------

def inference_batch(batch_size: int, output_prefix: str) -> tuple[int, int]:
    """Rows per engine call for this attempt, and how many times OOM halved them before it."""
    adapted = _recorded(output_prefix)
    if adapted is None:
        return batch_size, 0
    return min(batch_size, int(adapted["engine_batch_size"])), int(adapted["halvings"])


def after_inference_oom(exc: BaseException, batch: int, halvings: int, output_prefix: str, knob: str) -> HalaError:
    """Record the halved engine batch for the retry and return the error to raise (final at 1 row).

    `knob` is the recipe field the batch comes from, so the final message says what to change.
    """
    if batch <= 1:
        return _final(exc, knob, halvings, f"shorten the inputs or the generation (max_new_tokens), or give "
                                           "the queue GPUs with more memory")
    half = batch // 2
    _record(output_prefix, {"engine_batch_size": half, "halvings": halvings + 1})
    return HalaError("OutOfMemory", f"out of memory at {batch} rows per engine call ({_cause(exc)}); "
                                    f"the retry sends {half} at a time ({knob} is unchanged)")
