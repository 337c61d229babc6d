"""Digests as work of the delivery queue: one row per chat in digest mode,
due at its next digest time, claimed and leased as sends are.

A chat has at most one digest waiting (a partial unique index). The row
that goes out schedules the next one when it is recorded, in the same
transaction; a digest due while the bot was down is one row, sent once when
it is back, with everything that accumulated. Turning digests off makes the
waiting row due at once, so what accumulated is not lost, and schedules no
next one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.preferences import DigestEvery, next_digest_after
from content.chats.settings import preferences_of
from content.delivery.status import DeliveryStatus, JobKind
from content.dialect import insert_for
from content.models import DIGEST_WAITING, Chat, Delivery, utcnow


async def schedule_in(session: AsyncSession, chat_id: int, now: datetime | None = None) -> datetime | None:
    """Queues the chat's next digest at its next due time, or moves the one
    waiting there; None when the chat is not in digest mode."""
    now = now or utcnow()
    row = (await session.execute(select(Chat).where(Chat.id == chat_id))).scalar_one()
    prefs = preferences_of(row)
    if prefs.digest is None:
        return None
    due = next_digest_after(prefs.digest, prefs.zone, now)
    moved = await session.execute(
        update(Delivery)
        .where(
            Delivery.chat_id == chat_id,
            Delivery.kind == JobKind.DIGEST,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=due)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        await session.execute(
            insert_for(session, Delivery)
            .values(
                kind=JobKind.DIGEST,
                story_id=None,
                chat_id=chat_id,
                platform=row.platform,
                status=DeliveryStatus.PENDING,
                attempts=0,
                next_attempt_at=due,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["chat_id"], index_where=DIGEST_WAITING)
        )
    if row.digest_since is None:
        # Covered from now on: a chat switching to digests has had every story until now.
        await session.execute(update(Chat).where(Chat.id == chat_id).values(digest_since=now))
    return due


async def release_in(session: AsyncSession, chat_id: int, now: datetime | None = None) -> int:
    """Digests off: the waiting digest goes out at once with what accumulated."""
    result = await session.execute(
        update(Delivery)
        .where(
            Delivery.chat_id == chat_id,
            Delivery.kind == JobKind.DIGEST,
            Delivery.status == DeliveryStatus.PENDING,
        )
        .values(next_attempt_at=now or utcnow())
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


async def covered_in(session: AsyncSession, chat_id: int, until: datetime) -> None:
    """A digest covering the stories until `until` is done (sent, or there was
    nothing): the next one starts there, and is queued if the chat still wants one."""
    await session.execute(update(Chat).where(Chat.id == chat_id).values(digest_since=until))
    digest = (await session.execute(select(Chat.digest).where(Chat.id == chat_id))).scalar_one_or_none()
    if digest is not None and digest is not DigestEvery.OFF:
        await schedule_in(session, chat_id, until)


async def rescheduled_in(session: AsyncSession, chat_id: int, on: bool) -> None:
    """What the queue does when a chat turns digests on (or moves them) or off."""
    if on:
        await schedule_in(session, chat_id)
    else:
        await release_in(session, chat_id)
