"""Slows down guessing of passwords: after `limit` wrong passwords from one
address within `window` seconds, each next try waits, twice as long as
the last, up to `max_delay`. Kept in memory: one API process's count (a
restart forgets it, which costs a guesser a restart of ours, not theirs).

Memory stays bounded: an address keeps only as many failures as it takes
to reach `max_delay`, addresses whose failures are all older than the
window are dropped whenever a failure is recorded, and at most
`MAX_ADDRESSES` are kept (the one whose last failure is oldest goes first).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MAX_ADDRESSES = 10_000


class SignInThrottle:
    def __init__(
        self,
        limit: int = 5,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
    ) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._first = first_delay
        self._max = max_delay
        # Failures beyond these change nothing: the delay is already at its cap.
        doublings, wait = 0, first_delay
        while wait < max_delay and doublings < 64:
            wait, doublings = wait * 2.0, doublings + 1
        self._keep = max(1, limit + doublings + 1)
        # Ordered by each address's last failure, oldest first.
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, times: deque[float], now: float) -> deque[float]:
        horizon = now - self._window
        while times and times[0] < horizon:
            times.popleft()
        return times

    def delay(self, address: str) -> float:
        """Seconds the next try from `address` waits before it is checked."""
        times = self._failures.get(address)
        over = (len(self._recent(times, self._clock())) if times else 0) - self._limit
        if over < 0:
            return 0.0
        return min(self._max, self._first * 2.0**over)

    def failed(self, address: str) -> None:
        now = self._clock()
        times = self._failures.pop(address, None) or deque(maxlen=self._keep)
        self._recent(times, now).append(now)
        horizon = now - self._window
        while self._failures:  # forget the addresses whose failures are all old
            oldest = next(iter(self._failures))
            last = self._failures[oldest]
            if last and last[-1] >= horizon and len(self._failures) < MAX_ADDRESSES:
                break
            del self._failures[oldest]
        self._failures[address] = times

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
