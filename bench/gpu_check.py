"""The runners' GPU paths, proven on one lent GPU machine in at most 7 minutes; a JSON report after each part.

    bash bench/gpu-check.sh            (the wrapper: wheels, the tiny world, the overall timeout; see it)
    python bench/gpu_check.py --out DIR --work DIR [--parts a,b] [--allow-cpu] [--deadline EPOCH_S]

Each part runs in its own process group (bench/gpu_check_parts.py) and runs a real runner through its
own command line, as a worker would, on the tiny world ($HALA_HUB_MIRROR):

  doctor          `python -m hala_runners.doctor_probe --gpu-only --json` (hala doctor's GPU probe)
  compress        runners/compress.py, method oneshot and method model_free; the two FP8 checkpoints
                  compared tensor by tensor, bit for bit               (bench/gpu_check_fp8.py)
  fp8_generate    the FP8 checkpoint loaded and generating (translate runner, engine transformers);
                  tokens/s, and whether the weights stayed FP8          (bench/gpu_check_fp8.py)
  sft_preempt     runners/train.py in bf16, SIGTERM after its first checkpoint, resumed; steps redone
                                                                        (bench/gpu_check_sft.py)
  evaluate        runners/evaluate.py on the tiny world's six OALL benchmarks
  translate_vllm  runners/translate.py, engine vllm, BF16 teacher and FP8 checkpoint: rows/s (only
                  where vllm imports; skipped otherwise)

The report, DIR/gpu-check.json, is rewritten after every part (and when the overall timeout's SIGTERM
arrives), so a run cut short still returns what finished. Each part: name, status (ok / failed /
skipped, with why), seconds, figures. A part gets its own timeout, never more than what is left
before --deadline; a part with under MIN_PART_S left is skipped, named.
`--allow-cpu` runs the same parts without a GPU to check the script itself: its figures are CPU
figures and the report says so.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gpu_check_parts import PARTS
from gpu_check_runner import log_tail, stop_group

HERE = Path(__file__).resolve().parent
MIN_PART_S = 15  # a part given less could not even load torch and a model: skip it, named
CPU_TIMEOUT_FACTOR = 3  # --allow-cpu: parts take longer on a CPU than the GPU timeouts allow


class Stopped(Exception):
    """The overall timeout's SIGTERM (bench/gpu-check.sh runs everything under `timeout`)."""


def machine() -> dict:
    import torch
    import transformers

    on_gpu = torch.cuda.is_available()
    return {"device": torch.cuda.get_device_name(0) if on_gpu else "cpu (not GPU figures)",
            "gpus": torch.cuda.device_count() if on_gpu else 0, "torch": torch.__version__,
            "cuda": torch.version.cuda, "transformers": transformers.__version__,
            "python": platform.python_version(), "wheels": os.environ.get("HALA_GPU_CHECK_WHEELS", "not installed")}


def write_report(path: Path, report: dict) -> None:
    """Replace the report atomically: a reader (or a kill) never sees half a file."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=2, default=str))
    tmp.replace(path)


def run_part(name: str, work: Path, timeout_s: float, rows: int) -> dict:
    """One part in its own process group, bounded by `timeout_s`; its outcome with the seconds it took."""
    result, log = work / f"{name}.result.json", work / f"{name}.log"
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, str(HERE / "gpu_check_parts.py"), "--part", name, "--work", str(work),
                                 "--result", str(result), "--rows", str(rows)],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            code = None
        finally:
            stop_group(proc)  # what the part left running, or the part itself past its timeout
    seconds = round(time.monotonic() - started, 2)
    if code is None:
        return {"status": "failed", "why": f"timed out after {timeout_s:.0f} s (its runners killed with it)"
                + log_tail(log), "seconds": seconds, "figures": {}}
    if not result.exists():
        return {"status": "failed", "why": f"the part process exited {code} without a result" + log_tail(log),
                "seconds": seconds, "figures": {}}
    outcome = json.loads(result.read_text())
    if outcome["status"] == "failed":
        outcome["why"] += log_tail(log, 800)
    return {**outcome, "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="folder of gpu-check.json (default: a temp folder)")
    parser.add_argument("--work", type=Path, default=None, help="the runners' store and scratch (default: a temp folder)")
    parser.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated, in this order: {','.join(PARTS)}")
    parser.add_argument("--rows", type=int, default=512, help="held-out rows each teacher translates (vllm part)")
    parser.add_argument("--allow-cpu", action="store_true", help="run on CPU to check the script (not GPU figures)")
    parser.add_argument("--deadline", type=float, default=None, help="epoch seconds by which the report is final")
    parser.add_argument("--part-timeout", type=float, default=None, help="seconds each part may take (default: its own)")
    args = parser.parse_args()
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s) {unknown}; known: {', '.join(PARTS)}")
    if not os.environ.get("HALA_HUB_MIRROR"):
        sys.exit("gpu-check: set HALA_HUB_MIRROR to the tiny world (the repository ships it: fixtures/tiny-world/hub)")
    out = args.out or Path(tempfile.mkdtemp(prefix="hala-gpu-check-"))
    work = args.work or Path(tempfile.mkdtemp(prefix="hala-gpu-check-work-"))
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    report_path = out / "gpu-check.json"
    deadline = args.deadline or time.time() + 420

    def stop(signum, frame):
        raise Stopped()

    signal.signal(signal.SIGTERM, stop)
    started = time.time()
    report: dict = {"complete": False, "seconds": None, "parts": []}
    write_report(report_path, report)  # something to read back even if torch's import is all that ran
    try:
        try:
            found = machine()
        except ImportError as e:  # this Python has no torch or transformers: nothing can run
            report["error"] = f"{type(e).__name__}: {e} (PYTHON must be the machine's Python with torch)"
            write_report(report_path, report)
            print(f"gpu-check: {report['error']}", file=sys.stderr)
            return 2
        report = {"complete": False, "seconds": None, **found, "allow_cpu": args.allow_cpu,
                  "budget_s": round(deadline - started), "work": str(work), "parts": []}
        on_gpu = report["gpus"] > 0
        if not on_gpu and not args.allow_cpu:
            report["error"] = "no CUDA device; --allow-cpu checks the script on CPU"
            write_report(report_path, report)
            print(f"gpu-check: {report['error']}", file=sys.stderr)
            return 2
        for name in parts:
            left = deadline - time.time()
            own = args.part_timeout or PARTS[name][3] * (1 if on_gpu else CPU_TIMEOUT_FACTOR)
            if left < MIN_PART_S:
                outcome = {"status": "skipped", "why": f"no time left ({left:.0f} s) in the overall budget",
                           "seconds": 0, "figures": {}}
            else:
                print(f"gpu-check: {name} (at most {min(own, left):.0f} s)", file=sys.stderr, flush=True)
                outcome = run_part(name, work, min(own, left), args.rows)
            report["parts"].append({"name": name, **outcome})
            write_report(report_path, report)
            print(f"gpu-check: {name}: {outcome['status']} in {outcome['seconds']} s"
                  + (f" ({outcome['why'][:200]})" if outcome.get("why") else ""), file=sys.stderr, flush=True)
        report["complete"] = True
    except Stopped:
        done = {p["name"] for p in report["parts"]}
        cut = next((p for p in parts if p not in done), None)
        if cut:  # the part in flight when the overall timeout struck (its group is gone with stop_group)
            report["parts"].append({"name": cut, "status": "failed", "why": "stopped by the overall timeout",
                                    "seconds": None, "figures": {}})
        report["error"] = "stopped by the overall timeout (HALA_GPU_CHECK_TIMEOUT_S)"
    report["seconds"] = round(time.time() - started, 1)
    if args.work is None:  # the runners' scratch in a temp folder of ours: a failed part's log tail is in the report
        shutil.rmtree(work, ignore_errors=True)
        report["work_removed"] = True
    write_report(report_path, report)
    print(json.dumps(report, indent=2, default=str))
    print(f"gpu-check: report {report_path}", file=sys.stderr)
    return 0 if report["complete"] else 124


if __name__ == "__main__":
    sys.exit(main())
