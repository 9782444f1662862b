"""The trained model as the campaign keeps it: Hugging Face layout, in the recipe's dtype.

Training may hold the weights in another dtype than the recipe's: accelerate 1.15 upcasts every
trainable parameter to fp32 when FSDP2 trains in mixed precision (utils/fsdp_utils.py,
"FSDP upcast of low precision parameters to fp32"), so Trainer.save_model would publish a bf16
student as fp32, twice the bytes for every later stage to download (merge, evaluate, serving). And
with sharded checkpoints (distributed.strategy_args) Trainer.save_model writes no model at all. Here
the full weights are gathered once (a collective under FSDP: every rank calls `save`), cast to the
recipe's dtype, and written by rank 0 alone.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import bad_input
from . import distributed

DTYPES = ("bfloat16", "float32")  # TrainKnobs.dtype (contracts/recipe.ts)


def save(trainer: Any, final: Path, dtype: str) -> None:
    """Every rank calls this; rank 0 writes weights (safetensors), config.json and the tokenizer to `final`."""
    import torch

    if dtype not in DTYPES:
        raise bad_input(f"knobs.dtype {dtype!r} is not one of {DTYPES}")
    # Whole tensors on rank 0 (on the CPU under FSDP2: accelerate's get_state_dict offloads them).
    weights = trainer.accelerator.get_state_dict(trainer.model)
    if not distributed.is_main():
        return
    weights = cast(weights, getattr(torch, dtype))
    model = trainer.accelerator.unwrap_model(trainer.model)
    model.save_pretrained(final, state_dict=weights, safe_serialization=True)
    # save_pretrained records the dtype of the parameters in memory (fp32 after an upcast): the
    # file must say what it holds, since loaders with dtype="auto" read it from there.
    model.config.dtype = dtype
    model.config.save_pretrained(final)
    trainer.processing_class.save_pretrained(final)


def cast(weights: dict[str, Any], dtype: Any) -> dict[str, Any]:
    """Floating tensors in `dtype`, others unchanged; tensors that shared storage (tied embeddings)
    still share it, so save_pretrained recognises them as one."""
    cast_by_storage: dict[tuple, Any] = {}
    out = {}
    for name, tensor in weights.items():
        if not tensor.is_floating_point() or tensor.dtype == dtype:
            out[name] = tensor
            continue
        key = (tensor.untyped_storage().data_ptr(), tensor.storage_offset(), tuple(tensor.shape), tuple(tensor.stride()))
        if key not in cast_by_storage:
            cast_by_storage[key] = tensor.to(dtype)
        out[name] = cast_by_storage[key]
    return out
