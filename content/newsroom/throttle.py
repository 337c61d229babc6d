"""Slows down guessing of passwords: after `limit` wrong passwords from one
address within `window` seconds, each next try waits, twice as long as
the last, up to `max_delay`. Kept in memory: one API process's count (a
restart forgets it, which costs a guesser a restart of ours, not theirs)."""

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
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, address: str) -> deque[float]:
        times = self._failures.get(address, deque())
        horizon = self._clock() - self._window
        while times and times[0] < horizon:
            times.popleft()
        return times

    def delay(self, address: str) -> float:
        """Seconds the next try from `address` waits before it is checked."""
        over = len(self._recent(address)) - self._limit
        if over < 0:
            return 0.0
        return min(self._max, self._first * 2.0**over)

    def failed(self, address: str) -> None:
        if address not in self._failures and len(self._failures) >= MAX_ADDRESSES:
            for known in list(self._failures):  # forget those whose failures are all old
                if not self._recent(known):
                    del self._failures[known]
            if len(self._failures) >= MAX_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))
        times = self._recent(address)
        times.append(self._clock())
        self._failures[address] = times

    def succeeded(self, address: str) -> None:
        self._failures.pop(address, None)
