"""The world the fake keeps, as plain dataclasses: users, roles, members, permission
overwrites, channels (threads and forums among them), guilds, the stored messages
(the bot's, with who may see an ephemeral one, and those members posted) and
interactions with everything the bot did to answer them. The server and its mixins
own the dictionaries that hold them; how they look on the wire is in payloads.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .constants import THREAD_TYPES
from .helpers import _now_iso


@dataclass
class _User:
    id: int
    name: str
    bot: bool = False
    accepts_dms: bool = True

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "username": self.name,
            "global_name": None if self.bot else self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "system": False,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
        }


@dataclass
class _Role:
    id: int
    name: str
    permissions: int
    position: int

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
            "description": None,
        }


@dataclass
class _Member:
    user_id: int
    roles: list[int]
    joined_at: str = field(default_factory=_now_iso)


@dataclass
class _Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int
    deny: int

    def json(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class _Channel:
    """A DM, a guild channel or a thread; the fields past `recipient_id` belong to some types only."""

    id: int
    guild_id: int | None
    name: str
    type: int
    position: int = 0
    overwrites: dict[tuple[int, int], _Overwrite] = field(default_factory=dict)  # (type, id) -> overwrite
    recipient_id: int | None = None  # DMs
    flags: int = 0  # REQUIRE_TAG on a forum, PINNED on a post
    last_message_id: int | None = None  # in a forum: its newest post
    # forums: tag id -> name, in the order the forum lists them
    tags: dict[int, str] = field(default_factory=dict)
    # threads (a thread has no overwrites of its own: its permissions are its parent's)
    parent_id: int | None = None
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    archive_timestamp: str = field(default_factory=_now_iso)
    created_at: str = field(default_factory=_now_iso)
    members: dict[int, str] = field(default_factory=dict)  # user id -> when they joined; a private thread's viewers
    applied_tags: list[int] = field(default_factory=list)  # a forum post's tags
    message_count: int = 0  # Discord counts neither the starter message of a post nor deleted ones
    total_message_sent: int = 0

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, _Role] = field(default_factory=dict)
    members: dict[int, _Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    thread_ids: list[int] = field(default_factory=list)  # threads live apart: GUILD_CREATE lists them apart
    joined_at: str = field(default_factory=_now_iso)


@dataclass
class _StoredMessage:
    payload: dict[str, Any]  # the message object as Discord returns it (to whom may read its content)
    allowed_mentions: dict[str, Any] | None
    interaction_id: str | None = None
    visible_to: int | None = None  # the one user who sees an ephemeral message
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def flags(self) -> int:
        return self.payload.get("flags", 0)

    @property
    def author_id(self) -> int:
        return int(self.payload["author"]["id"])


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    dispatched_at: float
    name: str | None = None  # the command's name, for interaction_metadata
    command_type: int | None = None
    source_message_id: int | None = None  # the message a component or modal came from
    focused_type: int | None = None  # the option type being autocompleted
    callback_type: int | None = None
    original_message_id: int | None = None
    loading: bool = False  # deferred with a "thinking" message not yet replaced
    message_ids: list[int] = field(default_factory=list)  # original and followups
    responses: list[dict[str, Any]] = field(default_factory=list)
    modal: dict[str, Any] | None = None
