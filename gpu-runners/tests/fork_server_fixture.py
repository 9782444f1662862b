"""Fixtures that run the behaviour tests of runners both ways: exec'd (a fresh interpreter, the
default) and forked from a fork server (hala_runners.fork_server, HALA_RUNNER_PRELOAD on the local stack).

    pytestmark = pytest.mark.usefixtures("runner_start")     # runners started in this test process
    pytestmark = pytest.mark.usefixtures("worker_preload")   # runners started by a worker subprocess

The servers of in-process tests preload only the harness: what a fork must get right does not
depend on what was imported before it, and torch's ~10 s would make each test slower; workers get the
local stack's "default" (test_fork_server.py also forks a torch model load from it).
"""
from __future__ import annotations

import pytest

from hala_runners import child_process, fork_client

LIGHT_PRELOAD = "hala_runners.runner_harness"


@pytest.fixture(params=["exec", "fork"])
def runner_start(request):
    """In "fork", a fork server started with the environment the test's other fixtures set up (the
    fake runner's PYTHONPATH, the hub mirror): those are read at import, so they must be its own."""
    if request.param == "exec":
        yield "exec"
        return
    for name in request.fixturenames:
        if name not in ("runner_start", "request"):
            request.getfixturevalue(name)
    server = fork_client.ForkServer.start(LIGHT_PRELOAD, child_process.runner_env())
    fork_client.use(server)
    try:
        yield "fork"
        assert server.forked and server.usable, "no runner was forked, or the server failed one and it fell back to exec"
    finally:
        fork_client.use(None)
        server.stop()


@pytest.fixture(params=["exec", "fork"])
def worker_preload(request, monkeypatch):
    """In "fork", HALA_RUNNER_PRELOAD=default for the worker subprocesses the test starts, as the
    local stack sets it (a worker test waits for a runner anyway; the preload runs meanwhile)."""
    if request.param == "fork":
        monkeypatch.setenv("HALA_RUNNER_PRELOAD", "default")
    else:
        monkeypatch.delenv("HALA_RUNNER_PRELOAD", raising=False)
    return request.param
