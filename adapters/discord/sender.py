"""Pushes to Discord channels, threads, forums and DMs (sent, edited in place,
deleted), with Discord's answers turned into the core's outcomes.

discord.py waits out short 429s itself (per route and globally); a longer
one raises discord.RateLimited, which becomes RateLimited like Telegram's,
except for a crosspost: past Discord's hourly limit the push stays in its
channel, uncrossposted, and says so.
"""

from __future__ import annotations

import logging
import time

import aiohttp
import discord

from adapters.discord.bridge import NO_PINGS, view_of
from adapters.discord.render import Outgoing, render
from content.chats.ref import PlaceForm
from content.delivery.outcomes import Failed, Outcome, RateLimited, Refused, Sent, Unavailable, Vanished
from content.delivery.port import Target, change_parts
from content.keys import key_of
from content.messages import Message

log = logging.getLogger(__name__)

UNKNOWN_MESSAGE = 10008  # Discord's JSON error code for a message that is gone
UNKNOWN_CHANNEL = 10003
THREAD_ARCHIVED = 50083
# Discord's limits on a forum post: its name, and the tags applied to it.
MAX_POST_NAME = 100
MAX_POST_TAGS = 5
# How long a forum's tags are trusted before they are fetched again.
FORUM_TTL = 300.0
# A withdrawn story's forum post, where the bot may not delete it, is renamed so.
WITHDRAWN_POST = "Withdrawn by the newsroom"
NOT_CROSSPOSTED = (
    "not crossposted: Discord's limit of about 10 publishes per channel per hour was reached; "
    "the push is in the channel"
)

_Errors = (discord.HTTPException, discord.RateLimited, aiohttp.ClientError, TimeoutError)


def outcome_of(exc: Exception, *, in_thread: bool = False, in_post: bool = False) -> Outcome:
    """What a Discord error says about the job: the pace, the channel, the message, or the network.
    `in_thread`: the job's place is a thread; `in_post`: it acts on a forum post of its own."""
    if isinstance(exc, discord.RateLimited):  # a wait longer than the client holds a request for
        return RateLimited(exc.retry_after)
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_MESSAGE:  # a member (or a moderator) deleted it
        return Vanished("Discord: the message to change is gone (10008 Unknown Message)")
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL and in_post:
        # The forum post was deleted: nothing left to change, and the forum goes on.
        return Vanished("Discord: the forum post is gone (10003 Unknown Channel)")
    if isinstance(exc, discord.NotFound) and exc.code == UNKNOWN_CHANNEL and in_thread:
        # The thread was deleted: it alone stops getting pushes.
        return Refused(
            f"Discord: the thread is gone ({exc.code} {exc.text}); it no longer gets pushes", thread_only=True
        )
    if isinstance(exc, (discord.Forbidden, discord.NotFound)):
        return Refused(f"Discord: {exc.text or exc.status} ({exc.code})")
    if isinstance(exc, discord.HTTPException):
        if exc.status == 429:
            return RateLimited(float(getattr(exc, "retry_after", 1.0) or 1.0))
        if exc.status >= 500:  # discord.py's DiscordServerError, after its own retries of 5xx
            return Unavailable(f"Discord {exc.status}: {exc.text[:200]}")
        return Failed(f"Discord refused the message: {exc.status} {exc.text}", transient=False)
    return Unavailable(f"Discord unreachable: {exc!r}")


def post_tags(forum: discord.ForumChannel, labels: tuple[str, ...]) -> list[discord.ForumTag]:
    """The forum's tags whose names are the story's tags by the core's tag key,
    at most Discord's five; where the forum requires a tag and none matches,
    its first one."""
    wanted = {key_of(label) for label in labels}
    tags = [tag for tag in forum.available_tags if key_of(tag.name) in wanted][:MAX_POST_TAGS]
    if not tags and forum.flags.require_tag and forum.available_tags:
        log.info(
            "forum %s requires a tag and none matches %s: applying its first, %r",
            forum.id,
            ", ".join(labels),
            forum.available_tags[0].name,
        )
        tags = [forum.available_tags[0]]
    return tags


def post_name(message: Message) -> str:
    title = " ".join((message.title or "").split()) or "New story"
    return title if len(title) <= MAX_POST_NAME else title[: MAX_POST_NAME - 1].rstrip() + "…"


class DiscordSender:
    platform = "discord"

    def __init__(self, client: discord.Client, clock=time.monotonic) -> None:
        self.client = client
        self._rendered: tuple[Message, list[Outgoing]] | None = None
        self._forums: dict[int, tuple[float, discord.ForumChannel]] = {}
        self._clock = clock

    def _outgoing(self, message: Message) -> list[Outgoing]:
        # A fan-out sends one message to many chats: render it once.
        if self._rendered is None or self._rendered[0] is not message:
            self._rendered = (message, render(message))
        return self._rendered[1]

    def _channel(self, target: Target) -> discord.PartialMessageable:
        # Sending needs only the id: no lookup (a worker process has no
        # gateway cache, and DMs are not cached) costing a request a push.
        # A thread is a channel of its own, and so is a forum post, whose id
        # is its first message's.
        if target.chat.form is PlaceForm.POSTS and target.message_ids:
            return self.client.get_partial_messageable(int(target.message_ids[0]))
        return self.client.get_partial_messageable(int(target.chat.thread_id or target.chat.chat_id))

    async def _forum(self, forum_id: int) -> discord.ForumChannel:
        """The forum with its tags, fetched at most every FORUM_TTL seconds."""
        cached = self._forums.get(forum_id)
        if cached is not None and self._clock() - cached[0] < FORUM_TTL:
            return cached[1]
        forum = await self.client.fetch_channel(forum_id)
        if not isinstance(forum, discord.ForumChannel):
            raise discord.InvalidData(f"channel {forum_id} is no forum any more")
        self._forums[forum_id] = (self._clock(), forum)
        return forum

    @staticmethod
    def _fields(out: Outgoing) -> dict:
        fields: dict = {"content": out.content, "embeds": out.embeds, "allowed_mentions": NO_PINGS}
        view = view_of(out)
        if view is not None:
            fields["view"] = view
        return fields

    def _new(self, out: Outgoing, target: Target) -> dict:
        """A new message's fields: in the place's quiet hours, without a notification."""
        fields = self._fields(out)
        if target.silent:
            fields["silent"] = True
        return fields

    async def send(self, target: Target, message: Message) -> Outcome:
        outs = self._outgoing(message)
        ids: list[str] = []
        note: str | None = None
        try:
            if target.chat.form is PlaceForm.POSTS and target.chat.thread_id is None:
                forum = await self._forum(int(target.chat.chat_id))
                post = await forum.create_thread(
                    name=post_name(message), applied_tags=post_tags(forum, message.labels), **self._new(outs[0], target)
                )
                ids.append(str(post.message.id))
                for out in outs[1:]:
                    ids.append(str((await post.thread.send(**self._new(out, target))).id))
                return Sent(tuple(ids))
            channel = self._channel(target)
            sent = []
            for out in outs:
                sent.append(await channel.send(**self._new(out, target)))
                ids.append(str(sent[-1].id))
            if target.republish and target.chat.form is PlaceForm.ANNOUNCEMENTS:
                note = await self._crosspost(sent)
        except discord.InvalidData as exc:
            return Failed(f"Discord: {exc}", transient=False)
        except _Errors as exc:
            return outcome_of(exc, in_thread=target.chat.thread_id is not None)
        return Sent(tuple(ids), note)

    @staticmethod
    async def _crosspost(sent: list[discord.Message]) -> str | None:
        """Publishes the push to the servers following the channel; past
        Discord's hourly limit it stays where it is, noted, not failed."""
        for part in sent:
            try:
                await part.publish()
            except discord.RateLimited:
                return NOT_CROSSPOSTED
            except discord.HTTPException as exc:
                if exc.status == 429:
                    return NOT_CROSSPOSTED
                return f"not crossposted: Discord answered {exc.status} {exc.text}"
        return None

    async def edit(self, target: Target, message: Message) -> Outcome:
        try:
            try:
                return await self._edit(target, message)
            except discord.HTTPException as exc:
                if exc.code != THREAD_ARCHIVED:
                    raise
            # Discord archives an idle thread or forum post (after a day, by
            # default) and edits nothing in it until it is unarchived.
            thread = await self.client.fetch_channel(int(self._channel(target).id))
            if isinstance(thread, discord.Thread):
                await thread.edit(archived=False)
            return await self._edit(target, message)
        except _Errors as exc:
            return self._outcome(target, exc)

    async def _edit(self, target: Target, message: Message) -> Sent:
        channel = self._channel(target)
        outs = self._outgoing(message)
        change = change_parts(target.message_ids, len(outs))
        shown: list[str] = []
        for message_id, index in change.edit:
            # view=None takes the buttons off a part that no longer ends the message.
            fields = {"view": None, **self._fields(outs[index])}
            await channel.get_partial_message(int(message_id)).edit(**fields)
            shown.append(message_id)
        for index in change.send:
            shown.append(str((await channel.send(**self._fields(outs[index]))).id))
        for message_id in change.drop:
            await self._delete_one(channel, message_id)
        if target.chat.form is PlaceForm.POSTS and shown:
            # A corrected headline renames its post.
            post = await self.client.fetch_channel(int(shown[0]))
            if isinstance(post, discord.Thread) and post.name != post_name(message):
                await post.edit(name=post_name(message))
        return Sent(tuple(shown))

    @staticmethod
    async def _delete_one(channel: discord.PartialMessageable | discord.Thread, message_id: str) -> None:
        try:
            await channel.get_partial_message(int(message_id)).delete()
        except discord.NotFound as exc:
            if exc.code != UNKNOWN_MESSAGE:  # an unknown channel is the chat's problem
                raise

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        # Discord lets a bot delete its own messages at any age: no notice needed.
        if target.chat.form is PlaceForm.POSTS and target.message_ids:
            return await self._withdraw_post(target, notice)
        channel = self._channel(target)
        try:
            for message_id in target.message_ids:
                await self._delete_one(channel, message_id)
        except _Errors as exc:
            return self._outcome(target, exc)
        return Sent(())

    async def _withdraw_post(self, target: Target, notice: Message | None) -> Outcome:
        """A forum post goes whole: deleting only its messages would leave the
        headline standing as the post's name. Without Manage Threads the bot
        may not delete it; it then empties it instead: its first message shows
        `notice`, without the story or its button, the rest go, and the post
        is renamed and archived."""
        post_id = int(target.message_ids[0])
        try:
            post = await self.client.fetch_channel(post_id)
            if not isinstance(post, discord.Thread):
                raise discord.InvalidData(f"channel {post_id} is no forum post")
            try:
                await post.delete()
                return Sent(())
            except discord.Forbidden:
                log.info("no Manage Threads in forum %s: emptying post %s instead", target.chat.chat_id, post_id)
            if post.archived:
                await post.edit(archived=False)
            if notice is not None:
                out = render(notice)[0]
                await post.get_partial_message(post_id).edit(view=None, **self._fields(out))
            for message_id in target.message_ids[1:]:
                await self._delete_one(post, message_id)
            await post.edit(name=WITHDRAWN_POST, archived=True)
        except discord.InvalidData as exc:
            return Failed(f"Discord: {exc}", transient=False)
        except _Errors as exc:
            return self._outcome(target, exc)
        return Sent((str(post_id),))

    @staticmethod
    def _outcome(target: Target, exc: Exception) -> Outcome:
        """An edit's or a delete's error, read for where it acted."""
        return outcome_of(exc, in_thread=target.chat.thread_id is not None, in_post=target.chat.form is PlaceForm.POSTS)
