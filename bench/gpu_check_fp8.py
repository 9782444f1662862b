"""gpu-check parts on the teacher's FP8 checkpoint: compressed both ways, then loaded and generating.

compress       runners/compress.py with method oneshot (llmcompressor's oneshot on the loaded model)
               and with method model_free (model_free_ptq, shard by shard), each from its own command
               line; then every tensor of the two checkpoints compared bit for bit.
fp8_generate   runners/translate.py with engine transformers on the oneshot checkpoint (tokens/s as the
               runner counts them), then the engine it uses (engines.TransformersEngine) loaded here to
               see that the weights are still FP8 after generating: on a GPU compressed-tensors keeps
               them FP8; on CPU the engine dequantizes at load by design (transformers_engine.py).
"""
from __future__ import annotations

import time
from pathlib import Path

from gpu_check_runner import KEY, PartFailed, Skip, run_runner

TEACHER = "hf://hala-tiny/command-a-translate"
METHODS = ("oneshot", "model_free")
DIFFERING_NAMED = 10  # names of differing tensors reported; the count is always complete


def checkpoint_uri(work_root: Path, method: str) -> str:
    """Where the compress part publishes each method's checkpoint (its output_prefix + /model)."""
    return f"file://{work_root}/compress/store/{method}/model"


def compress(work_root: Path, on_gpu: bool) -> dict:
    from hala_runners import store

    figures: dict = {}
    for method in METHODS:
        config = {"stage_key": KEY, "output_prefix": checkpoint_uri(work_root, method).removesuffix("/model"),
                  "model": TEACHER, "scheme": "FP8_DYNAMIC", "ignore": [], "method": method}
        run = run_runner("compress", config, work_root / "compress" / method)
        out = run.result(f"compress {method}")
        figures[method] = {"seconds": round(run.seconds, 2), "method_ran": out["method"],
                           "fp8_linear_layers": out["quantized_linear_layers"], "ignored": out["ignored"]}
    figures["comparison"] = compare(*(store.local_path(checkpoint_uri(work_root, m)) for m in METHODS))
    figures["device"] = "cuda" if on_gpu else "cpu"
    if not figures["comparison"]["identical"]:
        raise PartFailed("the oneshot and model_free checkpoints differ", figures)
    return figures


def compare(a_dir: Path, b_dir: Path) -> dict:
    """Every tensor of two checkpoints by name, dtype, shape and bytes."""
    import torch
    from safetensors.torch import load_file

    def tensors(folder: Path) -> dict:
        return {k: v for f in sorted(folder.glob("*.safetensors")) for k, v in load_file(f).items()}

    a, b = tensors(a_dir), tensors(b_dir)
    only = sorted(set(a) ^ set(b))
    differing = sorted(k for k in set(a) & set(b) if a[k].dtype != b[k].dtype or a[k].shape != b[k].shape
                       or not torch.equal(a[k].contiguous().view(-1).view(torch.uint8),
                                          b[k].contiguous().view(-1).view(torch.uint8)))
    return {"identical": not only and not differing, "tensors": len(set(a) | set(b)),
            "fp8_tensors": sum(t.dtype == torch.float8_e4m3fn for t in a.values()),
            "only_in_one": only[:DIFFERING_NAMED], "differing_count": len(differing) + len(only),
            "differing": differing[:DIFFERING_NAMED]}


def fp8_generate(work_root: Path, on_gpu: bool) -> dict:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store
    from tiny_world.language import TARGET_NAME
    from tiny_world.tokenizer import PROMPT_TEMPLATE

    model_uri = checkpoint_uri(work_root, "oneshot")
    if not store.is_complete_dir(model_uri):
        raise Skip("needs the FP8 checkpoint of the compress part, which did not finish")
    work = work_root / "fp8_generate"
    work.mkdir(parents=True, exist_ok=True)
    texts = held_out_texts(8)
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(len(texts))], "text": texts}), work / "shard.parquet")
    shard = store.publish_file(work / "shard.parquet", f"file://{work}/store/in/shard.parquet", "dataset", rows=len(texts))
    template = PROMPT_TEMPLATE.replace("{target}", TARGET_NAME)
    config = {"stage_key": KEY, "output_prefix": f"file://{work}/store/translate", "model": model_uri, "shard": shard,
              "engine": "transformers", "batch_size": 8, "max_new_tokens": 16, "tensor_parallel_size": 1,
              "prompt_template": template}
    run = run_runner("translate", config, work)
    out = run.result("translate (transformers, FP8)")
    figures = {"runner": {"engine": out["engine"], "rows": out["rows"], "seconds_with_load": round(run.seconds, 2),
                          "tokens_per_s": out["tokens_per_second"]}}
    figures["in_process"] = weights_through_generate(store.local_path(model_uri), texts[:4], template)
    figures["device"] = figures["in_process"]["device"]
    if on_gpu and not figures["in_process"]["weights_stayed_fp8"]:
        raise PartFailed("the FP8 weights did not stay FP8 on the GPU", figures)
    return figures


def weights_through_generate(model_dir: Path, texts: list[str], template: str) -> dict:
    """Load as the runner's engine does, generate, and count the FP8 tensors before and after."""
    import torch

    from hala_runners.engines.transformers_engine import TransformersEngine

    def fp8_tensors(model) -> int:
        return sum(t.dtype == torch.float8_e4m3fn for t in (*model.parameters(), *model.buffers()))

    engine = TransformersEngine(model_dir)
    before = fp8_tensors(engine.model)
    if engine.device == "cuda":
        torch.cuda.synchronize()
    started = time.monotonic()
    _, tokens = engine.translate(texts, batch_size=len(texts), max_new_tokens=16, prompt_template=template)
    if engine.device == "cuda":
        torch.cuda.synchronize()
    seconds = time.monotonic() - started
    after = fp8_tensors(engine.model)
    figures = {"device": engine.device, "fp8_tensors_loaded": before, "fp8_tensors_after_generate": after,
               "weights_stayed_fp8": before > 0 and after == before, "tokens": tokens,
               "tokens_per_s": round(tokens / seconds, 1) if seconds else None}
    if engine.device != "cuda":
        figures["note"] = "CPU: the engine dequantizes FP8 at load by design (no FP8 matmul on CPUs)"
    return figures


def held_out_texts(rows: int) -> list[str]:
    """English sentences the tiny teacher never saw (tiny_world.teacher.held_out)."""
    from tiny_world import grammar, teacher

    return teacher.held_out(0, grammar.World.make(0), rows)
