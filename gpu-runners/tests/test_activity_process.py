"""activity_process: a runner subprocess seen from its activity (heartbeats, errors, cancellation)."""
from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest
from temporalio.exceptions import ApplicationError

from hala_runners import activity_process, child_process
from hala_runners.activity_process import Supervision, run_runner

pytestmark = pytest.mark.usefixtures("runner_start")  # every test twice: runners exec'd, then forked (fork_server_fixture)


def _work_beats(beats):
    return [b for b in beats if b and b["phase"] == "work"]


def test_progress_events_become_heartbeats_and_the_result_is_returned(activity_env, fake_runner):
    result = activity_env.run(run_runner, fake_runner, {"mode": "ok", "steps": 3})

    assert result == {"done": 3, "resumed_from": 0}
    beats = _work_beats(activity_env.heartbeats)
    assert [b["done"] for b in beats] == [1, 2, 3]
    assert beats[-1] == {"phase": "work", "done": 3, "total": 3, "checkpoint_uri": "file:///ckpt/3",
                         "metrics": {"loss": pytest.approx(1 / 3)}}


def test_a_retry_passes_the_last_heartbeat_as_resume_and_keeps_beating_it(activity_env, fake_runner):
    last = {"phase": "work", "done": 2, "total": 3, "checkpoint_uri": "file:///ckpt/2", "metrics": {}}
    activity_env.retry_with(last)

    result = activity_env.run(run_runner, fake_runner, {"mode": "ok", "steps": 3})

    assert result == {"done": 3, "resumed_from": 2}
    # Until the runner reports, the resume point is what gets heartbeated, never a blank.
    assert activity_env.heartbeats[0] == last
    assert [b["done"] for b in _work_beats(activity_env.heartbeats)][-1] == 3


def test_a_quiet_runner_is_still_heartbeated(activity_env, fake_runner, monkeypatch):
    monkeypatch.setattr(activity_process, "QUIET_HEARTBEAT_S", 0.1)

    activity_env.run(run_runner, fake_runner, {"mode": "ok", "steps": 1, "quiet_s": 1.0})

    quiet = [b for b in activity_env.heartbeats if b["phase"] == "start"]
    assert len(quiet) >= 5


def test_an_error_event_is_a_typed_non_retryable_application_error(activity_env, fake_runner):
    with pytest.raises(ApplicationError) as info:
        activity_env.run(run_runner, fake_runner, {"mode": "error"})

    assert info.value.type == "BadInput"
    assert info.value.non_retryable
    assert "fake.steps must be > 0 (got -1)" in info.value.message


def test_a_config_key_the_runner_does_not_know_is_bad_input(activity_env, fake_runner):
    with pytest.raises(ApplicationError) as info:
        activity_env.run(run_runner, fake_runner, {"mode": "ok", "stpes": 3})

    assert info.value.type == "BadInput" and info.value.non_retryable
    assert "'stpes'" in info.value.message


def test_an_exit_without_an_event_is_a_runner_failure_with_the_stderr_tail(activity_env, fake_runner):
    with pytest.raises(ApplicationError) as info:
        activity_env.run(run_runner, fake_runner, {"mode": "crash"})

    assert not info.value.non_retryable
    assert info.value.type == "RunnerFailed"
    assert "exited with code 3" in info.value.message and "about to crash" in info.value.message


def test_an_unknown_exception_is_a_runner_failure_retried_only_a_few_times(activity_env, fake_runner):
    """Not Preempted: a bug (here a file where a model directory should be) is retried until the
    recipe's runner_failed attempts are used up, then it is final, with the exception's words first."""
    supervision = Supervision(runner_failed_attempts=3)
    for attempt, final in ((1, False), (2, False), (3, True), (4, True)):
        activity_env.retry_with({"phase": "start", "done": 0, "total": 0, "checkpoint_uri": None, "metrics": {}}, attempt)
        with pytest.raises(ApplicationError) as info:
            activity_env.run(run_runner, fake_runner, {"mode": "raise"}, supervision)
        assert info.value.type == "RunnerFailed"
        assert info.value.non_retryable == final, f"attempt {attempt}"
        assert info.value.message.startswith("IsADirectoryError: [Errno 21] Is a directory: '/etc'")


def test_a_frozen_runner_is_killed_after_stall_s_and_fails_stalled(activity_env, fake_runner, tmp_path):
    """SIGSTOP freezes the runner mid-work (as a deadlocked collective would): no progress comes, the
    watchdog kills its group once stall_s has passed, and the failure is Stalled, retryable."""
    stall_s = 2.0
    pid_file = tmp_path / "pids"

    async def scenario():
        task = asyncio.ensure_future(activity_env.env.run(
            run_runner, fake_runner, {"mode": "loop", "pid_file": str(pid_file)}, Supervision(stall_s=stall_s)))
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the fake runner never started"
            await asyncio.sleep(0.05)
        leader = int(pid_file.read_text().split()[0])
        await asyncio.sleep(0.5)  # a few progress events go by
        os.killpg(leader, signal.SIGSTOP)
        frozen_at = time.monotonic()
        with pytest.raises(ApplicationError) as info:
            await task
        return leader, info.value, time.monotonic() - frozen_at

    pgid, error, waited = asyncio.run(scenario())
    assert error.type == "Stalled" and not error.non_retryable
    assert "sent no progress for" in error.message and "timeouts.stall_s" in error.message
    assert not _group_alive(pgid)
    # Killed within stall_s plus the watchdog's tick and the kill grace.
    assert waited < stall_s + 1.0 + activity_process.STALL_KILL_GRACE_S + 1.0, waited


def test_a_noisy_crash_still_fits_a_failure_temporal_keeps_whole(activity_env, fake_runner):
    """The server truncates a retryable activity failure over 2 KB: the quoted tail stays well below."""
    with pytest.raises(ApplicationError) as info:
        activity_env.run(run_runner, fake_runner, {"mode": "crash_noisy"})

    assert len(info.value.message) < 1200
    assert "exited with code 3" in info.value.message and "xxxx" in info.value.message


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


async def _start_hanging(activity_env, fake_runner, pid_file):
    task = asyncio.ensure_future(activity_env.env.run(run_runner, fake_runner,
                                                      {"mode": "hang", "pid_file": str(pid_file)}))
    deadline = time.monotonic() + 30
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline, "the fake runner never started"
        await asyncio.sleep(0.05)
    leader, grandchild = map(int, pid_file.read_text().split())
    assert _group_alive(leader)
    return task, leader, grandchild


def test_cancellation_kills_the_whole_process_group(activity_env, fake_runner, tmp_path, monkeypatch):
    monkeypatch.setattr(child_process, "KILL_GRACE_S", 2.0)

    async def scenario():
        task, leader, grandchild = await _start_hanging(activity_env, fake_runner, tmp_path / "pids")
        activity_env.env.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return leader, grandchild

    pgid, grandchild = asyncio.run(scenario())
    assert not _group_alive(pgid), "processes of the runner's group survived cancellation"
    with pytest.raises(ProcessLookupError):
        os.kill(grandchild, 0)


def test_worker_shutdown_kills_the_group_and_fails_retryably(activity_env, fake_runner, tmp_path, monkeypatch):
    monkeypatch.setattr(child_process, "KILL_GRACE_S", 2.0)

    async def scenario():
        task, leader, _ = await _start_hanging(activity_env, fake_runner, tmp_path / "pids")
        activity_env.env.worker_shutdown()
        with pytest.raises(ApplicationError) as info:
            await task
        return leader, info.value

    pgid, error = asyncio.run(scenario())
    assert error.type == "Preempted" and not error.non_retryable
    assert not _group_alive(pgid)


def test_worker_shutdown_lets_a_runner_checkpoint_and_reports_its_words(activity_env, fake_runner, tmp_path, monkeypatch):
    """SIGTERM (preemption notice) reaches the runner; it saves, and the failure says where, at once."""
    monkeypatch.setattr(child_process, "KILL_GRACE_S", 20.0)
    pid_file = tmp_path / "pids"

    async def scenario():
        task = asyncio.ensure_future(activity_env.env.run(
            run_runner, fake_runner, {"mode": "checkpoint_on_sigterm", "pid_file": str(pid_file)}))
        deadline = time.monotonic() + 30
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the fake runner never started"
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        t0 = time.monotonic()
        activity_env.env.worker_shutdown()
        with pytest.raises(ApplicationError) as info:
            await task
        return info.value, time.monotonic() - t0

    error, seconds = asyncio.run(scenario())
    assert error.type == "Preempted" and not error.non_retryable
    assert "preempted by SIGTERM at step" in str(error) and "file:///ckpt/" in str(error)
    assert seconds < 10, "the runner's own exit ends the attempt, not the SIGKILL grace period"
    saved = [b for b in activity_env.heartbeats if b and b.get("phase") == "save"]
    assert saved and saved[-1]["checkpoint_uri"] in str(error), "the checkpoint is heartbeated for the retry"
