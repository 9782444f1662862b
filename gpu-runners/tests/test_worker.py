"""The worker process end to end: a real Temporal dev server, `python -m hala_runners.worker` for the
infer queue, and a tiny workflow (on a separate test worker) that executes translate_shard. The worker
finds the server as an operator would set it up: a profile file naming a non-default namespace."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from runner_fixtures import free_port
from temporalio import workflow
from temporalio.common import RetryPolicy

from hala_runners import contract, stage_progress, store
from hala_runners.activities import activities_for_role

TEMPORAL = Path(sys.executable).parent / "temporal"
pytestmark = pytest.mark.usefixtures("worker_preload")  # twice: without, then with a fork server (fork_server_fixture)


@workflow.defn(name="TranslateOneShard")
class TranslateOneShard:
    """Stands in for a stage workflow: it also collects the progress signals its activity sends."""

    def __init__(self) -> None:
        self.reports: list[dict] = []

    @workflow.signal(name=stage_progress.SIGNAL)
    def progress(self, report: dict) -> None:
        self.reports.append(report)

    @workflow.query(name="reports")
    def received(self) -> list[dict]:
        return self.reports

    @workflow.run
    async def run(self, payload: dict) -> dict:
        return await workflow.execute_activity(
            "translate_shard", payload, task_queue=contract.default_queue("infer"),
            start_to_close_timeout=timedelta(minutes=3), heartbeat_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=1))


def test_each_role_serves_exactly_its_contract_activities():
    served = {role: sorted(a.__temporal_activity_definition.name for a in activities_for_role(role))
              for role in ("quantize", "infer", "train", "eval")}
    # doctor_probe (`hala doctor`) is served by every role: the probe must run through each pool's own worker.
    assert served == {"quantize": ["compress_teacher", "doctor_probe", "merge_slerp"], "infer": ["doctor_probe", "translate_shard"],
                      "train": ["doctor_probe", "train_sft"],
                      "eval": ["doctor_probe", "evaluate_benchmarks", "score_translation"]}


def test_an_unknown_queue_role_is_refused_with_the_choices():
    out = subprocess.run([sys.executable, "-m", "hala_runners.worker", "--queue-role", "gpu"],
                         capture_output=True, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 2
    assert "invalid choice: 'gpu'" in out.stderr and "quantize" in out.stderr


def test_an_unreachable_server_fails_with_the_address_after_the_connect_timeout():
    address = f"127.0.0.1:{free_port()}"
    out = subprocess.run([sys.executable, "-m", "hala_runners.worker", "--queue-role", "eval", "--address", address,
                          "--connect-timeout-s", "1"], capture_output=True, text=True, timeout=60,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.returncode == 1
    assert f"cannot reach Temporal at {address}" in out.stderr


def _wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith(prefix):
            return line.strip()
        if not line and proc.poll() is not None:
            raise AssertionError(f"process exited with {proc.returncode} before printing {prefix!r}")
    raise AssertionError(f"no {prefix!r} line within {timeout}s")


def _children(pid: int) -> list[int]:
    """Direct children of `pid` (Linux /proc)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


NAMESPACE = "hala-pytest"


@pytest.fixture
def dev_server():
    """An in-memory Temporal dev server on free ports, with namespace NAMESPACE; yields its address."""
    if not TEMPORAL.exists():
        pytest.skip(f"no Temporal CLI at {TEMPORAL}")
    port = free_port()
    proc = subprocess.Popen([str(TEMPORAL), "server", "start-dev", "--headless", "--ip", "127.0.0.1",
                             "--port", str(port), "--namespace", NAMESPACE, "--log-level", "error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    yield f"127.0.0.1:{port}"
    proc.terminate()
    proc.wait(timeout=20)


async def _connect(address: str, timeout: float = 30):
    from temporalio.client import Client

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await Client.connect(address, namespace=NAMESPACE)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


def test_the_infer_worker_runs_translate_shard_for_a_workflow(dev_server, hub_mirror, work_dir, worker_preload):
    from temporalio.worker import UnsandboxedWorkflowRunner, Worker

    shard_path = work_dir / "shard.parquet"
    pq.write_table(pa.table({"id": ["a", "b"], "text": ["the dog eats the fish.", "my friend sings."]}), shard_path)
    shard = store.publish_file(shard_path, f"file://{work_dir}/store/in/shard.parquet", "dataset", rows=2)
    payload = {"stage_key": "c" * 64, "output_prefix": f"file://{work_dir}/store/out", "shard": shard,
               "model": "hf://hala-tiny/command-a-translate", "engine": "auto", "batch_size": 2,
               "max_new_tokens": 16, "tensor_parallel_size": 1, "prompt_template": "Translate everything that follows into Arabic:\n\n{text}",
               "supervision": {"stall_s": 600, "runner_failed_attempts": 3, "progress_s": 1}}

    profiles = work_dir / "temporal.toml"
    profiles.write_text(f'[profile.default]\naddress = "127.0.0.1:1"\n\n'
                        f'[profile.runners]\naddress = "{dev_server}"\nnamespace = "{NAMESPACE}"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "TEMPORAL_CONFIG_FILE": str(profiles),
           "TEMPORAL_PROFILE": "runners"}
    for name in ("TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE", "TEMPORAL_API_KEY"):
        env.pop(name, None)
    worker = subprocess.Popen([sys.executable, "-m", "hala_runners.worker", "--queue-role", "infer"],
                              stdout=subprocess.PIPE, text=True, env=env)
    try:
        ready = _wait_for_line(worker, "hala worker ready", timeout=60)
        assert ready == f"hala worker ready queue=hala-gpu-infer namespace={NAMESPACE} activities=[translate_shard,doctor_probe]"

        async def execute():
            client = await _connect(dev_server)
            async with Worker(client, task_queue="test-workflows", workflows=[TranslateOneShard],
                              workflow_runner=UnsandboxedWorkflowRunner()):
                handle = await client.start_workflow(TranslateOneShard.run, payload, id=f"t-{uuid.uuid4()}",
                                                     task_queue="test-workflows")
                return await handle.result(), await handle.query("reports")

        result, reports = asyncio.run(execute())
        # The activity told the workflow that scheduled it how it went, through the worker's own client.
        assert reports and reports[0]["activity"] == "translate_shard" and reports[0]["attempt"] == 1
        assert {r["phase"] for r in reports} >= {"start"}, reports
        contract.validate_output("translate_shard", result)
        assert result["rows"] == 2 and result["engine"] == "transformers" and result["resumed_rows"] == 0
        table = pq.read_table(store.fetch(result["translations"]))
        assert all(table.column("translation").to_pylist())

        engine_pids = _children(worker.pid)
        if worker_preload == "fork":  # the worker's child is its fork server; the engine was forked from it
            servers = engine_pids
            engine_pids = [pid for server in servers for pid in _children(server)]
            assert len(servers) == 1 and "fork_server" in Path(f"/proc/{servers[0]}/cmdline").read_text(), servers
        assert engine_pids, "the engine process should stay loaded between shards"
        worker.send_signal(signal.SIGTERM)  # graceful shutdown closes the engine process too
        assert worker.wait(timeout=30) == 0
        for pid in engine_pids:
            with pytest.raises(ProcessLookupError):
                os.killpg(pid, 0)
    finally:
        if worker.poll() is None:
            worker.kill()


def test_the_worker_serves_the_busy_slot_gauge_that_deploy_scales_on(dev_server):
    """deploy/base/gpu-*.yaml keeps a pool from scaling down under a running stage with
    sum(temporal_worker_task_slots_used{task_queue=..., worker_type="ActivityWorker"}): the series must exist."""
    import urllib.request

    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HALA_METRICS_BIND": f"127.0.0.1:{port}"}
    worker = subprocess.Popen([sys.executable, "-m", "hala_runners.worker", "--queue-role", "eval",
                               "--address", dev_server], stdout=subprocess.PIPE, text=True, env=env)
    try:
        _wait_for_line(worker, "hala worker ready", timeout=60)
        deadline = time.monotonic() + 20  # the worker's gauges appear once its pollers run
        while True:
            body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            used = [line for line in body.splitlines() if line.startswith("temporal_worker_task_slots_used{")
                    and 'task_queue="hala-gpu-eval"' in line and 'worker_type="ActivityWorker"' in line]
            if used or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert len(used) == 1 and used[0].endswith(" 0"), body
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)


def test_a_worker_with_a_build_id_joins_that_worker_deployment_version(dev_server):
    """HALA_BUILD_ID (set in every image) makes the worker a poller of the version `hala:<build>`,
    where a campaign pinned to that build sends its GPU activities (deploy/README.md, "Upgrading")."""
    from temporalio.api.enums.v1 import TaskQueueType
    from temporalio.api.taskqueue.v1 import TaskQueue
    from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest

    build = "0.3.0+0123456789ab"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "HALA_BUILD_ID": build}
    worker = subprocess.Popen([sys.executable, "-m", "hala_runners.worker", "--queue-role", "train",
                               "--address", dev_server, "--namespace", NAMESPACE], stdout=subprocess.PIPE, text=True, env=env)
    try:
        ready = _wait_for_line(worker, "hala worker ready", timeout=60)
        assert f" build=hala:{build} " in ready

        async def pollers():
            client = await _connect(dev_server)
            for _ in range(40):  # the poller shows once its first poll reaches the server
                described = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
                    namespace=NAMESPACE, task_queue=TaskQueue(name="hala-gpu-train"),
                    task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY))
                if described.pollers:
                    return described.pollers
                await asyncio.sleep(0.5)
            return []

        found = asyncio.run(pollers())
        assert [(p.deployment_options.deployment_name, p.deployment_options.build_id) for p in found] == [("hala", build)]
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
