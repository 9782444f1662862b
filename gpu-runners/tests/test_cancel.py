"""`hala cancel` ends a running stage's runner process within 10 s (issue 26), on a real dev server.

The real train worker (`python -m hala_runners.worker --queue-role train`, its own defaults: no
throttle variable set) runs train_sft on the tiny train world for many epochs; a one-activity
workflow registered as `campaign` (what `hala cancel` accepts) schedules it with the contract's
heartbeat timeout, as a stage does. The real `hala cancel` (the clone's bin) cancels it; the runner
process must be gone within CANCEL_BOUND_S of the command returning.

The server only tells an activity it is cancelled in the answer to a heartbeat, and the SDK sends a
heartbeat at most once per throttle interval (0.8 x the heartbeat timeout, capped at 60 s by default),
so the bound rests on the worker's throttle and on how often a quiet runner's heartbeat is re-sent.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RetryPolicy
import test_worker
from test_worker import NAMESPACE, _children, _connect, _wait_for_line
from train_world import train_config

from hala_runners import contract

dev_server = test_worker.dev_server  # the fixture, shared
REPO = Path(__file__).resolve().parents[2]
CANCEL_BOUND_S = 10.0  # issue 26: the runners end within 10 s of `hala cancel`
EPOCHS = 400  # 8 steps an epoch: far longer than the test, so only the cancel can end it
WORKFLOWS = "cancel-test-workflows"


@workflow.defn(name="campaign")
class OneStageCampaign:
    """Stands in for a campaign with one running stage: `hala cancel` refuses any other workflow type."""

    @workflow.run
    async def run(self, payload: dict) -> dict:
        return await workflow.execute_activity(
            "train_sft", payload, task_queue=contract.default_queue("train"),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(seconds=contract._spec("train_sft")["heartbeat_s"]),
            retry_policy=RetryPolicy(maximum_attempts=1))


pytestmark = pytest.mark.usefixtures("worker_preload")  # twice: runners exec'd, then forked (fork_server_fixture)


def _descendants(pid: int) -> set[int]:
    out, todo = set(), [pid]
    while todo:
        for child in _children(todo.pop()):
            out.add(child)
            todo.append(child)
    return out


def _runner_processes(worker: int) -> set[int]:
    """The worker's descendants but its fork server (it outlives every runner; its forks are runners)."""
    servers = {pid for pid in _children(worker) if b"hala_runners.fork_server" in _cmdline(pid)}
    return _descendants(worker) - servers


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _hala(address: str, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_COLOR": "1", "TEMPORAL_CONFIG_FILE": ""}
    return subprocess.run(["npx", "--no-install", "hala", "--address", address, "--namespace", NAMESPACE, *args],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


def test_hala_cancel_ends_the_runner_within_10_s(dev_server, world, tmp_path):
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    cfg = train_config(world, f"file://{tmp_path}/store/sft", knobs={"epochs": EPOCHS})
    payload = {k: v for k, v in asdict(cfg).items() if k != "resume"}
    payload["supervision"] = {"stall_s": 600, "runner_failed_attempts": 3, "progress_s": 60}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "HALA_HEARTBEAT_THROTTLE", "HALA_QUIET_HEARTBEAT"))}
    env |= {"PYTHONPATH": os.pathsep.join(sys.path), "HALA_WORK_DIR": str(tmp_path / "work")}
    worker = subprocess.Popen([sys.executable, "-m", "hala_runners.worker", "--queue-role", "train",
                               "--address", dev_server, "--namespace", NAMESPACE],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for_line(worker, "hala worker ready", timeout=90)

        async def scenario():
            client = await _connect(dev_server)
            async with Worker(client, task_queue=WORKFLOWS, workflows=[OneStageCampaign],
                              workflow_runner=UnsandboxedWorkflowRunner()):
                wid = f"cancel-{uuid.uuid4()}"
                handle = await client.start_workflow(OneStageCampaign.run, payload, id=wid, task_queue=WORKFLOWS)

                async def training():  # past loading: the runner has sent a heartbeat of its steps
                    described = await handle.describe()
                    assert described.status == WorkflowExecutionStatus.RUNNING, await handle.result()
                    pending = described.raw_description.pending_activities
                    return bool(pending and pending[0].heartbeat_details.payloads
                                and client.data_converter.payload_converter.from_payloads(
                                    pending[0].heartbeat_details.payloads)[0].get("done", 0) > 0)

                deadline = time.monotonic() + 240
                while not await training():
                    assert time.monotonic() < deadline, "the runner never reported a step"
                    await asyncio.sleep(0.5)
                runners = _runner_processes(worker.pid)
                assert runners, "the runner runs in a process of its own"

                cancel = await asyncio.to_thread(_hala, dev_server, "cancel", wid)
                assert cancel.returncode == 0, cancel.stderr
                asked = time.monotonic()
                # Polled well past the bound, so that a failure says how long it really took.
                while runners & _runner_processes(worker.pid) and time.monotonic() - asked < 90:
                    await asyncio.sleep(0.2)
                gone_after = time.monotonic() - asked
                described = await handle.describe()
                history = [e async for e in handle.fetch_history_events()]
                return gone_after, runners & _runner_processes(worker.pid), described.status, history

        gone_after, left, status, history = asyncio.run(scenario())
        print(f"runner gone {gone_after:.1f} s after hala cancel returned")
        assert not left, f"runner processes {sorted(left)} still alive {gone_after:.0f} s after hala cancel"
        assert gone_after <= CANCEL_BOUND_S, f"the runner took {gone_after:.1f} s to end after hala cancel"
        assert status == WorkflowExecutionStatus.CANCELED
        assert any(e.HasField("activity_task_cancel_requested_event_attributes") for e in history)
        assert worker.poll() is None, "the worker serves on after a cancelled stage"
    finally:
        worker.terminate()
        worker.wait(timeout=40)
