"""Pushes to Discord channels and DMs (sent, edited in place, deleted), with
Discord's answers turned into the core's outcomes.

discord.py waits out 429s itself (per route and globally), so a rate limit
seldom reaches here; when one does, it becomes RateLimited like Telegram's.
"""

from __future__ import annotations

import aiohttp
import discord

from adapters.discord.bridge import NO_PINGS, view_of
from adapters.discord.render import Outgoing, render
from content.delivery.outcomes import Failed, Outcome, RateLimited, Refused, Sent, Unavailable, Vanished
from content.delivery.port import Target, change_parts
from content.messages import Message

UNKNOWN_MESSAGE = 10008  # Discord's JSON error code for a message that is gone


def outcome_of(exc: discord.HTTPException | aiohttp.ClientError | TimeoutError) -> Outcome:
    """What a Discord error says about the job: the pace, the channel, the message, or the network."""
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE:  # a member (or a moderator) deleted it
        return Vanished("Discord: the message to change is gone (10008 Unknown Message)")
    if isinstance(exc, (discord.Forbidden, discord.NotFound)):
        return Refused(f"Discord: {exc.text or exc.status} ({exc.code})")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RateLimited(float(getattr(exc, "retry_after", 1.0) or 1.0))
        if exc.status >= 500:  # discord.py's DiscordServerError, after its own retries of 5xx
            return Unavailable(f"Discord {exc.status}: {exc.text[:200]}")
        return Failed(f"Discord refused the message: {exc.status} {exc.text}", transient=False)
    return Unavailable(f"Discord unreachable: {exc!r}")


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

    def _channel(self, target: Target) -> discord.PartialMessageable:
        # Sending needs only the id: no lookup (a worker process has no
        # gateway cache, and DMs are not cached) costing a request a push.
        # A thread is a channel of its own.
        return self.client.get_partial_messageable(int(target.chat.thread_id or target.chat.chat_id))

    @staticmethod
    def _fields(out: Outgoing) -> dict:
        fields: dict = {"content": out.content, "embeds": out.embeds, "allowed_mentions": NO_PINGS}
        view = view_of(out)
        if view is not None:
            fields["view"] = view
        return fields

    async def send(self, target: Target, message: Message) -> Outcome:
        ids: list[str] = []
        channel = self._channel(target)
        try:
            for out in self._outgoing(message):
                sent = await channel.send(**self._fields(out))
                ids.append(str(sent.id))
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return outcome_of(exc)
        return Sent(tuple(ids))

    async def edit(self, target: Target, message: Message) -> Outcome:
        channel = self._channel(target)
        outs = self._outgoing(message)
        change = change_parts(target.message_ids, len(outs))
        shown: list[str] = []
        try:
            for message_id, index in change.edit:
                # view=None takes the buttons off a part that no longer ends the message.
                fields = {"view": None, **self._fields(outs[index])}
                await channel.get_partial_message(int(message_id)).edit(**fields)
                shown.append(message_id)
            for index in change.send:
                shown.append(str((await channel.send(**self._fields(outs[index]))).id))
            for message_id in change.drop:
                await self._delete_one(channel, message_id)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return outcome_of(exc)
        return Sent(tuple(shown))

    @staticmethod
    async def _delete_one(channel: discord.PartialMessageable, message_id: str) -> None:
        try:
            await channel.get_partial_message(int(message_id)).delete()
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:  # an unknown channel is the chat's problem
                raise

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        # Discord lets a bot delete its own messages at any age: no notice needed.
        channel = self._channel(target)
        try:
            for message_id in target.message_ids:
                await self._delete_one(channel, message_id)
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            return outcome_of(exc)
        return Sent(())
