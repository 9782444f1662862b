"""The forked side of the fork server (hala_runners.fork_server): turn a copy of the server into
`python -m <module> <args>` with the request's stdio, environment and working directory.

What a fresh interpreter would have and a fork does not, put back here:
- its own session and process group (os.setsid, as start_new_session=True gave the exec path), so
  the activity's killpg reaches the runner and whatever it starts;
- stdin/stdout/stderr on 0/1/2, and no other descriptor of the server (the listening socket least of
  all: a runner holding it would keep the server's address alive after the server died);
- the signal handlers Python starts with (the server's SIGTERM/SIGCHLD handlers and wakeup fd go);
- the request's environment (HALA_PARENT_PID = the server, whose death runner_harness watches for);
  only variables read at use take effect: those read at import are fixed by the server's own
  environment, which is why fork_client execs a request that differs in one of them;
- random state: Python's `random` reseeds itself after a fork (os.register_at_fork), numpy's global
  RandomState and torch's default generator would stay the server's, identical in every child, where
  fresh interpreters each seed from the OS: reseeded here. The str hash seed cannot change after
  start-up: every child shares the server's, which only fixes set iteration order between them.
The module then runs as __main__ (runpy, as -m does). Its exit code is the interpreter's: SystemExit's
code, 1 after an uncaught exception (traceback on stderr); non-daemon threads are joined, atexit
handlers run and stdio is flushed before os._exit, which keeps the server's own cleanup out of it.
"""
from __future__ import annotations

import atexit
import importlib
import json
import os
import runpy
import signal
import socket
import sys
import threading
from dataclasses import dataclass


@dataclass(frozen=True)
class Fresh:
    """What the server's interpreter looked like before it served: handed to each child to restore."""
    handlers: dict[int, object]
    path: list[str]

    @classmethod
    def capture(cls) -> "Fresh":
        handlers = {}
        for sig in signal.valid_signals():
            try:
                handler = signal.getsignal(sig)
            except (ValueError, OSError):
                continue
            if handler is not None:  # None: set from C, not by Python; leave it
                handlers[sig] = handler
        return cls(handlers=handlers, path=list(sys.path))


def run(request: dict, fds: list[int], conn: socket.socket, owned: list, raw_fds: list[int], fresh: Fresh) -> None:
    """Become the runner and exit with its code; never returns (os._exit, whatever happens)."""
    code = 1
    try:
        os.setsid()
        _name(request["module"])
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        _restore_signals(fresh)  # before the client knows us: its SIGTERM must not meet the server's handler
        try:  # the client learns the pid only now that killpg(pid) reaches us
            conn.sendall(json.dumps({"pid": os.getpid()}).encode() + b"\n")
        except OSError:
            os._exit(1)  # the client gave up on this request: do not start a runner nobody watches
        _close_server_descriptors([conn, *owned], raw_fds)
        _become(request, fresh)
        code = _run_main(request["module"])
    except BaseException:  # noqa: BLE001 - a failure to set up is the child's, reported like a crash
        _print_exception()
        code = 1
    finally:
        os._exit(code)


def _name(module: str) -> None:
    """`ps` and `top` show the runner (its comm, 15 bytes), not the server whose command line it keeps."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_NAME = 15
        ctypes.CDLL(None).prctl(PR_SET_NAME, module.rsplit(".", 1)[-1][:15].encode(), 0, 0, 0)


def _close_server_descriptors(objects: list, raw_fds: list[int]) -> None:
    for obj in objects:  # through their objects, so none of them closes a reused number later
        try:
            obj.close()
        except OSError:
            pass
    for fd in raw_fds:
        os.close(fd)
    for name in os.listdir("/proc/self/fd"):  # whatever the preloaded libraries opened
        fd = int(name)
        if fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass  # the directory's own descriptor, gone already


def _restore_signals(fresh: Fresh) -> None:
    signal.set_wakeup_fd(-1)
    for sig, handler in fresh.handlers.items():
        try:
            signal.signal(sig, handler)
        except (OSError, ValueError, TypeError):
            pass
    signal.pthread_sigmask(signal.SIG_SETMASK, set())


def _become(request: dict, fresh: Fresh) -> None:
    os.environ.clear()
    os.environ.update(request["env"])
    os.environ["HALA_PARENT_PID"] = str(os.getppid())  # the server: the runner dies with it
    os.chdir(request["cwd"])
    sys.path[:] = [request["cwd"], *fresh.path[1:]]  # -m puts the working directory first
    importlib.invalidate_caches()  # a fresh interpreter lists directories anew: new modules are found
    sys.argv = [request["module"], *request["args"]]  # runpy puts the module's file in argv[0]
    sys.orig_argv = [sys.executable, "-m", request["module"], *request["args"]]
    _reseed()


def _reseed() -> None:
    import random

    random.seed()
    if "numpy.random" in sys.modules:
        sys.modules["numpy.random"].seed()
    if "torch" in sys.modules:
        sys.modules["torch"].default_generator.seed()  # the CPU generator only: nothing of CUDA's


def _run_main(module: str) -> int:
    """runpy as `python -m` runs a module, then the interpreter's own exit steps."""
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as e:
        code = _exit_code(e.code)
    except KeyboardInterrupt:
        _print_exception(own_frame=False)
        code = -signal.SIGINT  # the interpreter dies of SIGINT then; done below
    except BaseException:  # noqa: BLE001 - an uncaught exception: traceback, exit 1
        _print_exception(own_frame=False)
        code = 1
    _interpreter_exit()
    if code == -signal.SIGINT:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    return code


def _exit_code(value: object) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _print_exception(own_frame: bool = True) -> None:
    """The current exception as the interpreter reports an uncaught one; without this module's frame
    when it is the runner's (a traceback should look as it would from `python -m`)."""
    kind, value, tb = sys.exc_info()
    if not own_frame and value is not None and tb is not None:
        tb = tb.tb_next
        value.__traceback__ = tb  # what the default hook prints, whatever tb it is given
    try:
        sys.excepthook(kind, value, tb)
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - nothing left to report it on
        pass


def _interpreter_exit() -> None:
    """What Py_FinalizeEx does before the process ends: join non-daemon threads, atexit, flush."""
    try:
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown is not None:
            shutdown()
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - as the interpreter does: report and go on exiting
        _print_exception()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
