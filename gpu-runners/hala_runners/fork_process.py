"""A runner forked by the fork server, behind the face of asyncio.subprocess.Process that ChildProcess uses.

    proc = await try_spawn(argv, env, stdin=False, limit=LINE_LIMIT)   # None: exec it instead

pid (which leads its own session and group, so ChildProcess kills it by group as before), stdout and
stderr StreamReaders, a stdin StreamWriter when asked, returncode, wait(). The pipes are made here
and their far ends handed to the server with the request; the exit status comes back on the
request's connection. wait() returns, as asyncio's does, once the process ended and stdout and
stderr reached end of file.
"""
from __future__ import annotations

import asyncio
import json
import os
import signal
from pathlib import Path

from . import fork_client
from .fork_client import ForkServer, ServerGone

PID_TIMEOUT_S = 120.0  # a request sent while the server still preloads waits for the preload


class _Pipe(asyncio.StreamReaderProtocol):
    """A StreamReader's protocol that also says when its pipe reached end of file."""

    def __init__(self, reader: asyncio.StreamReader, loop: asyncio.AbstractEventLoop):
        super().__init__(reader, loop=loop)
        self.closed = loop.create_future()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        if not self.closed.done():
            self.closed.set_result(None)


class ForkedProcess:
    def __init__(self, pid: int, stdin: asyncio.StreamWriter | None, stdout: asyncio.StreamReader,
                 stderr: asyncio.StreamReader, pipes: list[_Pipe], answers: asyncio.StreamReader,
                 connection: asyncio.StreamWriter, server: ForkServer):
        self.pid, self.stdin, self.stdout, self.stderr = pid, stdin, stdout, stderr
        self.returncode: int | None = None
        self._pipes_closed = [p.closed for p in pipes]
        self._exited = asyncio.Event()
        self._follower = asyncio.create_task(self._follow(answers, connection, server))

    async def _follow(self, answers: asyncio.StreamReader, connection: asyncio.StreamWriter, server: ForkServer) -> None:
        try:
            line = await answers.readline()
        except OSError:
            line = b""
        finally:
            connection.close()
        if line:
            self.returncode = int(json.loads(line)["status"])
        else:  # the server died first: the runner dies with it (runner_harness.exit_with_parent)
            server.gone("it exited while running a runner")
            self.returncode = await _orphan_ended(self.pid)
        self._exited.set()

    async def wait(self) -> int:
        await self._exited.wait()
        await asyncio.wait(self._pipes_closed)
        assert self.returncode is not None
        return self.returncode


async def _orphan_ended(pid: int) -> int:
    """Wait for a runner whose server is gone (its status is lost with it); reported as killed, as
    its watchdog kills its group with SIGKILL. A zombie counts as ended: init reaps it, not us."""
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return -signal.SIGKILL
        if state in ("Z", "X"):
            return -signal.SIGKILL
        await asyncio.sleep(0.1)


async def try_spawn(argv: list[str], env: dict[str, str], stdin: bool, limit: int) -> ForkedProcess | None:
    """Fork `argv` through the worker's fork server, or None when it must exec (no server, not a
    `python -m` command, an environment the server's preload does not fit, a server gone)."""
    server = fork_client.current()
    module = fork_client.forkable(argv)
    if server is None or module is None or server.declined(env):
        return None
    try:
        return await _spawn(server, module, argv[3:], env, stdin, limit)
    except ServerGone as e:
        server.gone(str(e))
        return None


async def _spawn(server: ForkServer, module: str, args: list[str], env: dict[str, str], stdin: bool,
                 limit: int) -> ForkedProcess:
    loop = asyncio.get_running_loop()
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    in_r, in_w = os.pipe() if stdin else (os.open(os.devnull, os.O_RDONLY), None)
    mine = [out_r, err_r, *([in_w] if in_w is not None else [])]
    request = json.dumps({"module": module, "args": args, "env": env, "cwd": os.getcwd()}).encode() + b"\n"
    try:
        try:
            sock = server.connect(request, [in_r, out_w, err_w])
        finally:
            for fd in (in_r, out_w, err_w):  # the child has its copies now (or never will)
                os.close(fd)
        answers, connection = await asyncio.open_unix_connection(sock=sock)
        try:
            line = await asyncio.wait_for(answers.readline(), PID_TIMEOUT_S)
        except OSError:  # reset: the server closed its socket with the request unread
            line = b""
        except BaseException:  # a timeout or a cancel: closing the connection stops the child before it runs
            connection.close()
            raise
        first = json.loads(line) if line else {}
        if "pid" not in first or "status" in first:
            connection.close()
            raise ServerGone("it closed the request without starting the runner")
    except asyncio.TimeoutError:
        for fd in mine:
            os.close(fd)
        raise ServerGone(f"no answer within {PID_TIMEOUT_S:.0f} s") from None
    except BaseException:
        for fd in mine:
            os.close(fd)
        raise
    stdout, out_pipe = await _reader(loop, out_r, limit)
    stderr, err_pipe = await _reader(loop, err_r, limit)
    writer = await _writer(loop, in_w) if in_w is not None else None
    server.forked += 1
    return ForkedProcess(first["pid"], writer, stdout, stderr, [out_pipe, err_pipe], answers, connection, server)


async def _reader(loop: asyncio.AbstractEventLoop, fd: int, limit: int) -> tuple[asyncio.StreamReader, _Pipe]:
    reader = asyncio.StreamReader(limit=limit, loop=loop)
    pipe = _Pipe(reader, loop)
    await loop.connect_read_pipe(lambda: pipe, os.fdopen(fd, "rb", buffering=0))
    return reader, pipe


async def _writer(loop: asyncio.AbstractEventLoop, fd: int) -> asyncio.StreamWriter:
    protocol = asyncio.StreamReaderProtocol(asyncio.StreamReader(loop=loop), loop=loop)
    transport, _ = await loop.connect_write_pipe(lambda: protocol, os.fdopen(fd, "wb", buffering=0))
    return asyncio.StreamWriter(transport, protocol, None, loop)
