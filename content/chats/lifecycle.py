"""A chat's lifecycle, owned here and nowhere else.

A chat (or a topic or thread within it) becomes known the first time it
follows something; using the bot again brings back a chat that had been
deactivated; the platform saying the bot may no longer post there (blocked,
kicked, access lost) deactivates it with all its threads, keeping what they
follow for when it comes back, and a topic or thread that is closed or
deleted goes alone, coming back only when it is used again; and a platform that gives a chat a new id
(Telegram's supergroup upgrade) moves it there, threads and subscriptions
with it. Command handling, delivery and the adapters' reply paths all go
through these.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.delivery.status import DeliveryStatus, JobKind
from content.dialect import insert_for
from content.models import Chat, Delivery, Subscription, TermFollow

# What a reader set for a chat (content.chats.settings), moved with it.
_SETTINGS = (
    Chat.time_zone,
    Chat.digest,
    Chat.digest_at,
    Chat.digest_day,
    Chat.digest_since,
    Chat.quiet_from,
    Chat.quiet_until,
)
_SETTING_NAMES = tuple(column.key for column in _SETTINGS)


def thread_key(chat: ChatRef) -> str:
    """How the chats table stores a ChatRef's thread: "" for the chat itself."""
    return chat.thread_id or ""


def place_is(chat: ChatRef) -> ColumnElement[bool]:
    """The row of exactly this chat or thread."""
    return whole_chat_is(chat) & (Chat.thread_id == thread_key(chat))


def whole_chat_is(chat: ChatRef) -> ColumnElement[bool]:
    """The rows of the chat and of every thread in it."""
    return (Chat.platform == chat.platform) & (Chat.platform_chat_id == chat.chat_id)


async def ensure_in(session: AsyncSession, chat: ChatRef) -> int:
    """The row id of the chat or thread, creating the row or bringing it up to date (and active)."""
    values = {"kind": chat.kind, "title": chat.title, "form": chat.form, "active": True}
    await session.execute(
        insert_for(session, Chat)
        .values(platform=chat.platform, platform_chat_id=chat.chat_id, thread_id=thread_key(chat), **values)
        .on_conflict_do_nothing(index_elements=["platform", "platform_chat_id", "thread_id"])
    )
    if chat.title is None:
        # A name the platform did not show this time (a topic's, seen only on
        # some of its messages) is not forgotten.
        del values["title"]
    await session.execute(update(Chat).where(place_is(chat)).values(**values))
    return (await session.execute(select(Chat.id).where(place_is(chat)))).scalar_one()


async def deactivate_in(session: AsyncSession, chat: ChatRef) -> list[int]:
    """The bot may no longer post in the chat: it and its threads stop getting
    pushes. Returns their row ids."""
    result = await session.execute(update(Chat).where(whole_chat_is(chat)).values(active=False).returning(Chat.id))
    return list(result.scalars())


async def deactivate_place_in(session: AsyncSession, chat: ChatRef) -> list[int]:
    """The platform says this topic or thread is gone or closed: it alone stops
    getting pushes (the chat and its other threads go on). Returns its row id."""
    result = await session.execute(update(Chat).where(place_is(chat)).values(active=False).returning(Chat.id))
    return list(result.scalars())


async def move_in(session: AsyncSession, chat: ChatRef, new_chat_id: str) -> ChatRef:
    """The chat lives under `new_chat_id` now, and so do its threads.

    Where the bot already knew the place at the new id, that place inherits
    the old one's subscriptions and the old one is deactivated; otherwise the
    rows are renamed. Either way what it followed keeps arriving, at the new id.
    """
    moved = ChatRef(chat.platform, new_chat_id, chat.kind, chat.title, chat.thread_id, chat.form)
    rows = (await session.execute(select(Chat.id, Chat.thread_id).where(whole_chat_is(chat)))).all()
    for row_id, thread in rows:
        there = ChatRef(chat.platform, new_chat_id, chat.kind, thread_id=thread)
        existing = (await session.execute(select(Chat.id).where(place_is(there)))).scalar_one_or_none()
        if existing is None:
            await session.execute(update(Chat).where(Chat.id == row_id).values(platform_chat_id=new_chat_id))
            continue
        followed = select(Subscription.tag_id).where(Subscription.chat_id == row_id)
        for tag_id in (await session.execute(followed)).scalars():
            await session.execute(
                insert_for(session, Subscription).values(chat_id=existing, tag_id=tag_id).on_conflict_do_nothing()
            )
        terms = select(TermFollow.term_id).where(TermFollow.chat_id == row_id)
        for term_id in (await session.execute(terms)).scalars():
            await session.execute(
                insert_for(session, TermFollow).values(chat_id=existing, term_id=term_id).on_conflict_do_nothing()
            )
        # The reader's controls go with it; a digest waiting at the old id follows.
        kept = (await session.execute(select(*_SETTINGS).where(Chat.id == row_id))).one()
        await session.execute(update(Chat).where(Chat.id == existing).values(dict(zip(_SETTING_NAMES, kept))))
        waiting = (Delivery.kind == JobKind.DIGEST) & (Delivery.status == DeliveryStatus.PENDING)
        if (await session.execute(select(Delivery.id).where(Delivery.chat_id == existing, waiting))).first() is None:
            await session.execute(update(Delivery).where(Delivery.chat_id == row_id, waiting).values(chat_id=existing))
        await session.execute(update(Chat).where(Chat.id == row_id).values(active=False))
    return moved


class Chats:
    """The same, each in a transaction of its own, for callers that hold none."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def reactivate(self, chat: ChatRef) -> None:
        """The bot is used in the chat again. A chat the bot had lost comes back
        with its threads; a topic or thread that went alone (closed, deleted)
        comes back only when used itself. A read only, in the usual case."""
        async with self._sessions() as session:
            rows = dict((await session.execute(select(Chat.thread_id, Chat.active).where(whole_chat_is(chat)))).all())
            if all(rows.values()):
                return
            itself = rows.get("")
            # With no row of its own, a chat was lost when every thread of it was.
            lost = itself is False or (itself is None and not any(rows.values()))
            if lost:
                await session.execute(update(Chat).where(whole_chat_is(chat)).values(active=True))
            elif rows.get(thread_key(chat)) is False:
                await session.execute(update(Chat).where(place_is(chat)).values(active=True))
            else:
                return
            await session.commit()

    async def deactivate(self, chat: ChatRef) -> None:
        """The platform says the bot may no longer post there (blocked, kicked)."""
        async with self._sessions.begin() as session:
            await deactivate_in(session, chat)

    async def move(self, chat: ChatRef, new_chat_id: str) -> ChatRef:
        """The platform gave a chat the bot knows a new id (a reply found out)."""
        async with self._sessions.begin() as session:
            return await move_in(session, chat, new_chat_id)
