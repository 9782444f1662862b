"""A fork server for the local Python worker: runners start from an interpreter that imported torch already.

    python -m hala_runners.fork_server --socket DIR/socket --preload default   # started by the worker (fork_client)

Why: on the local stack (CPU, 2 cores) every runner paid ~10 s of CPU for `import torch` and
transformers' auto classes before doing anything, a third of the tiny campaign. This process imports
them once (the preload), then forks a child per runner request; the child runs the runner module as
`python -m` would (hala_runners.fork_child). Production workers leave HALA_RUNNER_PRELOAD unset and
exec a fresh interpreter per runner: on a GPU a stage lasts hours and CUDA wants a clean process.

It must NEVER touch CUDA. Importing torch does not initialise CUDA; calling torch.cuda.* (is_available,
device_count, manual_seed_all, ...) may, and a forked child of a process with a CUDA context cannot
use CUDA at all. Nor may it run a torch op: that starts OpenMP's thread pool, which does not survive
a fork. So the preload is imports only, and the server refuses to serve (every runner then execs)
if CUDA got initialised or a second thread started during it: a fork copies only the calling thread.

Protocol, one Unix-socket connection per runner (fork_client is the other side):
  client -> server  one JSON line {"module", "args", "env", "cwd"}, with the runner's stdin, stdout
                    and stderr as SCM_RIGHTS descriptors on its first bytes;
  child  -> client  {"pid": N} once it leads its own session (so killpg(N) reaches it from then on);
  server -> client  {"pid": N, "status": S} when it ends, S as subprocess reports it (-signal if killed).
The server is single-threaded at fork time: one selector loop, children reaped with waitpid(WNOHANG)
when SIGCHLD wakes it (signal.set_wakeup_fd). It exits on SIGTERM or when its parent (the worker)
dies, and SIGKILLs its children's process groups on the way out, which is what a runner's own
watchdog (runner_harness.exit_with_parent, HALA_PARENT_PID = this server) does anyway when the
server itself is SIGKILLed.

The server gets the environment the runners get (child_process.runner_env()): what torch, MKL,
OpenMP and the hub read at import is fixed here, so fork_client execs any request whose environment
differs in such a variable.
"""
from __future__ import annotations

import argparse
import gc
import importlib
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time

from . import fork_child

# "default": what the local stack's runners import before their first event. bench/runner-start.py,
# an evaluate-like runner loading the tiny lfm2-350m (AMD EPYC, 2 cores): 10-11.5 s of CPU exec'd;
# forked, 8.3 s with torch alone preloaded, 0.47 s with the auto classes too, 0.11 s with the lfm2
# classes (the tiny world's models, 0.4 s once) and pyarrow too.
DEFAULT_PRELOAD = ("torch", "transformers", "transformers.AutoModelForCausalLM", "transformers.AutoTokenizer",
                   "transformers.models.lfm2.modeling_lfm2", "pyarrow.parquet", "hala_runners.runner_harness",
                   "hala_runners.hub")
# Not trl (train's SFTTrainer, 2 s of CPU): only the train runners would gain, every server would pay.
PARENT_POLL_S = 1.0  # how often the loop checks that the worker is alive (also its select timeout)
MAX_REQUEST_BYTES = 16 << 20  # a request is argv + environment: far below this


def log(message: str) -> None:
    sys.stderr.write(f"hala fork server {os.getpid()}: {message}\n")
    sys.stderr.flush()


def preload_names(spec: str) -> list[str]:
    """HALA_RUNNER_PRELOAD's value: "default", or a comma list of modules (a dotted last part that
    is not a module, transformers.AutoTokenizer, is an attribute to resolve: lazy modules load on it)."""
    names = [n.strip() for n in spec.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        out.extend(DEFAULT_PRELOAD if name == "default" else [name])
    return out


def preload(names: list[str]) -> None:
    """Import each name; one that fails is logged and skipped (the runner imports it itself)."""
    for name in names:
        started = time.perf_counter()
        try:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError:
                parent, _, attr = name.rpartition(".")
                if not parent:
                    raise
                getattr(importlib.import_module(parent), attr)
        except Exception as e:  # noqa: BLE001 - a preload is an optimisation, never a failure
            log(f"preload {name} failed, runners import it themselves: {type(e).__name__}: {e}")
            continue
        log(f"preloaded {name} in {time.perf_counter() - started:.1f} s")


def unsafe_to_fork() -> str | None:
    """Why forking this process would give runners a broken copy, or None."""
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_initialized():  # reads a flag, initialises nothing
        return "CUDA was initialised by the preload"
    threads = len(os.listdir("/proc/self/task")) if os.path.isdir("/proc/self/task") else threading.active_count()
    if threads > 1:
        return f"the preload left {threads} threads running; a fork keeps only one"
    return None


def listen(path: str) -> socket.socket:
    """Bind and listen under a temporary name, then rename: the path appears only once it accepts."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    temporary = f"{path}.{os.getpid()}"
    listener.bind(temporary)
    listener.listen(64)
    os.rename(temporary, path)
    return listener


class Server:
    def __init__(self, listener: socket.socket, fresh: fork_child.Fresh):
        self.listener, self.fresh = listener, fresh
        self.selector = selectors.DefaultSelector()
        self.children: dict[int, socket.socket] = {}  # pid -> the connection its status goes to
        self.stopping = False
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)

    def serve(self, parent: int) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # a Python handler, so the wakeup fd hears it
        signal.signal(signal.SIGTERM, self._stop)
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, "accept")
        self.selector.register(self.wake_r, selectors.EVENT_READ, "wake")
        while not self.stopping:
            for key, _ in self.selector.select(timeout=PARENT_POLL_S):
                if key.data == "accept":
                    self._accept()
                elif key.data == "wake":
                    self._drain_wakeups()
                else:
                    self._read(key.fileobj, key.data)
            self._reap()
            if os.getppid() != parent:
                log(f"worker {parent} is gone; stopping")
                break
        self._shutdown()

    def _stop(self, *_: object) -> None:
        self.stopping = True

    def _drain_wakeups(self) -> None:
        try:
            while os.read(self.wake_r, 512):
                pass
        except BlockingIOError:
            pass

    def _accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        self.selector.register(conn, selectors.EVENT_READ, {"data": b"", "fds": []})

    def _read(self, conn: socket.socket, pending: dict) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
        except BlockingIOError:
            return
        except OSError:
            data, fds = b"", []
        pending["fds"].extend(fds)
        pending["data"] += data
        if data and b"\n" not in data and len(pending["data"]) < MAX_REQUEST_BYTES:
            return  # more to come
        self.selector.unregister(conn)
        if not data or b"\n" not in pending["data"] or len(pending["fds"]) != 3:
            self._drop(conn, pending["fds"])  # the client went away, or a request we cannot run
            return
        try:
            request = json.loads(pending["data"].split(b"\n", 1)[0])
        except ValueError:
            self._drop(conn, pending["fds"])
            return
        self._fork(conn, request, pending["fds"])

    def _drop(self, conn: socket.socket, fds: list[int]) -> None:
        for fd in fds:
            os.close(fd)
        conn.close()

    def _fork(self, conn: socket.socket, request: dict, fds: list[int]) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            owned = [self.listener, self.selector, *self.children.values(), *self._pending_conns()]
            fork_child.run(request, fds, conn, owned, [self.wake_r, self.wake_w], self.fresh)
        for fd in fds:
            os.close(fd)
        conn.setblocking(True)
        self.children[pid] = conn

    def _pending_conns(self) -> list[socket.socket]:
        return [key.fileobj for key in self.selector.get_map().values() if isinstance(key.data, dict)]

    def _reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = self.children.pop(pid, None)
            if conn is None:
                continue
            try:
                conn.sendall(json.dumps({"pid": pid, "status": os.waitstatus_to_exitcode(status)}).encode() + b"\n")
            except OSError:
                pass  # the client is gone: nobody to tell
            conn.close()

    def _shutdown(self) -> None:
        for pid in list(self.children):  # what each runner's own watchdog would do, without its 1 s poll
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.listener.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hala_runners.fork_server", description=__doc__.split("\n")[0])
    parser.add_argument("--socket", required=True, help="Unix socket path to serve on (its directory must exist)")
    parser.add_argument("--preload", default="default", help='"default" or a comma list of modules to import once')
    args = parser.parse_args(argv)
    parent = int(os.environ.get("HALA_PARENT_PID") or os.getppid())
    fresh = fork_child.Fresh.capture()  # before this server changes signal handlers or sys.path
    # Listening first: a runner requested during the preload waits in the backlog, not in an exec.
    listener = listen(args.socket)
    # pyarrow's jemalloc starts a background purging thread when it loads, and a fork keeps one thread.
    # Arrow allocates with mimalloc unless told otherwise, so that thread has nothing to purge: off
    # here (a runner's own environment, which fork_child installs, never had it).
    os.environ.setdefault("JE_ARROW_MALLOC_CONF", "background_thread:false")
    try:
        started = time.perf_counter()
        preload(preload_names(args.preload))
        unsafe = unsafe_to_fork()
        if unsafe:  # the queued requests see their connection close, and exec
            log(f"not serving: {unsafe}; runners exec a fresh interpreter instead")
            listener.close()
            return 1
        gc.collect()
        gc.freeze()  # the preloaded objects stay out of the collector's way: fewer pages copied per child
        log(f"serving on {args.socket} (preload {time.perf_counter() - started:.1f} s, {len(sys.modules)} modules)")
        Server(listener, fresh).serve(parent)
    finally:
        try:  # the directory is the one fork_client made for it: gone too, even if the worker was SIGKILLed
            os.unlink(args.socket)
            os.rmdir(os.path.dirname(args.socket))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
