"""activity_run: how an attempt ran (attempt, seconds, GPU-seconds), attached to every GPU output."""
from __future__ import annotations

import asyncio
import time

import pytest
from temporalio.testing import ActivityEnvironment

from hala_runners import activity_run


@pytest.fixture(autouse=True)
def fresh_gpu_count():
    activity_run.visible_gpus.cache_clear()
    yield
    activity_run.visible_gpus.cache_clear()


@pytest.mark.parametrize("visible, gpus", [("0,1,2,3", 4), ("2", 1), ("", 0), ("-1", 0)])
def test_gpus_come_from_cuda_visible_devices(monkeypatch, visible, gpus):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    assert activity_run.visible_gpus() == gpus


def test_a_record_charges_seconds_times_gpus(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")

    async def work() -> dict:
        clock = activity_run.AttemptClock()
        time.sleep(0.2)
        return clock.record()

    env = ActivityEnvironment()
    env.info = env.info.__class__(**{**env.info.__dict__, "attempt": 3, "activity_type": "train_sft"})
    run = asyncio.run(env.run(work))
    assert run["activity"] == "train_sft" and run["attempt"] == 3
    assert run["device"] == "cuda x2" and run["gpus"] == 2
    assert run["seconds"] >= 0.2 and run["gpu_seconds"] == pytest.approx(2 * run["seconds"], abs=1e-3)
    assert run["started_at"] < run["ended_at"] and run["started_at"].endswith("Z")
