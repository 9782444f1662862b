"""Compress the teacher to FP8 with LLM Compressor (activity compress_teacher).

    python -m hala_runners.runners.compress --config config.json

Data-free `oneshot` with QuantizationModifier(targets="Linear", scheme="FP8_DYNAMIC"): per-channel
FP8 (e4m3) weights with a `weight_scale` of shape [out, 1], per-token activation scales computed at
run time by vLLM. `lm_head` is always ignored (added if the recipe forgot it) and embeddings are not
Linear, so both stay in the checkpoint's dtype. Saved with save_compressed=True (compressed-tensors
format, which vLLM loads as is) to a local work dir, then published to `<output_prefix>/model`.

Memory, CPU here: the tiny teacher loads on CPU (device_map=None) in seconds.
Memory, the real 111B Command A (bf16, ~222 GB): loaded with device_map="auto", which fills the
visible GPUs and offloads the rest to CPU RAM (then disk); llm-compressor respects the map and
quantizes each Linear where it lives, and FP8_DYNAMIC needs no calibration forward pass. Plan for
~230 GB of host RAM plus the GPUs (one 8xH100 node holds it on GPU alone). Output is ~111 GB.
If that does not fit, `method` model_free (compress_model_free.py) quantizes the safetensors shard
by shard without building the model; `auto` (the default) picks it when the weights exceed what this
worker holds (compress_method.py: the formula, and HALA_COMPRESS_MEMORY_BYTES to set the figure).
Both write the same checkpoint format; the output's `method` says which ran.
Resume: the finished result is recorded at `<output_prefix>/result.json` after publishing; a retry
that finds it and a complete `<output_prefix>/model` returns it instead of compressing again. A retry
of an attempt killed before that redoes the whole compression (either method) from an emptied scratch
dir: neither library call can continue a half-written checkpoint.
"""
from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import hub, progress, store
from ..errors import bad_input
from ..runner_harness import run, save_config, scratch_dir
from . import compress_method, compress_model_free

ALWAYS_IGNORE = ("lm_head",)  # the recipe: never quantize the output head (nor embeddings: not Linear)


@dataclass(kw_only=True)
class Config:
    stage_key: str
    output_prefix: str
    model: str              # hf://, file:// or s3:// directory of the BF16 teacher
    scheme: str             # FP8_DYNAMIC (the only data-free scheme the contract allows)
    ignore: list            # module names or "re:<regex>" left unquantized; lm_head is always added
    method: str             # auto | oneshot | model_free (compress_method.py resolves auto)
    resume: dict | None = None


def count_quantized(model_dir: Path) -> tuple[int, list[str]]:
    """(Linear layers stored as FP8 with a weight_scale, names of other FP8 tensors) from safetensors headers."""
    from safetensors import safe_open

    scales, fp8 = set(), set()
    for file in sorted(model_dir.glob("*.safetensors")):
        with safe_open(str(file), "pt") as f:
            for name in f.keys():
                if name.endswith(".weight_scale"):
                    scales.add(name[: -len("_scale")])
                elif f.get_slice(name).get_dtype() == "F8_E4M3":
                    fp8.add(name)
    return len(scales & fp8), sorted(fp8 - scales)


def _device_map() -> str | None:
    import torch

    return "auto" if torch.cuda.is_available() else None


def _oneshot(source: Path, work: Path, ignore: list[str]) -> None:
    """Load the model (GPUs first, then CPU), quantize it in place, save it compressed to `work`."""
    from llmcompressor import oneshot
    from llmcompressor.modifiers.quantization import QuantizationModifier
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(source, dtype="auto", device_map=_device_map())
    tokenizer = AutoTokenizer.from_pretrained(source)

    progress.emit_progress("quantize", 1, 3)
    oneshot(model=model, recipe=QuantizationModifier(targets="Linear", scheme="FP8_DYNAMIC", ignore=ignore))

    progress.emit_progress("save", 2, 3)
    model.save_pretrained(work, save_compressed=True)
    tokenizer.save_pretrained(work)


def _run(cfg: Config) -> dict:
    started = time.monotonic()
    if cfg.scheme != "FP8_DYNAMIC":
        raise bad_input(f"compress_teacher.scheme must be FP8_DYNAMIC (got {cfg.scheme!r})")
    if cfg.method not in compress_method.METHODS:
        raise bad_input(f"compress_teacher.method must be one of {', '.join(compress_method.METHODS)} "
                        f"(got {cfg.method!r})")
    save_config(cfg)
    out_uri = store.join(cfg.output_prefix, "model")
    result_uri = store.join(cfg.output_prefix, "result.json")
    if store.exists(result_uri) and store.is_complete_dir(out_uri):
        progress.emit_progress("done", 3, 3, checkpoint_uri=out_uri)
        return json.loads(store.fetch(result_uri).read_text())

    ignore = list(dict.fromkeys([*ALWAYS_IGNORE, *cfg.ignore]))
    source = hub.resolve(cfg.model)
    weights = compress_method.weights_bytes(source)
    budget, measured = compress_method.memory_budget()
    method = compress_method.choose(cfg.method, weights, budget)
    print(f"compress_teacher: weights {weights} B, budget {budget} B ({measured}); method {cfg.method} -> {method}",
          file=sys.stderr)
    progress.emit_progress("load", 0, 3, weights_bytes=weights, budget_bytes=budget)
    work = scratch_dir(cfg.stage_key) / "model"
    shutil.rmtree(work, ignore_errors=True)  # a half-written save of an earlier attempt
    if method == "oneshot":
        _oneshot(source, work, ignore)
    else:
        compress_model_free.quantize(source, work, ignore)
    quantized, stray = count_quantized(work)
    if stray or quantized == 0:
        raise RuntimeError(f"compressed checkpoint {work} is wrong: {quantized} FP8 Linear layers, "
                           f"FP8 tensors without a scale: {stray[:5]}")
    ref = store.publish_dir(work, out_uri, "model")
    result = {"model": ref, "method": method, "quantized_linear_layers": quantized, "ignored": ignore,
              "seconds": round(time.monotonic() - started, 3)}
    store.write_bytes(result_uri, json.dumps(result).encode())
    progress.emit_progress("save", 3, 3, checkpoint_uri=out_uri)
    return result


def main(argv: list[str] | None = None) -> int:
    return run(Config, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
