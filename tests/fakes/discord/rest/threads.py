"""Threads and forum posts: creating a post in a forum (a public thread whose starter
message shares its id) or a thread without a message in a text or announcement
channel, editing a thread (archiving, locking, renaming, retagging), deleting a
channel or a thread, and the internals every thread path shares: opening one, the
THREAD_* events only those who can see a thread get, what an archived or locked
thread refuses, and unarchiving one when a message arrives."""

from __future__ import annotations

import copy
from typing import Any

from ..constants import (
    ANNOUNCEMENT_THREAD,
    DEFAULT_MESSAGE,
    EPHEMERAL,
    FORUM_CHANNEL,
    GUILDS_INTENT,
    MESSAGE_FLAGS_ON_CREATE,
    NEWS_CHANNEL,
    PINNED,
    PRIVATE_THREAD,
    PUBLIC_THREAD,
    REQUIRE_TAG,
    TEXT_CHANNEL,
)
from ..errors import ApiError, FormErrors, missing_permissions
from ..helpers import _Answer, _now_iso
from ..permissions import (
    ATTACH_FILES,
    CREATE_PRIVATE_THREADS,
    CREATE_PUBLIC_THREADS,
    EMBED_LINKS,
    MANAGE_CHANNELS,
    MANAGE_THREADS,
    SEND_MESSAGES,
    VIEW_CHANNEL,
)
from ..state import _Channel
from ..validation import _check_dict, check_applied_tags, check_message, check_thread_fields


def thread_archived() -> ApiError:
    return ApiError(400, 50083, "Thread is archived")


def thread_locked() -> ApiError:
    # 160005 is Discord's documented code; the status is the fake's guess
    return ApiError(400, 160005, "Thread is locked")


def tag_required() -> ApiError:
    return ApiError(400, 40067, "A tag is required to create a forum post in this channel")


class ThreadRoutesMixin:
    """FakeDiscord's /channels/{id}/threads routes, PATCH and DELETE /channels/{id}, and its thread internals."""

    # ----- REST: threads and forum posts --------------------------------------------------------------------
    async def _post_thread(self, params: dict[str, str], body: Any, files: list[dict[str, Any]], **_: Any) -> _Answer:
        channel = self._channel_for_bot(params)
        errors = FormErrors()
        if not _check_dict(body, errors, ()):
            errors.raise_if_any()
        if channel.type == FORUM_CHANNEL:
            return self._forum_post(channel, body, files)
        if channel.type in (TEXT_CHANNEL, NEWS_CHANNEL):
            return self._thread_without_message(channel, body)
        raise ApiError(400, 50024, "Cannot execute action on this channel type")

    def _forum_post(self, forum: _Channel, body: dict[str, Any], files: list[dict[str, Any]]) -> _Answer:
        """POST /channels/{forum}/threads: discord.py's ForumChannel.create_thread sends JSON, or multipart with
        payload_json when it uploads files, {name, auto_archive_duration, rate_limit_per_user, type: 11,
        applied_tags?, message: {content, embeds, components, allowed_mentions, flags, attachments...}}."""
        message = body.get("message")
        needed = SEND_MESSAGES  # what Discord's client calls "Create Posts"
        if isinstance(message, dict) and message.get("embeds"):
            needed |= EMBED_LINKS
        if files:
            needed |= ATTACH_FILES
        if self._permissions(forum, self.bot_user_id) & needed != needed:
            raise missing_permissions()
        errors = FormErrors()
        check_thread_fields(body, errors, creating=True)
        if message is None:
            errors.add(("message",), "BASE_TYPE_REQUIRED", "This field is required")
        else:
            check_message(message, errors, ("message",))
        tags = check_applied_tags(body.get("applied_tags"), forum.tags, errors)
        errors.raise_if_any()
        if forum.flags & REQUIRE_TAG and not tags:
            raise tag_required()
        thread_id = self._ids.next()
        thread = _Channel(
            thread_id,
            forum.guild_id,
            body["name"],
            PUBLIC_THREAD,
            parent_id=forum.id,
            owner_id=self.bot_user_id,
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
            members={self.bot_user_id: _now_iso()},
            applied_tags=tags,
        )
        flags = (message.get("flags") or 0) & (MESSAGE_FLAGS_ON_CREATE & ~EPHEMERAL)
        # the starter message takes the thread's id; composed first so that an empty one creates no thread
        starter = self._compose(thread, message, files, flags=flags, kind=DEFAULT_MESSAGE, message_id=thread_id)
        self._open_thread(thread)
        self._keep(starter)
        forum.last_message_id = thread_id
        self._posts.setdefault(forum.id, []).append(thread_id)
        return _Answer(201, self._channel_json(thread) | {"message": copy.deepcopy(starter.payload)})

    def _thread_without_message(self, parent: _Channel, body: dict[str, Any]) -> _Answer:
        """POST /channels/{channel}/threads in a text or announcement channel (TextChannel.create_thread
        without a message): public, announcement or private, by the body's type."""
        default = ANNOUNCEMENT_THREAD if parent.type == NEWS_CHANNEL else PRIVATE_THREAD  # v9's default
        kind = body.get("type", default)
        allowed = (ANNOUNCEMENT_THREAD,) if parent.type == NEWS_CHANNEL else (PUBLIC_THREAD, PRIVATE_THREAD)
        errors = FormErrors()
        check_thread_fields(body, errors, creating=True)
        if kind not in allowed:
            errors.add(("type",), "BASE_TYPE_CHOICES", f"Value must be one of {allowed}.")
        errors.raise_if_any()
        needed = CREATE_PRIVATE_THREADS if kind == PRIVATE_THREAD else CREATE_PUBLIC_THREADS
        if not self._permissions(parent, self.bot_user_id) & needed:
            raise missing_permissions()
        thread = _Channel(
            self._ids.next(),
            parent.guild_id,
            body["name"],
            kind,
            parent_id=parent.id,
            owner_id=self.bot_user_id,
            auto_archive_duration=body.get("auto_archive_duration") or 1440,
            members={self.bot_user_id: _now_iso()},
        )
        self._open_thread(thread)
        return _Answer(201, self._channel_json(thread))

    async def _patch_channel(self, params: dict[str, str], body: Any, **_: Any) -> dict[str, Any]:
        channel = self._channel_for_bot(params)
        if not channel.is_thread:
            raise ApiError(400, 0, "The fake edits threads only (PATCH /channels/{id} of a thread)")
        errors = FormErrors()
        if not _check_dict(body, errors, ()):
            errors.raise_if_any()
        self._edit_thread(channel, body)
        return self._channel_json(channel)

    def _edit_thread(self, thread: _Channel, body: dict[str, Any]) -> None:
        """Discord's rules: name, archived and auto_archive_duration are the creator's or a moderator's
        (Manage Threads) to change, locked and slowmode a moderator's; an archived thread takes nothing but
        being unarchived, a locked one nothing from a non-moderator, who may not unarchive it either."""
        permissions = self._permissions(thread, self.bot_user_id)
        moderator = bool(permissions & MANAGE_THREADS)
        creator_or_moderator = moderator or thread.owner_id == self.bot_user_id
        parent = self._channels[thread.parent_id]  # type: ignore[index]
        unarchiving = thread.archived and body.get("archived") is False
        if thread.archived and not unarchiving:
            raise thread_archived()
        if thread.locked and not moderator and (unarchiving or set(body) - {"archived"}):
            raise thread_locked()
        if unarchiving and self.bot_user_id not in thread.members and not moderator:
            raise missing_permissions()
        if any(key in body for key in ("name", "auto_archive_duration", "applied_tags")) and not creator_or_moderator:
            raise missing_permissions()
        if "archived" in body and not unarchiving and not creator_or_moderator:
            raise missing_permissions()
        if any(key in body for key in ("locked", "rate_limit_per_user", "flags")) and not moderator:
            raise missing_permissions()
        errors = FormErrors()
        check_thread_fields(body, errors, creating=False)
        tags = None
        if "applied_tags" in body:
            if parent.type != FORUM_CHANNEL:
                errors.add(("applied_tags",), "BASE_TYPE_BAD_VALUE", "Only forum posts have tags")
            else:
                tags = check_applied_tags(body["applied_tags"], parent.tags, errors)
        if body.get("flags") is not None and (
            not isinstance(body["flags"], int) or body["flags"] & ~PINNED or parent.type != FORUM_CHANNEL
        ):
            errors.add(("flags",), "BASE_TYPE_BAD_VALUE", "Only PINNED can be set, on forum posts")
        errors.raise_if_any()
        if tags is not None and parent.flags & REQUIRE_TAG and not tags:
            raise tag_required()
        if "name" in body:
            thread.name = body["name"]
        if tags is not None:
            thread.applied_tags = tags
        if body.get("flags") is not None:
            thread.flags = body["flags"]
        if "locked" in body:
            thread.locked = bool(body["locked"])
        if body.get("auto_archive_duration") is not None:
            thread.auto_archive_duration = body["auto_archive_duration"]
            thread.archive_timestamp = _now_iso()
        if "archived" in body and bool(body["archived"]) != thread.archived:
            thread.archived = bool(body["archived"])
            thread.archive_timestamp = _now_iso()
        self._thread_event("THREAD_UPDATE", thread)

    async def _delete_channel(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        channel = self._channel_for_bot(params)
        if channel.guild_id is None:
            raise ApiError(400, 50003, "Cannot execute action on a DM channel")
        needed = MANAGE_THREADS if channel.is_thread else MANAGE_CHANNELS
        if not self._permissions(channel, self.bot_user_id) & needed:
            raise missing_permissions()
        data = self._channel_json(channel)
        self._remove_channel(channel)
        return data

    # ----- threads, inside -----------------------------------------------------------------------------------
    def _open_thread(self, thread: _Channel) -> None:
        """Puts a new thread into the world; a bot that can see it gets THREAD_CREATE (newly_created)."""
        self._channels[thread.id] = thread
        self._guilds[thread.guild_id].thread_ids.append(thread.id)  # type: ignore[index]
        if not thread.archived:
            self._thread_event("THREAD_CREATE", thread, newly_created=True)

    def _thread_event(self, event: str, thread: _Channel, *, newly_created: bool = False) -> None:
        """Discord tells a bot of a thread only if the bot can see it."""
        if not self._permissions(thread, self.bot_user_id) & VIEW_CHANNEL:
            return
        data = self._channel_json(thread)
        if newly_created:
            data["newly_created"] = True
        self._dispatch_to_guild(thread.guild_id, event, data, GUILDS_INTENT)

    def _check_thread_open(self, channel: _Channel, permissions: int) -> None:
        """Posting into a thread: a locked one takes messages from moderators only; an archived one is
        unarchived by the message (see _after_post), unless it is locked."""
        if channel.is_thread and channel.locked and not permissions & MANAGE_THREADS:
            raise thread_archived() if channel.archived else thread_locked()

    def _check_thread_editable(self, channel: _Channel, permissions: int) -> None:
        """Editing a message in a thread: never while it is archived, in a locked one only as a moderator."""
        if not channel.is_thread:
            return
        if channel.archived:
            raise thread_archived()
        if channel.locked and not permissions & MANAGE_THREADS:
            raise thread_locked()

    def _after_post(self, channel: _Channel, user_id: int) -> None:
        """A message in a thread makes its author a member of it and unarchives it, as on Discord."""
        if not channel.is_thread:
            return
        channel.members.setdefault(user_id, _now_iso())
        if channel.archived:
            channel.archived = False
            channel.archive_timestamp = _now_iso()
            self._thread_event("THREAD_UPDATE", channel)

    def _remove_channel(self, channel: _Channel) -> None:
        """Deletes a channel (with its threads) or a thread: every later request on it is 404 Unknown Channel.
        The bot gets CHANNEL_DELETE, or THREAD_DELETE for a thread it could see."""
        guild = self._guilds[channel.guild_id]  # type: ignore[index]
        if channel.is_thread:
            visible = bool(self._permissions(channel, self.bot_user_id) & VIEW_CHANNEL)
            event = "THREAD_DELETE" if visible else None
            data: dict[str, Any] = {
                "id": str(channel.id),
                "guild_id": str(guild.id),
                "parent_id": str(channel.parent_id),
                "type": channel.type,
            }
            doomed = [channel]
        else:
            event, data = "CHANNEL_DELETE", self._channel_json(channel)
            # Discord deletes a channel's threads with it; discord.py drops them on CHANNEL_DELETE by itself
            doomed = [channel] + [
                self._channels[t] for t in guild.thread_ids if self._channels[t].parent_id == channel.id
            ]
        gone = {c.id for c in doomed}
        for c in doomed:
            del self._channels[c.id]
        guild.channel_ids[:] = [c for c in guild.channel_ids if c not in gone]
        guild.thread_ids[:] = [t for t in guild.thread_ids if t not in gone]
        for stored in self._messages.values():
            if stored.channel_id in gone:
                stored.deleted = True
        if event is not None:
            self._dispatch_to_guild(guild.id, event, data, GUILDS_INTENT)
        self._notify()
