"""A subprocess in a process group of its own, as the Python worker runs runners and engines.

A process group can always be killed, so cancellation and worker shutdown free the GPU at once:
SIGTERM first (a runner that can checkpoints), SIGKILL after the grace, then a sweep for
grandchildren (vLLM workers, dataloaders) that outlived their leader. Its stderr is forwarded to the
worker's, the last lines kept for failure messages. Where the worker runs a fork server
(HALA_RUNNER_PRELOAD, the local stack), a runner is forked from it instead of exec'd: torch is
imported already (hala_runners.fork_server); nothing above start() can tell the difference.
"""
from __future__ import annotations

import asyncio
import collections
import os
import signal
import sys
from pathlib import Path

from . import fork_process

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # gpu-runners/, put on the child's PYTHONPATH
KILL_GRACE_S = float(os.environ.get("HALA_KILL_GRACE_S", "10"))  # SIGTERM -> SIGKILL
STDERR_TAIL_LINES = 100  # enough to reach past a runner's own traceback to what its children logged before it
TAIL_CHARS, LINE_CHARS = 700, 160  # of the stderr tail quoted in a failure message
LINE_LIMIT = 16 << 20  # a result or error event is one line; asyncio's 64 KiB default is too small



def runner_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"  # progress must arrive when emitted, not when a buffer fills
    env["HALA_PARENT_PID"] = str(os.getpid())  # the runner exits if the worker dies (runner_harness.exit_with_parent)
    return env


def runner_module(name: str) -> str:
    """'translate' -> 'hala_runners.runners.translate'; a dotted name is taken as is (tests)."""
    return name if "." in name else f"hala_runners.runners.{name}"


class ChildProcess:
    """A subprocess leading its own process group; stderr is forwarded to the worker's stderr."""

    def __init__(self, proc: asyncio.subprocess.Process | fork_process.ForkedProcess, label: str):
        self.proc, self.label = proc, label
        self.pgid = proc.pid  # start_new_session=True, or setsid in a forked one: it leads a new session and group
        self.tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
        self._stderr_task = asyncio.create_task(self._forward_stderr())

    @classmethod
    async def start(cls, argv: list[str], label: str, stdin: bool = False, env: dict[str, str] | None = None,
                    fork: bool = True) -> "ChildProcess":
        """Start `argv`; a `python -m` runner is forked from the worker's fork server when it runs one
        and `fork` is left on (fork_process.try_spawn says when it execs anyway), same face either way."""
        full_env = {**runner_env(), **(env or {})}  # `env` on top
        proc = await fork_process.try_spawn(argv, full_env, stdin, LINE_LIMIT) if fork else None
        if proc is None:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
                env=full_env, start_new_session=True, limit=LINE_LIMIT)
        return cls(proc, label)

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def _forward_stderr(self) -> None:
        assert self.proc.stderr is not None
        async for raw in self.proc.stderr:
            line = raw.decode(errors="replace").rstrip("\n")
            self.tail.append(line)
            sys.stderr.write(f"[{self.label}] {line}\n")

    def stderr_tail(self, lines: int = 8, max_chars: int = TAIL_CHARS) -> str:
        """The last words on stderr, short enough for a failure Temporal keeps whole (the server
        truncates a retryable activity failure over 2 KB, message and stack trace together).
        Progress bars redraw with \r, so only the end of each line counts; the worker log has all."""
        last = [line.rsplit("\r", 1)[-1][-LINE_CHARS:] for line in list(self.tail)[-lines:]]
        return "\n".join(last)[-max_chars:]

    async def wait(self, timeout: float | None = None) -> int | None:
        """Exit code, or None if still running after `timeout` seconds."""
        try:
            rc = await asyncio.wait_for(self.proc.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        # Let the forwarder drain, so the tail holds the last words before the exit.
        await asyncio.wait({self._stderr_task}, timeout=2)
        return rc

    async def kill(self, grace_s: float | None = None) -> None:
        """SIGTERM the whole group, SIGKILL whatever is left after `grace_s` (default KILL_GRACE_S)."""
        signal_group(self.pgid, signal.SIGTERM)
        if self.alive:
            await self.wait(KILL_GRACE_S if grace_s is None else grace_s)
        # Grandchildren (vLLM workers, dataloaders) may outlive the leader: always sweep the group.
        signal_group(self.pgid, signal.SIGKILL)
        await self.wait(5)
        self._stderr_task.cancel()
        await _group_gone(self.pgid, timeout=5)


def signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass  # the group is gone already


async def _group_gone(pgid: int, timeout: float) -> None:
    """Wait until no process of the group is left (orphans are reaped by init, not by us)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return
        await asyncio.sleep(0.05)
    sys.stderr.write(f"hala: process group {pgid} still has members {timeout:.0f}s after SIGKILL\n")
