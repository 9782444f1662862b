"""The fork server (hala_runners.fork_server): a forked runner is what an exec'd one is, seen from ChildProcess.

Each test starts the probe runner (fork_probe.py) through ChildProcess.start with and without a fork
server registered (fork_client.use) and compares what comes back. The server preloads the harness
only (fork_server_fixture.LIGHT_PRELOAD), but for the test that forks torch. How the server and its
runners end is test_fork_server_lifetime.py's.
"""
from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest
from fork_probe import outcome, started_pids

from hala_runners import child_process, fork_client, progress
from hala_runners.child_process import ChildProcess


def _both(server, argv: list[str]) -> tuple[tuple, tuple]:
    async def run_both():
        fork_client.use(None)
        exec_way = await outcome(argv)
        fork_client.use(server)
        return exec_way, await outcome(argv)

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
            leader, grandchild = await started_pids(pid_file)
            assert leader == child.pgid and os.getpgid(grandchild) == leader and os.getsid(leader) == leader
            await child.kill(grace_s=2)
            return grandchild, child.proc.returncode
        finally:
            child_process.signal_group(child.pgid, signal.SIGKILL)

    grandchild, rc = asyncio.run(scenario())
    assert rc == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)


def test_an_unreachable_server_means_exec(server, probe, capfd):
    os.unlink(server.socket_path)  # alive, but nobody can reach it
    fork_client.use(server)

    async def twice():
        return [await outcome(probe("ok")) for _ in range(2)]

    outcomes = asyncio.run(twice())
    assert [(kind, rc) for kind, _, rc, _ in outcomes] == [("Process", 0), ("Process", 0)]
    assert capfd.readouterr().err.count("unusable") == 1


def test_a_runner_with_other_import_time_variables_execs(server, probe):
    fork_client.use(server)

    async def both():
        return await outcome(probe("ok"), env={"PROBE_VALUE": "x"}), await outcome(probe("ok"), env={"OMP_NUM_THREADS": "7"})

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


def test_torch_preloaded_forks_work_and_draw_their_own_random_numbers(probe):
    """Forked from a server that imported torch: OpenMP threads start in the child, CUDA stays
    untouched, and torch's generator is reseeded per child, as each fresh interpreter seeds its own."""
    started = fork_client.ForkServer.start("torch", child_process.runner_env())
    fork_client.use(started)
    try:
        async def twice():
            return [await outcome(probe("torch")) for _ in range(2)]

        outcomes = asyncio.run(twice())
    finally:
        fork_client.use(None)
        started.stop()
    results = [events[-1]["result"] for kind, events, rc, _ in outcomes if kind == "ForkedProcess" and rc == 0]
    assert len(results) == 2 and all(r["sum"] and not r["cuda"] for r in results)
    assert results[0]["rand"] != results[1]["rand"]


def test_which_commands_and_environments_may_fork():
    python = sys.executable
    assert fork_client.forkable([python, "-m", "hala_runners.runners.evaluate", "--config", "c.json"]) == "hala_runners.runners.evaluate"
    assert fork_client.forkable([python, "-m", "hala_runners.runners.merge", "--config", "c.json"]) is None  # EXEC_ONLY
    assert fork_client.forkable([python, "-u", "-m", "x"]) is None and fork_client.forkable(["/usr/bin/python3", "-m", "x"]) is None
    server_env = {"PYTHONPATH": "a", "MKL_CBWR": "AVX2", "HALA_PARENT_PID": "1", "HALA_WORK_DIR": "/w"}
    runner_env = {**server_env, "HALA_PARENT_PID": "2", "HALA_WORK_DIR": "/v", "MKL_CBWR": "AVX512", "HF_HOME": "/h"}
    assert fork_client.import_time_differences(runner_env, server_env) == ["HF_HOME", "MKL_CBWR"]
