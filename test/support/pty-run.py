"""Run a command under a real pseudo-terminal and copy what it draws to stdout, byte for byte.

    python test/support/pty-run.py <seconds> <columns> -- <command> [args...]

The command sees a terminal (isatty, a window size), as it would in an operator's shell. After
<seconds>, or when it exits, its whole process group is stopped (SIGTERM, then SIGKILL), so no
process outlives the run. Exits with the command's status, or 124 when it was stopped.
"""

import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time


def main() -> int:
    seconds, columns = float(sys.argv[1]), int(sys.argv[2])
    command = sys.argv[sys.argv.index("--") + 1 :]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    # Stopped from outside (a test that gives up): take the command down too.
    signal.signal(signal.SIGTERM, lambda *_: (stop_group(pid), sys.exit(143)))
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    deadline = time.monotonic() + seconds
    status = None
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the terminal's other side closed (the command exited)
                chunk = b""
            if not chunk:
                break
            sys.stdout.buffer.write(chunk)
            sys.stdout.buffer.flush()
    done, status = os.waitpid(pid, os.WNOHANG)
    if done == 0:
        stop_group(pid)
        return 124
    return os.waitstatus_to_exitcode(status)


def stop_group(pid: int) -> None:
    """SIGTERM the command's process group, SIGKILL it if the leader is still there after 5 s."""
    # pty.fork made the child a session (and process-group) leader: its group is everything it started.
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        end = time.monotonic() + 5
        while time.monotonic() < end:
            if os.waitpid(pid, os.WNOHANG)[0] != 0:
                try:  # whatever of the group is left behind the leader
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                return
            time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
