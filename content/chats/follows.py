"""The write side for chats and what they follow."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.dialect import insert_for
from content.models import Chat, Subscription


@dataclass(frozen=True, slots=True)
class Change:
    changed: tuple[int, ...]  # tag ids added (or removed)
    unchanged: tuple[int, ...]  # already followed (or not followed)


class Subscriptions:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    @staticmethod
    async def _chat_id(session, chat: ChatRef) -> int:  # noqa: ANN001
        # Using the bot again is what brings a deactivated chat back.
        await session.execute(
            insert_for(session, Chat)
            .values(platform=chat.platform, platform_chat_id=chat.chat_id, kind=chat.kind, title=chat.title, active=True)
            .on_conflict_do_nothing(index_elements=["platform", "platform_chat_id"])
        )
        await session.execute(
            update(Chat)
            .where(Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id)
            .values(kind=chat.kind, title=chat.title, active=True)
        )
        query = select(Chat.id).where(Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id)
        return (await session.execute(query)).scalar_one()

    async def reactivate(self, chat: ChatRef) -> None:
        """Mark a known, deactivated chat active again; a read only, in the usual case."""
        where = (Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id)
        async with self._sessions() as session:
            active = (await session.execute(select(Chat.active).where(*where))).scalar_one_or_none()
            if active is False:
                await session.execute(update(Chat).where(*where).values(active=True))
                await session.commit()

    async def deactivate(self, chat: ChatRef) -> None:
        """The platform says the bot may no longer post there (blocked, kicked)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Chat).where(Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id).values(active=False)
            )

    async def follow(self, chat: ChatRef, tag_ids: list[int]) -> Change:
        async with self._sessions.begin() as session:
            chat_id = await self._chat_id(session, chat)
            had = set((await session.execute(select(Subscription.tag_id).where(Subscription.chat_id == chat_id))).scalars())
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
            chat_id = await self._chat_id(session, chat)
            had = set((await session.execute(select(Subscription.tag_id).where(Subscription.chat_id == chat_id))).scalars())
            wanted = list(had) if tag_ids is None else list(dict.fromkeys(tag_ids))
            gone = [t for t in wanted if t in had]
            if gone:
                await session.execute(delete(Subscription).where(Subscription.chat_id == chat_id, Subscription.tag_id.in_(gone)))
            return Change(tuple(gone), tuple(t for t in wanted if t not in had))
