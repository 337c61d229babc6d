"""The delivery queue and the workers that push stories to chats.

Rows are claimed with a lease: a worker that dies leaves them to be claimed
again when the lease runs out, so nothing is lost, and at most the messages
in flight at the crash are sent twice. On PostgreSQL the claim skips rows
another worker holds (FOR UPDATE SKIP LOCKED), so several workers never send
the same row. What a platform answers comes back as one of the outcomes
below; the adapters' senders translate their platform's errors into them.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Select, and_, bindparam, or_, select, update

from content.db import SessionFactory
from content.dialect import insert_for, is_postgres
from content.messages import Message
from content.models import Chat, Delivery, Subscription, utcnow
from content.ratelimit import RateLimiter
from content.views import ChatRef

log = logging.getLogger(__name__)


# ----- what a platform answered ---------------------------------------------
@dataclass(frozen=True, slots=True)
class Sent:
    message_id: str | None = None


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after: float


@dataclass(frozen=True, slots=True)
class Refused:
    """The chat will not take messages (blocked, kicked, missing access)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Moved:
    """The chat lives under another id now (Telegram's supergroup upgrade)."""

    new_chat_id: str


@dataclass(frozen=True, slots=True)
class Failed:
    error: str
    transient: bool = True  # timeouts and 5xx are worth another try; a rejected message is not


Outcome = Sent | RateLimited | Refused | Moved | Failed


class Sender(Protocol):
    """A platform's way of pushing one message to one chat (the port adapters implement)."""

    platform: str

    async def send(self, chat: ChatRef, message: Message) -> Outcome: ...


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    story_id: int
    chat_id: int
    chat: ChatRef
    attempts: int
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 600.0

    def delay(self, attempts: int) -> float:
        # Exponential with full jitter, so a burst of failures does not come back at once.
        ceiling = min(self.max_delay, self.base_delay * 2 ** max(0, attempts - 1))
        return random.uniform(ceiling / 2, ceiling)


class DeliveryQueue:
    """`share` = (k, n): this process sends to the chats whose id is k modulo n.

    Several worker processes share a bot's rate limits by splitting its chats:
    each keeps 1/n of the overall rate, and a chat's per-chat and per-group
    limits are kept by the one process that ever sends to it. SKIP LOCKED
    still keeps two processes from taking one row should the shares overlap.
    """

    def __init__(self, sessions: SessionFactory, lease_seconds: float = 30.0, share: tuple[int, int] = (0, 1)) -> None:
        self._sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.share = share

    def picks(self, platform: str, now: datetime, *, postgres: bool) -> tuple[Select, Select]:
        """What a claim takes, in order: rows whose worker died (they have
        waited longest), then pending rows, oldest first. Each is an ordered
        range of ix_deliveries_due, so a claim reads its batch and not the
        whole fan-out."""
        picks = (
            select(Delivery.id)
            .where(Delivery.platform == platform, Delivery.status == "sending", Delivery.lease_until < now)
            .order_by(Delivery.next_attempt_at, Delivery.id),
            select(Delivery.id)
            .where(Delivery.platform == platform, Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id),
        )
        index, count = self.share
        if count > 1:
            picks = tuple(pick.where(Delivery.chat_id % count == index) for pick in picks)
        if postgres:
            picks = tuple(pick.with_for_update(skip_locked=True) for pick in picks)
        return picks  # type: ignore[return-value]

    async def claim(self, platform: str, limit: int) -> list[Claimed]:
        now = utcnow()
        due = or_(
            and_(Delivery.status == "pending", Delivery.next_attempt_at <= now),
            and_(Delivery.status == "sending", Delivery.lease_until < now),  # its worker died
        )
        async with self._sessions.begin() as session:
            ids: list[int] = []
            for pick in self.picks(platform, now, postgres=is_postgres(session)):
                ids += (await session.execute(pick.limit(limit - len(ids)))).scalars()
                if len(ids) >= limit:
                    break
            if not ids:
                return []
            # The `due` test again: between the pick and the update another
            # worker (SQLite has no row locks) may have taken a row.
            taken = await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), due)
                .values(status="sending", lease_until=now + self.lease, attempts=Delivery.attempts + 1)
                .returning(Delivery.id)
            )
            ids = list(taken.scalars())
            rows = await session.execute(
                select(Delivery.id, Delivery.story_id, Delivery.chat_id, Delivery.attempts, Delivery.created_at,
                       Chat.platform, Chat.platform_chat_id, Chat.kind, Chat.title)
                .join(Chat, Chat.id == Delivery.chat_id)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.id)
            )
            return [
                Claimed(r.id, r.story_id, r.chat_id, ChatRef(r.platform, r.platform_chat_id, r.kind, r.title), r.attempts, r.created_at)
                for r in rows.all()
            ]

    async def renew(self, ids: list[int]) -> None:
        """Extend the lease of rows still being worked on, so nobody else takes them."""
        if not ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == "sending")
                .values(lease_until=utcnow() + self.lease)
            )

    async def sent_many(self, done: list[tuple[int, str | None]]) -> None:
        """Record many sends in one transaction (one statement, executed per row)."""
        if not done:
            return
        statement = (
            update(Delivery.__table__)
            .where(Delivery.__table__.c.id == bindparam("delivery_id"))
            .values(status="sent", platform_message_id=bindparam("message_id"), sent_at=utcnow(), lease_until=None, last_error=None)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement, [{"delivery_id": i, "message_id": m} for i, m in done])

    async def later(self, item: Claimed, delay: float, error: str | None, *, count_attempt: bool = True) -> None:
        values: dict = {"status": "pending", "next_attempt_at": utcnow() + timedelta(seconds=delay), "lease_until": None}
        if error is not None:
            values["last_error"] = error[:2000]
        if not count_attempt:  # a 429 is the platform's pace, not a failure of this message
            values["attempts"] = Delivery.attempts - 1
        await self._set(item.id, **values)

    async def failed(self, item: Claimed, error: str) -> None:
        await self._set(item.id, status="failed", last_error=error[:2000], lease_until=None)

    async def refused(self, item: Claimed, reason: str) -> None:
        """The chat is gone for the bot: deactivate it and skip everything pending for it."""
        async with self._sessions.begin() as session:
            await session.execute(update(Chat).where(Chat.id == item.chat_id).values(active=False))
            await session.execute(
                update(Delivery)
                .where(Delivery.chat_id == item.chat_id, Delivery.status.in_(("pending", "sending")))
                .values(status="skipped", last_error=reason[:2000], lease_until=None)
            )

    async def moved(self, item: Claimed, new_chat_id: str) -> Claimed:
        """The chat has a new id: it keeps its subscriptions there; the row now points to it."""
        async with self._sessions.begin() as session:
            existing = (
                await session.execute(select(Chat.id).where(Chat.platform == item.chat.platform, Chat.platform_chat_id == new_chat_id))
            ).scalar_one_or_none()
            if existing is None:
                await session.execute(update(Chat).where(Chat.id == item.chat_id).values(platform_chat_id=new_chat_id))
            else:
                # The bot already knew the new chat: it inherits the old one's subscriptions.
                followed = select(Subscription.tag_id).where(Subscription.chat_id == item.chat_id)
                for tag_id in (await session.execute(followed)).scalars():
                    await session.execute(
                        insert_for(session, Subscription).values(chat_id=existing, tag_id=tag_id).on_conflict_do_nothing()
                    )
                await session.execute(update(Chat).where(Chat.id == item.chat_id).values(active=False))
        chat = ChatRef(item.chat.platform, new_chat_id, item.chat.kind, item.chat.title)
        return Claimed(item.id, item.story_id, item.chat_id, chat, item.attempts, item.created_at)

    async def _set(self, delivery_id: int, **values) -> None:  # noqa: ANN003
        async with self._sessions.begin() as session:
            await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))


StoryMessage = Callable[[int], Awaitable[Message | None]]

# Sends are recorded in groups of FLUSH_ROWS, or after FLUSH_SECONDS.
FLUSH_ROWS = 50
FLUSH_SECONDS = 0.5


class DeliveryWorker:
    """Claims one platform's due rows, sends them within its limits, records what happened."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: Sender,
        limiter: RateLimiter,
        story_message: StoryMessage,
        policy: RetryPolicy = RetryPolicy(),
        *,
        batch: int = 200,
        poll_interval: float = 2.0,
        on_outcome: Callable[[str, Claimed, Outcome], None] | None = None,
    ) -> None:
        self.queue = queue
        self.sender = sender
        self.limiter = limiter
        self._story_message = story_message
        self.policy = policy
        self.batch = batch
        self.poll_interval = poll_interval
        self.wake = asyncio.Event()
        self._on_outcome = on_outcome
        self._messages: dict[int, asyncio.Future[Message | None]] = {}
        # Sends are recorded in groups: one transaction per row would cost
        # more than the send. A crash loses at most this group's records,
        # whose messages count as in flight and may go out twice.
        self._sent: list[tuple[int, str | None]] = []
        self._flushed_at = 0.0

    def _claim_size(self) -> int:
        # No more than the limits let go out well within one lease.
        lease = self.queue.lease.total_seconds()
        return max(1, min(self.batch, int(self.limiter.limits.per_second * lease / 2)))

    async def run(self, stop: asyncio.Event) -> None:
        """Sends until `stop`, keeping up to a batch of rows in flight: more
        are claimed as soon as half of them are done, so the platform is not
        left idle while a batch's slowest sends finish and the next is claimed.
        On `stop`, the rows in flight are finished and recorded."""
        in_flight: set[asyncio.Task[None]] = set()
        unsent: set[int] = set()
        room, idle = asyncio.Event(), asyncio.Event()  # half the batch done; all of it done
        size = self._claim_size()

        def finished(task: asyncio.Task[None]) -> None:
            in_flight.discard(task)
            if not task.cancelled() and task.exception() is not None:
                # Its row stays leased and is claimed again when the lease runs out.
                log.error("delivery failed unrecorded", exc_info=task.exception())
            if len(in_flight) <= size // 2:
                room.set()
            if not in_flight:
                idle.set()

        heartbeat = asyncio.create_task(self._keep_leases(unsent, self.queue.lease.total_seconds() / 3))
        exhausted = worked = False
        try:
            while not stop.is_set():
                free = size - len(in_flight)
                if not exhausted and free >= max(1, size // 2):
                    self.wake.clear()  # a publish from now on wakes the wait below
                    try:
                        claimed = await self.queue.claim(self.sender.platform, free)
                    except Exception:  # the database away for a moment must not end the worker
                        log.exception("could not claim deliveries; trying again")
                        claimed = []
                        await asyncio.sleep(min(1.0, self.poll_interval))
                    room.clear()
                    if claimed:
                        idle.clear()
                    for item in claimed:
                        unsent.add(item.id)
                        task = asyncio.create_task(self._deliver(item, unsent))
                        in_flight.add(task)
                        task.add_done_callback(finished)
                    exhausted = len(claimed) < free
                    worked = worked or bool(claimed)
                if in_flight:
                    # Until half the batch is done; with nothing more due, until all
                    # of it is or a publish wakes us. Recorded sends are flushed
                    # at least every FLUSH_SECONDS meanwhile.
                    events = (idle, self.wake, stop) if exhausted else (room, stop)
                    woke = await self._wait_for(*events, timeout=FLUSH_SECONDS)
                    if self.wake in woke:
                        exhausted = False
                    if self._sent and asyncio.get_running_loop().time() - self._flushed_at >= FLUSH_SECONDS:
                        await self._flush_or_log()
                    continue
                await self._flush_or_log()
                if worked or not exhausted:  # rows were there: there may be more at once
                    worked = exhausted = False
                    continue
                await self._wait_for(self.wake, stop, timeout=self.poll_interval)
                exhausted = False
        finally:
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
            heartbeat.cancel()
            await self._flush_or_log()

    @staticmethod
    async def _wait_for(*events: asyncio.Event, timeout: float) -> set[asyncio.Event]:
        """Waits until one of `events` is set, at most `timeout`; returns those set."""
        waiters = {asyncio.ensure_future(event.wait()): event for event in events}
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return {event for event in events if event.is_set()}

    async def run_once(self) -> int:
        """One batch: claim, send concurrently under the limits, record. Returns rows handled."""
        claimed = await self.queue.claim(self.sender.platform, self._claim_size())
        if claimed:
            unsent = {item.id for item in claimed}
            heartbeat = asyncio.create_task(self._keep_leases(unsent, self.queue.lease.total_seconds() / 3))
            try:
                await asyncio.gather(*(self._deliver(item, unsent) for item in claimed))
            finally:
                heartbeat.cancel()
                await self._flush()
        return len(claimed)

    async def _keep_leases(self, unsent: set[int], every: float) -> None:
        # A 429 pause or a group's per-minute limit can hold rows past their
        # lease; renewing keeps another worker from sending them too.
        while True:
            await asyncio.sleep(every)
            if not unsent:
                continue
            try:
                await self.queue.renew(sorted(unsent))
            except Exception:
                log.exception("could not renew delivery leases")

    async def _message(self, story_id: int) -> Message | None:
        # A batch's rows ask at once: the first asks the database, the others
        # wait for its answer. A failed load is forgotten, to be tried again.
        loading = self._messages.get(story_id)
        if loading is None:
            if len(self._messages) > 1000:
                self._messages.clear()
            loading = self._messages[story_id] = asyncio.ensure_future(self._story_message(story_id))
        try:
            return await asyncio.shield(loading)
        except Exception:
            if self._messages.get(story_id) is loading:
                del self._messages[story_id]
            raise

    async def _deliver(self, item: Claimed, unsent: set[int]) -> None:
        try:
            await self._deliver_one(item)
        finally:
            unsent.discard(item.id)

    async def _deliver_one(self, item: Claimed) -> None:
        message = await self._message(item.story_id)
        if message is None:
            await self.queue.failed(item, "the story no longer exists")
            return
        for _hop in range(3):  # a moved chat is tried again at its new id, a few times at most
            await self.limiter.acquire(item.chat.chat_id, group=item.chat.kind != "private")
            try:
                outcome: Outcome = await self.sender.send(item.chat, message)
            except Exception as exc:  # a sender bug must not lose the row
                log.exception("sender crashed on delivery %s", item.id)
                outcome = Failed(f"{type(exc).__name__}: {exc}")
            if self._on_outcome is not None:
                self._on_outcome(self.sender.platform, item, outcome)
            if isinstance(outcome, Moved):
                item = await self.queue.moved(item, outcome.new_chat_id)
                continue
            await self._record(item, outcome)
            return
        await self.queue.failed(item, "the chat kept moving")

    async def _flush(self) -> None:
        done, self._sent = self._sent, []
        self._flushed_at = asyncio.get_running_loop().time()
        try:
            await self.queue.sent_many(done)
        except Exception:
            # Kept for the next flush: recorded late rather than sent again.
            self._sent = done + self._sent
            raise

    async def _flush_or_log(self) -> None:
        try:
            await self._flush()
        except Exception:  # the database away for a moment must not end the worker
            log.exception("could not record sent deliveries; trying again")

    async def _record(self, item: Claimed, outcome: Outcome) -> None:
        if isinstance(outcome, Sent):
            self._sent.append((item.id, outcome.message_id))
            if len(self._sent) >= FLUSH_ROWS or asyncio.get_running_loop().time() - self._flushed_at >= FLUSH_SECONDS:
                await self._flush_or_log()
        elif isinstance(outcome, RateLimited):
            self.limiter.pause(outcome.retry_after)
            await self.queue.later(item, outcome.retry_after, f"rate limited for {outcome.retry_after:g} s", count_attempt=False)
            self.wake.set()
        elif isinstance(outcome, Refused):
            await self.queue.refused(item, outcome.reason)
        elif isinstance(outcome, Failed):
            if outcome.transient and item.attempts < self.policy.max_attempts:
                await self.queue.later(item, self.policy.delay(item.attempts), outcome.error)
            else:
                await self.queue.failed(item, outcome.error)
