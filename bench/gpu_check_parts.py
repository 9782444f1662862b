"""One gpu-check part in its own process: the table of parts, the small ones, and the entry point.

    python bench/gpu_check_parts.py --part NAME --work DIR --result FILE [--rows N]

bench/gpu_check.py starts this once per part, in a process group of its own, so a part past its
timeout is killed with every runner it started and the next part finds the GPU free. The part
writes {status, why?, figures} to FILE: ok, failed (with why), or skipped (with why: a module this
machine lacks, an input an earlier part did not produce). A part that dies writes nothing; the
orchestrator reports it failed with its log's tail.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import traceback
from pathlib import Path

from gpu_check_fp8 import TEACHER, checkpoint_uri, compress, fp8_generate, held_out_texts
from gpu_check_runner import KEY, PartFailed, Skip, run_runner
from gpu_check_sft import STUDENT, sft_preempt

OALL = ("alghafa", "arabic_mmlu", "madinah_qa", "exams", "aratrust", "arbmmlu_ht")  # the tiny world's benchmarks
DOCTOR = "hala_runners.doctor_probe"


def evaluate(work_root: Path, on_gpu: bool) -> dict:
    """runners/evaluate.py (own harness, log-likelihoods) on every tiny-world OALL benchmark."""
    work = work_root / "evaluate"
    benchmarks = [{"name": b, "uri": f"hf://datasets/hala-tiny/oall/{b}/test.parquet", "format": b} for b in OALL]
    config = {"stage_key": KEY, "output_prefix": f"file://{work}/store/eval", "model": STUDENT,
              "benchmarks": benchmarks, "batch_size": 32,
              "harness": "own", "formulation": "mcf", "chat_template": False}
    run = run_runner("evaluate", config, work)
    out = run.result("evaluate")
    from hala_runners import store

    report = json.loads(store.fetch(out["report"]).read_text())
    rows = sum(b["rows"] for b in report["benchmarks"].values())
    return {"device": "cuda" if on_gpu else "cpu", "model": STUDENT, "rows": rows, "seconds": round(run.seconds, 2),
            "rows_per_s": round(rows / run.seconds, 1), "acc_norm": out["scores"], "average": out["average"]}


def doctor(work_root: Path, on_gpu: bool) -> dict:
    """`hala doctor`'s GPU probe, exactly as doctor calls it; its JSON object is the figures."""
    done = subprocess.run([sys.executable, "-m", DOCTOR, "--gpu-only", "--json"], capture_output=True, text=True,
                          start_new_session=True)
    lines = [ln for ln in done.stdout.splitlines() if ln.strip().startswith("{")]
    try:
        probe = json.loads(lines[-1]) if lines else None
    except json.JSONDecodeError:
        probe = None
    if done.returncode != 0 or not isinstance(probe, dict):
        raise PartFailed(f"{DOCTOR} exited {done.returncode}" + ("" if isinstance(probe, dict) else " without a JSON object")
                         + f": {done.stderr.strip()[-800:]}", {"probe": probe, "stdout_tail": done.stdout[-800:]})
    return probe


def translate_vllm(work_root: Path, on_gpu: bool, rows: int) -> dict:
    """runners/translate.py with engine vllm: the BF16 teacher, then its FP8 checkpoint; rows/s each."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store
    from tiny_world.language import TARGET_NAME
    from tiny_world.tokenizer import PROMPT_TEMPLATE

    work = work_root / "translate_vllm"
    work.mkdir(parents=True, exist_ok=True)
    texts = held_out_texts(rows)
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(len(texts))], "text": texts}), work / "shard.parquet")
    shard = store.publish_file(work / "shard.parquet", f"file://{work}/store/in/shard.parquet", "dataset", rows=len(texts))
    fp8 = checkpoint_uri(work_root, "oneshot")
    figures: dict = {}
    for name, model in (("bf16", TEACHER), ("fp8", fp8)):
        if name == "fp8" and not store.is_complete_dir(fp8):
            figures[name] = "skipped: the compress part produced no FP8 checkpoint"
            continue
        config = {"stage_key": KEY, "output_prefix": f"file://{work}/store/{name}", "model": model, "shard": shard,
                  "engine": "vllm", "batch_size": 64, "max_new_tokens": 96, "tensor_parallel_size": 1,
                  "prompt_template": PROMPT_TEMPLATE.replace("{target}", TARGET_NAME)}
        run = run_runner("translate", config, work / name)
        out = run.result(f"translate (vllm, {name})")
        figures[name] = {"rows": out["rows"], "seconds_with_load": round(run.seconds, 2),
                         "rows_per_s": round(out["rows"] / out["seconds"], 1) if out["seconds"] else None,
                         "tokens_per_s": out["tokens_per_second"]}
    return figures


# name -> (modules it needs, why it is skipped when one is missing: None for the carried wheels' hint,
#          its body, the seconds it may take on a GPU). In running order: cheap and independent first.
WHEELS_HINT = "carry the wheels of bench/gpu-check-wheels.txt (bash bench/gpu-check.sh --fetch; run with carry ['.whl'])"
PARTS = {
    "doctor": ([DOCTOR], f"{DOCTOR} not present", doctor, 60),
    "compress": (["llmcompressor", "compressed_tensors"], None, compress, 120),
    "fp8_generate": (["compressed_tensors"], None, fp8_generate, 90),
    "sft_preempt": (["trl", "datasets", "jsonschema"], None, sft_preempt, 150),
    "evaluate": ([], None, evaluate, 90),
    "translate_vllm": (["vllm"], "vllm is not installed on this machine", translate_vllm, 150),
}


def missing(modules: list[str]) -> list[str]:
    out = []
    for name in modules:
        try:
            found = importlib.util.find_spec(name) is not None
        except ImportError:  # a parent package that is not there
            found = False
        if not found:
            out.append(name)
    return out


def run_part(name: str, work_root: Path, rows: int) -> dict:
    modules, why_skipped, body, _ = PARTS[name]
    lacking = missing(modules)
    if lacking:
        why = why_skipped or f"module(s) {', '.join(lacking)} missing: {WHEELS_HINT}"
        return {"status": "skipped", "why": why, "figures": {}}
    import torch

    on_gpu = torch.cuda.is_available()
    try:
        figures = body(work_root, on_gpu, rows) if name == "translate_vllm" else body(work_root, on_gpu)
        return {"status": "ok", "figures": figures}
    except Skip as e:
        return {"status": "skipped", "why": str(e), "figures": {}}
    except PartFailed as e:
        return {"status": "failed", "why": str(e), "figures": e.figures}
    except Exception as e:  # noqa: BLE001 - the report names the failure; the orchestrator goes on
        traceback.print_exc()
        return {"status": "failed", "why": f"{type(e).__name__}: {e}"[:3000], "figures": {}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", required=True, choices=list(PARTS))
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=512)
    args = parser.parse_args()
    outcome = run_part(args.part, args.work, args.rows)
    args.result.write_text(json.dumps(outcome, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
