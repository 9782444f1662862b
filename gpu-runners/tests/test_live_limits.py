"""`hala steer ... limits --stall-s N` on a running runner: the stage workflow keeps the new limit,
the activity asks for it (live_limits.LiveLimits.follow) and the stall watchdog reads it on every
tick, so a limit lowered mid-run kills a runner quiet for longer than it, and one raised spares it."""
from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace

from hala_runners import activity_process, live_limits
from hala_runners.live_limits import LiveLimits


def _quiet_runner():
    beat = SimpleNamespace(last_event_at=time.monotonic(), last={"phase": "train", "done": 3, "total": 10})
    return SimpleNamespace(label="train", pgid=12345), beat


def test_a_stall_limit_lowered_while_the_runner_is_quiet_ends_the_wait():
    async def scenario():
        child, beat = _quiet_runner()
        limits = LiveLimits(3600.0)
        watch = asyncio.create_task(activity_process._watch_for_stall(child, beat, limits))
        await asyncio.sleep(0.5)
        assert not watch.done()  # an hour's limit: nowhere near
        started = time.monotonic()
        limits.apply({"stall_s": 1})
        message = await asyncio.wait_for(watch, timeout=5)
        return message, time.monotonic() - started

    message, waited = asyncio.run(scenario())
    assert "timeouts.stall_s = 1" in message and "sent no progress for" in message
    assert waited < 2.5, waited  # the next tick (<= 1 s) after the change, not the old hour


def test_a_raised_stall_limit_spares_a_runner_the_recipe_limit_would_kill():
    async def scenario():
        child, beat = _quiet_runner()
        limits = LiveLimits(0.5)
        limits.apply({"stall_s": 60})
        watch = asyncio.create_task(activity_process._watch_for_stall(child, beat, limits))
        await asyncio.sleep(1.5)
        alive = not watch.done()
        watch.cancel()
        return alive

    assert asyncio.run(scenario())


def test_the_activity_follows_what_the_stage_answers_and_keeps_its_limit_when_it_cannot(monkeypatch):
    monkeypatch.setattr(live_limits, "POLL_S", 0.05)
    answers = iter([{}, {"stall_s": 120}, RuntimeError("no such query"), {"stall_s": -5}, {"stall_s": 90}])

    async def ask():
        answer = next(answers, {"stall_s": 90})
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def scenario():
        limits = LiveLimits(1800.0, ask)
        seen = []
        follow = asyncio.create_task(limits.follow())
        for _ in range(6):
            await asyncio.sleep(0.05)
            seen.append(limits.stall_s)
        follow.cancel()
        return seen

    seen = asyncio.run(scenario())
    assert seen[-1] == 90.0 and 120.0 in seen  # nothing set: the recipe's; a bad or failed answer changes nothing
    assert all(v in (1800.0, 120.0, 90.0) for v in seen)


def test_without_a_stage_to_ask_the_recipe_limit_stands():
    limits = LiveLimits(600.0)
    asyncio.run(asyncio.wait_for(limits.follow(), timeout=1))  # returns at once: nobody to ask
    limits.apply(None)
    limits.apply({"stall_s": "soon"})
    assert limits.stall_s == 600.0
