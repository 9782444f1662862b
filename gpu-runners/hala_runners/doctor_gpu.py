"""The GPU side of `hala doctor`: the GPUs a worker sees, its driver and library versions, an all-reduce.

    python -m hala_runners.doctor_gpu --rank R --world N --backend nccl|gloo --port P   (one rank; gpu_side starts them)

Runs in a child of the worker (doctor_probe.py starts `python -m hala_runners.doctor_probe --gpu-only`):
CUDA must never be initialised in the worker process itself, or vLLM's workers fail later
(engines/__init__.py). GPUs are listed through NVML (nvidia-ml-py), which initialises no CUDA; the
all-reduce runs in ranks of their own, one per visible GPU over NCCL, or two over gloo on a CPU pool.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import time

LIBRARIES = ("torch", "transformers", "vllm", "trl", "llmcompressor", "compressed-tensors")
RANK_TIMEOUT_S = 180.0  # NCCL on 8 GPUs initialises in seconds; a hang is the finding


def _visible(index: int, uuid: str) -> bool:
    """Whether CUDA_VISIBLE_DEVICES (indices or GPU-uuid prefixes) lets this process use the GPU."""
    value = os.environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return True
    for item in filter(None, (v.strip() for v in value.split(","))):
        if item.isdigit() and int(item) == index or not item.isdigit() and uuid.startswith(item):
            return True
    return False


def nvml_gpus() -> tuple[list[dict], dict]:
    """(the visible GPUs: name, memory; driver facts) from NVML, or ([], {reason}) where it does not load."""
    try:
        import pynvml

        pynvml.nvmlInit()
    except Exception as e:  # noqa: BLE001 - no driver, no library: a CPU machine
        return [], {"nvml": f"not available ({type(e).__name__}: {e})"}
    try:
        cuda = pynvml.nvmlSystemGetCudaDriverVersion_v2()
        driver = {"driver": _text(pynvml.nvmlSystemGetDriverVersion()), "cuda_driver": f"{cuda // 1000}.{cuda % 1000 // 10}"}
        gpus = []
        for i in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(i)
            uuid = _text(pynvml.nvmlDeviceGetUUID(handle))
            if _visible(i, uuid):
                memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
                gpus.append({"index": i, "name": _text(pynvml.nvmlDeviceGetName(handle)), "uuid": uuid,
                             "memory_gb": round(memory.total / 1e9, 1), "free_gb": round(memory.free / 1e9, 1)})
        return gpus, driver
    finally:
        pynvml.nvmlShutdown()


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def library_versions() -> dict:
    """Installed versions, read from package metadata (nothing imported); absent ones are None."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    import torch  # importing torch initialises no CUDA; its build's CUDA version is a constant

    found["torch_cuda"] = torch.version.cuda
    found["python"] = sys.version.split()[0]
    return found


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def all_reduce(gpus: int) -> dict:
    """Sum rank+1 over every rank and check each got N(N+1)/2: NCCL over the GPUs, else gloo over 2 processes."""
    backend, world = ("nccl", gpus) if gpus else ("gloo", 2)
    port = _free_port()
    started = time.monotonic()
    ranks = [subprocess.Popen([sys.executable, "-m", "hala_runners.doctor_gpu", "--rank", str(r), "--world", str(world),
                               "--backend", backend, "--port", str(port)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
             for r in range(world)]
    answers, errors = [], []
    deadline = started + RANK_TIMEOUT_S
    for r, proc in enumerate(ranks):
        try:
            out, err = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            for p in ranks:
                p.kill()
            errors.append(f"rank {r} did not finish within {RANK_TIMEOUT_S:.0f} s")
            break
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if proc.returncode == 0 and lines:
            answers.append(json.loads(lines[-1]))
        else:
            errors.append(f"rank {r} exited {proc.returncode}: {(err.strip().splitlines() or ['?'])[-1]}")
    expected = world * (world + 1) / 2
    ok = not errors and len(answers) == world and all(a["sum"] == expected for a in answers)
    return {"ok": ok, "backend": backend, "world": world, "expected": expected,
            "sums": [a["sum"] for a in answers], "errors": errors, "seconds": round(time.monotonic() - started, 2)}


def _rank(args: argparse.Namespace) -> int:
    """One rank of all_reduce: its own process, so CUDA (for NCCL) starts here and nowhere else."""
    from datetime import timedelta

    import torch
    import torch.distributed as dist

    from .runner_harness import killed_with_parent

    killed_with_parent()
    device = "cpu"
    if args.backend == "nccl":
        torch.cuda.set_device(args.rank)
        device = f"cuda:{args.rank}"
    dist.init_process_group(args.backend, init_method=f"tcp://127.0.0.1:{args.port}", rank=args.rank,
                            world_size=args.world, timeout=timedelta(seconds=RANK_TIMEOUT_S))
    try:
        tensor = torch.full((1 << 20,), float(args.rank + 1), device=device)  # 4 MB: a real transfer, still instant
        dist.all_reduce(tensor)
        values = tensor.unique().tolist()
        print(json.dumps({"rank": args.rank, "sum": values[0] if len(values) == 1 else values}), flush=True)
    finally:
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m hala_runners.doctor_gpu", description="one all-reduce rank")
    parser.add_argument("--rank", type=int, required=True)
    parser.add_argument("--world", type=int, required=True)
    parser.add_argument("--backend", choices=("nccl", "gloo"), required=True)
    parser.add_argument("--port", type=int, required=True)
    sys.exit(_rank(parser.parse_args()))
