"""The fork server (hala_runners.fork_server): a forked runner is what an exec'd one is, seen from ChildProcess.

The probe runner below follows the runner convention; each test starts it through ChildProcess.start
with and without a fork server registered (fork_client.use) and compares what comes back. The server
preloads the harness only (fork_server_fixture.LIGHT_PRELOAD), but for the test that forks torch.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

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


async def _outcome(argv: list[str], env: dict | None = None) -> tuple[str, list, int | None, ChildProcess]:
    child = await ChildProcess.start(argv, label="probe", env=env)
    try:
        out = await asyncio.wait_for(child.proc.stdout.read(), 20)
        rc = await child.wait(20)
    finally:
        if child.alive:
            await child.kill(grace_s=1)
    events = [progress.parse_line(line) or line for line in out.decode().splitlines()]
    return type(child.proc).__name__, events, rc, child


def _both(server, argv: list[str]) -> tuple[tuple, tuple]:
    async def run_both():
        fork_client.use(None)
        exec_way = await _outcome(argv)
        fork_client.use(server)
        return exec_way, await _outcome(argv)

    return asyncio.run(run_both())


@pytest.mark.parametrize("mode, code", [("ok", 0), ("error", 1), ("exit3", 3), ("uncaught", 1), ("sigkill", -9),
                                        ("sigterm", -15)])
def test_a_forked_runner_gives_what_an_execd_one_gives(server, probe, mode, code):
    (exec_kind, exec_events, exec_rc, exec_child), (fork_kind, fork_events, fork_rc, fork_child) = _both(server, probe(mode))

    assert (exec_kind, fork_kind) == ("Process", "ForkedProcess")
    assert fork_events == exec_events and fork_rc == exec_rc == code
    if mode == "ok":
        result = fork_events[-1]["result"]
        assert result["leader"] and result["main"] == "__main__" and result["parent_watched"] and result["term"]
        assert result["fds"] == [0, 1, 2] and result["more_fds"] == 0  # nothing of the server's (its socket)
    if mode == "uncaught":
        assert "RuntimeError: probe: uncaught at import" in fork_child.stderr_tail()
        assert "fork_child" not in "\n".join(fork_child.tail), "the traceback starts where python -m's does"


def test_the_runner_leads_its_group_and_cancelling_kills_it_and_its_children(server, probe, tmp_path):
    fork_client.use(server)
    pid_file = tmp_path / "pids"

    async def scenario():
        child = await ChildProcess.start(probe("hang", pid_file=str(pid_file)), label="probe")
        try:
            deadline = time.monotonic() + 20
            while not pid_file.exists() or not pid_file.read_text():
                assert time.monotonic() < deadline, "the probe never started"
                await asyncio.sleep(0.05)
            leader, grandchild = map(int, pid_file.read_text().split())
            assert leader == child.pgid and os.getpgid(grandchild) == leader and os.getsid(leader) == leader
            await child.kill(grace_s=2)
            return grandchild, child.proc.returncode
        finally:
            child_process.signal_group(child.pgid, signal.SIGKILL)

    grandchild, rc = asyncio.run(scenario())
    assert rc == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)


def test_a_runner_dies_with_its_server(server, probe, tmp_path, capfd):
    """SIGKILL to the server: its runners' watchdog (runner_harness.exit_with_parent) ends them; the
    activity sees the runner end, and the next runner execs, with one line said about it."""
    fork_client.use(server)
    pid_file = tmp_path / "pids"

    async def scenario():
        child = await ChildProcess.start(probe("hang", pid_file=str(pid_file)), label="probe")
        try:
            deadline = time.monotonic() + 20
            while not pid_file.exists() or not pid_file.read_text():
                assert time.monotonic() < deadline, "the probe never started"
                await asyncio.sleep(0.05)
            os.kill(server.pid, signal.SIGKILL)
            killed = time.monotonic()
            rc = await child.wait(10)
            gone_after = time.monotonic() - killed
            after = await _outcome(probe("ok"))
            return rc, gone_after, after
        finally:
            child_process.signal_group(child.pgid, signal.SIGKILL)

    rc, gone_after, (kind, events, after_rc, _) = asyncio.run(scenario())
    assert rc == -signal.SIGKILL and gone_after < 5, (rc, gone_after)
    assert kind == "Process" and after_rc == 0 and events[-1]["event"] == "result"
    assert capfd.readouterr().err.count(f"fork server {server.pid} unusable") == 1


def test_an_unreachable_server_means_exec(server, probe, capfd):
    os.unlink(server.socket_path)  # alive, but nobody can reach it
    fork_client.use(server)

    async def twice():
        return [await _outcome(probe("ok")) for _ in range(2)]

    outcomes = asyncio.run(twice())
    assert [(kind, rc) for kind, _, rc, _ in outcomes] == [("Process", 0), ("Process", 0)]
    assert capfd.readouterr().err.count("unusable") == 1


def test_a_runner_with_other_import_time_variables_execs(server, probe):
    fork_client.use(server)

    async def both():
        return await _outcome(probe("ok"), env={"PROBE_VALUE": "x"}), await _outcome(probe("ok"), env={"OMP_NUM_THREADS": "7"})

    (same_kind, same_events, _, _), (other_kind, _, other_rc, _) = asyncio.run(both())
    assert same_kind == "ForkedProcess" and same_events[-1]["result"]["value"] == "x"  # read at use: a fork sees it
    assert other_kind == "Process" and other_rc == 0


def test_stdin_reaches_a_forked_runner(server, probe):
    fork_client.use(server)

    async def scenario():
        child = await ChildProcess.start(probe("echo"), label="probe", stdin=True)
        try:
            child.proc.stdin.write(b"hello\n")
            await child.proc.stdin.drain()
            out = await asyncio.wait_for(child.proc.stdout.read(), 20)
            return type(child.proc).__name__, out, await child.wait(20)
        finally:
            if child.alive:
                await child.kill(grace_s=1)

    kind, out, rc = asyncio.run(scenario())
    assert kind == "ForkedProcess" and rc == 0
    assert progress.parse_line(out.decode().splitlines()[-1])["result"] == {"line": "hello"}


def test_a_server_whose_preload_starts_a_thread_refuses_and_runners_exec(probe, tmp_path):
    """A fork copies only the thread that forks: a server with a second thread would hand runners
    locks that nobody will release. It says so and exits; the runner execs."""
    (tmp_path / "forkprobe" / "threaded.py").write_text(
        "import threading, time\ntime.sleep(1)\n"  # long enough for the request to queue behind the preload
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n")
    started = fork_client.ForkServer.start("forkprobe.threaded", child_process.runner_env())
    fork_client.use(started)
    try:
        kind, _, rc, _ = asyncio.run(_outcome(probe("ok")))
        assert (kind, rc) == ("Process", 0)
        assert started.proc.wait(20) == 1
    finally:
        fork_client.use(None)
        started.stop()


def test_torch_preloaded_forks_work_and_draw_their_own_random_numbers(probe):
    """Forked from a server that imported torch: OpenMP threads start in the child, CUDA stays
    untouched, and torch's generator is reseeded per child, as each fresh interpreter seeds its own."""
    started = fork_client.ForkServer.start("torch", child_process.runner_env())
    fork_client.use(started)
    try:
        async def twice():
            return [await _outcome(probe("torch")) for _ in range(2)]

        outcomes = asyncio.run(twice())
    finally:
        fork_client.use(None)
        started.stop()
    results = [events[-1]["result"] for kind, events, rc, _ in outcomes if kind == "ForkedProcess" and rc == 0]
    assert len(results) == 2 and all(r["sum"] and not r["cuda"] for r in results)
    assert results[0]["rand"] != results[1]["rand"]


def test_the_server_and_its_runners_end_when_the_worker_is_sigkilled(probe, tmp_path):
    """A stand-in worker starts the server and one runner through it, then is SIGKILLed: the server
    sees its parent gone within its poll, SIGKILLs the runner's group and exits."""
    pid_file = tmp_path / "pids"
    worker_code = textwrap.dedent(f"""
        import asyncio, sys, time
        from hala_runners import child_process, fork_client
        server = fork_client.ForkServer.start({LIGHT_PRELOAD!r}, child_process.runner_env())
        fork_client.use(server)
        async def main():
            child = await child_process.ChildProcess.start({probe("hang", pid_file=str(pid_file))!r}, label="probe")
            print(server.pid, type(child.proc).__name__, flush=True)
            await asyncio.sleep(600)
        asyncio.run(main())
    """)
    worker = subprocess.Popen([sys.executable, "-c", worker_code], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path])})
    server_pid, leader, grandchild = None, None, None
    try:
        server_pid, kind = worker.stdout.readline().split()
        server_pid = int(server_pid)
        assert kind == "ForkedProcess"
        deadline = time.monotonic() + 20
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the probe never started"
            time.sleep(0.05)
        leader, grandchild = map(int, pid_file.read_text().split())
        worker.kill()
        worker.wait(10)
        deadline = time.monotonic() + 5
        while any(_running(pid) for pid in (server_pid, leader, grandchild)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(_running(pid) for pid in (server_pid, leader, grandchild))
    finally:
        worker.kill()
        for pid in (server_pid, leader):
            if pid:
                child_process.signal_group(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    """Alive and not a zombie waiting for init."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False
