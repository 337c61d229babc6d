"""REST plumbing: the route table (which handler, whether the bot token is needed),
matching a request to a route, reading a JSON or multipart body, authentication,
the rate limits a test asks for and their headers, turning errors into Discord's
answers, and recording each request as a Call. Every REST request passes through here
before it reaches a handler."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from ..constants import API_VERSIONS
from ..errors import ApiError, FormErrors, _RateLimited, not_found
from ..helpers import _Answer, _as_int, _short, json_response
from ..observed import Call

log = logging.getLogger(__name__)


class RestPlumbingMixin:
    """FakeDiscord's REST request handling, from the route table to the recorded Call."""

    _outage: int | None  # set by FakeDiscord.outage()

    # ----- REST plumbing ---------------------------------------------------------------------------------
    def _route_table(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any], bool]]:
        """(method, path pattern, handler, needs the bot token). Webhook and callback routes use the
        interaction token instead, as on Discord."""
        table = [
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._open_dm, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/applications/{application_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{application_id}/commands", self._put_commands, True),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands, True),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("PATCH", "/channels/{channel_id}", self._patch_channel, True),
            ("DELETE", "/channels/{channel_id}", self._delete_channel, True),
            ("POST", "/channels/{channel_id}/threads", self._post_thread, True),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message, True),
            ("POST", "/channels/{channel_id}/messages/{message_id}/crosspost", self._crosspost, True),
            ("POST", "/channels/{channel_id}/typing", self._typing, True),
            ("GET", "/guilds/{guild_id}", self._get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/threads/active", self._get_active_threads, True),
            ("GET", "/guilds/{guild_id}/roles", self._get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, True),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, False),
            ("POST", "/webhooks/{application_id}/{token}", self._followup, False),
            ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._get_webhook_message, False),
            ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._patch_webhook_message, False),
            ("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self._delete_webhook_message, False),
        ]
        return [
            (method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?"), handler, auth)
            for method, template, handler, auth in table
        ]

    def _match(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, str], bool]:
        allowed = False
        for route_method, pattern, handler, auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method == method:
                return handler, match.groupdict(), auth
            allowed = True
        raise ApiError(405, 0, "405: Method Not Allowed") if allowed else not_found()

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        """The JSON body, or a multipart body's payload_json and its files."""
        if request.content_type.startswith("multipart/"):
            body, files = None, []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    content = await part.read()
                    files.append(
                        {
                            "name": part.name,
                            "filename": part.filename,
                            "size": len(content),
                            "content_type": part.headers.get("Content-Type"),
                        }
                    )
            return body, files
        text = await request.text() if request.can_read_body else ""
        return (json.loads(text) if text.strip() else None), []

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        if self._outage is not None:
            status = self._outage
            text = _OUTAGE_BODIES.get(status, "upstream connect error or disconnect/reset before headers")
            self._record(Call(request.method, path, None, status, {"message": text}, time.monotonic(), {}, []))
            return web.Response(status=status, text=text, content_type="text/html" if status == 502 else "text/plain")
        body: Any = None
        files: list[dict[str, Any]] = []
        headers: dict[str, str] = {}
        try:
            if request.match_info["version"] not in API_VERSIONS:
                raise not_found()
            handler, params, needs_token = self._match(request.method, path)
            try:
                body, files = await self._read_body(request)
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            self._take_rate_limit(request.method, path)
            result = await handler(params=params, body=body, files=files, query=dict(request.query))
            if isinstance(result, _Answer):
                status, answer = result.status, result.body
            else:
                status, answer = (204, None) if result is None else (200, result)
            headers = self._rate_limit_headers(request.method, path, remaining=4, reset_after=1.0)
        except _RateLimited as limited:
            status, answer = (
                429,
                {
                    "message": "You are being rate limited.",
                    "retry_after": limited.retry_after,
                    "global": limited.is_global,
                    "code": 0,
                },
            )
            headers = self._rate_limit_headers(request.method, path, remaining=0, reset_after=limited.retry_after)
            # discord.py takes a 429 without Via for a Cloudflare ban and gives up
            headers |= {
                "Via": "1.1 google",
                "Retry-After": str(math.ceil(limited.retry_after)),
                "X-RateLimit-Scope": "global" if limited.is_global else "user",
            }
            if limited.is_global:
                headers["X-RateLimit-Global"] = "true"
        except ApiError as error:
            status, answer = error.status, error.body()
        except Exception as error:  # a bug in the fake: a visible 500 in `errors`, not a hung test
            log.exception("fake Discord failed on %s %s", request.method, path)
            status, answer = 500, {"message": f"500: Internal Server Error ({error!r})", "code": 0}
        self._record(Call(request.method, path, body, status, answer, time.monotonic(), dict(request.query), files))
        return json_response(status, answer, headers)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if not call.ok:
            log.info("fake Discord: %s answered %s %s", call.route, call.status, _short(call.response, 300))
        self._notify()

    def _take_rate_limit(self, method: str, path: str) -> None:
        for index, (substring, retry_after, is_global) in enumerate(self._rate_limits):
            if substring in f"{method} {path}":
                del self._rate_limits[index]
                raise _RateLimited(retry_after, is_global)

    @staticmethod
    def _rate_limit_headers(method: str, path: str, *, remaining: int, reset_after: float) -> dict[str, str]:
        # one bucket per route shape: ids replaced, so /channels/1/messages and /channels/2/messages share it
        shape = re.sub(r"/\d+", "/:id", f"{method} {path}")
        return {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(shape.encode()).hexdigest()[:16],
        }

    @staticmethod
    def _snowflake(params: dict[str, str], key: str) -> int:
        value = _as_int(params[key])
        if value is None:
            errors = FormErrors()
            errors.add((key,), "NUMBER_TYPE_COERCE", f'Value "{params[key]}" is not snowflake.')
            errors.raise_if_any()
        return value  # type: ignore[return-value]


# What answers for Discord while it is down: Cloudflare's page for a 502, Envoy's words otherwise.
_OUTAGE_BODIES = {
    502: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>cloudflare</center></body></html>",
}
