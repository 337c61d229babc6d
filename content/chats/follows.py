"""The write side of what chats follow: tags and glossary terms (their
lifecycle is `content.chats.lifecycle`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from content.chats.lifecycle import ensure_in
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.dialect import insert_for
from content.models import Chat, Subscription, TermFollow


@dataclass(frozen=True, slots=True)
class Change:
    changed: tuple[int, ...]  # ids added (or removed)
    unchanged: tuple[int, ...]  # already followed (or not followed)


_Table = type[Subscription] | type[TermFollow]


def _followed_by(table: _Table) -> InstrumentedAttribute[int]:
    return Subscription.tag_id if table is Subscription else TermFollow.term_id


async def _had(session: AsyncSession, table: _Table, chat_id: int) -> set[int]:
    column = _followed_by(table)
    return set((await session.execute(select(column).where(table.chat_id == chat_id))).scalars())


async def _add(session: AsyncSession, table: _Table, chat_id: int, ids: list[int]) -> Change:
    had = await _had(session, table, chat_id)
    wanted = list(dict.fromkeys(ids))
    new = [i for i in wanted if i not in had]
    if new:
        name = _followed_by(table).key
        await session.execute(
            insert_for(session, table)
            .values([{"chat_id": chat_id, name: i} for i in new])
            .on_conflict_do_nothing(index_elements=["chat_id", name])
        )
    return Change(tuple(new), tuple(i for i in wanted if i in had))


async def _remove(session: AsyncSession, table: _Table, chat_id: int, ids: list[int] | None) -> Change:
    had = await _had(session, table, chat_id)
    wanted = list(had) if ids is None else list(dict.fromkeys(ids))
    gone = [i for i in wanted if i in had]
    if gone:
        await session.execute(delete(table).where(table.chat_id == chat_id, _followed_by(table).in_(gone)))
    return Change(tuple(gone), tuple(i for i in wanted if i not in had))


class Follows:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def follow(self, chat: ChatRef, tag_ids: list[int], republish: bool | None = None) -> Change:
        """Follow `tag_ids`; `republish` True or False also turns the place's
        republishing of its pushes on or off (None leaves it)."""
        async with self._sessions.begin() as session:
            chat_id = await ensure_in(session, chat)
            if republish is not None:
                await session.execute(update(Chat).where(Chat.id == chat_id).values(republish=republish))
            return await _add(session, Subscription, chat_id, tag_ids)

    async def unfollow(self, chat: ChatRef, tag_ids: list[int] | None) -> Change:
        """Stop following `tag_ids`, or everything when None."""
        async with self._sessions.begin() as session:
            return await _remove(session, Subscription, await ensure_in(session, chat), tag_ids)

    async def follow_terms(self, chat: ChatRef, term_ids: list[int]) -> Change:
        async with self._sessions.begin() as session:
            return await _add(session, TermFollow, await ensure_in(session, chat), term_ids)

    async def unfollow_terms(self, chat: ChatRef, term_ids: list[int]) -> Change:
        async with self._sessions.begin() as session:
            return await _remove(session, TermFollow, await ensure_in(session, chat), term_ids)
