"""The probe runner the fork server tests start both ways (test_fork_server*.py), and its fixtures.

PROBE follows the runner convention and does what its config's `mode` says; `probe` writes it into
the test's directory (on PYTHONPATH, the working directory) and makes its command lines; `server` is
a fork server started after that, so the probe's PYTHONPATH is the server's too; outcome() starts
one command through ChildProcess.start and collects what the activity side sees.
"""
from __future__ import annotations

import asyncio
import json
import os
import sys
import textwrap

import pytest
from fork_server_fixture import LIGHT_PRELOAD

from hala_runners import child_process, fork_client, progress
from hala_runners.child_process import ChildProcess

PROBE = '''
"""python -m forkprobe.stage --config c.json: what a runner can do to the process that started it."""
import os, signal, subprocess, sys, time
from dataclasses import dataclass
from hala_runners import progress
from hala_runners.errors import bad_input
from hala_runners.runner_harness import run

if sys.argv[-1] == "uncaught":  # before the harness: the interpreter's own report
    raise RuntimeError("probe: uncaught at import")

@dataclass(kw_only=True)
class Config:
    mode: str
    pid_file: str = ""
    resume: dict | None = None

def _run(cfg):
    progress.emit_progress("start", 0, 1)
    print("a log line on stdout")
    if cfg.mode == "error":
        raise bad_input("probe.mode says fail")
    if cfg.mode == "exit3":
        raise SystemExit(3)
    if cfg.mode in ("sigkill", "sigterm"):
        os.kill(os.getpid(), signal.SIGKILL if cfg.mode == "sigkill" else signal.SIGTERM)
        time.sleep(30)
    if cfg.mode == "hang":
        child = subprocess.Popen(["sleep", "600"])  # in our process group
        open(cfg.pid_file, "w").write(f"{os.getpid()} {child.pid}")
        time.sleep(600)
    if cfg.mode == "echo":  # one stdin line back, as an engine takes requests
        return {"line": sys.stdin.readline().strip()}
    if cfg.mode == "torch":
        import torch
        torch.set_num_threads(2)  # OpenMP's pool starts in the child: the server never ran an op
        x = torch.rand(256, 256)
        return {"sum": float((x @ x).sum()) > 0, "cuda": torch.cuda.is_initialized(), "rand": torch.rand(1).item()}
    fds = sorted(int(f) for f in os.listdir("/proc/self/fd"))
    return {"leader": os.getpgrp() == os.getpid() == os.getsid(0), "main": __name__, "argv": sys.argv[1:],
            "cwd": os.getcwd(), "value": os.environ.get("PROBE_VALUE"), "fds": fds[:3], "more_fds": len(fds) - 4,
            "parent_watched": os.environ["HALA_PARENT_PID"] == str(os.getppid()),
            "term": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL}

def main(argv=None):
    return run(Config, _run, argv)

if __name__ == "__main__":
    sys.exit(main())
'''


@pytest.fixture
def probe(tmp_path, monkeypatch):
    """Writes the probe package; returns a function mode -> argv (its config written under tmp_path)."""
    pkg = tmp_path / "forkprobe"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "stage.py").write_text(textwrap.dedent(PROBE))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.chdir(tmp_path)

    def argv(mode: str, **extra) -> list[str]:
        path = tmp_path / f"{mode}.json"
        path.write_text(json.dumps({"mode": mode, **extra}))
        return [sys.executable, "-m", "forkprobe.stage", "--config", str(path), *(["uncaught"] if mode == "uncaught" else [])]

    return argv


@pytest.fixture
def server(probe):
    """A fork server started after the probe's PYTHONPATH is set; stopped (and its runners killed) at the end."""
    started = fork_client.ForkServer.start(LIGHT_PRELOAD, child_process.runner_env())
    try:
        yield started
    finally:
        fork_client.use(None)
        started.stop()


async def outcome(argv: list[str], env: dict | None = None) -> tuple[str, list, int | None, ChildProcess]:
    """(Process or ForkedProcess, its stdout as events and log lines, its exit code, the ChildProcess)."""
    child = await ChildProcess.start(argv, label="probe", env=env)
    try:
        out = await asyncio.wait_for(child.proc.stdout.read(), 20)
        rc = await child.wait(20)
    finally:
        if child.alive:
            await child.kill(grace_s=1)
    events = [progress.parse_line(line) or line for line in out.decode().splitlines()]
    return type(child.proc).__name__, events, rc, child


async def started_pids(pid_file) -> list[int]:
    """The pids a "hang" probe writes once it runs (its own, then its child's), within 20 s."""
    deadline = asyncio.get_running_loop().time() + 20
    while not pid_file.exists() or not pid_file.read_text():
        assert asyncio.get_running_loop().time() < deadline, "the probe never started"
        await asyncio.sleep(0.05)
    return [int(pid) for pid in pid_file.read_text().split()]
