"""Long-lived engine subprocesses of the infer worker: one per (model, engine, tensor-parallel size), reused across shards.

    result = await ENGINES.translate(payload)   # inside the translate_shard activity

Loading the 111B teacher takes minutes; a shard takes seconds to minutes. So the first shard for a
model starts `python -m hala_runners.runners.translate --serve --model M --engine E` in its own
process group and later shards reuse it: one JSON request line on stdin, progress events and one
result/error event back on stdout (the runner protocol). A dead process is restarted on next use;
one that fails in a way the shard does not explain (vLLM's EngineDeadError, out of memory) says so
in its error event (`exiting`) and exits, its group is swept at once, and the failure quotes the
exception lines from its stderr, where vLLM logs the cause (ENGINE_ENV).
Cancellation or worker shutdown during a shard kills the engine's process group (nothing else can
interrupt a running generate), so the next shard pays one reload.
At most HALA_MAX_ENGINES (default 1: one GPU holds one model) stay loaded; the least recently used
idle one is stopped to make room.
"""
from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from collections import OrderedDict

from ..activity_process import Heartbeater, Supervision, read_until_terminal, result_of, resume_details, supervise
from ..child_process import LINE_CHARS, ChildProcess
from ..stage_progress import ProgressSignals
from . import ENGINE_ENV

MAX_ENGINES = int(os.environ.get("HALA_MAX_ENGINES", "1"))

# The last line of a traceback, as Python and vLLM's logger print it (torch.OutOfMemoryError: ...,
# torch.distributed.DistBackendError: NCCL error ...), or a crash's own words.
_EXCEPTION = re.compile(r"\b[\w.]*(Error|Exception): |Fatal Python error")


class _Engine:
    def __init__(self, key: tuple[str, str, int]):
        self.key = key
        self.lock = asyncio.Lock()  # one shard at a time per engine process
        self.child: ChildProcess | None = None

    @property
    def label(self) -> str:
        return f"engine {self.key[1]} {self.key[0]}" + (f" tp={self.key[2]}" if self.key[2] > 1 else "")

    async def ensure_started(self) -> ChildProcess:
        if self.child is None or not self.child.alive:
            if self.child is not None:
                await self.child.kill(grace_s=1)  # sweep leftovers of the dead one
            model, engine, tp = self.key
            argv = [sys.executable, "-m", "hala_runners.runners.translate", "--serve",
                    "--model", model, "--engine", engine, "--tensor-parallel-size", str(tp)]
            # Forked when the worker runs a fork server (the local stack: an engine per model, the
            # teacher's BF16 and FP8 and the translator's before and after, each on the campaign's
            # critical path, started in 0.1 s instead of 10). Production images run none: there an
            # engine loads for minutes and vLLM/CUDA want a process nothing initialised before them.
            self.child = await ChildProcess.start(argv, label=self.label, stdin=True, env=ENGINE_ENV)
        return self.child

    async def stop(self) -> None:
        if self.child is not None:
            if self.child.alive and self.child.proc.stdin is not None:
                self.child.proc.stdin.close()  # EOF: the server exits on its own
                await self.child.wait(timeout=5)
            await self.child.kill()
            self.child = None


def _with_last_error_lines(message: str, child: ChildProcess, count: int = 3) -> str:
    """`message`, then the last lines on the engine's stderr that name an exception.

    vLLM's EngineDeadError says only that the cause is "above": its EngineCore logged it on stderr
    before dying, and the engine process's own traceback (which repeats `message`) came after it.
    """
    own = (message.partition(": ")[2].splitlines() or [""])[0]
    lines = [line.rsplit("\r", 1)[-1][-LINE_CHARS:] for line in child.tail]
    named = [line for line in lines if _EXCEPTION.search(line) and not (own and own in line)]
    quoted = "\n".join(list(dict.fromkeys(named))[-count:]) or child.stderr_tail()
    return (f"{message}\n(the engine process exited; the next shard starts a fresh one) its last error lines on "
            f"stderr (the worker log has all):\n{quoted}")


class EngineService:
    def __init__(self, max_engines: int = MAX_ENGINES):
        self.max_engines = max(1, max_engines)
        self._engines: OrderedDict[tuple[str, str, int], _Engine] = OrderedDict()

    async def translate(self, payload: dict, supervision: Supervision = Supervision()) -> dict:
        """Run one translate_shard payload on the engine for its model, for the current activity."""
        config = {**payload, "resume": resume_details()}
        engine = await self._engine_for((payload["model"], payload["engine"], int(payload.get("tensor_parallel_size", 1))))
        async with engine.lock:
            child = await engine.ensure_started()
            beat = Heartbeater(config["resume"], ProgressSignals.for_current_activity(supervision.progress_s))

            async def request() -> dict | None:
                assert child.proc.stdin is not None
                child.proc.stdin.write((json.dumps(config) + "\n").encode())
                await child.proc.stdin.drain()
                return await read_until_terminal(child, beat)

            try:
                event = await supervise(child, beat, request(), supervision)
            except BaseException:
                await engine.stop()  # killed or unusable: the next shard starts a fresh one
                raise
            if event is None:  # the engine died mid-shard (OOM killer, segfault)
                rc = await child.wait(timeout=10)
                await engine.stop()
                return result_of(None, child, rc, supervision)
            if event["event"] == "error" and event.get("exiting"):
                # The engine gave up (failed load, dead or poisoned engine): sweep its group (vLLM's
                # EngineCore and workers) now, so the next shard starts a fresh one.
                await engine.stop()
                if event.get("type") == "RunnerFailed":  # an unknown failure: its cause may be only on stderr
                    event = {**event, "message": _with_last_error_lines(event.get("message", ""), child)}
            return result_of(event, child, None, supervision)

    async def _engine_for(self, key: tuple[str, str, int]) -> _Engine:
        if key in self._engines:
            self._engines.move_to_end(key)
            return self._engines[key]
        # Make room: stop idle engines, least recently used first (GPU memory holds one model).
        for other in list(self._engines.values()):
            if len(self._engines) < self.max_engines:
                break
            if not other.lock.locked():
                await other.stop()
                del self._engines[other.key]
        engine = self._engines[key] = _Engine(key)
        return engine

    async def close(self) -> None:
        """Stop every engine process (worker shutdown)."""
        for engine in list(self._engines.values()):
            await engine.stop()
        self._engines.clear()


ENGINES = EngineService()  # one per worker process: the models it has loaded
