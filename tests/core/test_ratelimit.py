"""The push limiter on a virtual clock: what it lets go, and when, is exact."""

from __future__ import annotations

import asyncio
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.delivery.ratelimit import Limits, RateLimiter


class VirtualTime:
    """A clock that moves only when the limiter sleeps. Sleeps are taken one at a time
    (the limiter's overall wait is under its lock), so the clock is exact for them."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)

    def limiter(self, limits: Limits) -> RateLimiter:
        return RateLimiter(limits, clock=self.clock, sleep=self.sleep)


async def released(time: VirtualTime, limiter: RateLimiter, chats: list[tuple[str, bool]]) -> list[float]:
    moments = []
    for chat, group in chats:
        await limiter.acquire(chat, group)
        moments.append(time.now)
    return moments


def most_in_any_window(moments: list[float], window: float) -> int:
    best, start = 0, 0
    for end, moment in enumerate(moments):
        while moment - moments[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@settings(max_examples=60, deadline=None)
@given(
    per_second=st.sampled_from([1.0, 2.5, 25.0, 30.0, 1000.0]),
    stalls=st.lists(st.floats(min_value=0, max_value=3), min_size=0, max_size=20),
)
def test_never_more_than_the_limit_in_any_second(per_second: float, stalls: list[float]) -> None:
    async def go() -> list[float]:
        time = VirtualTime()
        limiter = time.limiter(Limits(per_second))
        moments = []
        for i in range(int(per_second * 3) + 5):
            if stalls and i % 7 == 3:
                time.now += stalls[i % len(stalls)]  # the loop was busy: no burst may follow
            await limiter.acquire(f"chat{i}")
            moments.append(time.now)
        return moments

    moments = asyncio.run(go())
    n = math.ceil(per_second)
    assert all(
        later - first >= n / per_second + RateLimiter.WINDOW_MARGIN - 1e-9
        for first, later in zip(moments, moments[n:], strict=False)
    )
    if per_second == int(per_second):
        assert most_in_any_window(moments, 1.0 + RateLimiter.WINDOW_MARGIN - 1e-9) <= per_second
    gaps = [b - a for a, b in zip(moments, moments[1:], strict=False)]
    assert min(gaps) >= 1.0 / per_second - 1e-9


async def test_back_to_back_sends_run_at_the_limit_less_the_margin() -> None:
    time = VirtualTime()
    moments = await released(time, time.limiter(Limits(30.0)), [(f"c{i}", False) for i in range(3001)])
    rate = 3000 / (moments[-1] - moments[0])
    assert 30.0 / (1 + RateLimiter.WINDOW_MARGIN) - 0.01 <= rate <= 30.0


async def test_one_chat_waits_its_interval_and_others_are_not_held_up() -> None:
    time = VirtualTime()
    limiter = time.limiter(Limits(100.0, per_chat_interval=1.0))
    moments = await released(time, limiter, [("busy", False), ("busy", False), ("other", False)])
    assert moments[1] - moments[0] >= 1.0
    # "other" was asked for after the second "busy" message here (one caller); concurrently it would not wait:
    time2 = VirtualTime()
    limiter2 = time2.limiter(Limits(100.0, per_chat_interval=1.0))
    await limiter2.acquire("busy")
    order: list[str] = []

    async def send(chat: str) -> None:
        await limiter2.acquire(chat)
        order.append(chat)

    await asyncio.gather(send("busy"), send("other"))
    assert order == ["other", "busy"]


async def test_a_group_gets_at_most_its_share_per_minute() -> None:
    time = VirtualTime()
    limiter = time.limiter(Limits(30.0, per_chat_interval=1.0, per_group_per_minute=20))
    moments = await released(time, limiter, [("group", True)] * 41)
    assert most_in_any_window(moments, 60.0) == 20
    assert moments[20] - moments[0] >= 60.0


async def test_a_pause_holds_everything_then_spacing_resumes() -> None:
    time = VirtualTime()
    limiter = time.limiter(Limits(10.0))
    await limiter.acquire("a")
    limiter.pause(5.0)  # a 429 with retry_after 5
    moments = await released(time, limiter, [("b", False), ("c", False)])
    assert moments[0] >= 5.0
    assert moments[1] - moments[0] >= 0.1 - 1e-9


async def test_a_pause_that_begins_while_a_message_waits_sends_it_after_the_pause_alone() -> None:
    # Two senders at 1/s: the second waits for its slot; a 429 arrives meanwhile. It must not go
    # out at the end of the pause together with the next message (one too many in that second).
    time = VirtualTime()
    limiter = time.limiter(Limits(1.0))
    await limiter.acquire("a")
    waiting = asyncio.create_task(limiter.acquire("b"))
    await asyncio.sleep(0)  # b is now waiting for its slot (at 1.0)
    limiter.pause(3.0)  # at 0.0 + what b's sleep has moved the clock: the pause covers b's slot
    await waiting
    b_at = time.now
    assert b_at >= limiter._paused_until
    await limiter.acquire("c")
    assert time.now - b_at >= 1.0


@pytest.mark.parametrize("per_second", [0.5, 1.0, 30.0])
async def test_a_limiter_with_less_than_one_per_second_still_sends(per_second: float) -> None:
    time = VirtualTime()
    moments = await released(time, time.limiter(Limits(per_second)), [(f"c{i}", False) for i in range(4)])
    assert len(moments) == 4 and moments[-1] - moments[0] >= 3 / per_second - 1e-9
