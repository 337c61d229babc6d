"""Sending limits for pushes: overall per second, per chat, per group per minute.

Every platform's sender uses the same limiter with its own numbers (Telegram:
about 30/s overall, 1/s per chat, 20/min per group or channel). A message
waits for its slot without holding up messages to other chats, and a 429
pauses the whole platform for the time the platform asked.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float  # all chats together
    per_chat_interval: float = 0.0  # seconds between two messages to one chat
    per_group_per_minute: int | None = None  # groups and channels only


class RateLimiter:
    # The platforms count a second's sends where they arrive. Spacing alone lets
    # 31 sends at 30/s span exactly one second on this side, and a few ms of
    # jitter on the way (a busy event loop, the network) then put 31 in one
    # platform second: a 429. So besides the spacing, of the last n = ceil(per_second)
    # sends the first and the next are at least n / per_second and this margin apart.
    WINDOW_MARGIN = 0.03  # seconds

    def __init__(
        self,
        limits: Limits,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.base = self.limits = limits
        self._clock = clock
        self._sleep = sleep
        self._next_global = 0.0
        self._released: deque[float] = deque()
        self._window = 0.0
        self._fit_window()
        self._next_chat: dict[str, float] = {}
        self._group_sends: dict[str, deque[float]] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _fit_window(self) -> None:
        window_sends = max(1, math.ceil(self.limits.per_second))
        self._released = deque(self._released, maxlen=window_sends)
        self._window = window_sends / self.limits.per_second + self.WINDOW_MARGIN

    def rescale(self, share: float) -> None:
        """This sender's part of the platform's overall rate (1/n of it, with n
        workers live); the per-chat and per-group limits stay whole, kept by
        the one worker that owns the chat."""
        per_second = self.base.per_second * share
        if per_second != self.limits.per_second:
            self.limits = Limits(per_second, self.base.per_chat_interval, self.base.per_group_per_minute)
            self._fit_window()

    def pause(self, seconds: float) -> None:
        """The platform said 429: nobody sends until `seconds` from now."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    def _chat_slot(self, chat: str, group: bool) -> float:
        """The earliest moment this chat may get a message (and reserve it)."""
        now = self._clock()
        at = max(now, self._next_chat.get(chat, 0.0))
        if group and self.limits.per_group_per_minute:
            sent = self._group_sends.setdefault(chat, deque())
            while sent and sent[0] <= now - 60.0:
                sent.popleft()
            if len(sent) >= self.limits.per_group_per_minute:
                at = max(at, sent[-self.limits.per_group_per_minute] + 60.0)
            sent.append(at)
        if self.limits.per_chat_interval:
            self._next_chat[chat] = at + self.limits.per_chat_interval
        return at

    async def _until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await self._sleep(delay)

    async def acquire(self, chat: str, group: bool = False) -> None:
        # The chat's own limit first, without holding a global slot meanwhile,
        # so one busy chat never delays messages to the others.
        await self._until(self._chat_slot(chat, group))
        # The overall slot is taken when the message is about to go, one at a
        # time: after a stall the missed slots are not sent in a burst.
        while True:
            async with self._lock:
                moment = max(self._next_global, self._paused_until)
                if len(self._released) == self._released.maxlen:
                    moment = max(moment, self._released[0] + self._window)
                await self._until(moment)
                now = self._clock()
                if self._paused_until <= now:
                    self._released.append(now)
                    self._next_global = now + 1.0 / self.limits.per_second
                    break
            # A 429 came while this message waited: it queues again behind the
            # pause, instead of going out with the first message after it.
        if len(self._next_chat) > 100_000:
            self._forget_idle()

    def _forget_idle(self) -> None:
        now = self._clock()
        self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        self._group_sends = {c: d for c, d in self._group_sends.items() if d and d[-1] > now - 60.0}
