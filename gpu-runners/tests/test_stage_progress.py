"""stage_progress: a GPU activity's progress signals to its stage workflow (throttle, rate, ETA, who gets none)."""
from __future__ import annotations

import asyncio
import dataclasses

from temporalio.testing import ActivityEnvironment

from hala_runners import stage_progress
from hala_runners.activity_process import Supervision, run_runner
from hala_runners.stage_progress import GROWTH, ProgressSignals, Throttle


class FakeClient:
    """Records what get_workflow_handle(...).signal(...) would send."""

    def __init__(self):
        self.signals: list[tuple[str, str, dict]] = []

    def get_workflow_handle(self, workflow_id):
        client = self

        class Handle:
            async def signal(self, name, payload):
                client.signals.append((workflow_id, name, payload))

        return Handle()


def _env(client, workflow_type="sft"):
    env = ActivityEnvironment(client=client)
    env.info = dataclasses.replace(env.info, workflow_id="tiny/sft-hala-350m", workflow_type=workflow_type,
                                   activity_type="train_sft", activity_id="7")
    return env


def test_a_multi_day_run_sends_a_few_hundred_signals_not_one_per_event():
    throttle, sent = Throttle(min_s=30, start=0.0), 0
    for second in range(3 * 24 * 3600):  # one event a second for three days, one phase
        if throttle.due("train", float(second)):
            throttle.sent("train", float(second))
            sent += 1
    # max(30 s, elapsed / 50): ~50 per e-fold of run time once elapsed / 50 passes 30 s.
    assert 300 < sent < 500, sent
    # A phase change is always sent at once.
    assert throttle.due("save", 3 * 24 * 3600.0)


def test_the_gap_never_falls_below_min_s_and_grows_with_the_run():
    throttle = Throttle(min_s=5, start=0.0)
    throttle.sent("train", 10.0)
    assert not throttle.due("train", 14.9)
    assert throttle.due("train", 15.0)
    throttle.sent("train", 10_000.0)
    assert not throttle.due("train", 10_000.0 + 10_000.0 / GROWTH - 1)


def test_rate_and_eta_come_from_the_current_phase():
    sent: list[dict] = []
    now = [100.0]

    async def send(payload):
        sent.append(payload)

    async def go():
        signals = ProgressSignals(min_s=1, send=send, clock=lambda: now[0])
        signals.report({"phase": "train", "done": 0, "total": 100, "metrics": {}})
        await asyncio.sleep(0)
        now[0] = 110.0
        signals.report({"phase": "train", "done": 20, "total": 100, "checkpoint_uri": "file:///c/20", "metrics": {"loss": 0.5}})
        await asyncio.sleep(0)

    asyncio.run(go())
    assert [p["done"] for p in sent] == [0, 20]
    assert sent[1]["rate"] == 2.0 and sent[1]["eta_s"] == 40.0
    assert sent[1]["checkpoint_uri"] == "file:///c/20" and sent[1]["metrics"] == {"loss": 0.5}
    assert "rate" not in sent[0]


def test_a_run_signals_its_stage_workflow_from_start_to_last_step(fake_runner):
    client = FakeClient()
    env = _env(client)
    asyncio.run(env.run(run_runner, fake_runner, {"mode": "ok", "steps": 3}, Supervision(progress_s=1)))

    assert {(wf, name) for wf, name, _ in client.signals} == {("tiny/sft-hala-350m", stage_progress.SIGNAL)}
    payloads = [p for _, _, p in client.signals]
    # The worker took it (phase start), then the runner's first step: a phase change, sent at once.
    assert [p["phase"] for p in payloads][:2] == ["start", "work"]
    assert all(p["activity"] == "train_sft" and p["activity_id"] == "7" and p["attempt"] == 1 for p in payloads)
    assert payloads[1]["total"] == 3


def test_fan_out_shards_and_recipes_without_progress_s_send_nothing(fake_runner):
    shard, unset = FakeClient(), FakeClient()
    asyncio.run(_env(shard, workflow_type="translateCorpus").run(run_runner, fake_runner, {"mode": "ok", "steps": 2}, Supervision(progress_s=1)))
    asyncio.run(_env(unset).run(run_runner, fake_runner, {"mode": "ok", "steps": 2}, Supervision()))
    assert shard.signals == [] and unset.signals == []


def test_a_signal_that_cannot_be_delivered_does_not_stop_the_work(fake_runner):
    class Gone(FakeClient):
        def get_workflow_handle(self, workflow_id):
            class Handle:
                async def signal(self, name, payload):
                    raise RuntimeError("workflow execution already completed")

            return Handle()

    result = asyncio.run(_env(Gone()).run(run_runner, fake_runner, {"mode": "ok", "steps": 2}, Supervision(progress_s=1)))
    assert result == {"done": 2, "resumed_from": 0}
