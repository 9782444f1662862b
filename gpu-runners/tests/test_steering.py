"""Pausing a running train_sft through Temporal (PauseActivity, what `hala steer ... pause` calls) on a
real dev server: the runner checkpoints and its process group goes; nothing runs while paused; the
unpaused attempt resumes at that checkpoint's step and the run completes."""
from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import asdict
from datetime import timedelta

from temporalio import workflow
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.api.workflowservice.v1 import PauseActivityRequest, UnpauseActivityRequest
from temporalio.client import WorkflowExecutionStatus
from temporalio.common import RetryPolicy
import test_worker
from test_worker import NAMESPACE, _children, _connect
from train_world import train_config

from hala_runners.activities import activities_for_role

dev_server = test_worker.dev_server  # the fixture, shared
QUEUE, ACTIVITY_ID = "steer-train", "sft"
EPOCHS = 12  # 8 steps an epoch: long enough to pause between checkpoints on two shared cores


@workflow.defn(name="TrainOnce")
class TrainOnce:
    @workflow.run
    async def run(self, payload: dict) -> dict:
        return await workflow.execute_activity(
            "train_sft", payload, task_queue=QUEUE, activity_id=ACTIVITY_ID,
            start_to_close_timeout=timedelta(minutes=10), heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=1)))


async def _pending(handle) -> object | None:
    described = await handle.describe()
    if described.status != WorkflowExecutionStatus.RUNNING:  # fail fast, with the reason
        raise AssertionError(f"the workflow ended early: {await handle.result()}")
    pending = described.raw_description.pending_activities
    return pending[0] if pending else None


async def _until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await predicate()
        if value:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError(f"not within {timeout}s: {what}")


def _beat(pending, converter) -> dict:
    return converter.payload_converter.from_payloads(pending.heartbeat_details.payloads)[0]


def test_a_paused_sft_checkpoints_runs_nothing_and_resumes_there_when_unpaused(dev_server, world, tmp_path, monkeypatch):
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    monkeypatch.setenv("HALA_WORK_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("HALA_QUIET_HEARTBEAT_S", "0.5")
    cfg = train_config(world, f"file://{tmp_path}/store/sft", knobs={"epochs": EPOCHS})
    payload = {k: v for k, v in asdict(cfg).items() if k != "resume"}
    payload["supervision"] = {"stall_s": 600, "runner_failed_attempts": 3, "progress_s": 60}

    async def scenario():
        client = await _connect(dev_server)
        server = set(_children(os.getpid()))  # the dev server is a child of this process too
        throttle = timedelta(milliseconds=300)
        async with Worker(client, task_queue=QUEUE, workflows=[TrainOnce], activities=activities_for_role("train"),
                          workflow_runner=UnsandboxedWorkflowRunner(), max_heartbeat_throttle_interval=throttle,
                          default_heartbeat_throttle_interval=throttle):
            handle = await client.start_workflow(TrainOnce.run, payload, id=f"steer-{uuid.uuid4()}", task_queue=QUEUE)

            async def checkpointed():
                pending = await _pending(handle)
                return pending if pending and pending.heartbeat_details.payloads and \
                    _beat(pending, client.data_converter).get("checkpoint_uri") else None

            before = await _until(checkpointed, 240, "a heartbeat naming a checkpoint")
            assert before.attempt == 1
            runner_pids = set(_children(os.getpid())) - server
            assert runner_pids, "the runner runs in a child process"
            svc = client.workflow_service
            await svc.pause_activity(PauseActivityRequest(
                namespace=NAMESPACE, execution={"workflow_id": handle.id}, id=ACTIVITY_ID, identity="pytest",
                reason="free the GPUs"))

            async def stopped():
                pending = await _pending(handle)
                return pending if pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_PAUSED else None

            paused = await _until(stopped, 60, "the paused attempt ended")
            for pid in runner_pids:
                assert not os.path.exists(f"/proc/{pid}"), "the runner's process is gone while paused"
            beat = _beat(paused, client.data_converter)
            assert beat["checkpoint_uri"], beat
            step = int(beat["checkpoint_uri"].rstrip("/").rsplit("-", 1)[1])
            await asyncio.sleep(3)
            still = await _pending(handle)
            assert set(_children(os.getpid())) == server and still.paused
            assert _beat(still, client.data_converter) == beat, "no progress while paused"
            # The server counts the paused attempt as a failed one: the next would be attempt 2 ...
            assert paused.attempt == 2 and paused.last_failure.application_failure_info.type == "Paused"

            await svc.unpause_activity(UnpauseActivityRequest(
                namespace=NAMESPACE, execution={"workflow_id": handle.id}, id=ACTIVITY_ID, identity="pytest",
                reset_attempts=True))  # ... so `hala steer ... unpause` gives it back, as here
            result = await handle.result()
            history = [e async for e in handle.fetch_history_events()]
            return result, step, paused, history

    result, step, paused, history = asyncio.run(scenario())
    assert result["resumed_from_step"] == step and result["steps"] == 8 * EPOCHS
    # History records only the attempt that completed: attempt 1 again, so the pause spent none.
    started = [e.activity_task_started_event_attributes.attempt for e in history
               if e.HasField("activity_task_started_event_attributes")]
    assert started == [1]
