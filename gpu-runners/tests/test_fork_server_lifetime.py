"""How the fork server (hala_runners.fork_server) and its runners end: the server SIGKILLed, the
worker that started it SIGKILLed, a server that must not serve. Runners are fork_probe.py's probe.
"""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time

from fork_probe import outcome, started_pids
from fork_server_fixture import LIGHT_PRELOAD

from hala_runners import child_process, fork_client
from hala_runners.child_process import ChildProcess


def test_a_runner_dies_with_its_server(server, probe, tmp_path, capfd):
    """SIGKILL to the server: its runners' watchdog (runner_harness.exit_with_parent) ends them; the
    activity sees the runner end, and the next runner execs, with one line said about it."""
    fork_client.use(server)
    pid_file = tmp_path / "pids"

    async def scenario():
        child = await ChildProcess.start(probe("hang", pid_file=str(pid_file)), label="probe")
        try:
            await started_pids(pid_file)
            os.kill(server.pid, signal.SIGKILL)
            killed = time.monotonic()
            rc = await child.wait(10)
            gone_after = time.monotonic() - killed
            after = await outcome(probe("ok"))
            return rc, gone_after, after
        finally:
            child_process.signal_group(child.pgid, signal.SIGKILL)

    rc, gone_after, (kind, events, after_rc, _) = asyncio.run(scenario())
    assert rc == -signal.SIGKILL and gone_after < 5, (rc, gone_after)
    assert kind == "Process" and after_rc == 0 and events[-1]["event"] == "result"
    assert capfd.readouterr().err.count(f"fork server {server.pid} unusable") == 1


def test_a_server_whose_preload_starts_a_thread_refuses_and_runners_exec(probe, tmp_path):
    """A fork copies only the thread that forks: a server with a second thread would hand runners
    locks that nobody will release. It says so and exits; the runner execs."""
    (tmp_path / "forkprobe" / "threaded.py").write_text(
        "import threading, time\ntime.sleep(1)\n"  # long enough for the request to queue behind the preload
        "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n")
    started = fork_client.ForkServer.start("forkprobe.threaded", child_process.runner_env())
    fork_client.use(started)
    try:
        kind, _, rc, _ = asyncio.run(outcome(probe("ok")))
        assert (kind, rc) == ("Process", 0)
        assert started.proc.wait(20) == 1
    finally:
        fork_client.use(None)
        started.stop()


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
