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
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import datetime
from typing import Any, Protocol

from content.chats.ref import ChatKind
from content.delivery.breaker import Breaker, BreakerState
from content.delivery.membership import Membership
from content.delivery.outcomes import Failed, Moved, Outcome, RateLimited, Refused, Sent, Unavailable, Vanished
from content.delivery.payloads import WITH_MESSAGE
from content.delivery.policy import RetryPolicy
from content.delivery.port import Sender
from content.delivery.queue import DeliveryQueue, Job
from content.delivery.ratelimit import RateLimiter
from content.delivery.status import JobKind
from content.messages import Message
from content.models import utcnow

log = logging.getLogger(__name__)

# Finished jobs are recorded in groups of FLUSH_ROWS, or after FLUSH_SECONDS.
FLUSH_ROWS = 50
FLUSH_SECONDS = 0.5
# A chat that moves (a Telegram group upgraded) is followed this many times for one job.
MAX_HOPS = 3
# A job the platform does not answer this many times in a row, while it answered
# other jobs within the window (seconds), has an error of its own: it counts an
# attempt, as any error of one row does.
OWN_TROUBLE_AFTER, OWN_TROUBLE_WINDOW = 3, 10.0
# A claim the database did not answer is tried again after this long, doubling up to the max.
DATABASE_RETRY_FIRST, DATABASE_RETRY_MAX = 0.5, 10.0
# A worker that sees the live set change waits a heartbeat and this long before claiming again.
HANDOVER_MARGIN = 1.0


class PayloadSource(Protocol):
    async def message(self, kind: JobKind, story_id: int) -> Message | None:
        """What a job of `kind` shows: a send's or an edit's push, a delete's
        withdrawal notice (where the platform keeps the message); None when
        the job is no longer wanted (its story was withdrawn, or is gone)."""
        ...

    async def digest(self, chat_id: int, since: datetime, until: datetime, zone: str) -> Message | None:
        """A chat's digest of the stories due in (since, until]; None when there are none."""
        ...


class _InFlight:
    """The jobs being worked on: their tasks, the ids whose leases must be kept,
    and two events, `room` (half of the batch is done) and `idle` (all of it)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.refill = max(1, size // 2)  # claim again once this many slots are free
        self.tasks: dict[asyncio.Task[None], int] = {}  # task -> its job's id
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
        self.tasks[task] = job.id
        task.add_done_callback(lambda done: self._finished(job.id, done))
        self.idle.clear()
        if self.free < self.refill:
            self.room.clear()

    def _finished(self, job_id: int, task: asyncio.Task[None]) -> None:
        self.tasks.pop(task, None)
        self.leased.discard(job_id)
        if not task.cancelled() and task.exception() is not None:
            # Its row stays leased and is claimed again when the lease runs out.
            log.error("delivery failed unrecorded", exc_info=task.exception())
        if self.free >= self.refill:
            self.room.set()
        if not self.tasks:
            self.idle.set()

    async def finish(self, on_the_wire: set[int]) -> list[int]:
        """Stops: the jobs already on their way to the platform are finished and
        recorded; those still waiting (for the limits, for a platform that is
        down) are dropped, and their ids returned to be handed back unspent."""
        waiting = [(task, job_id) for task, job_id in self.tasks.items() if job_id not in on_the_wire]
        for task, _job_id in waiting:
            task.cancel()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        return [job_id for task, job_id in waiting if task.cancelled()]


class _DatabaseTrouble:
    """The database going away, said once: a WARNING with the first error, an
    INFO when a claim works again; claims wait longer each time meanwhile."""

    def __init__(self, platform: str) -> None:
        self._platform = platform
        self._since: float | None = None
        self.delay = DATABASE_RETRY_FIRST

    def failed(self, what: str) -> None:
        now = time.monotonic()
        if self._since is None:
            self._since = now
            log.warning(
                "%s delivery: could not %s, the database is unavailable; trying again",
                self._platform,
                what,
                exc_info=True,
            )
        else:
            log.debug("%s delivery: could not %s", self._platform, what, exc_info=True)
            self.delay = min(DATABASE_RETRY_MAX, self.delay * 2)

    def ok(self) -> None:
        if self._since is not None:
            log.info(
                "%s delivery: the database answers again after %.0f s", self._platform, time.monotonic() - self._since
            )
            self._since = None
            self.delay = DATABASE_RETRY_FIRST


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
        breaker: Breaker | None = None,
        membership: Membership | None = None,
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
        self.breaker = breaker if breaker is not None else Breaker(sender.platform)
        self._messages: dict[tuple[JobKind, int], asyncio.Future[Message | None]] = {}
        # Finished jobs are recorded in groups: one transaction per row would
        # cost more than the send. A crash loses at most this group's records,
        # whose messages count as in flight and may go out twice.
        self._done: list[tuple[Job, tuple[str, ...]]] = []
        self._notes: dict[int, str] = {}  # by job id, for the jobs in _done that have one
        self._database = _DatabaseTrouble(sender.platform)
        self.membership = membership
        self._claims_from = 0.0
        self.sent = 0  # jobs done, for the log at the end
        self._on_the_wire: set[int] = set()
        self._first_beat = True
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
        await self._beat()
        batch = _InFlight(self._claim_size())
        # Whether a claim now could find rows: the last one was full, a publish
        # woke us, or rows were found since the batch last ran dry.
        maybe_due = True
        async with self._keeping_leases(batch):
            try:
                while not stop.is_set():
                    handing_over = self._claims_from - self._clock()
                    if maybe_due and batch.free >= batch.refill and handing_over <= 0:
                        wanted = batch.free
                        maybe_due = await self._fill(batch, wanted) >= wanted
                    elif handing_over > 0 and not batch.tasks:
                        await self._wait_for(stop, timeout=handing_over)
                        continue
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
                dropped = await batch.finish(self._on_the_wire)
                await self._flush_or_log()
                if dropped:
                    try:
                        await self.queue.release(dropped)
                    except Exception:  # their leases run out, and they are claimed again then
                        self._database.failed("hand back the jobs it held")
                await self._leave()
                log.info("%s delivery stopping; pushes sent by this worker: %d", self.sender.platform, self.sent)

    async def run_once(self) -> int:
        """One batch, through the steps `run` takes: claim what fits, work it
        off, record. Returns the jobs claimed (tests step the queue with it).
        It takes its share as a heartbeat gives it, without a handover's wait."""
        await self._beat()
        batch = _InFlight(self._claim_size())
        async with self._keeping_leases(batch):
            try:
                claimed = await self._fill(batch, batch.free, log_errors=False)
                await batch.idle.wait()
            finally:
                await self._flush()
                await self._leave()
        return claimed

    async def _fill(self, batch: _InFlight, wanted: int, *, log_errors: bool = True) -> int:
        """Claims up to `wanted` jobs and starts them; returns how many."""
        self.wake.clear()  # a publish from now on wakes the loop's next wait
        try:
            jobs = await self.queue.claim(self.sender.platform, wanted)
        except Exception:
            if not log_errors:
                raise
            # The database away must not end the worker: it waits, longer each time, and goes on.
            self._database.failed("claim deliveries")
            await asyncio.sleep(self._database.delay)
            return 0
        self._database.ok()
        if jobs:
            # Each claim reads its stories afresh: a correction or a retraction
            # made since the last one is what these jobs carry.
            self._messages.clear()
        for job in jobs:
            batch.start(job, self._job(job))
        return len(jobs)

    @contextlib.asynccontextmanager
    async def _keeping_leases(self, batch: _InFlight) -> AsyncIterator[None]:
        heartbeat = asyncio.create_task(self._keep_leases(batch.leased, self.queue.lease.total_seconds() / 3))
        try:
            yield
        finally:
            heartbeat.cancel()

    async def _keep_leases(self, leased: set[int], every: float) -> None:
        # A 429 pause, a group's per-minute limit or an outage can hold rows
        # past their lease; renewing keeps another worker from taking them too.
        # The worker's heartbeat goes with it.
        while True:
            await asyncio.sleep(every)
            await self._beat()
            if not leased:
                continue
            try:
                await self.queue.renew(sorted(leased))
            except Exception:
                self._database.failed("renew delivery leases")

    async def _leave(self) -> None:
        if self.membership is not None:
            with contextlib.suppress(Exception):  # the others take over after a lease anyway
                await self.membership.leave()
            self._first_beat = True

    async def _beat(self) -> None:
        """The heartbeat: this worker's share of the chats and of the rate, from the live workers."""
        if self.membership is None:
            return
        before = self.membership.share
        try:
            share = await self.membership.beat()
        except Exception:
            self._database.failed("keep the worker's heartbeat")
            return
        self.queue.share = (share.index, share.count)
        self.limiter.rescale(1 / share.count)
        if share != before or (self._first_beat and share.count > 1):
            # A handover: claim nothing until every other worker has seen it too.
            self._claims_from = self._clock() + self.queue.lease.total_seconds() / 3 + HANDOVER_MARGIN
        self._first_beat = False

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

    async def _job(self, job: Job) -> None:
        try:
            await self._work(job)
        finally:
            self._on_the_wire.discard(job.id)

    async def _work(self, job: Job) -> None:
        message: Message | None = None
        until = utcnow()
        if job.kind is JobKind.DIGEST:
            # Made when it goes out, of what is due then: a digest due while
            # the bot was down is one message with all that accumulated.
            message = await self._payloads.digest(job.chat_id, job.since or job.created_at, until, job.zone)
            if message is None:
                await self.queue.digest_done(job, until, None)
                return
        elif job.kind in WITH_MESSAGE and job.story_id is not None:
            message = await self._message(job.kind, job.story_id)
            if message is None:
                await self.queue.cancelled(job, "the story was withdrawn")
                return
        if job.kind in (JobKind.EDIT, JobKind.DELETE) and not job.target.message_ids:
            await self.queue.skipped(job, "nothing of the story is in this chat to change")
            return
        hops = unanswered = 0
        while True:
            outcome = await self._try(job, message)
            if isinstance(outcome, Unavailable):
                unanswered += 1
                up = self.breaker.state is BreakerState.CLOSED and self.breaker.answered_within(OWN_TROUBLE_WINDOW)
                if unanswered < OWN_TROUBLE_AFTER or not up:
                    if self.breaker.state is BreakerState.CLOSED:
                        # Not (yet) an outage: wait a little, spending no attempt.
                        await asyncio.sleep(
                            min(self.breaker.probe_max, self.breaker.probe_first * 2 ** (unanswered - 1))
                        )
                    continue
                # The platform answers other chats but not this one: the job's own error.
                outcome = Failed(outcome.error)
            if isinstance(outcome, Moved):
                hops += 1
                if hops >= MAX_HOPS:
                    await self.queue.failed(job, "the chat kept moving")
                    return
                job = await self.queue.moved(job, outcome.new_chat_id)
                continue
            if job.kind is JobKind.DIGEST and isinstance(outcome, Sent):
                self.sent += 1
                await self.queue.digest_done(job, until, outcome.message_ids)
                return
            await self._record(job, outcome)
            return

    async def _try(self, job: Job, message: Message | None) -> Outcome:
        """One try at the platform, when the breaker lets the job through and
        within the platform's limits; the breaker learns what happened."""
        async with self.breaker.passage(job.id) as probe:
            await self.limiter.acquire(job.chat.chat_id, group=job.chat.kind is not ChatKind.PRIVATE)
            self._on_the_wire.add(job.id)  # from here on a stop waits for it
            try:
                outcome = await self._perform(job, message)
            except Exception as exc:  # a sender bug must not lose the row
                log.exception("sender crashed on delivery %s", job.id)
                outcome = Failed(f"{type(exc).__name__}: {exc}")
            else:
                if isinstance(outcome, Unavailable):
                    self.breaker.unavailable(job.chat.chat_id, outcome.error, probe=probe)
                else:
                    self.breaker.answered(sent=isinstance(outcome, Sent))
        if self._on_outcome is not None:
            self._on_outcome(self.sender.platform, job, outcome)
        return outcome

    async def _perform(self, job: Job, message: Message | None) -> Outcome:
        if job.kind is JobKind.DELETE:
            return await self.sender.delete(job.target, message)
        assert message is not None
        if job.kind is JobKind.EDIT:
            return await self.sender.edit(job.target, message)
        return await self.sender.send(job.target, message)

    async def _record(self, job: Job, outcome: Outcome) -> None:
        if isinstance(outcome, Sent):
            self.sent += 1
            self._done.append((job, outcome.message_ids))
            if outcome.note is not None:
                self._notes[job.id] = outcome.note
            if len(self._done) >= FLUSH_ROWS or self._clock() - self._flushed_at >= FLUSH_SECONDS:
                await self._flush_or_log()
        elif isinstance(outcome, RateLimited):
            self.limiter.pause(outcome.retry_after)
            await self.queue.later(
                job, outcome.retry_after, f"rate limited for {outcome.retry_after:g} s", count_attempt=False
            )
            self.wake.set()
        elif isinstance(outcome, Refused):
            await self.queue.refused(job, outcome.reason, thread_only=outcome.thread_only)
        elif isinstance(outcome, Vanished):
            await self.queue.skipped(job, outcome.reason)
        elif isinstance(outcome, Failed):
            if outcome.transient and job.attempts < self.policy.max_attempts:
                await self.queue.later(job, self.policy.delay(job.attempts), outcome.error)
            else:
                await self.queue.failed(job, outcome.error)

    async def _flush(self) -> None:
        done, self._done = self._done, []
        notes, self._notes = self._notes, {}
        self._flushed_at = self._clock()
        try:
            await self.queue.sent_many(done, notes)
        except Exception:
            # Kept for the next flush: recorded late rather than sent again.
            self._done = done + self._done
            self._notes = notes | self._notes
            raise

    async def _flush_or_log(self) -> None:
        try:
            await self._flush()
        except Exception:  # the database away must not end the worker: kept for the next flush
            self._database.failed("record sent deliveries")
