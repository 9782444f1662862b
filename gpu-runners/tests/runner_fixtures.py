"""Fixtures for the runner / activity / worker tests: a scripted fake runner, an activity
environment that records heartbeats, the tiny hub mirror as HALA_HUB_MIRROR, scratch dirs, a free port.
"""
from __future__ import annotations

import asyncio
import os
import socket
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest

# A runner that follows the convention (hala_runners.runner_harness) and does what its config says.
FAKE_RUNNER = '''
"""python -m fakerun.stage --config c.json: a scripted runner for activity_process tests."""
import os, subprocess, sys, time
from dataclasses import dataclass
from hala_runners import progress
from hala_runners.errors import bad_input
from hala_runners.runner_harness import run

@dataclass(kw_only=True)
class Config:
    mode: str
    steps: int = 3
    pid_file: str = ""
    quiet_s: float = 0.0
    resume: dict | None = None

def _run(cfg):
    if cfg.mode == "error":
        raise bad_input("fake.steps must be > 0 (got -1)")
    if cfg.mode == "crash_noisy":  # progress bars redrawn with CR, then a long last line
        for i in range(50):
            print("\\r".join(f"bar {j} {'#' * 200}" for j in range(20)), file=sys.stderr)
        print("the real cause " + "x" * 5000, file=sys.stderr, flush=True)
        os._exit(3)
    if cfg.mode == "raise":  # an exception no check foresaw
        open("/etc").read()
    if cfg.mode == "loop":  # steady progress until stopped from outside
        open(cfg.pid_file, "w").write(f"{os.getpid()} 0")
        step = 0
        while True:
            step += 1
            progress.emit_progress("work", step, 10**6)
            time.sleep(0.05)
    if cfg.mode == "crash":
        print("about to crash", file=sys.stderr, flush=True)
        os._exit(3)
    if cfg.mode == "checkpoint_on_sigterm":  # like train: SIGTERM means "checkpoint and stop"
        from hala_runners.runners import preemption
        preemption.watch()
        open(cfg.pid_file, "w").write(f"{os.getpid()} 0")
        step = 0
        while not preemption.requested():
            step += 1
            progress.emit_progress("work", step, 10**6)
            time.sleep(0.05)
        progress.emit_progress("save", step, 10**6, checkpoint_uri=f"file:///ckpt/{step}")
        raise preemption.preempted(step, f"file:///ckpt/{step}")
    if cfg.mode == "hang":
        child = subprocess.Popen(["sleep", "600"])  # a grandchild in our process group
        open(cfg.pid_file, "w").write(f"{os.getpid()} {child.pid}")
        progress.emit_progress("work", 1, 10)
        time.sleep(600)
    time.sleep(cfg.quiet_s)
    start = (cfg.resume or {}).get("done", 0)
    for step in range(start, cfg.steps):
        print("a log line on stdout")
        progress.emit_progress("work", step + 1, cfg.steps, checkpoint_uri=f"file:///ckpt/{step + 1}", loss=1.0 / (step + 1))
    return {"done": cfg.steps, "resumed_from": start}

def main(argv=None):
    return run(Config, _run, argv)

if __name__ == "__main__":
    sys.exit(main())
'''


@pytest.fixture
def fake_runner(tmp_path, monkeypatch) -> str:
    """Module name of the scripted runner, importable by the runner subprocess."""
    pkg = tmp_path / "fakerun"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "stage.py").write_text(textwrap.dedent(FAKE_RUNNER))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]))
    return "fakerun.stage"


@dataclass
class ActivityHarness:
    """temporalio's ActivityEnvironment with heartbeats recorded; run() drives an async activity."""
    env: object
    heartbeats: list = field(default_factory=list)

    def run(self, fn, *args):
        return asyncio.run(self.env.run(fn, *args))

    def retry_with(self, details: dict, attempt: int = 2) -> None:
        """Make info() look like attempt `attempt` after a heartbeat with `details`."""
        import dataclasses

        self.env.info = dataclasses.replace(self.env.info, attempt=attempt, heartbeat_details=[details])


@pytest.fixture
def activity_env() -> ActivityHarness:
    from temporalio.testing import ActivityEnvironment

    env = ActivityEnvironment()
    harness = ActivityHarness(env)
    env.on_heartbeat = lambda *details: harness.heartbeats.append(details[0] if details else None)
    return harness


@pytest.fixture(scope="session")
def hub_mirror(tiny_hub):
    """The tiny world's hub mirror (tiny_world_fixture.tiny_hub) exported as HALA_HUB_MIRROR, so
    runner and engine subprocesses resolve hf://hala-tiny/... from it."""
    if not (tiny_hub / "hala-tiny" / "command-a-translate").exists():
        pytest.fail(f"hub mirror {tiny_hub} has no hala-tiny/command-a-translate: restore it with git checkout -- fixtures/tiny-world")
    patch = pytest.MonkeyPatch()
    patch.setenv("HALA_HUB_MIRROR", str(tiny_hub))
    yield tiny_hub
    patch.undo()


@pytest.fixture
def work_dir(tmp_path, monkeypatch) -> Path:
    """Per-test scratch space for runners (HALA_WORK_DIR) and a file:// store root."""
    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    (tmp_path / "store").mkdir()
    return tmp_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
