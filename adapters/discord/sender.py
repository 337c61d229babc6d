"""Pushes to Discord channels and DMs, with Discord's answers turned into the core's outcomes.

discord.py waits out 429s itself (per route and globally), so a rate limit
seldom reaches here; when one does, it becomes RateLimited like Telegram's.
"""
from __future__ import annotations

import aiohttp
import discord

from adapters.discord.bridge import NO_PINGS, view_of
from adapters.discord.render import Outgoing, render
from content.chats.ref import ChatRef
from content.delivery.outcomes import Failed, Outcome, RateLimited, Refused, Sent
from content.messages import Message


class DiscordSender:
    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self._rendered: tuple[Message, list[Outgoing]] | None = None

    def _outgoing(self, message: Message) -> list[Outgoing]:
        # A fan-out sends one message to many chats: render it once.
        if self._rendered is None or self._rendered[0] is not message:
            self._rendered = (message, render(message))
        return self._rendered[1]

    async def send(self, chat: ChatRef, message: Message) -> Outcome:
        first_id: str | None = None
        try:
            # Sending needs only the id: no lookup (a worker process has no
            # gateway cache, and DMs are not cached) costing a request a push.
            channel = self.client.get_partial_messageable(int(chat.chat_id))
            for out in self._outgoing(message):
                kwargs: dict = {"content": out.content, "embeds": out.embeds, "allowed_mentions": NO_PINGS}
                view = view_of(out)
                if view is not None:
                    kwargs["view"] = view
                sent = await channel.send(**kwargs)  # type: ignore[union-attr]
                first_id = first_id or str(sent.id)
        except (discord.Forbidden, discord.NotFound) as exc:
            return Refused(f"Discord: {exc.text or exc.status} ({exc.code})")
        except discord.HTTPException as exc:
            if exc.status == 429:
                return RateLimited(float(getattr(exc, "retry_after", 1.0) or 1.0))
            if exc.status >= 500:
                return Failed(f"Discord {exc.status}: {exc.text}")
            return Failed(f"Discord refused the message: {exc.status} {exc.text}", transient=False)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return Failed(f"Discord unreachable: {exc}")
        return Sent(first_id)
