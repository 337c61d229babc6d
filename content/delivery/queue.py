"""The delivery queue: claims with a lease, renewals, and what each outcome records.

Rows are claimed with a lease: a worker that dies leaves them to be claimed
again when the lease runs out, so nothing is lost, and at most the messages
in flight at the crash are sent twice. On PostgreSQL the claim skips rows
another worker holds (FOR UPDATE SKIP LOCKED), so several workers never send
the same row.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, or_, select, update

from content.chats.lifecycle import deactivate_in, move_in
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.delivery.status import UNFINISHED, DeliveryStatus
from content.dialect import is_postgres
from content.models import Chat, Delivery, utcnow


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    story_id: int
    chat_id: int
    chat: ChatRef
    attempts: int
    created_at: datetime



class DeliveryQueue:
    """`share` = (k, n): this process sends to the chats whose id is k modulo n.

    Several worker processes share a bot's rate limits by splitting its chats:
    each keeps 1/n of the overall rate, and a chat's per-chat and per-group
    limits are kept by the one process that ever sends to it. SKIP LOCKED
    still keeps two processes from taking one row should the shares overlap.
    """

    def __init__(self, sessions: SessionFactory, lease_seconds: float = 30.0, share: tuple[int, int] = (0, 1)) -> None:
        self._sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.share = share

    def picks(self, platform: str, now: datetime, *, postgres: bool) -> tuple[Select, Select]:
        """What a claim takes, in order: rows whose worker died (they have
        waited longest), then pending rows, oldest first. Each is an ordered
        range of ix_deliveries_due, so a claim reads its batch and not the
        whole fan-out."""
        picks = (
            select(Delivery.id)
            .where(Delivery.platform == platform, Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
            .order_by(Delivery.next_attempt_at, Delivery.id),
            select(Delivery.id)
            .where(Delivery.platform == platform, Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at, Delivery.id),
        )
        index, count = self.share
        if count > 1:
            picks = tuple(pick.where(Delivery.chat_id % count == index) for pick in picks)
        if postgres:
            picks = tuple(pick.with_for_update(skip_locked=True) for pick in picks)
        return picks  # type: ignore[return-value]

    async def claim(self, platform: str, limit: int) -> list[Claimed]:
        now = utcnow()
        due = or_(
            and_(Delivery.status == DeliveryStatus.PENDING, Delivery.next_attempt_at <= now),
            and_(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now),  # its worker died
        )
        async with self._sessions.begin() as session:
            ids: list[int] = []
            for pick in self.picks(platform, now, postgres=is_postgres(session)):
                ids += (await session.execute(pick.limit(limit - len(ids)))).scalars()
                if len(ids) >= limit:
                    break
            if not ids:
                return []
            # The `due` test again: between the pick and the update another
            # worker (SQLite has no row locks) may have taken a row.
            taken = await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), due)
                .values(status=DeliveryStatus.SENDING, lease_until=now + self.lease, attempts=Delivery.attempts + 1)
                .returning(Delivery.id)
            )
            ids = list(taken.scalars())
            rows = await session.execute(
                select(Delivery.id, Delivery.story_id, Delivery.chat_id, Delivery.attempts, Delivery.created_at,
                       Chat.platform, Chat.platform_chat_id, Chat.kind, Chat.title)
                .join(Chat, Chat.id == Delivery.chat_id)
                .where(Delivery.id.in_(ids))
                .order_by(Delivery.id)
            )
            return [
                Claimed(r.id, r.story_id, r.chat_id, ChatRef(r.platform, r.platform_chat_id, r.kind, r.title), r.attempts, r.created_at)
                for r in rows.all()
            ]

    async def renew(self, ids: list[int]) -> None:
        """Extend the lease of rows still being worked on, so nobody else takes them."""
        if not ids:
            return
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
                .values(lease_until=utcnow() + self.lease)
            )

    async def sent_many(self, done: list[tuple[int, str | None]]) -> None:
        """Record many sends in one transaction (one statement, executed per row)."""
        if not done:
            return
        statement = (
            update(Delivery.__table__)
            .where(Delivery.__table__.c.id == bindparam("delivery_id"))
            .values(status=DeliveryStatus.SENT, platform_message_id=bindparam("message_id"), sent_at=utcnow(), lease_until=None, last_error=None)
        )
        async with self._sessions.begin() as session:
            await session.execute(statement, [{"delivery_id": i, "message_id": m} for i, m in done])

    async def later(self, item: Claimed, delay: float, error: str | None, *, count_attempt: bool = True) -> None:
        values: dict = {"status": DeliveryStatus.PENDING, "next_attempt_at": utcnow() + timedelta(seconds=delay), "lease_until": None}
        if error is not None:
            values["last_error"] = error[:2000]
        if not count_attempt:  # a 429 is the platform's pace, not a failure of this message
            values["attempts"] = Delivery.attempts - 1
        await self._set(item.id, **values)

    async def failed(self, item: Claimed, error: str) -> None:
        await self._set(item.id, status=DeliveryStatus.FAILED, last_error=error[:2000], lease_until=None)

    async def refused(self, item: Claimed, reason: str) -> None:
        """The chat is gone for the bot: deactivate it and skip everything pending for it."""
        async with self._sessions.begin() as session:
            await deactivate_in(session, item.chat_id)
            await session.execute(
                update(Delivery)
                .where(Delivery.chat_id == item.chat_id, Delivery.status.in_(UNFINISHED))
                .values(status=DeliveryStatus.SKIPPED, last_error=reason[:2000], lease_until=None)
            )

    async def moved(self, item: Claimed, new_chat_id: str) -> Claimed:
        """The chat has a new id: it keeps its subscriptions there; the row now points to it."""
        async with self._sessions.begin() as session:
            chat = await move_in(session, item.chat_id, item.chat, new_chat_id)
        return Claimed(item.id, item.story_id, item.chat_id, chat, item.attempts, item.created_at)

    async def _set(self, delivery_id: int, **values) -> None:  # noqa: ANN003
        async with self._sessions.begin() as session:
            await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))

