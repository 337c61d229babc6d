"""The write side of what chats follow (their lifecycle is `content.chats.lifecycle`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from content.chats.lifecycle import ensure_in
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.dialect import insert_for
from content.models import Chat, Subscription


@dataclass(frozen=True, slots=True)
class Change:
    changed: tuple[int, ...]  # tag ids added (or removed)
    unchanged: tuple[int, ...]  # already followed (or not followed)


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
            had = set(
                (await session.execute(select(Subscription.tag_id).where(Subscription.chat_id == chat_id))).scalars()
            )
            new = [t for t in dict.fromkeys(tag_ids) if t not in had]
            if new:
                await session.execute(
                    insert_for(session, Subscription)
                    .values([{"chat_id": chat_id, "tag_id": t} for t in new])
                    .on_conflict_do_nothing(index_elements=["chat_id", "tag_id"])
                )
            return Change(tuple(new), tuple(t for t in dict.fromkeys(tag_ids) if t in had))

    async def unfollow(self, chat: ChatRef, tag_ids: list[int] | None) -> Change:
        """Stop following `tag_ids`, or everything when None."""
        async with self._sessions.begin() as session:
            chat_id = await ensure_in(session, chat)
            had = set(
                (await session.execute(select(Subscription.tag_id).where(Subscription.chat_id == chat_id))).scalars()
            )
            wanted = list(had) if tag_ids is None else list(dict.fromkeys(tag_ids))
            gone = [t for t in wanted if t in had]
            if gone:
                await session.execute(
                    delete(Subscription).where(Subscription.chat_id == chat_id, Subscription.tag_id.in_(gone))
                )
            return Change(tuple(gone), tuple(t for t in wanted if t not in had))
