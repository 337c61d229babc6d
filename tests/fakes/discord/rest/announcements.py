"""Announcement channels: publishing (crossposting) a message to the channels that
follow one, with the permissions it needs, the refusal of a second publish, and
Discord's limit of ten publishes per channel in a rolling hour, answered 429 like any
other rate limit (a test moves the hour on with FakeDiscord.age_crossposts)."""

from __future__ import annotations

import time
from typing import Any

from ..constants import CROSSPOST_WINDOW, CROSSPOSTED, CROSSPOSTS_PER_WINDOW, NEWS_CHANNEL
from ..errors import ApiError, _RateLimited, missing_permissions
from ..permissions import MANAGE_MESSAGES, SEND_MESSAGES


class AnnouncementRoutesMixin:
    """FakeDiscord's POST /channels/{id}/messages/{id}/crosspost."""

    _crossposts: dict[int, list[tuple[float, int]]]  # channel id -> (time.monotonic(), message id) per publish

    # ----- REST: publishing --------------------------------------------------------------------------------
    async def _crosspost(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        channel, stored = self._channel_message(params)
        if channel.type != NEWS_CHANNEL:
            # Discord's code for publishing outside an announcement channel is not documented: the fake's guess
            raise ApiError(400, 50024, "Cannot execute action on this channel type")
        needed = SEND_MESSAGES if stored.author_id == self.bot_user_id else SEND_MESSAGES | MANAGE_MESSAGES
        if self._permissions(channel, self.bot_user_id) & needed != needed:
            raise missing_permissions()
        if stored.flags & CROSSPOSTED:
            raise ApiError(400, 40033, "This message has already been crossposted")
        now = time.monotonic()
        published = self._crossposts.setdefault(channel.id, [])
        recent = [at for at, _ in published if now - at < CROSSPOST_WINDOW]
        if len(recent) >= CROSSPOSTS_PER_WINDOW:
            # free again when the oldest publish in the window leaves it
            raise _RateLimited(round(min(recent) + CROSSPOST_WINDOW - now, 3), is_global=False)
        published.append((now, stored.id))
        stored.payload["flags"] = stored.flags | CROSSPOSTED
        self._message_event("MESSAGE_UPDATE", stored)
        self._notify()
        return self._readable(stored, self._rest_intents())
