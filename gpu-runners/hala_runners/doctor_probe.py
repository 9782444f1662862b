"""`hala doctor`'s probe: prove one pool through its own worker before a campaign spends on it.

    python -m hala_runners.doctor_probe --gpu-only --json    GPUs, driver / library versions, all-reduce; JSON on stdout
    python -m hala_runners.doctor_probe --gpu-only           the same in words
(exit 1 when the all-reduce fails). Every worker serves `probe` as the doctor_probe activity
(activities.py; contracts/doctor.ts DoctorProbeInput / DoctorProbeOutput). It returns one check per
concern, {name, ok, seen, fix?, detail?}:
  worker      the worker that answered serves the role the recipe sends to its queue
  gpus        the GPUs seen against the resource class (count, type, memory); "CPU pool (no GPU)" without
  versions    NVIDIA driver and CUDA (NVML), torch, transformers, vLLM, trl, llmcompressor
  all_reduce  NCCL over every visible GPU, or gloo over 2 processes on a CPU pool, its sum checked
  engine      infer pools: the engine started on a small model, two batches through the same engine
  fp8         infer / quantize pools: a miniature of the teacher's architecture written in FP8 by the model-free path and loaded
  store       write / read / delete below the store root
  hub         every hub source of the recipe readable at its pinned revision
  scratch     free disk at HALA_WORK_DIR against the plan's estimate
The GPU checks and the engine run in child processes: CUDA must never start in the worker process
(engines/__init__.py), and a hung NCCL or engine is killed at its deadline instead of the worker.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from . import doctor_gpu
from .doctor_io import check, hub_access, scratch_space, store_round_trip
from .runner_harness import work_root
from .engines import ENGINE_ENV

GPU_SIDE_TIMEOUT_S = 300.0
ENGINE_TIMEOUT_S = 600.0  # loading even a small model through vLLM takes a minute or two


def gpu_side() -> dict:
    """What --gpu-only prints: {gpus, driver, versions, all_reduce}."""
    gpus, driver = doctor_gpu.nvml_gpus()
    return {"gpus": gpus, "driver": driver, "versions": doctor_gpu.library_versions(), "all_reduce": doctor_gpu.all_reduce(len(gpus))}


def _run_child(argv: list[str], timeout_s: float, env: dict | None = None, answers: tuple[int, ...] = (0,)) -> tuple[str | None, str]:
    """(stdout, why it failed) of a child in its own process group, killed whole at its deadline;
    an exit status in `answers` still carries its answer (--gpu-only exits 1 on a failed all-reduce)."""
    proc = subprocess.Popen([sys.executable, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env={**os.environ, **(env or {})})
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return None, f"did not finish within {timeout_s:.0f} s (killed)"
    if proc.returncode not in answers or not out.strip():
        return None, f"exited {proc.returncode}: {(err.strip().splitlines() or ['?'])[-1]}"
    return out, ""


def _gpu_checks(expected: dict | None) -> list[dict]:
    out, why = _run_child(["-m", "hala_runners.doctor_probe", "--gpu-only", "--json"], GPU_SIDE_TIMEOUT_S, answers=(0, 1))
    if out is None:
        return [check("gpus", False, f"the GPU check process {why}", "read the worker's log; the GPU check is "
                      "`python -m hala_runners.doctor_probe --gpu-only` in the worker's image")]
    seen = json.loads(out.strip().splitlines()[-1])
    return [gpus_against_class(seen["gpus"], expected), versions_check(seen["driver"], seen["versions"]),
            all_reduce_check(seen["all_reduce"])]


def gpus_against_class(gpus: list[dict], expected: dict | None) -> dict:
    """The GPUs seen against what the pool's resource class declares; a CPU pool is fine where nothing is."""
    if not gpus:
        if not expected or expected.get("gpus", 0) == 0:
            return check("gpus", True, "CPU pool (no GPU)", detail={"gpus": []})
        return check("gpus", False, f"CPU pool (no GPU), but the class declares {_declared(expected)}",
                     "serve this queue with workers on GPU nodes that have them (deploy/: the pool's nodeSelector and "
                     "nvidia.com/gpu limit), or change the class to what the workers have", {"gpus": []})
    count, names = len(gpus), sorted({g["name"] for g in gpus})
    memory = min(g["memory_gb"] for g in gpus)
    seen = f"{count} x {', '.join(names)} ({memory:.0f} GB each)"
    problems = []
    if expected:
        if count < expected.get("gpus", 0):
            problems.append(f"{count} GPU(s) visible, the class declares {expected['gpus']}")
        wanted = expected.get("gpu_type", "any")
        if wanted != "any" and not all(_type_matches(wanted, n) for n in names):
            problems.append(f"type {', '.join(names)} is not the class's {wanted}")
        if expected.get("gpu_memory_gb") and memory < 0.95 * expected["gpu_memory_gb"]:
            problems.append(f"{memory:.0f} GB per GPU, the class declares {expected['gpu_memory_gb']} GB")
    if problems:
        return check("gpus", False, f"{seen}: " + "; ".join(problems),
                     "serve this queue with workers that have the class's GPUs (deploy/: nodeSelector, nvidia.com/gpu "
                     "limit, CUDA_VISIBLE_DEVICES), or change the class to what the workers have", {"gpus": gpus})
    return check("gpus", True, seen + (f", as the class declares ({_declared(expected)})" if expected else ""), detail={"gpus": gpus})


def _declared(expected: dict) -> str:
    memory = f" {expected['gpu_memory_gb']} GB" if expected.get("gpu_memory_gb") else ""
    return f"{expected.get('gpus', 0)} x {expected.get('gpu_type', 'any')}{memory}"


def _type_matches(wanted: str, name: str) -> bool:
    """'H100-80GB' matches 'NVIDIA H100 80GB HBM3': every token of the class's type is in the NVML name."""
    tokens = [t for t in wanted.upper().replace("_", "-").replace(" ", "-").split("-") if t]
    return all(t in name.upper().replace(" ", "") or t in name.upper() for t in tokens)


def versions_check(driver: dict, versions: dict) -> dict:
    shown = [f"driver {driver['driver']}, CUDA {driver['cuda_driver']}" if "driver" in driver else "no NVIDIA driver (NVML did not load)"]
    shown += [f"{name} {version}" for name, version in versions.items() if version and name not in ("torch_cuda", "python")]
    if versions.get("torch_cuda"):
        shown.append(f"torch built for CUDA {versions['torch_cuda']}")
    missing = [n for n in ("torch", "transformers") if not versions.get(n)]
    return check("versions", not missing, "; ".join(shown), f"the worker's image lacks {', '.join(missing)}: rebuild it from images/",
                 {"driver": driver, **versions})


def all_reduce_check(result: dict) -> dict:
    what = f"{result['backend']} all-reduce over {result['world']} {'GPUs' if result['backend'] == 'nccl' else 'CPU processes'}"
    if result["ok"]:
        return check("all_reduce", True, f"{what}: every rank got {result['expected']:g} in {result['seconds']} s", detail=result)
    fix = ("check NCCL across the pod's GPUs (NCCL_DEBUG=INFO in the worker's log; /dev/shm size; NCCL_P2P_DISABLE=1 on "
           "boards without peer-to-peer)" if result["backend"] == "nccl" else "read the ranks' errors above")
    return check("all_reduce", False, f"{what} failed: sums {result['sums']}, {'; '.join(result['errors']) or 'wrong result'}",
                 fix, result)


def _engine_checks(request: dict, role: str, scratch) -> list[dict]:
    translate = request.get("engine_model") if role == "infer" else None
    fp8 = request.get("fp8_model") if role in ("infer", "quantize") else None
    if not (translate or fp8):
        return []
    argv = ["-m", "hala_runners.doctor_engine", "--work", scratch]
    argv += ["--translate", translate] if translate else []
    argv += ["--fp8", fp8] if fp8 else []
    out, why = _run_child(argv, ENGINE_TIMEOUT_S, ENGINE_ENV)
    from .doctor_engine import RESULT_PREFIX

    lines = [line for line in (out or "").splitlines() if line.startswith(RESULT_PREFIX)]
    found = json.loads(lines[-1][len(RESULT_PREFIX):]) if lines else {}
    rows = []
    for name, model in (("engine", translate), ("fp8", fp8)):
        if not model:
            continue
        got = found.get(name) or {"ok": False, "seen": f"the engine check process {why or 'printed no result'}"}
        fix = (f"the {role} workers could not load {model} through their engine: read the worker's log, check the image's "
               f"vLLM / transformers / compressed-tensors against the versions above")
        rows.append(check(name, got["ok"], got["seen"], fix, got.get("detail")))
    return rows


def probe(request: dict, role: str) -> dict:
    """Every check of one pool, run by a worker of queue role `role` (DoctorProbeOutput)."""
    started = time.monotonic()
    asked = request["role"]
    checks = [check("worker", role == asked, f"{'an' if role[0] in 'aeiou' else 'a'} {role} worker answered" + ("" if role == asked else f", but the recipe sends {asked} work here"),
                    f"serve this queue with `python -m hala_runners.worker --queue-role {asked}` (the {asked} image), "
                    f"or route the {asked} work to a queue its workers poll")]
    checks += _gpu_checks(request.get("expected"))
    base = work_root()
    _creatable(base)  # the engine's FP8 checkpoint goes below the pool's own scratch where it can
    scratch = tempfile.mkdtemp(prefix="doctor-", dir=base if base.exists() else None)
    try:
        checks += _engine_checks(request, role, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    checks.append(store_round_trip(request["store_root"], role))
    checks.append(hub_access(request["hub_sources"]))
    checks.append(scratch_space(request["scratch_needed_bytes"], request["scratch_basis"], role))
    return {"worker": f"{os.getpid()}@{socket.gethostname()}", "worker_role": role, "checks": checks,
            "seconds": round(time.monotonic() - started, 2)}


def _creatable(path) -> bool:
    try:
        path.mkdir(parents=True, exist_ok=True)
        return True
    except OSError:
        return False


def _words(seen: dict) -> str:
    rows = [gpus_against_class(seen["gpus"], None), versions_check(seen["driver"], seen["versions"]), all_reduce_check(seen["all_reduce"])]
    return "\n".join(f"{'ok  ' if r['ok'] else 'FAIL'} {r['name']:<10} {r['seen']}" + (f"\n     fix: {r['fix']}" if "fix" in r else "") for r in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hala_runners.doctor_probe", description=__doc__.split("\n")[0])
    parser.add_argument("--gpu-only", action="store_true", required=True,
                        help="run the GPU-side checks (GPUs, versions, all-reduce) standalone; the rest needs the worker's request")
    parser.add_argument("--json", action="store_true", help="print JSON instead of words")
    args = parser.parse_args(argv)
    seen = gpu_side()
    print(json.dumps(seen) if args.json else _words(seen), flush=True)
    return 0 if seen["all_reduce"]["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
