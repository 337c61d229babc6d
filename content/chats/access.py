"""Another chat than the one asking, as the platform showed it to the adapter.

A caller may name another chat to manage (a channel named from a Telegram
private chat, a `channel` option on Discord). Adapters report what they
found, in these terms; the core decides from them what is allowed and says
why not (`content.commands.places`). Facts that cost the platform a request
are async callables, asked only when a decision needs them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from content.chats.ref import ChatRef


class Problem(StrEnum):
    """Why a name leads to no chat the caller could manage."""

    NOT_FOUND = "not found"
    PERSON = "person"  # a user's private chat, which nobody else manages
    OTHER_SERVER = "other server"  # a channel outside the server the command came from
    WRONG_KIND = "wrong kind"  # a kind of channel that takes no subscriptions (voice, forum, ...)


class Lack(StrEnum):
    """What keeps the bot from posting in a chat."""

    MEMBERSHIP = "membership"  # it is not in the chat
    ADMIN = "admin"  # only admins post in a channel, and it is none
    POST_RIGHT = "post right"  # an admin of a channel without the right to post messages
    SEND_RIGHT = "send right"  # a member restricted from sending messages
    PERMISSION = "permission"  # a permission the platform names (Missing.permission)


@dataclass(frozen=True, slots=True)
class Missing:
    lack: Lack
    permission: str | None = None  # the platform's own name of it, for Lack.PERMISSION


@dataclass(frozen=True, slots=True)
class Place:
    """A chat the caller named, found.

    `shown` is how answers name it (`@newsroomchan`, `#announcements`).
    `caller_is_admin` answers None when the bot cannot see who its admins
    are; `bot_lacks` answers None when the bot can post there. `admin_right`
    is the permission that makes one its admin, on platforms that have one.
    """

    chat: ChatRef
    shown: str
    caller_is_admin: Callable[[], Awaitable[bool | None]]
    bot_lacks: Callable[[], Awaitable[Missing | None]]
    admin_right: str | None = None


@dataclass(frozen=True, slots=True)
class NoPlace:
    """A name that leads to no chat the caller could manage, and why."""

    problem: Problem
    named: str  # as the caller gave it, or as the platform shows that chat


class PlaceFinder(Protocol):
    """How an adapter finds a chat named in typed text."""

    def could_name(self, word: str) -> bool:
        """Whether `word` is spelled like a chat's name on this platform (no request made)."""

    async def find(self, word: str) -> Place | NoPlace: ...
