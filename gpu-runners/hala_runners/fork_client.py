"""The worker's side of the fork server (hala_runners.fork_server): start it, stop it, and decide
per runner whether a fork from it can stand in for `python -m <module>`.

    server = ForkServer.start("default", runner_env())   # worker.py, when HALA_RUNNER_PRELOAD is set
    use(server)                                          # ChildProcess.start forks through it from now on
    server.stop()

A runner is forked only when exec'ing it would give the same process: the command is
`[sys.executable, "-m", module, ...]`, the module is not one that must exec (EXEC_ONLY), and the
environment agrees with the server's in every variable read at import (import_time_differences);
anything else execs, as does every runner once the server is unreachable (logged once).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Variables that torch, MKL/OpenMP, tokenizers, the hub libraries or the interpreter read once, at
# import or start-up: in a fork they keep the server's values, so a runner whose environment
# differs in one of them execs instead. Names ending in "_" or "*" are prefixes.
IMPORT_TIME_ENV = ("PYTHON*", "LD_PRELOAD", "LD_LIBRARY_PATH", "LANG", "LC_*", "HOME", "TMPDIR", "XDG_CACHE_HOME",
                   "OMP_", "KMP_", "GOMP_", "MKL_", "OPENBLAS_", "DNNL_", "ONEDNN_", "ATEN_", "TORCH*", "PYTORCH_",
                   "CUDA_", "NVIDIA_", "NCCL_", "HF_", "HUGGINGFACE_", "TRANSFORMERS_", "TOKENIZERS_", "ARROW_", "JE_",
                   "HALA_HUB_MIRROR")
# Runner modules that set an import-time variable in their own module code, too late in a fork.
EXEC_ONLY = {"hala_runners.runners.merge": "sets OPENBLAS_NUM_THREADS before numpy loads"}
START_TIMEOUT_S = 30.0  # for the socket to appear (an interpreter start, not the preload)
STOP_TIMEOUT_S = 10.0

_current: "ForkServer | None" = None


def current() -> "ForkServer | None":
    """The fork server runners go through, if one is running and reachable."""
    return _current if _current is not None and _current.usable else None


def use(server: "ForkServer | None") -> None:
    global _current
    _current = server


def _import_time(name: str) -> bool:
    return any(name.startswith(p.rstrip("*")) if p.endswith(("_", "*")) else name == p for p in IMPORT_TIME_ENV)


def import_time_differences(env: dict[str, str], server_env: dict[str, str]) -> list[str]:
    """Import-time variables whose value differs between a runner's environment and the server's."""
    names = {n for n in (*env, *server_env) if _import_time(n)}
    return sorted(n for n in names if env.get(n) != server_env.get(n))


def forkable(argv: list[str]) -> str | None:
    """The module of a `python -m module ...` command this interpreter could fork, else None."""
    if len(argv) < 3 or argv[0] != sys.executable or argv[1] != "-m" or argv[2] in EXEC_ONLY:
        return None
    return argv[2]


class ServerGone(Exception):
    """The fork server did not take the request: exec the runner instead."""


class ForkServer:
    def __init__(self, proc: subprocess.Popen, directory: Path, env: dict[str, str]):
        self.proc, self.directory, self.env = proc, directory, env
        self.socket_path = str(directory / "socket")
        self.usable = True
        self.forked = 0  # runners started through it (tests and the bench check the path was taken)
        self._told: set[tuple[str, ...]] = set()

    @classmethod
    def start(cls, preload: str, env: dict[str, str]) -> "ForkServer":
        """Start the server with the runners' environment; returns once it listens (it preloads after)."""
        # mkdtemp's 0700: only this user reaches the socket (whoever can, runs modules as the worker).
        directory = Path(tempfile.mkdtemp(prefix="hala-fork-"))
        proc = subprocess.Popen([sys.executable, "-m", "hala_runners.fork_server", "--socket", str(directory / "socket"),
                                 "--preload", preload], env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                start_new_session=True)  # the terminal's Ctrl-C goes to the worker, which stops it
        server = cls(proc, directory, env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not os.path.exists(server.socket_path):
            if proc.poll() is not None or time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"fork server did not start (exit code {proc.returncode})")
            time.sleep(0.02)
        return server

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        """SIGTERM (it SIGKILLs the runners it still has), SIGKILL if it does not go."""
        self.usable = False
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.directory, ignore_errors=True)

    def declined(self, env: dict[str, str]) -> bool:
        """True (said once per set of variables) when `env` differs from the server's at import time."""
        differ = tuple(import_time_differences(env, self.env))
        if differ and differ not in self._told:
            self._told.add(differ)
            sys.stderr.write(f"hala: runners whose {', '.join(differ)} differ from the fork server's exec a fresh "
                             "interpreter (those variables are read at import)\n")
        return bool(differ)

    def gone(self, why: str) -> None:
        """The server failed a request: every runner execs from now on; said once."""
        if self.usable:
            self.usable = False
            sys.stderr.write(f"hala: fork server {self.pid} unusable ({why}); runners exec a fresh interpreter\n")

    def connect(self, request: bytes, fds: list[int]) -> socket.socket:
        """Send one request with its stdio descriptors; the connection then carries the answers."""
        if self.proc.poll() is not None:
            raise ServerGone(f"it exited with code {self.proc.returncode}")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(5)  # a local socket: connect and a small send are immediate unless it is wedged
            sock.connect(self.socket_path)
            sent = socket.send_fds(sock, [request], fds)
            sock.sendall(request[sent:])
        except OSError as e:
            sock.close()
            raise ServerGone(f"{type(e).__name__}: {e}") from None
        sock.setblocking(False)
        return sock
