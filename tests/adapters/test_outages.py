"""A platform going away: pushes wait for it, none fails, and each chat gets its story once.

Telegram's outage is the fake answering nginx's 502 page (not JSON), or a
proxy of the test's own refusing connections; Discord's is its REST API
answering 503. The breaker's probes are shortened, the outages kept to
seconds: what matters is that they outlast every retry budget.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.breaker import Breaker, BreakerState
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.worker import DeliveryWorker
from content.models import Chat, Delivery
from content.stories.drafts import StoryDraft
from tests.fakes.proxy import TcpProxy
from tests.fakes.telegram import FakeTelegram

STORY = StoryDraft(
    slug="during-the-outage",
    title="Published while Telegram was down",
    summary="It arrives anyway.",
    category="AI",
    published_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
    tags=("xAI",),
    url=None,
    terms=(),
    body="Lead.",
)
CHATS = range(1, 31)


@dataclass
class Outage:
    core: Core
    fake: FakeTelegram
    proxy: TcpProxy
    worker: DeliveryWorker

    async def follow(self, chats: range) -> None:
        for n in chats:
            self.fake.add_chat(n, "private", first_name=f"Reader {n}")
            caller = Caller(ChatRef("telegram", str(n)), str(n), is_admin=True)
            await self.core.commands.handle_text(caller, "/subscribe xAI")

    async def statuses(self) -> dict[str, int]:
        async with self.core.sessions() as session:
            rows = await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))
            return {str(status): count for status, count in rows.all()}

    async def until(self, predicate, timeout: float = 30.0) -> None:
        async with asyncio.timeout(timeout):
            while not await predicate():
                await asyncio.sleep(0.05)


@pytest.fixture
async def outage(core: Core) -> AsyncIterator[Outage]:
    fake = FakeTelegram()
    await fake.start()
    port = int(fake.url.rsplit(":", 1)[1])
    proxy = TcpProxy("127.0.0.1", port)
    await proxy.start()
    bot = Bot(fake.token, base_url=f"http://127.0.0.1:{proxy.port}/bot")
    pushes = AiohttpRequest(connect_timeout=1.0, read_timeout=1.0)
    await pushes.initialize()
    worker = DeliveryWorker(
        DeliveryQueue(core.sessions, lease_seconds=2),  # renewed while the jobs wait
        TelegramSender(bot, pushes),
        RateLimiter(Limits(1000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=2, base_delay=0.01, max_delay=0.05),
        batch=50,
        poll_interval=0.1,
        breaker=Breaker("telegram", probe_first=0.05, probe_max=0.4),
    )
    core.publisher.on_queued(worker.wake.set)
    try:
        yield Outage(core, fake, proxy, worker)
    finally:
        await pushes.shutdown()
        await proxy.stop()
        await fake.stop()


async def running(outage: Outage) -> tuple[asyncio.Event, asyncio.Task[None]]:
    stop = asyncio.Event()
    return stop, asyncio.create_task(outage.worker.run(stop))


async def test_a_fan_out_during_an_outage_reaches_every_chat_once_when_it_ends(
    outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    await outage.follow(CHATS)
    stop, task = await running(outage)
    outage.fake.outage()
    caplog.set_level(logging.INFO, logger="content.delivery.breaker")
    try:
        assert (await outage.core.publisher.publish(STORY)).deliveries_queued == 30

        async def opened() -> bool:
            return outage.worker.breaker.state is BreakerState.OPEN

        await outage.until(opened)
        # Far longer than two attempts with their backoff would take: none may be spent.
        await asyncio.sleep(3)
        assert await outage.statuses() == {"sending": 30}
        assert outage.worker.breaker.view().waiting >= 29
        outage.fake.outage(False)

        async def all_sent() -> bool:
            return await outage.statuses() == {"sent": 30}

        await outage.until(all_sent)
    finally:
        stop.set()
        await task
    assert all(len(outage.fake.sent(n)) == 1 for n in CHATS)
    async with outage.core.sessions() as session:
        attempts = set((await session.execute(select(Delivery.attempts))).scalars())
    assert attempts == {1}
    # The outage said once, and its end once: nothing per failed request in between.
    said = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "content.delivery.breaker"]
    assert [level for level, _ in said] == ["WARNING", "INFO"], said
    assert "30 pushes waited" in said[1][1]
    probes = [c for c in outage.fake.calls if c.method == "sendMessage" and c.status == 502]
    assert len(probes) < 60  # the first sends and a probe every 0.05-0.4 s, not a storm


async def test_refused_connections_are_an_outage_too(outage: Outage) -> None:
    await outage.follow(range(1, 11))
    stop, task = await running(outage)
    try:
        await outage.proxy.cut()
        await outage.core.publisher.publish(STORY)

        async def opened() -> bool:
            return outage.worker.breaker.state is BreakerState.OPEN

        await outage.until(opened)
        await asyncio.sleep(2)
        await outage.proxy.restore()

        async def all_sent() -> bool:
            return await outage.statuses() == {"sent": 10}

        await outage.until(all_sent)
    finally:
        stop.set()
        await task
    assert all(len(outage.fake.sent(n)) == 1 for n in range(1, 11))


async def test_errors_of_one_chat_still_count_around_an_outage(outage: Outage) -> None:
    await outage.follow(range(1, 11))
    outage.fake.block(3)
    stop, task = await running(outage)
    outage.fake.outage()
    try:
        await outage.core.publisher.publish(STORY)
        await asyncio.sleep(1.5)
        outage.fake.outage(False)

        async def settled() -> bool:
            return await outage.statuses() == {"sent": 9, "skipped": 1}

        await outage.until(settled)
    finally:
        stop.set()
        await task
    async with outage.core.sessions() as session:
        blocked = (await session.execute(select(Chat.active).where(Chat.platform_chat_id == "3"))).scalar_one()
    assert blocked is False  # the 403 after the outage deactivated the chat, as ever
    assert outage.fake.sent(3) == []
