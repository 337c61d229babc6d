"""The workers that push stories to chats: one platform's due jobs claimed,
done within its limits (a send, an edit or a delete), and what the platform
answered recorded.

What a platform answers comes back as one of the outcomes in
`content.delivery.outcomes`; the adapters' senders translate their platform's
errors into them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, Protocol

from content.chats.ref import ChatKind
from content.delivery.outcomes import Failed, Moved, Outcome, RateLimited, Refused, Sent
from content.delivery.payloads import WITH_MESSAGE
from content.delivery.policy import RetryPolicy
from content.delivery.port import Sender
from content.delivery.queue import DeliveryQueue, Job
from content.delivery.ratelimit import RateLimiter
from content.delivery.status import JobKind
from content.messages import Message

log = logging.getLogger(__name__)

# Finished jobs are recorded in groups of FLUSH_ROWS, or after FLUSH_SECONDS.
FLUSH_ROWS = 50
FLUSH_SECONDS = 0.5
# A chat that moves (a Telegram group upgraded) is followed this many times for one job.
MAX_HOPS = 3


class PayloadSource(Protocol):
    async def message(self, kind: JobKind, story_id: int) -> Message | None: ...


class _InFlight:
    """The jobs being worked on: their tasks, the ids whose leases must be kept,
    and two events, `room` (half of the batch is done) and `idle` (all of it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.refill = max(1, size // 2)  # claim again once this many slots are free
        self.tasks: set[asyncio.Task[None]] = set()
        self.leased: set[int] = set()
        self.room, self.idle = asyncio.Event(), asyncio.Event()
        self.room.set()
        self.idle.set()

    @property
    def free(self) -> int:
        return self.size - len(self.tasks)

    def start(self, job: Job, work: Coroutine[Any, Any, None]) -> None:
        self.leased.add(job.id)
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(lambda done: self._finished(job.id, done))
        self.idle.clear()
        if self.free < self.refill:
            self.room.clear()

    def _finished(self, job_id: int, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.leased.discard(job_id)
        if not task.cancelled() and task.exception() is not None:
            # Its row stays leased and is claimed again when the lease runs out.
            log.error("delivery failed unrecorded", exc_info=task.exception())
        if self.free >= self.refill:
            self.room.set()
        if not self.tasks:
            self.idle.set()

    async def finish(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)


class DeliveryWorker:
    """Claims one platform's due jobs, does them within its limits, records what happened."""

    def __init__(
        self,
        queue: DeliveryQueue,
        sender: Sender,
        limiter: RateLimiter,
        payloads: PayloadSource,
        policy: RetryPolicy = RetryPolicy(),
        *,
        batch: int = 200,
        poll_interval: float = 2.0,
        on_outcome: Callable[[str, Job, Outcome], None] | None = None,
    ) -> None:
        self.queue = queue
        self.sender = sender
        self.limiter = limiter
        self._payloads = payloads
        self.policy = policy
        self.batch = batch
        self.poll_interval = poll_interval
        self.wake = asyncio.Event()
        self._on_outcome = on_outcome
        self._messages: dict[tuple[JobKind, int], asyncio.Future[Message | None]] = {}
        # Finished jobs are recorded in groups: one transaction per row would
        # cost more than the send. A crash loses at most this group's records,
        # whose messages count as in flight and may go out twice.
        self._done: list[tuple[Job, tuple[str, ...]]] = []
        self._flushed_at = 0.0

    def _claim_size(self) -> int:
        # No more than the limits let go out well within one lease.
        lease = self.queue.lease.total_seconds()
        return max(1, min(self.batch, int(self.limiter.limits.per_second * lease / 2)))

    # ----- the loop ---------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Works until `stop`, keeping up to a batch of jobs in flight: more are
        claimed as soon as half of them are done, so the platform is not left
        idle while a batch's slowest sends finish and the next is claimed. On
        `stop`, the jobs in flight are finished and recorded."""
        batch = _InFlight(self._claim_size())
        # Whether a claim now could find rows: the last one was full, a publish
        # woke us, or rows were found since the batch last ran dry.
        maybe_due = True
        async with self._keeping_leases(batch):
            try:
                while not stop.is_set():
                    if maybe_due and batch.free >= batch.refill:
                        wanted = batch.free
                        maybe_due = await self._fill(batch, wanted) >= wanted
                    if batch.tasks:
                        # Until half the batch is done; with nothing more due, until
                        # all of it is or a publish wakes us; finished jobs are
                        # recorded at least every FLUSH_SECONDS meanwhile.
                        events = (batch.room, stop) if maybe_due else (batch.idle, self.wake, stop)
                        woke = await self._wait_for(*events, timeout=FLUSH_SECONDS)
                        maybe_due = maybe_due or self.wake in woke or batch.idle in woke
                        if self._done and self._clock() - self._flushed_at >= FLUSH_SECONDS:
                            await self._flush_or_log()
                        continue
                    await self._flush_or_log()
                    if not maybe_due:
                        await self._wait_for(self.wake, stop, timeout=self.poll_interval)
                        maybe_due = True
            finally:
                await batch.finish()
                await self._flush_or_log()

    async def run_once(self) -> int:
        """One batch, through the steps `run` takes: claim what fits, work it
        off, record. Returns the jobs claimed (tests step the queue with it)."""
        batch = _InFlight(self._claim_size())
        async with self._keeping_leases(batch):
            try:
                claimed = await self._fill(batch, batch.free, log_errors=False)
                await batch.idle.wait()
            finally:
                await self._flush()
        return claimed

    async def _fill(self, batch: _InFlight, wanted: int, *, log_errors: bool = True) -> int:
        """Claims up to `wanted` jobs and starts them; returns how many."""
        self.wake.clear()  # a publish from now on wakes the loop's next wait
        try:
            jobs = await self.queue.claim(self.sender.platform, wanted)
        except Exception:
            if not log_errors:
                raise
            # The database away for a moment must not end the worker.
            log.exception("could not claim deliveries; trying again")
            await asyncio.sleep(min(1.0, self.poll_interval))
            return 0
        for job in jobs:
            batch.start(job, self._work(job))
        return len(jobs)

    @contextlib.asynccontextmanager
    async def _keeping_leases(self, batch: _InFlight) -> AsyncIterator[None]:
        heartbeat = asyncio.create_task(self._keep_leases(batch.leased, self.queue.lease.total_seconds() / 3))
        try:
            yield
        finally:
            heartbeat.cancel()

    async def _keep_leases(self, leased: set[int], every: float) -> None:
        # A 429 pause or a group's per-minute limit can hold rows past their
        # lease; renewing keeps another worker from taking them too.
        while True:
            await asyncio.sleep(every)
            if not leased:
                continue
            try:
                await self.queue.renew(sorted(leased))
            except Exception:
                log.exception("could not renew delivery leases")

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

    @staticmethod
    def _clock() -> float:
        return asyncio.get_running_loop().time()

    # ----- one job ----------------------------------------------------------
    async def _message(self, kind: JobKind, story_id: int) -> Message | None:
        # A batch's jobs ask at once: the first asks the database, the others
        # wait for its answer. A failed load is forgotten, to be tried again.
        key = (kind, story_id)
        loading = self._messages.get(key)
        if loading is None:
            if len(self._messages) > 1000:
                self._messages.clear()
            loading = self._messages[key] = asyncio.ensure_future(self._payloads.message(kind, story_id))
        try:
            return await asyncio.shield(loading)
        except Exception:
            if self._messages.get(key) is loading:
                del self._messages[key]
            raise

    async def _work(self, job: Job) -> None:
        message: Message | None = None
        if job.kind is JobKind.DIGEST:
            await self.queue.failed(job, "this worker does not build digests")
            return
        if job.kind in WITH_MESSAGE:
            message = await self._message(job.kind, job.story_id)
            if message is None:
                await self.queue.failed(job, "the story no longer exists")
                return
        if job.kind is not JobKind.SEND and not job.target.message_ids:
            await self.queue.skipped(job, "nothing of the story is in this chat to change")
            return
        for _hop in range(MAX_HOPS):
            await self.limiter.acquire(job.chat.chat_id, group=job.chat.kind is not ChatKind.PRIVATE)
            try:
                outcome = await self._perform(job, message)
            except Exception as exc:  # a sender bug must not lose the row
                log.exception("sender crashed on delivery %s", job.id)
                outcome = Failed(f"{type(exc).__name__}: {exc}")
            if self._on_outcome is not None:
                self._on_outcome(self.sender.platform, job, outcome)
            if isinstance(outcome, Moved):
                job = await self.queue.moved(job, outcome.new_chat_id)
                continue
            await self._record(job, outcome)
            return
        await self.queue.failed(job, "the chat kept moving")

    async def _perform(self, job: Job, message: Message | None) -> Outcome:
        if job.kind is JobKind.DELETE:
            return await self.sender.delete(job.target)
        assert message is not None
        if job.kind is JobKind.EDIT:
            return await self.sender.edit(job.target, message)
        return await self.sender.send(job.target, message)

    async def _record(self, job: Job, outcome: Outcome) -> None:
        if isinstance(outcome, Sent):
            self._done.append((job, outcome.message_ids))
            if len(self._done) >= FLUSH_ROWS or self._clock() - self._flushed_at >= FLUSH_SECONDS:
                await self._flush_or_log()
        elif isinstance(outcome, RateLimited):
            self.limiter.pause(outcome.retry_after)
            await self.queue.later(
                job, outcome.retry_after, f"rate limited for {outcome.retry_after:g} s", count_attempt=False
            )
            self.wake.set()
        elif isinstance(outcome, Refused):
            await self.queue.refused(job, outcome.reason)
        elif isinstance(outcome, Failed):
            if outcome.transient and job.attempts < self.policy.max_attempts:
                await self.queue.later(job, self.policy.delay(job.attempts), outcome.error)
            else:
                await self.queue.failed(job, outcome.error)

    async def _flush(self) -> None:
        done, self._done = self._done, []
        self._flushed_at = self._clock()
        try:
            await self.queue.sent_many(done)
        except Exception:
            # Kept for the next flush: recorded late rather than sent again.
            self._done = done + self._done
            raise

    async def _flush_or_log(self) -> None:
        try:
            await self._flush()
        except Exception:  # the database away for a moment must not end the worker
            log.exception("could not record sent deliveries; trying again")
