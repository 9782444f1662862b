"""The GPU paths of the runners, proven on one lent GPU machine in a few minutes; prints figures.

    bash bench/gpu-check.sh            (the wrapper: finds Python, the tiny world, the output folder)

Each part runs a real runner through its own command line, exactly as a worker would, on the tiny
world (fixtures/tiny-world, 9.2 MB, which travels with the working tree since the machine has no network):

  1. FP8 compression of the tiny BF16 teacher on the GPU, oneshot and model_free    seconds, FP8 layers,
     whether the two checkpoints' tensors are bit-identical
  2. translation of held-out rows by vLLM with the BF16 teacher and its FP8 checkpoint   rows/s each
  3. SFT of a tiny student on the GPU, killed (-9) after a checkpoint, resumed    steps redone
  4. SFT with each distributed strategy the runner offers, as many GPUs as the machine has

A part whose wheels are missing is skipped with the wheels named; nothing is downloaded.
`--allow-cpu` runs the same parts on CPU (transformers engine instead of vLLM) to check the script
itself where no GPU is at hand: its figures are not GPU figures and say so.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "gpu-runners"))

TEACHER = "hf://hala-tiny/command-a-translate"
STUDENT = "hf://hala-tiny/lfm2-350m"
KEY = "0" * 64

# The wheels each part imports, as the image locks name them (images/<role>/requirements.lock).
NEEDS = {
    "compress": ["torch", "transformers", "llmcompressor", "safetensors"],
    "translate": ["torch", "transformers", "vllm", "pyarrow"],
    "train": ["torch", "transformers", "trl", "accelerate", "datasets", "pyarrow"],
}


def missing(part: str) -> list[str]:
    return [m for m in NEEDS[part] if importlib.util.find_spec(m) is None]


def run_runner(runner: str, config: dict, work: Path, kill_when=None) -> tuple[int, list[dict], float]:
    """Run `python -m hala_runners.runners.<runner> --config`, collect its events; `kill_when(event)` -> SIGKILL it."""
    from hala_runners import progress
    from hala_runners.engines import ENGINE_ENV

    cfg = work / f"{runner}-{time.monotonic_ns()}.json"
    cfg.write_text(json.dumps(config))
    # ENGINE_ENV: vLLM starts and logs here as in the infer worker's engine processes.
    env = {**os.environ, **ENGINE_ENV, "PYTHONPATH": str(ROOT / "gpu-runners"), "HALA_WORK_DIR": str(work / "scratch")}
    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", f"hala_runners.runners.{runner}", "--config", str(cfg)],
                            stdout=subprocess.PIPE, stderr=open(work / f"{runner}.log", "a"), text=True, env=env,
                            start_new_session=True)
    events: list[dict] = []
    try:
        for line in proc.stdout:
            event = progress.parse_line(line)
            if event:
                events.append(event)
                if kill_when and kill_when(event):
                    os.killpg(proc.pid, signal.SIGKILL)
                    break
        proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, events, time.monotonic() - t0


def result_of(events: list[dict], what: str) -> dict:
    last = events[-1] if events else {}
    if last.get("event") != "result":
        raise RuntimeError(f"{what} failed: {last.get('type', 'no event')}: {last.get('message', '(see its log)')}")
    return last["result"]


def shard_of(work: Path, rows: int) -> dict:
    """`rows` held-out English sentences of the tiny world, as a translate_shard input shard."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store
    from tiny_world import grammar, teacher

    texts = teacher.held_out(0, grammar.World.make(0), rows)
    path = work / "shard.parquet"
    pq.write_table(pa.table({"id": [f"row-{i}" for i in range(len(texts))], "text": texts}), path)
    return store.publish_file(path, f"file://{work}/store/in/shard.parquet", "dataset", rows=len(texts))


def compress(work: Path, report: dict) -> str | None:
    """Both methods on the GPU: oneshot (what `auto` runs for the tiny teacher) and model_free_ptq."""
    import torch
    from safetensors.torch import load_file

    from hala_runners import store

    report["compress"], tensors, uri = {}, {}, None
    for method in ("oneshot", "model_free"):
        config = {"stage_key": KEY, "output_prefix": f"file://{work}/store/compress-{method}", "model": TEACHER,
                  "scheme": "FP8_DYNAMIC", "ignore": [], "method": method}
        code, events, seconds = run_runner("compress", config, work)
        out = result_of(events, f"compress {method}")
        report["compress"][method] = {"seconds": round(seconds, 1), "fp8_linear_layers": out["quantized_linear_layers"]}
        model_dir = store.local_path(out["model"]["uri"])
        tensors[method] = {k: v for f in sorted(model_dir.glob("*.safetensors")) for k, v in load_file(f).items()}
        uri = uri or out["model"]["uri"]
    a, b = tensors["oneshot"], tensors["model_free"]
    report["compress"]["tensors_bit_identical"] = sorted(a) == sorted(b) and all(
        a[k].dtype == b[k].dtype and torch.equal(a[k].reshape(-1).view(torch.uint8), b[k].reshape(-1).view(torch.uint8))
        for k in a)
    return uri


def translate(work: Path, fp8_uri: str | None, engine: str, rows: int, report: dict) -> None:
    from tiny_world.language import TARGET_NAME
    from tiny_world.tokenizer import PROMPT_TEMPLATE

    shard = shard_of(work, rows)
    for name, model in (("bf16", TEACHER), ("fp8", fp8_uri)):
        if model is None:
            continue
        config = {"stage_key": KEY, "output_prefix": f"file://{work}/store/translate-{name}", "model": model,
                  "shard": shard, "engine": engine, "batch_size": 64, "max_new_tokens": 96, "tensor_parallel_size": 1,
                  "prompt_template": PROMPT_TEMPLATE.replace("{target}", TARGET_NAME)}
        _, events, seconds = run_runner("translate", config, work)
        out = result_of(events, f"translate ({name})")
        report[f"translate_{name}"] = {"engine": out["engine"], "rows": out["rows"], "seconds_with_load": round(seconds, 1),
                                       "rows_per_s_generation": round(out["rows"] / out["seconds"], 1) if out["seconds"] else None,
                                       "tokens_per_s": out["tokens_per_second"]}


def chat_set(work: Path, rows: int = 400) -> dict:
    """A learnable chat set in the layout train_sft reads (`messages`): item k -> a fixed colour."""
    import random

    import pyarrow as pa
    import pyarrow.parquet as pq

    from hala_runners import store

    colours, rng = ["red", "green", "blue", "black"], random.Random(0)
    table = [{"messages": [{"role": "user", "content": f"What colour is item {k}?"},
                           {"role": "assistant", "content": f"Item {k} is {colours[k % 4]}."}]}
             for k in (rng.randrange(40) for _ in range(rows))]
    path = work / "chat.parquet"
    pq.write_table(pa.Table.from_pylist(table), path)
    return store.publish_file(path, f"file://{work}/store/in/chat.parquet", "dataset", rows=rows)


def train_config(work: Path, name: str, steps_between_checkpoints: int, **knobs) -> dict:
    return {"stage_key": KEY, "output_prefix": f"file://{work}/store/{name}", "dataset": chat_set(work), "seed": 0,
            "logging_steps": 1, "gradient_checkpointing": False,
            "knobs": {"base": STUDENT, "learning_rate": 2e-3, "epochs": 1, "per_device_batch_size": 8,
                      "gradient_accumulation_steps": 1, "max_seq_len": 256, "warmup_ratio": 0.05, "weight_decay": 0.0,
                      "lr_scheduler": "cosine", "save_every_steps": steps_between_checkpoints, "dtype": "bfloat16", **knobs}}


def train_kill_resume(work: Path, report: dict) -> None:
    config = train_config(work, "sft", 10)
    past_checkpoint = lambda e: e.get("event") == "progress" and e.get("phase") == "train" \
        and (e.get("checkpoint_uri") or "").rstrip("/").endswith("checkpoint-10") and e.get("done", 0) >= 12
    code, events, first = run_runner("train", config, work, kill_when=past_checkpoint)
    killed_at = max((e.get("done", 0) for e in events if e.get("phase") == "train"), default=0)
    _, events, second = run_runner("train", config, work)
    out = result_of(events, "train (resumed)")
    report["train_kill_resume"] = {"killed_at_step": killed_at, "resumed_from_step": out["resumed_from_step"],
                                   "steps_redone": killed_at - out["resumed_from_step"], "steps": out["steps"],
                                   "seconds_before_kill": round(first, 1), "seconds_resumed": round(second, 1)}


def train_strategies(work: Path, gpus: int, report: dict) -> None:
    """Each distributed strategy the train knobs accept (contracts/recipe.ts), on every GPU here."""
    from hala_runners import contract_file

    knobs = contract_file.load()["activities"]["train_sft"]["input"]["properties"]["knobs"]["properties"]
    strategies = knobs.get("strategy", {}).get("enum")
    if not strategies:
        report["train_strategies"] = "skipped: this runner version has no distributed strategies"
        return
    for strategy in strategies:
        config = train_config(work, f"sft-{strategy}", 1000, strategy=strategy, gpus=gpus)
        _, events, seconds = run_runner("train", config, work)
        out = result_of(events, f"train ({strategy})")
        report[f"train_{strategy}_x{gpus}"] = {"steps": out["steps"], "seconds": round(seconds, 1), "final_loss": round(out["final_loss"], 4)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp(prefix="hala-gpu-check-")))
    parser.add_argument("--rows", type=int, default=512, help="held-out rows each teacher translates")
    parser.add_argument("--allow-cpu", action="store_true", help="run on CPU to check the script (not GPU figures)")
    args = parser.parse_args()
    if not os.environ.get("HALA_HUB_MIRROR"):
        sys.exit("gpu-check: set HALA_HUB_MIRROR to the tiny world (the repository ships it: fixtures/tiny-world/hub)")

    import torch

    on_gpu = torch.cuda.is_available()
    if not on_gpu and not args.allow_cpu:
        sys.exit("gpu-check: no CUDA device; --allow-cpu checks the script on CPU")
    gpus = torch.cuda.device_count() if on_gpu else 1
    report: dict = {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu (not GPU figures)", "gpus": gpus,
                    "torch": torch.__version__}
    work = args.out
    work.mkdir(parents=True, exist_ok=True)
    engine = "vllm" if on_gpu else "transformers"

    fp8 = None
    parts = [
        ("compress", "compress", lambda: compress(work, report)),
        ("translate", "translate", lambda: translate(work, fp8, engine, args.rows, report)),
        ("train_kill_resume", "train", lambda: train_kill_resume(work, report)),
        ("train_strategies", "train", lambda: train_strategies(work, gpus, report)),
    ]
    for name, needs, body in parts:
        lacking = [m for m in missing(needs) if not (m == "vllm" and not on_gpu)]
        if lacking:
            report[name] = f"skipped: missing wheels {lacking}"
            continue
        t0 = time.monotonic()
        try:
            value = body()
            if name == "compress":
                fp8 = value
        except Exception as e:  # noqa: BLE001 - one failed part must not hide the others' figures
            report[name] = f"failed after {time.monotonic() - t0:.0f} s: {e} (logs in {work})"
        print(f"gpu-check: {name} done in {time.monotonic() - t0:.0f} s", file=sys.stderr, flush=True)

    print(json.dumps(report, indent=2))
    (work / "gpu-check.json").write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
