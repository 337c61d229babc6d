"""Small helpers every part of the fake uses: snowflake ids, ISO timestamps, reading a
snowflake from JSON or a path, shortening values for messages, the JSON response
discord.py parses, and a route's answer with a status other than 200."""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .constants import DISCORD_EPOCH_MS


class _Snowflakes:
    """Discord ids: milliseconds since Discord's epoch << 22, unique and increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamp, self._last + 1)
        return self._last


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _as_int(value: Any) -> int | None:
    """A snowflake from JSON or a path (Discord accepts both strings and numbers)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py parses a body as JSON only if Content-Type is exactly application/json (no charset)."""
    headers = dict(headers or {})
    if body is None:
        return web.Response(status=status, headers=headers)
    headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


@dataclass
class _Answer:
    """What a route handler returns when Discord answers other than 200 (201 for a created forum post)."""

    status: int
    body: Any
