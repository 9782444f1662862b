"""The model-free path of compress_teacher: llmcompressor.model_free_ptq, safetensors shard by shard.

For a teacher the worker cannot hold (compress_method.py decides): no model is instantiated, each
shard is read, its Linear weights quantized to FP8_DYNAMIC (per-channel e4m3 weights, `weight_scale`
[out, 1], the same observer and compressor code as oneshot) and written, so memory is one shard's
worth. Every other file of the checkpoint (config, tokenizer, chat template) is copied, config.json
gets the compressed-tensors `quantization_config`, and model.safetensors.index.json is (re)written.

model_free_ptq matches tensors by *name* only: with targets=["Linear"] every `<module>.weight`
counts, except modules whose name ends in "norm". Embeddings would be quantized too; oneshot skips
them by class. So the architecture is built on the meta device (no weights, a fraction of a second
for 111B) to learn which modules are nn.Linear, and every other module holding a 2-D weight goes
into the ignore list: both paths quantize the same tensors.
"""
from __future__ import annotations

import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from .. import progress
from ..errors import bad_input

SHARD_POLL_S = 5.0  # how often the output folder is looked at for finished shards (progress only)


def _two_d_weights(model_dir: Path) -> list[str]:
    """Module names of the checkpoint's 2-D `.weight` tensors, from the safetensors headers."""
    from safetensors import safe_open

    modules = []
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(file), "pt") as f:
            for name in f.keys():
                module, _, param = name.rpartition(".")
                if param == "weight" and len(f.get_slice(name).get_shape()) == 2:
                    modules.append(module)
    return modules


def not_linear(model_dir: Path) -> list[str]:
    """Modules of the checkpoint with a 2-D weight that are not nn.Linear (embeddings, 2-D norms)."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model_dir))
    kinds = {name: isinstance(m, torch.nn.Linear) for name, m in model.named_modules()}
    weights = _two_d_weights(model_dir)
    unknown = [m for m in weights if m not in kinds]
    if unknown:  # a renamed checkpoint layout: we could not tell its Linear weights from the rest
        raise bad_input(f"compress_teacher.method=model_free: checkpoint tensors {unknown[:3]} name no module "
                        f"of {type(model).__name__}; use method: oneshot for this model")
    return sorted({m for m in weights if not kinds[m]})


@contextmanager
def _report_shards(work: Path, total: int):
    """Emit a progress event whenever another output shard appears: model_free_ptq is one long call,
    and a runner silent for timeouts.stall_s is killed as hung."""
    stop = threading.Event()

    def watch() -> None:
        seen = 0
        while not stop.wait(SHARD_POLL_S):
            written = len(list(work.glob("*.safetensors")))
            if written != seen:
                seen = written
                progress.emit_progress("quantize", written, total)

    thread = threading.Thread(target=watch, name="hala-shard-progress", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def quantize(source: Path, work: Path, ignore: list[str]) -> None:
    """Write the FP8_DYNAMIC checkpoint of `source` to `work` without loading the model."""
    import torch
    from llmcompressor import model_free_ptq

    shards = len(list(source.glob("*.safetensors")))
    if shards == 0:
        raise bad_input(f"compress_teacher.method=model_free needs safetensors weights; {source} has none "
                        "(use method: oneshot)")
    skip = [*ignore, *(m for m in not_linear(source) if m not in ignore)]
    print(f"model_free_ptq: {shards} shard(s), ignore {skip}", file=sys.stderr)
    progress.emit_progress("quantize", 0, shards)
    with _report_shards(work, shards):
        # device=None: every visible CUDA device, else the CPU; one shard in flight per device.
        model_free_ptq(str(source), str(work), scheme="FP8_DYNAMIC", ignore=skip,
                       max_workers=max(1, torch.cuda.device_count()))
