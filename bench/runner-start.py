"""Usage: PYTHONPATH=gpu-runners $V/bin/python bench/runner-start.py [--runs 5] [--preload default]
($V: the runner venv, bash scripts/python-env.sh)

Runner start-up, exec'd vs forked from the fork server (hala_runners.fork_server): an evaluate-like
runner (bench/runner_start/evaluate_like.py: runners/evaluate.py's imports, then the tiny world's
lfm2-350m loaded with AutoModelForCausalLM and its tokenizer) started through ChildProcess.start as
the worker starts runners, `--runs` times each way, alternating. Per run: seconds from start() to the
runner's first stdout event, and the CPU seconds the runner process used until then (a forked one
counts from its fork). Also: the server's preload time, its CPU per fork, and its memory (RSS, and
PSS, the share that is really its own). The environment is the local stack's: OMP_NUM_THREADS=1,
the pinned CPU kernels, offline hub. Prints figures; asserts nothing.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "fixtures" / "tiny-world" / "hub" / "hala-tiny" / "lfm2-350m"
PROBES = Path(__file__).resolve().parent / "runner_start"
sys.path.insert(0, str(ROOT / "gpu-runners"))

from hala_runners import child_process, cpu_kernels, fork_client, progress  # noqa: E402


def local_stack_env() -> None:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(PROBES), str(ROOT / "gpu-runners")])
    os.environ.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cpu_kernels.pin()


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mib(pid: int) -> str:
    rss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS:"))
    pss = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines() if line.startswith("Pss:"))
    return f"RSS {rss / 1024:.0f} MiB, PSS {pss / 1024:.0f} MiB"


async def start_once(module: str, *args: str) -> tuple[float, dict, str]:
    """(seconds to the first event, that event's metrics: the runner's CPU seconds and memory, exec or fork)."""
    started = time.perf_counter()
    child = await child_process.ChildProcess.start([sys.executable, "-m", module, *args], label=module)
    first, metrics = None, {}
    while True:
        line = await child.proc.stdout.readline()
        if not line:
            break
        event = progress.parse_line(line.decode())
        if event and first is None:
            first, metrics = time.perf_counter() - started, event.get("metrics", {})
    rc = await child.wait(60)
    if rc != 0 or (first is None and module != "noop"):
        raise SystemExit(f"{module} failed (exit {rc}):\n{child.stderr_tail(20, 4000)}")
    return first or 0.0, metrics, type(child.proc).__name__


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--preload", default="default")
    args = parser.parse_args()
    local_stack_env()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    print(f"runner-start: {cpu}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f} at start")
    t0 = time.perf_counter()
    server = fork_client.ForkServer.start(args.preload, child_process.runner_env())
    try:
        cpu0 = proc_cpu_s(server.pid)
        fork_client.use(server)
        await start_once("noop")  # answered once the preload is done
        print(f"fork server: preload {args.preload!r} ready after {time.perf_counter() - t0:.1f} s wall, "
              f"{proc_cpu_s(server.pid) - cpu0:.1f} s CPU; {memory_mib(server.pid)}")
        runs: dict[str, list[tuple[float, dict, float]]] = {"exec": [], "fork": []}
        for _ in range(args.runs):
            for way in ("exec", "fork"):
                fork_client.use(server if way == "fork" else None)
                before = proc_cpu_s(server.pid)
                seconds, metrics, kind = await start_once("evaluate_like", "--model", str(MODEL))
                assert kind == ("ForkedProcess" if way == "fork" else "Process"), kind
                runs[way].append((seconds, metrics, proc_cpu_s(server.pid) - before))
        for way, rows in runs.items():
            print(f"{way}: first event after {summary([r[0] for r in rows])} s; runner CPU {summary([r[1]['cpu_s'] for r in rows])} s; "
                  f"runner RSS {statistics.median(r[1]['rss_mib'] for r in rows):.0f} MiB, its own "
                  f"{statistics.median(r[1]['own_mib'] for r in rows):.0f} MiB"
                  + (f"; server CPU per fork {statistics.mean(r[2] for r in rows):.2f} s" if way == "fork" else ""))
        print(f"fork server after the runs: {memory_mib(server.pid)}")
    finally:
        fork_client.use(None)
        server.stop()
    print(f"runner-start: load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    asyncio.run(main())
