"""The breaker on its own: when it opens, how it probes, what closes it, and what a
stopping worker hands back."""

from __future__ import annotations

import asyncio

from content.delivery.breaker import Breaker, BreakerState


def test_it_opens_only_for_several_chats_in_a_row() -> None:
    breaker = Breaker("test", threshold=3)
    breaker.unavailable("a", "502")
    breaker.unavailable("a", "502")  # one chat again: that chat's trouble, maybe
    breaker.unavailable("b", "502")
    assert breaker.state is BreakerState.CLOSED
    breaker.answered()  # an answer in between starts the count again
    breaker.unavailable("c", "502")
    breaker.unavailable("d", "502")
    assert breaker.state is BreakerState.CLOSED
    breaker.unavailable("e", "502 Bad Gateway")
    assert breaker.state is BreakerState.OPEN
    view = breaker.view()
    assert view.since is not None and view.last_error == "502 Bad Gateway"


async def test_while_open_one_job_probes_at_a_time_with_growing_intervals() -> None:
    breaker = Breaker("test", threshold=1, probe_first=0.05, probe_max=0.2)
    breaker.unavailable("a", "502")
    probes: list[tuple[int, float]] = []
    loop = asyncio.get_running_loop()
    began = loop.time()
    concurrent = 0
    most = 0

    async def job(job_id: int) -> None:
        nonlocal concurrent, most
        async with breaker.passage(job_id) as probe:
            if not probe:
                return  # let through once the breaker closed
            concurrent += 1
            most = max(most, concurrent)
            probes.append((job_id, loop.time() - began))
            await asyncio.sleep(0.01)
            concurrent -= 1
            if len(probes) < 4:
                breaker.unavailable(str(job_id), "still 502", probe=True)
            else:
                breaker.answered()

    async def retrying(job_id: int) -> None:
        while breaker.state is BreakerState.OPEN:
            await job(job_id)

    await asyncio.wait_for(asyncio.gather(*(retrying(n) for n in range(20))), 5)
    assert most == 1 and len(probes) == 4
    gaps = [b - a for (_, a), (_, b) in zip(probes, probes[1:])]
    assert gaps[0] >= 0.09 and gaps[1] >= 0.19 and gaps[2] < 0.35  # 0.1, 0.2, then capped at 0.2
    assert breaker.state is BreakerState.CLOSED and breaker.view().waiting == 0
