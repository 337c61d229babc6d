"""The delivery worker's own loop, with a sender in the test (the platforms' senders are
tested end to end against their fake servers in tests/adapters): every row once, claims
overlapping the sends, rows of another platform left alone, a lease that ran out taken back."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.outcomes import Outcome, Sent
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.port import Target
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.worker import DeliveryWorker
from content.messages import Message
from content.models import Delivery, utcnow
from content.stories.drafts import StoryDraft

DRAFT = StoryDraft(
    slug="pipelined",
    title="Pipelined",
    summary="Sent while the next rows are claimed.",
    category="AI",
    published_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
    tags=("xAI",),
    url=None,
    terms=(),
    body="Lead.",
)


class SlowSender:
    """Answers Sent after a moment; records what it was asked and how many sends overlapped."""

    platform = "test"

    def __init__(self, delay: float = 0.01) -> None:
        self.delay = delay
        self.sent: list[str] = []
        self.in_flight = self.most_in_flight = 0

    async def send(self, target: Target, message: Message) -> Outcome:
        chat = target.chat
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        self.sent.append(chat.chat_id)
        return Sent((f"m-{chat.chat_id}",))


class CountingQueue(DeliveryQueue):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.claims: list[tuple[int, int]] = []  # (asked, got)

    async def claim(self, platform: str, limit: int):
        claimed = await super().claim(platform, limit)
        self.claims.append((limit, len(claimed)))
        return claimed


async def follow(core: Core, platform: str, chats: range) -> None:
    for n in chats:
        await core.commands.handle_text(
            Caller(ChatRef(platform, f"chat-{n}", "private"), f"user-{n}", True), "/subscribe xAI"
        )


async def statuses(core: Core) -> dict[tuple[str, str], int]:
    async with core.sessions() as session:
        rows = await session.execute(
            select(Delivery.platform, Delivery.status, func.count()).group_by(Delivery.platform, Delivery.status)
        )
        return {(platform, status): count for platform, status, count in rows.all()}


def worker_for(core: Core, sender: SlowSender, batch: int = 8) -> tuple[DeliveryWorker, CountingQueue]:
    queue = CountingQueue(core.sessions, lease_seconds=30)
    worker = DeliveryWorker(
        queue,
        sender,
        RateLimiter(Limits(10_000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=3),
        batch=batch,
        poll_interval=0.05,
    )
    core.publisher.on_queued(worker.wake.set)
    return worker, queue


async def run_until(worker: DeliveryWorker, done, timeout: float = 30.0) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        async with asyncio.timeout(timeout):
            while not await done():
                await asyncio.sleep(0.02)
    finally:
        stop.set()
        await running


async def test_run_sends_every_row_once_claiming_while_sends_are_in_flight(core: Core) -> None:
    await follow(core, "test", range(45))
    await follow(core, "other", range(5))  # another platform's rows are not this worker's
    sender = SlowSender()
    worker, queue = worker_for(core, sender, batch=8)
    published = await core.publisher.publish(DRAFT)
    assert published.deliveries_queued == 50

    async def all_sent() -> bool:
        return (await statuses(core)).get(("test", "sent")) == 45

    await run_until(worker, all_sent)
    assert sorted(sender.sent) == sorted(f"chat-{n}" for n in range(45))
    assert await statuses(core) == {("test", "sent"): 45, ("other", "pending"): 5}
    assert sender.most_in_flight <= 8
    # Refills of half a batch while the other half was still sending, not whole batches only.
    assert any(asked == 4 and got == 4 for asked, got in queue.claims), queue.claims


async def test_run_wakes_for_a_publish_and_stops_cleanly(core: Core) -> None:
    await follow(core, "test", range(3))
    sender = SlowSender(delay=0)
    worker, queue = worker_for(core, sender)
    worker.poll_interval = 60.0  # only the publish's wake-up can start the sends in time
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    async with asyncio.timeout(10):
        while not queue.claims:  # its first claim found nothing: now it waits
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.05)
    await core.publisher.publish(DRAFT)
    async with asyncio.timeout(10):
        while (await statuses(core)).get(("test", "sent")) != 3:
            await asyncio.sleep(0.02)
    stop.set()
    async with asyncio.timeout(5):
        await running


async def test_rows_whose_lease_ran_out_are_claimed_before_older_pending_rows(core: Core) -> None:
    await follow(core, "test", range(4))
    queue = DeliveryQueue(core.sessions, lease_seconds=30)
    older = await core.publisher.publish(DRAFT)
    newer = await core.publisher.publish(replace(DRAFT, slug="later", title="Later"))
    async with core.sessions.begin() as session:
        orphan = (
            await session.execute(select(func.max(Delivery.id)).where(Delivery.story_id == newer.story_id))
        ).scalar_one()
        # Its worker died: leased, with the lease run out.
        await session.execute(
            update(Delivery)
            .where(Delivery.id == orphan)
            .values(status="sending", attempts=1, lease_until=utcnow() - timedelta(seconds=1))
        )
    (taken,) = await queue.claim("test", 1)
    assert taken.id == orphan and taken.attempts == 2
    rest = await queue.claim("test", 10)
    assert [item.story_id for item in rest] == [older.story_id] * 4 + [newer.story_id] * 3
    assert await queue.claim("test", 10) == []  # all leased now


class FlakyRecordQueue(CountingQueue):
    """The database refuses the first recording of sent rows."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.refusals = 1

    async def sent_many(self, done, notes=None):
        if done and self.refusals:
            self.refusals -= 1
            raise ConnectionError("database away for a moment")
        return await super().sent_many(done, notes)


async def test_sends_the_database_would_not_record_are_recorded_later_not_sent_again(core: Core) -> None:
    await follow(core, "test", range(12))
    sender = SlowSender(delay=0)
    queue = FlakyRecordQueue(core.sessions, lease_seconds=30)
    worker = DeliveryWorker(
        queue,
        sender,
        RateLimiter(Limits(10_000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=3),
        batch=8,
        poll_interval=0.05,
    )
    core.publisher.on_queued(worker.wake.set)
    await core.publisher.publish(DRAFT)

    async def all_sent() -> bool:
        return (await statuses(core)).get(("test", "sent")) == 12

    await run_until(worker, all_sent)
    assert queue.refusals == 0
    assert sorted(sender.sent) == sorted(f"chat-{n}" for n in range(12))  # each once


def test_retries_back_off_exponentially_with_jitter_up_to_a_ceiling() -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=2.0, max_delay=600.0)
    for attempts in range(1, 8):
        ceiling = min(600.0, 2.0 * 2 ** (attempts - 1))
        delays = [policy.delay(attempts) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays), attempts
        assert len({round(d, 6) for d in delays}) > 1  # jittered, so failures do not come back together
    assert max(policy.delay(30) for _ in range(50)) <= 600.0
