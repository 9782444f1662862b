"""runners/train.py at knobs.gpus 2: two CPU ranks over gloo launched through accelerate — one voice on
stdout, checkpoints published once, a killed rank ends the run and the retry resumes to the same
weights, SIGTERM checkpoints every rank at one step.

    PYTHONPATH=gpu-runners python -m pytest gpu-runners/tests/test_train_distributed.py -q
"""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import torch
from train_world import DDP_GPUS, SAVE_EVERY, ddp_config, model_weights, write_config

from hala_runners import contract, progress, store
from hala_runners.runners import train

STEPS = 8  # 32 rows / (2 ranks x 2 sequences): 8 optimizer steps, checkpoints at 4 and 8
GPU_RUNNERS = Path(__file__).resolve().parents[1]


class Launch:
    """The train runner started as the activity starts it (a process group of its own), its ranks
    tracked as they appear: they run in sessions of their own (torch elastic), so the group kill at
    the end does not reach them and they are killed by pid, whatever the test did."""

    def __init__(self, cfg: train.Config, root: Path):
        self.work = root / "work"
        env = {**os.environ, "HALA_WORK_DIR": str(self.work),
               "PYTHONPATH": os.pathsep.join([str(GPU_RUNNERS), os.environ.get("PYTHONPATH", "")])}
        self.started = time.monotonic()
        self.proc = subprocess.Popen([sys.executable, "-m", "hala_runners.runners.train", "--config",
                                      write_config(root, cfg)], stdout=subprocess.PIPE, text=True, env=env,
                                     start_new_session=True)
        self.launcher = psutil.Process(self.proc.pid)
        self.seen: dict[int, psutil.Process] = {}  # pid -> a rank (or its helpers)
        self.events: list[dict] = []
        self.outcomes = self.work / cfg.stage_key / "launch" / "outcomes"

    def __enter__(self) -> "Launch":
        return self

    def __exit__(self, *exc) -> None:
        self._track()
        for p in [self.launcher, *self.seen.values()]:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs([self.launcher, *self.seen.values()], timeout=10)
        assert not alive, f"processes left behind: {alive}"

    def _track(self) -> None:
        try:
            for child in self.launcher.children(recursive=True):
                self.seen.setdefault(child.pid, child)
        except psutil.NoSuchProcess:
            pass

    def read(self, on_event=lambda launch, event: None) -> int:
        """Every event until stdout closes (`on_event` sees each one), then the launcher's exit code."""
        for line in self.proc.stdout:
            self._track()
            event = progress.parse_line(line)
            if event:
                self.events.append(event)
                on_event(self, event)
        return self.proc.wait(timeout=120)

    def rank(self, r: int) -> psutil.Process:
        for p in self.seen.values():
            try:
                if p.environ().get("RANK") == str(r) and p.ppid() == self.launcher.pid:
                    return p
            except psutil.NoSuchProcess:
                continue
        raise AssertionError(f"no rank {r} among {list(self.seen)}")

    def ranks_gone(self, timeout: float = 10) -> bool:
        ranks = [p for p in self.seen.values()]
        _, alive = psutil.wait_procs(ranks, timeout=timeout)
        return not alive

    def steps(self) -> list[int]:
        return [e["done"] for e in self.events if e.get("phase") == "train"]

    def outcome(self, r: int) -> dict:
        return json.loads((self.outcomes / f"rank-{r}.json").read_text())


def _digest(ref: dict) -> str:
    return hashlib.sha256((store.fetch(ref) / "model.safetensors").read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def straight(world, tmp_path_factory):
    """An undisturbed two-rank run, shared by the tests below."""
    root = tmp_path_factory.mktemp("ddp-straight")
    with Launch(ddp_config(world, f"file://{root}/store/sft"), root) as launch:
        assert launch.read() == 0, launch.events[-1:]
        assert launch.ranks_gone()
    print(f"\nundisturbed 2-rank run: {time.monotonic() - launch.started:.1f} s")
    return {"launch": launch, "result": launch.events[-1]["result"], "prefix": f"file://{root}/store/sft"}


def test_two_ranks_train_with_one_voice_and_publish_every_checkpoint_once(straight):
    launch, result = straight["launch"], straight["result"]
    contract.validate_output("train_sft", result)
    assert result["steps"] == STEPS and result["resumed_from_step"] == 0
    # One progress event per step (rank 0's), not one per rank: the activity's heartbeats are not doubled.
    assert launch.steps() == list(range(1, STEPS + 1))
    losses = [e["metrics"]["loss"] for e in launch.events if e.get("phase") == "train"]
    assert losses[-1] < 0.85 * losses[0], losses
    saves = [e["done"] for e in launch.events if e.get("phase") == "save" and e["checkpoint_uri"]]
    assert saves == [SAVE_EVERY, STEPS]
    ckpts = store.join(straight["prefix"], "checkpoints")
    for step in saves:  # complete (manifest written after both ranks saved their part)
        local = store.local_path(store.join(ckpts, f"checkpoint-{step}"))
        assert store.is_complete_dir(store.join(ckpts, f"checkpoint-{step}"))
        assert {"rng_state_0.pth", "rng_state_1.pth"} <= {p.name for p in local.iterdir()}
    assert json.loads(store.local_path(store.join(ckpts, "latest.json")).read_text())["step"] == STEPS
    # Each rank published its own files (rank 1: its RNG state), rank 0 the rest (issue 22, finding 6).
    last = store.local_path(store.join(ckpts, f"checkpoint-{STEPS}"))
    assert result["checkpoint"]["bytes_by_rank"] == [store.dir_stats(last)[1] - (last / "rng_state_1.pth").stat().st_size,
                                                     (last / "rng_state_1.pth").stat().st_size]
    # Both ranks finished; only rank 0's outcome carries the run's result.
    assert launch.outcome(0)["result"]["model"] == result["model"]
    assert launch.outcome(1) == {"event": "result", "result": {}}
    card = json.loads((store.fetch(result["model"]) / "hala_run_config.json").read_text())
    assert card["runner"]["knobs"]["gpus"] == DDP_GPUS and not card["sft_config"]["fsdp"]


def test_a_rank_killed_mid_run_ends_the_run_and_the_retry_resumes_to_the_same_weights(world, straight, tmp_path):
    prefix = f"file://{tmp_path}/store/sft"

    def kill_rank_1_after_the_first_checkpoint(launch, event):
        if event.get("phase") == "train" and event["done"] == SAVE_EVERY + 1:
            launch.killed_at = time.monotonic()
            launch.rank(1).send_signal(signal.SIGKILL)

    with Launch(ddp_config(world, prefix), tmp_path) as launch:
        assert launch.read(kill_rank_1_after_the_first_checkpoint) == 1
        ended = time.monotonic() - launch.killed_at
        assert launch.ranks_gone(), "every rank stops when one dies"
    error = launch.events[-1]
    # As a single runner killed without a word: retryable, typed by the same rule (SIGKILL -> OutOfMemory).
    assert error["event"] == "error" and error["type"] == "OutOfMemory", error
    assert "rank 1 of 2 was killed by SIGKILL" in error["message"]
    assert max(launch.steps()) < STEPS
    print(f"\nrank 1 SIGKILLed at step {SAVE_EVERY + 1}: launcher exited {ended:.1f} s later; {error['message']}")

    started = time.monotonic()
    heartbeat = [e for e in launch.events if e["event"] == "progress"][-1]
    with Launch(ddp_config(world, prefix, resume=heartbeat), tmp_path) as retry:
        assert retry.read() == 0, retry.events[-1:]
    result = retry.events[-1]["result"]
    assert result["resumed_from_step"] == SAVE_EVERY and result["steps"] == STEPS
    assert retry.steps() == list(range(SAVE_EVERY + 1, STEPS + 1))

    resumed, undisturbed = model_weights(result["model"]), model_weights(straight["result"]["model"])
    print(f"retry: {time.monotonic() - started:.1f} s; model.safetensors sha256 undisturbed "
          f"{_digest(straight['result']['model'])}, killed-and-resumed {_digest(result['model'])}")
    assert resumed.keys() == undisturbed.keys()
    for name in undisturbed:
        assert torch.equal(resumed[name], undisturbed[name]), name


def test_sigterm_to_the_launcher_stops_every_rank_at_one_checkpoint_and_reports_preempted(world, tmp_path):
    prefix = f"file://{tmp_path}/store/sft"

    def preempt_between_two_saves(launch, event):
        if event.get("phase") == "train" and event["done"] == SAVE_EVERY + 1:
            launch.launcher.send_signal(signal.SIGTERM)  # the launcher alone: it must pass it on

    with Launch(ddp_config(world, prefix), tmp_path) as launch:
        assert launch.read(preempt_between_two_saves) == 1
        assert launch.ranks_gone()
    error = launch.events[-1]
    assert error["event"] == "error" and error["type"] == "Preempted", error
    stopped_at = max(launch.steps())
    assert SAVE_EVERY < stopped_at < STEPS
    assert f"checkpoint-{stopped_at}" in error["message"]
    # Both ranks got the signal (the launcher forwarded it) and stopped at the same step, checkpointed.
    for r in range(DDP_GPUS):
        outcome = launch.outcome(r)
        assert outcome["type"] == "Preempted" and f"at step {stopped_at};" in outcome["message"], outcome
    # One checkpoint at that step, published once, named by latest.json.
    saves = [e["done"] for e in launch.events if e.get("phase") == "save"]
    assert saves == [SAVE_EVERY, stopped_at]
    ckpts = store.join(prefix, "checkpoints")
    assert store.is_complete_dir(store.join(ckpts, f"checkpoint-{stopped_at}"))
    assert json.loads(store.local_path(store.join(ckpts, "latest.json")).read_text())["step"] == stopped_at


def test_ranks_die_with_their_launcher(world, tmp_path):
    """A SIGKILLed worker's activity, or its group sweep, kills the launcher only: the ranks must follow."""

    def kill_the_launcher_group(launch, event):
        if event.get("phase") == "train" and event["done"] == 1:
            launch.ranks = [launch.rank(r) for r in range(DDP_GPUS)]
            os.killpg(launch.launcher.pid, signal.SIGKILL)

    with Launch(ddp_config(world, f"file://{tmp_path}/store/sft"), tmp_path) as launch:
        assert launch.read(kill_the_launcher_group) == -signal.SIGKILL
        _, alive = psutil.wait_procs(launch.ranks, timeout=5)
        assert not alive, f"ranks outlived their launcher: {alive}"
    # Killed, not finished: orphans would train on to the end (a few seconds here, GPU hours in earnest).
    assert max(launch.steps()) < STEPS and not list(launch.outcomes.glob("rank-*.json")), launch.steps()
