"""A chat's lifecycle, owned here and nowhere else.

A chat becomes known the first time it follows something; using the bot again
brings back a chat that had been deactivated; the platform saying the bot may
no longer post there (blocked, kicked, access lost) deactivates it, keeping its
subscriptions for when it comes back; and a platform that gives a chat a new id
(Telegram's supergroup upgrade) moves it there with its subscriptions. Command
handling, delivery and the adapters' reply paths all go through these.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.dialect import insert_for
from content.models import Chat, Subscription


def _named(chat: ChatRef):  # noqa: ANN202 - a SQL condition
    return (Chat.platform == chat.platform) & (Chat.platform_chat_id == chat.chat_id)


async def ensure_in(session: AsyncSession, chat: ChatRef) -> int:
    """The chat's row id, creating the row or bringing it up to date (and active)."""
    await session.execute(
        insert_for(session, Chat)
        .values(platform=chat.platform, platform_chat_id=chat.chat_id, kind=chat.kind, title=chat.title, active=True)
        .on_conflict_do_nothing(index_elements=["platform", "platform_chat_id"])
    )
    await session.execute(update(Chat).where(_named(chat)).values(kind=chat.kind, title=chat.title, active=True))
    return (await session.execute(select(Chat.id).where(_named(chat)))).scalar_one()


async def deactivate_in(session: AsyncSession, chat_row_id: int) -> None:
    await session.execute(update(Chat).where(Chat.id == chat_row_id).values(active=False))


async def move_in(session: AsyncSession, chat_row_id: int, chat: ChatRef, new_chat_id: str) -> ChatRef:
    """The chat (row `chat_row_id`, named `chat`) lives under `new_chat_id` now.

    When the bot already knew a chat of that id, that chat inherits the old
    one's subscriptions and the old one is deactivated; otherwise the row is
    renamed. Either way what it followed keeps arriving, at the new id.
    """
    existing = (
        await session.execute(select(Chat.id).where(_named(ChatRef(chat.platform, new_chat_id, chat.kind))))
    ).scalar_one_or_none()
    if existing is None:
        await session.execute(update(Chat).where(Chat.id == chat_row_id).values(platform_chat_id=new_chat_id))
    else:
        followed = select(Subscription.tag_id).where(Subscription.chat_id == chat_row_id)
        for tag_id in (await session.execute(followed)).scalars():
            await session.execute(
                insert_for(session, Subscription).values(chat_id=existing, tag_id=tag_id).on_conflict_do_nothing()
            )
        await deactivate_in(session, chat_row_id)
    return ChatRef(chat.platform, new_chat_id, chat.kind, chat.title)


class Chats:
    """The same, each in a transaction of its own, for callers that hold none."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def reactivate(self, chat: ChatRef) -> None:
        """Mark a known, deactivated chat active again; a read only, in the usual case."""
        async with self._sessions() as session:
            active = (await session.execute(select(Chat.active).where(_named(chat)))).scalar_one_or_none()
            if active is False:
                await session.execute(update(Chat).where(_named(chat)).values(active=True))
                await session.commit()

    async def deactivate(self, chat: ChatRef) -> None:
        """The platform says the bot may no longer post there (blocked, kicked)."""
        async with self._sessions.begin() as session:
            await session.execute(update(Chat).where(_named(chat)).values(active=False))

    async def move(self, chat: ChatRef, new_chat_id: str) -> ChatRef:
        """The platform gave a chat the bot knows a new id (a reply found out)."""
        async with self._sessions.begin() as session:
            row_id = (await session.execute(select(Chat.id).where(_named(chat)))).scalar_one_or_none()
            if row_id is None:  # never followed anything: nothing to carry over
                return ChatRef(chat.platform, new_chat_id, chat.kind, chat.title)
            return await move_in(session, row_id, chat, new_chat_id)
