"""Which path compress_teacher takes: `oneshot` (the model held in memory) or `model_free` (shard by shard).

`method: auto` (the recipe's stages.compress_teacher.method) takes model_free exactly when

    weights_bytes > budget_bytes

    weights_bytes = the sizes of the checkpoint's *.safetensors files added up (read with stat, never
                    loaded; the headers they include are a few MB against hundreds of GB)
    budget_bytes  = HALA_COMPRESS_MEMORY_BYTES when the worker sets it (an operator's figure, taken as
                    is: "weights of this many bytes fit"), else
                    HEADROOM x the total memory of the visible CUDA devices when CUDA is available
                    (oneshot loads with device_map="auto" onto them), else
                    HEADROOM x the host RAM available now (oneshot loads on the CPU).

HEADROOM = 0.8: oneshot holds the whole BF16 model plus, layer by layer, the observer's temporaries
and the FP8 copy made when compressing; the rest of the 20 % is the CUDA context or the Python/torch
runtime. accelerate's device_map="auto" keeps its own margin on each GPU as well. The tiny teacher
(1.3 MB) is far below any of these, so `auto` runs oneshot there unless the variable says otherwise.
`oneshot` and `model_free` are taken as asked.
"""
from __future__ import annotations

import os
from pathlib import Path

from ..errors import bad_input

HEADROOM = 0.8
MEMORY_ENV = "HALA_COMPRESS_MEMORY_BYTES"
METHODS = ("auto", "oneshot", "model_free")


def weights_bytes(model_dir: Path) -> int:
    """Bytes of the checkpoint's safetensors files (the shards an index would list, and nothing else)."""
    return sum(f.stat().st_size for f in Path(model_dir).glob("*.safetensors"))


def memory_budget() -> tuple[int, str]:
    """(bytes of weights this worker can hold for oneshot, where the figure comes from)."""
    value = os.environ.get(MEMORY_ENV)
    if value is not None:
        try:
            budget = int(value)
        except ValueError:
            budget = -1
        if budget < 0:
            raise bad_input(f"{MEMORY_ENV} must be a whole number of bytes >= 0 (got {value!r}); unset it "
                            "to measure the worker's memory")
        return budget, MEMORY_ENV
    import torch

    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        total = sum(torch.cuda.get_device_properties(i).total_memory for i in range(count))
        return int(HEADROOM * total), f"{HEADROOM} x memory of {count} CUDA device(s)"
    import psutil

    return int(HEADROOM * psutil.virtual_memory().available), f"{HEADROOM} x available host RAM"


def choose(requested: str, weights: int, budget: int) -> str:
    """The method that runs: the one asked for, or for `auto` model_free when the weights exceed the budget."""
    if requested != "auto":
        return requested
    return "model_free" if weights > budget else "oneshot"
