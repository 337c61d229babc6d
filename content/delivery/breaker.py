"""A platform's circuit breaker: when the platform is down, pushes wait instead of failing.

Sends that fail as "the platform is unavailable" (5xx, a non-JSON answer,
timeouts, refused or reset connections) across a few different chats in a
row open the breaker. While it is open nothing goes to the platform but one
real job at a time, the probe, at growing intervals (1 s doubling, up to a
cap); every other job waits with its row still claimed, so that no delivery
is marked failed, and no attempt is spent, however long the outage. The
first probe the platform answers closes it, and the waiting jobs go on at the
platform's rate. One WARNING says the platform went down, one INFO that it
came back, how long it was away and how many jobs waited; nothing is logged
per failed request in between.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from content.models import utcnow

log = logging.getLogger(__name__)


class BreakerState(StrEnum):
    CLOSED = "closed"  # the platform answers: jobs go out
    OPEN = "open"  # the platform is down: one probe at a time, the rest wait


@dataclass(frozen=True, slots=True)
class BreakerView:
    """What /healthz and /metrics show of a breaker."""

    state: BreakerState
    since: datetime | None  # when it opened
    last_error: str | None
    waiting: int  # jobs waiting for the platform now


class Breaker:
    """`threshold` unavailable answers from as many different chats in a row
    open it; probes follow `probe_first` seconds apart, doubling up to `probe_max`."""

    def __init__(
        self,
        platform: str,
        *,
        threshold: int = 3,
        probe_first: float = 1.0,
        probe_max: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.platform = platform
        self.threshold = threshold
        self.probe_first = probe_first
        self.probe_max = probe_max
        self._clock = clock
        self.state = BreakerState.CLOSED
        self._failing: set[str] = set()  # chats whose sends failed as unavailable since the last answer
        self._opened_at = 0.0
        self._opened_wall: datetime | None = None
        self._last_error: str | None = None
        self._interval = probe_first
        self._next_probe = 0.0
        self._probing = False
        self._waiting = 0
        self._waited: set[int] = set()  # jobs that waited in this outage
        self._changed = asyncio.Event()
        self.last_sent: datetime | None = None  # when a job last went through
        self._answered_at: float | None = None

    # ----- what the worker asks ----------------------------------------------
    @contextlib.asynccontextmanager
    async def passage(self, job_id: int) -> AsyncIterator[bool]:
        """Holds the job until it may go to the platform: at once while the
        breaker is closed; while it is open, when it is the job's turn to probe.
        Yields whether it goes as the probe."""
        probe = await self._turn(job_id)
        try:
            yield probe
        finally:
            if probe:
                self._probing = False
                self._poke()

    async def _turn(self, job_id: int) -> bool:
        """Waits for the job's turn; True when it goes as the probe."""
        if self.state is BreakerState.CLOSED:
            return False
        self._waiting += 1
        self._waited.add(job_id)
        try:
            while self.state is BreakerState.OPEN:
                now = self._clock()
                if not self._probing and now >= self._next_probe:
                    self._probing = True
                    return True
                self._changed.clear()
                timeout = None if self._probing else max(0.0, self._next_probe - now)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), timeout)
            return False
        finally:
            self._waiting -= 1

    def answered(self, *, sent: bool = False) -> None:
        """The platform answered a job (`sent`, or refused it for that chat: it is up)."""
        self._failing.clear()
        self._answered_at = self._clock()
        if sent:
            self.last_sent = utcnow()
        if self.state is BreakerState.OPEN:
            away = self._clock() - self._opened_at
            log.info("%s is back after %.0f s; %d pushes waited for it", self.platform, away, len(self._waited))
            self.state = BreakerState.CLOSED
            self._opened_wall = None
            self._waited.clear()
            self._poke()

    def unavailable(self, chat: str, error: str, *, probe: bool = False) -> None:
        """A job to `chat` failed because the platform did not answer."""
        self._last_error = error
        if self.state is BreakerState.OPEN:
            if probe:  # still down: the next probe waits twice as long
                self._interval = min(self.probe_max, self._interval * 2)
                self._next_probe = self._clock() + self._interval
            return  # jobs that were on their way when it opened change nothing
        self._failing.add(chat)
        if len(self._failing) >= self.threshold:
            self.state = BreakerState.OPEN
            self._opened_at = self._clock()
            self._opened_wall = utcnow()
            self._interval = self.probe_first
            self._next_probe = self._opened_at + self._interval
            log.warning(
                "%s is unavailable (%s); pushes wait for it, probing every %g to %g s",
                self.platform,
                error,
                self.probe_first,
                self.probe_max,
            )

    def answered_within(self, seconds: float) -> bool:
        """Whether the platform answered some job in the last `seconds`: up, then."""
        return self._answered_at is not None and self._clock() - self._answered_at <= seconds

    # ----- what others read -------------------------------------------------------
    def view(self) -> BreakerView:
        return BreakerView(self.state, self._opened_wall, self._last_error, self._waiting)

    def _poke(self) -> None:
        self._changed.set()
