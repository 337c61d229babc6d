"""Sending limits for pushes: overall per second, per chat, per group per minute.

Every platform's sender uses the same limiter with its own numbers (Telegram:
about 30/s overall, 1/s per chat, 20/min per group or channel). A message
waits for its slot without holding up messages to other chats, and a 429
pauses the whole platform for the time the platform asked.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    per_second: float  # all chats together
    per_chat_interval: float = 0.0  # seconds between two messages to one chat
    per_group_per_minute: int | None = None  # groups and channels only


class RateLimiter:
    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._next_global = 0.0
        self._next_chat: dict[str, float] = {}
        self._group_sends: dict[str, deque[float]] = {}
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

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
            await asyncio.sleep(delay)

    async def acquire(self, chat: str, group: bool = False) -> None:
        # The chat's own limit first, without holding a global slot meanwhile,
        # so one busy chat never delays messages to the others.
        await self._until(self._chat_slot(chat, group))
        # The overall slot is taken when the message is about to go, one at a
        # time: after a stall the missed slots are not sent in a burst.
        async with self._lock:
            await self._until(max(self._next_global, self._paused_until))
            self._next_global = self._clock() + 1.0 / self.limits.per_second
        # A pause that began while this message waited still applies to it.
        while self._paused_until > self._clock():
            await self._until(self._paused_until)
        if len(self._next_chat) > 100_000:
            self._forget_idle()

    def _forget_idle(self) -> None:
        now = self._clock()
        self._next_chat = {c: t for c, t in self._next_chat.items() if t > now}
        self._group_sends = {c: d for c, d in self._group_sends.items() if d and d[-1] > now - 60.0}
