"""The write side of a chat's preferences (what they mean is
`content.chats.preferences`): its time zone, digest and quiet hours, kept on
its row, so they survive restarts and travel with the chat when it moves."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import time

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.lifecycle import ensure_in, place_is
from content.chats.preferences import DEFAULT_ZONE, Digest, DigestEvery, Preferences, Quiet, clock
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.models import Chat

# Called within the transaction that turned digests on or off: the queue's side of it.
DigestScheduler = Callable[[AsyncSession, int, bool], Awaitable[object]]


def _time(value: str | None) -> time | None:
    if not value:
        return None
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def preferences_of(row: Chat) -> Preferences:
    at = _time(row.digest_at)
    digest = None
    if row.digest is not DigestEvery.OFF and at is not None:
        digest = Digest(row.digest, at, row.digest_day)
    start, end = _time(row.quiet_from), _time(row.quiet_until)
    quiet = Quiet(start, end) if start is not None and end is not None else None
    return Preferences(row.time_zone or DEFAULT_ZONE, digest, quiet)


class ChatSettings:
    def __init__(self, sessions: SessionFactory, scheduler: DigestScheduler) -> None:
        self._sessions = sessions
        self._scheduler = scheduler

    async def read(self, chat: ChatRef) -> Preferences:
        """The chat's preferences; a chat the bot does not know yet has the defaults."""
        async with self._sessions() as session:
            row = (await session.execute(select(Chat).where(place_is(chat)))).scalar_one_or_none()
            return preferences_of(row) if row is not None else Preferences()

    async def set_digest(self, chat: ChatRef, digest: Digest | None, zone: str | None = None) -> Preferences:
        """Digests on (or moved to another time) or off; `zone`, when given, is remembered."""
        async with self._sessions.begin() as session:
            chat_id = await ensure_in(session, chat)
            values: dict[str, object] = {
                "digest": digest.every if digest is not None else DigestEvery.OFF,
                "digest_at": clock(digest.at) if digest is not None else None,
                "digest_day": digest.day if digest is not None else None,
            }
            if zone is not None:
                values["time_zone"] = zone
            await session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
            await self._scheduler(session, chat_id, digest is not None)
            row = (await session.execute(select(Chat).where(Chat.id == chat_id))).scalar_one()
            return preferences_of(row)

    async def set_quiet(self, chat: ChatRef, quiet: Quiet | None, zone: str | None = None) -> Preferences:
        async with self._sessions.begin() as session:
            chat_id = await ensure_in(session, chat)
            values: dict[str, object] = {
                "quiet_from": clock(quiet.start) if quiet is not None else None,
                "quiet_until": clock(quiet.end) if quiet is not None else None,
            }
            if zone is not None:
                values["time_zone"] = zone
            await session.execute(update(Chat).where(Chat.id == chat_id).values(**values))
            row = (await session.execute(select(Chat).where(Chat.id == chat_id))).scalar_one()
            if zone is not None and row.digest is not DigestEvery.OFF:
                await self._scheduler(session, chat_id, True)  # the digest's local time, in the new zone
            return preferences_of(row)
