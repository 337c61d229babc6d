"""Telegram's flood limits on the bot's messages (global, per chat, per group and minute),
as sliding windows that answer 429 with a whole-second retry_after. Sends, edits and
deletes all count against the same windows: Telegram's FAQ words its limits for messages
sent, but bots get 429s on edits too, and the fake errs on the strict side. Off unless a
test calls FakeTelegram.rate_limit(), so ordinary tests never wait on them."""

from __future__ import annotations

import math
from collections import deque

from .errors import ApiError


class _Window:
    """At most `limit` events in any sliding window of `seconds`."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.seconds - now

    def add(self, now: float) -> None:
        self.times.append(now)


def _per_second(rate: float) -> tuple[int, float]:
    """A rate as (events, window): 0.5/s is 1 per 2 s; 30/s is 30 per second."""
    if rate <= 0:
        raise ValueError("a rate limit must be positive")
    seconds = max(1.0, 1.0 / rate)
    return max(1, round(rate * seconds)), seconds


class RateLimits:
    """Telegram's flood limits on the bot's sends, edits and deletes: global, per chat, per
    group and minute. A message without a chat (an inline message, edited by its id)
    counts against the global limit only."""

    def __init__(
        self, per_second_global: float | None, per_second_per_chat: float | None, per_minute_per_group: int | None
    ) -> None:
        self._global = _Window(*_per_second(per_second_global)) if per_second_global else None
        self._chat_rate = _per_second(per_second_per_chat) if per_second_per_chat else None
        if per_minute_per_group is not None and per_minute_per_group <= 0:
            raise ValueError("a rate limit must be positive")
        self._group_limit = per_minute_per_group
        self._chats: dict[int, _Window] = {}
        self._groups: dict[int, _Window] = {}

    def _windows(self, chat_id: int | None, chat_type: str | None) -> list[_Window]:
        windows = [self._global] if self._global else []
        if chat_id is None:
            return windows
        if self._chat_rate:
            windows.append(self._chats.setdefault(chat_id, _Window(*self._chat_rate)))
        if self._group_limit and chat_type in ("group", "supergroup"):
            windows.append(self._groups.setdefault(chat_id, _Window(self._group_limit, 60.0)))
        return windows

    def check(self, chat_id: int | None, chat_type: str | None, now: float) -> None:
        wait = max((window.wait(now) for window in self._windows(chat_id, chat_type)), default=0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait))  # Telegram's retry_after is whole seconds
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    def record(self, chat_id: int | None, chat_type: str | None, now: float) -> None:
        for window in self._windows(chat_id, chat_type):
            window.add(now)

    def take(self, chat_id: int | None, chat_type: str | None, now: float) -> None:
        """One more message in the chat: a 429 when it does not fit, else counted."""
        self.check(chat_id, chat_type, now)
        self.record(chat_id, chat_type, now)
