"""The engine side of `hala doctor`: start the pool's engine, translate two batches, load a tiny FP8 checkpoint.

    python -m hala_runners.doctor_engine --work DIR [--translate MODEL] [--fp8 MODEL] [--field FIELD]

A child of the worker (doctor_probe.py starts it with engines.ENGINE_ENV), as the infer worker's own
engines are: vLLM or the GPU must never start in the worker process. Its last stdout line is
RESULT_PREFIX + {"engine": {...}, "fp8": {...}}, each {ok, seen, detail}; a check not asked for is
absent (the runners' own progress lines come before it).
- engine: the engine `auto` picks (vLLM with a GPU, else transformers) loads MODEL, and the SAME
  loaded engine translates two batches: what an infer worker does for every shard after the first.
- fp8: a miniature of MODEL (its architecture and tokenizer, two narrow layers of random weights:
  only its small files are fetched, never the 222 GB teacher) compressed to FP8_DYNAMIC by the
  model-free path of compress_teacher (runners/compress_model_free.py) into DIR, then loaded by the
  same kind of engine and asked one batch: the checkpoint format the quantize pool writes and the
  infer pool serves, for the architecture the campaign will serve.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

TEMPLATE = "Translate into the target language:\n{text}"
BATCHES = (["Good morning.", "The river is wide."], ["Where is the station?", "Thank you, friend."])
RESULT_PREFIX = "doctor-engine-result "
MAX_NEW_TOKENS = 8  # enough to see generation happen; the doctor proves the path, not the quality


def _load(model_dir: Path):
    from .engines import load_engine, select_engine

    started = time.monotonic()
    engine = load_engine(select_engine("auto"), model_dir)
    return engine, round(time.monotonic() - started, 2)


def _translate(engine, texts: list[str]) -> tuple[list[str], int, float]:
    started = time.monotonic()
    out, tokens = engine.translate(texts, len(texts), MAX_NEW_TOKENS, TEMPLATE)
    return out, tokens, round(time.monotonic() - started, 2)


def engine_check(model: str, field: str | None) -> dict:
    from . import hub

    engine, load_s = _load(hub.resolve(model, field))
    rounds = []
    for texts in BATCHES:
        out, tokens, seconds = _translate(engine, texts)
        rounds.append({"rows": len(texts), "translations": len(out), "tokens": tokens, "seconds": seconds,
                       "engine_object": id(engine)})
    ok = all(r["translations"] == r["rows"] and r["tokens"] > 0 for r in rounds)
    return {"ok": ok, "seen": f"{engine.name} engine loaded {model} in {load_s} s; the same engine translated 2 batches "
                              f"({rounds[0]['tokens']} + {rounds[1]['tokens']} tokens in {rounds[0]['seconds']} + {rounds[1]['seconds']} s)",
            "detail": {"engine": engine.name, "model": model, "load_s": load_s, "batches": rounds}}


def _fp8_tensors(directory: Path) -> int:
    """Tensors stored as float8 in the checkpoint's safetensors headers."""
    from safetensors import safe_open

    count = 0
    for file in directory.glob("*.safetensors"):
        with safe_open(str(file), "pt") as f:
            count += sum(1 for name in f.keys() if "F8" in str(f.get_slice(name).get_dtype()))
    return count


# The miniature's shape: small enough to build, compress and load in seconds on any device.
MINIATURE = {"num_hidden_layers": 2, "hidden_size": 128, "intermediate_size": 256, "num_attention_heads": 4,
             "head_dim": 32}


def miniature(model: str, field: str | None, out: Path) -> Path:
    """A randomly initialised model of `model`'s architecture at MINIATURE's size, with its tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from . import hub

    source = hub.resolve_small_files(model, field)
    config = AutoConfig.from_pretrained(source)
    grouped = getattr(config, "num_key_value_heads", config.num_attention_heads) < config.num_attention_heads
    for name, value in {**MINIATURE, "num_key_value_heads": 2 if grouped else MINIATURE["num_attention_heads"]}.items():
        if hasattr(config, name) or name != "head_dim":
            setattr(config, name, value)
    if getattr(config, "layer_types", None):  # per-layer attention kinds (sliding / full): keep both kinds seen first
        config.layer_types = config.layer_types[: MINIATURE["num_hidden_layers"]]
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16).save_pretrained(out)
    AutoTokenizer.from_pretrained(source).save_pretrained(out)
    return out


def fp8_check(model: str, field: str | None, work: Path) -> dict:
    from .runners.compress_model_free import quantize

    started = time.monotonic()
    out_dir = work / "fp8"
    quantize(miniature(model, field, work / "miniature"), out_dir, ignore=["lm_head"])
    written_s = round(time.monotonic() - started, 2)
    fp8 = _fp8_tensors(out_dir)
    method = json.loads((out_dir / "config.json").read_text()).get("quantization_config", {}).get("quant_method")
    engine, load_s = _load(out_dir)
    out, tokens, seconds = _translate(engine, BATCHES[0])
    ok = fp8 > 0 and method == "compressed-tensors" and len(out) == len(BATCHES[0]) and tokens > 0
    how = ("served in FP8 by vLLM" if engine.name == "vllm" else
           "dequantized at load by transformers (no FP8 matmul on this device)" if not getattr(engine, "device", "").startswith("cuda")
           else "loaded by transformers on the GPU")
    return {"ok": ok, "seen": f"FP8 checkpoint of a miniature {model} written by model_free_ptq in {written_s} s ({fp8} float8 tensors, "
                              f"{method}); {engine.name} loaded it in {load_s} s, {how}, and translated a batch ({tokens} tokens)",
            "detail": {"model": model, "fp8_tensors": fp8, "quant_method": method, "engine": engine.name,
                       "write_s": written_s, "load_s": load_s, "batch_s": seconds}}


def _guarded(check, *args) -> dict:
    try:
        return check(*args)
    except Exception as e:  # noqa: BLE001 - the failure is the finding, with its own words
        return {"ok": False, "seen": f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}",
                "detail": {"error": repr(e)[:2000]}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hala_runners.doctor_engine", description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory for the FP8 checkpoint")
    parser.add_argument("--translate", help="model the engine loads and translates two batches with")
    parser.add_argument("--fp8", help="model compressed to a tiny FP8 checkpoint and loaded")
    parser.add_argument("--field", help="recipe field naming the model, for errors")
    args = parser.parse_args(argv)
    from .runner_harness import killed_with_parent

    killed_with_parent()
    result = {}
    if args.translate:
        result["engine"] = _guarded(engine_check, args.translate, args.field)
    if args.fp8:
        result["fp8"] = _guarded(fp8_check, args.fp8, args.field, args.work)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
