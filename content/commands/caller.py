"""Who asks, where, as the adapter saw it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from content.chats.access import Missing, PlaceFinder
from content.chats.ref import ChatKind, ChatRef

AdminCheck = Callable[[], Awaitable[bool]]
BotCheck = Callable[[], Awaitable[Missing | None]]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who asks, where, as the adapter saw it.

    `is_admin` says the user is an admin of that chat; an adapter for which
    finding out costs a request passes `admin_check` instead, and the core
    asks only when a command needs the answer. `metered` is False for the
    local console, whose only user is the operator. `places` finds another
    chat named in typed text, where the platform lets a user manage one from
    here (a Telegram private chat); the core decides what they may do there.
    `bot_lacks`, where the platform tells, says what keeps the bot from
    posting in this very chat (a thread it may read but not post in).
    """

    chat: ChatRef
    user_id: str
    is_admin: bool = False
    admin_check: AdminCheck | None = None
    metered: bool = True
    places: PlaceFinder | None = None
    bot_lacks: BotCheck | None = None

    async def may_manage(self) -> bool:
        # In a private chat the user is the chat; elsewhere only its admins decide.
        if self.chat.kind is ChatKind.PRIVATE or self.is_admin:
            return True
        return bool(self.admin_check and await self.admin_check())
