"""The workers that push stories to chats: one platform's due rows claimed,
sent within its limits, and what the platform answered recorded.

What a platform answers comes back as one of the outcomes in
`content.delivery.outcomes`; the adapters' senders translate their platform's
errors into them.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from content.chats.ref import ChatKind
from content.delivery.outcomes import Failed, Moved, Outcome, RateLimited, Refused, Sent
from content.delivery.policy import RetryPolicy
from content.delivery.port import Sender
from content.delivery.queue import Claimed, DeliveryQueue
from content.delivery.ratelimit import RateLimiter
from content.messages import Message

log = logging.getLogger(__name__)


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
            await self.limiter.acquire(item.chat.chat_id, group=item.chat.kind is not ChatKind.PRIVATE)
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
