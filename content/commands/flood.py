"""Command flood protection: at most `limit` commands per `window` seconds per user.

The first command over the limit is answered once with a "slow down"; the
rest are ignored until the window has room again. Kept in memory per
process: a flood is a burst from one user, which lands on one process.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # over the limit, first time in this burst: say so once
    DROP = "drop"  # over the limit again: stay silent


class FloodGuard:
    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._warned: set[str] = set()
        self._next_sweep = 0.0

    def check(self, who: str) -> Verdict:
        now = self._clock()
        self._sweep(now)
        times = self._seen.setdefault(who, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            self._warned.discard(who)
            return Verdict.ALLOW
        if who in self._warned:
            return Verdict.DROP
        self._warned.add(who)
        return Verdict.WARN

    def retry_in(self, who: str) -> int:
        times = self._seen.get(who)
        if not times:
            return 0
        return max(1, int(self.window - (self._clock() - times[0]) + 0.999))

    def _sweep(self, now: float) -> None:
        # Forget users idle for a whole window so the table does not grow forever.
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        idle = [who for who, times in self._seen.items() if not times or now - times[-1] >= self.window]
        for who in idle:
            del self._seen[who]
            self._warned.discard(who)
