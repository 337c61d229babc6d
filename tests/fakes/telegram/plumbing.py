"""Request plumbing shared by the server and the method handlers: a request's
parameters read from its query, form, multipart or JSON body the way the Bot API
reads them, an integer parameter with Telegram's refusal when it is missing or not a
number, and a wait for the fake's "something changed" event."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from .errors import bad_request

# Top-level parameters that are plain strings on the wire; every other string
# value is JSON (PTB JSON-encodes numbers, booleans, lists and objects).
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "next_offset",
        "language_code",
        "description",
        "short_description",
        "name",
        "title",
        "custom_title",
        "emoji",
        "business_connection_id",
        "message_effect_id",
        "switch_pm_text",
        "switch_pm_parameter",
        "query",
    }
)


def _decode_param(name: str, value: Any) -> Any:
    if isinstance(value, web.FileField):
        return {"filename": value.filename, "content_type": value.content_type}
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


async def read_params(request: web.Request) -> dict[str, Any]:
    """A request's parameters from its query, form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        if request.can_read_body:
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
    elif request.method == "POST":
        params.update((await request.post()).items())
    return {name: _decode_param(name, value) for name, value in params.items()}


def _int_param(params: dict[str, Any], name: str, default: int | None = None, *, missing: str | None = None) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        raise bad_request(missing or f"{name} is empty")
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(timeout, 0))
