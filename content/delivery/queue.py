"""The delivery queue: jobs claimed with a lease, renewed while worked on, and
what each outcome records.

Rows are claimed with a lease: a worker that dies leaves them to be claimed
again when the lease runs out, so nothing is lost, and at most the messages
in flight at the crash are sent twice. On PostgreSQL the claim skips rows
another worker holds (FOR UPDATE SKIP LOCKED), so several workers never take
the same row. An edit or a delete is claimed only once the send it acts on is
done and after every earlier job on that send, so a chat sees a story's
changes in the order they were made.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Select,
    Table,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from content.chats.lifecycle import deactivate_in, deactivate_place_in, move_in
from content.chats.preferences import DEFAULT_ZONE, Quiet, is_quiet, parse_clock
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.delivery.port import Target
from content.delivery.status import REACHING, UNFINISHED, DeliveryStatus, JobKind
from content.dialect import is_postgres
from content.models import Chat, Delivery, utcnow
from content.publishing import digests

MAX_ERROR = 2000  # characters of a platform's error kept on the row


@dataclass(frozen=True, slots=True)
class Job:
    """A claimed row: what to do, where, and how often it was tried."""

    id: int
    kind: JobKind
    story_id: int | None  # None for a digest
    chat_id: int  # the chats row of the target
    target: Target
    attempts: int
    created_at: datetime
    acts_on: int | None = None  # the send an edit or a delete changes
    # For a digest: what the chat's last one covered up to, and the chat's zone (its local date).
    since: datetime | None = None
    zone: str = DEFAULT_ZONE

    @property
    def chat(self) -> ChatRef:
        return self.target.chat

    def at(self, chat: ChatRef) -> Job:
        """The same job aimed at the chat under another id."""
        return Job(
            self.id,
            self.kind,
            self.story_id,
            self.chat_id,
            replace(self.target, chat=chat),
            self.attempts,
            self.created_at,
            self.acts_on,
            self.since,
            self.zone,
        )


def _quiet_now(row: Any, now: datetime) -> bool:
    """Whether the chat's quiet hours hold now: a push then goes without a sound."""
    if not row.quiet_from or not row.quiet_until:
        return False
    quiet = Quiet(parse_clock(row.quiet_from), parse_clock(row.quiet_until))
    return is_quiet(quiet, ZoneInfo(row.time_zone or DEFAULT_ZONE), now)


_earlier = aliased(Delivery, name="earlier")
_send = aliased(Delivery, name="send")
# An edit or a delete waits for its send to be done, and for every earlier
# job on the same send; a send (acts_on NULL) never waits.
_IN_ORDER = or_(
    Delivery.acts_on_id.is_(None),
    and_(
        exists().where(_send.id == Delivery.acts_on_id, _send.status.not_in(UNFINISHED)),
        ~exists().where(
            _earlier.acts_on_id == Delivery.acts_on_id, _earlier.id < Delivery.id, _earlier.status.in_(UNFINISHED)
        ),
    ),
)


class DeliveryQueue:
    """`share` = (k, n): this process works on the chats whose id is k modulo n.

    Several worker processes share a bot's rate limits by splitting its chats:
    each keeps 1/n of the overall rate, and a chat's per-chat and per-group
    limits are kept by the one process that ever sends to it. SKIP LOCKED
    still keeps two processes from taking one row should the shares overlap.
    """

    def __init__(self, sessions: SessionFactory, lease_seconds: float = 30.0, share: tuple[int, int] = (0, 1)) -> None:
        self._sessions = sessions
        self.lease = timedelta(seconds=lease_seconds)
        self.share = share

    def picks(self, platform: str, now: datetime, *, postgres: bool) -> list[Select[int]]:
        """What a claim takes, in order: rows whose worker died (they have
        waited longest), then pending rows, oldest first. Each is an ordered
        range of ix_deliveries_due, so a claim reads its batch and not the
        whole fan-out."""
        picks = [
            select(Delivery.id)
            .where(Delivery.platform == platform, Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
            .order_by(Delivery.next_attempt_at, Delivery.id),
            select(Delivery.id)
            .where(
                Delivery.platform == platform,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.next_attempt_at <= now,
            )
            .where(_IN_ORDER)
            .order_by(Delivery.next_attempt_at, Delivery.id),
        ]
        index, count = self.share
        if count > 1:
            picks = [pick.where(Delivery.chat_id % count == index) for pick in picks]
        if postgres:
            picks = [pick.with_for_update(of=Delivery, skip_locked=True) for pick in picks]
        return picks

    async def claim(self, platform: str, limit: int) -> list[Job]:
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
            rows = (
                await session.execute(
                    select(
                        Delivery.id,
                        Delivery.kind,
                        Delivery.story_id,
                        Delivery.chat_id,
                        Delivery.attempts,
                        Delivery.created_at,
                        Delivery.acts_on_id,
                        Chat.platform,
                        Chat.platform_chat_id,
                        Chat.kind.label("chat_kind"),
                        Chat.title,
                        Chat.thread_id,
                        Chat.form,
                        Chat.republish,
                        Chat.time_zone,
                        Chat.quiet_from,
                        Chat.quiet_until,
                        Chat.digest_since,
                    )
                    .join(Chat, Chat.id == Delivery.chat_id)
                    .where(Delivery.id.in_(ids))
                    .order_by(Delivery.id)
                )
            ).all()
            # What an edit or a delete acts on, read apart: a fan-out's claims are all sends.
            acted_on = [r.acts_on_id for r in rows if r.acts_on_id is not None]
            shown: dict[int, tuple[str, ...]] = {}
            if acted_on:
                found = await session.execute(
                    select(Delivery.id, Delivery.message_ids).where(Delivery.id.in_(acted_on))
                )
                shown = {send_id: message_ids or () for send_id, message_ids in found.all()}
            return [
                Job(
                    r.id,
                    r.kind,
                    r.story_id,
                    r.chat_id,
                    Target(
                        ChatRef(r.platform, r.platform_chat_id, r.chat_kind, r.title, r.thread_id, r.form),
                        shown.get(r.acts_on_id, ()) if r.acts_on_id is not None else (),
                        r.republish,
                        silent=_quiet_now(r, now),
                    ),
                    r.attempts,
                    r.created_at,
                    r.acts_on_id,
                    r.digest_since,
                    r.time_zone or DEFAULT_ZONE,
                )
                for r in rows
            ]

    @staticmethod
    async def follow_up_in(session: AsyncSession, story_id: int, kind: JobKind) -> int:
        """Queues, within the caller's transaction, an edit or a delete of every
        send of `story_id` that reached or is reaching its chat (sent, or on
        the wire), in one statement; each waits for its send. A send still
        pending needs none: it reads the story when it goes, and sends what
        the story is then. A chat no longer active is left as it is (the bot
        can no longer act there). Returns how many were queued."""
        if kind not in (JobKind.EDIT, JobKind.DELETE):
            raise ValueError(f"only edits and deletes follow a send, not {kind}")
        now = utcnow()
        sends = select(
            literal(kind, type_=Delivery.kind.type).label("kind"),
            _send.story_id,
            _send.chat_id,
            _send.platform,
            _send.id.label("acts_on_id"),
            literal(DeliveryStatus.PENDING, type_=Delivery.status.type).label("status"),
            literal(0).label("attempts"),
            literal(now, type_=Delivery.next_attempt_at.type).label("next_attempt_at"),
            literal(now, type_=Delivery.created_at.type).label("created_at"),
        ).where(
            _send.story_id == story_id,
            _send.kind == JobKind.SEND,
            _send.status.in_(REACHING),
            exists().where(Chat.id == _send.chat_id, Chat.active.is_(True)),
        )
        if kind is JobKind.EDIT:
            # An edit not yet claimed reads the story when it goes: it carries
            # this correction too, and a second one would change nothing.
            sends = sends.where(
                ~exists().where(
                    _earlier.acts_on_id == _send.id,
                    _earlier.kind == JobKind.EDIT,
                    _earlier.status == DeliveryStatus.PENDING,
                )
            )
        columns = [
            "kind",
            "story_id",
            "chat_id",
            "platform",
            "acts_on_id",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
        ]
        result = await session.execute(insert(Delivery).from_select(columns, sends))
        return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

    async def follow_up(self, story_id: int, kind: JobKind) -> int:
        async with self._sessions.begin() as session:
            return await self.follow_up_in(session, story_id, kind)

    @staticmethod
    async def cancel_pending_in(session: AsyncSession, story_id: int, reason: str) -> int:
        """Cancels, within the caller's transaction, every job of `story_id` not
        yet claimed (sends and edits of a withdrawn story); jobs on the wire
        finish, and what they put in the chat is followed up. Returns how many."""
        result = await session.execute(
            update(Delivery)
            .where(
                Delivery.story_id == story_id,
                Delivery.status == DeliveryStatus.PENDING,
                Delivery.kind.in_((JobKind.SEND, JobKind.EDIT)),
            )
            .values(status=DeliveryStatus.CANCELLED, last_error=reason[:MAX_ERROR], lease_until=None)
        )
        return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]

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

    async def sent_many(self, done: list[tuple[Job, tuple[str, ...]]], notes: dict[int, str] | None = None) -> None:
        """Record many finished jobs, with the ids of the messages each left in
        its chat, in one transaction (one statement, executed per row). An edit
        or a delete also updates its send's ids, which the next job acts on.
        `notes` keeps, by job id, what went otherwise without failing."""
        if not done:
            return
        table = cast(Table, Delivery.__table__)
        now = utcnow()
        finished = (
            update(table)
            .where(table.c.id == bindparam("job_id"))
            .values(
                status=DeliveryStatus.SENT,
                platform_message_id=bindparam("first"),
                message_ids=bindparam("ids"),
                sent_at=now,
                lease_until=None,
                last_error=bindparam("note"),
            )
        )
        shown = (
            update(table)
            .where(table.c.id == bindparam("send_id"))
            .values(platform_message_id=bindparam("first"), message_ids=bindparam("ids"))
        )
        async with self._sessions.begin() as session:
            await session.execute(
                finished,
                [
                    {"job_id": job.id, "first": ids[0] if ids else None, "ids": ids, "note": (notes or {}).get(job.id)}
                    for job, ids in done
                ],
            )
            changed = [
                {"send_id": job.acts_on, "first": ids[0] if ids else None, "ids": ids}
                for job, ids in done
                if job.acts_on is not None
            ]
            if changed:
                await session.execute(shown, changed)

    async def release(self, ids: list[int]) -> None:
        """Jobs a stopping worker held but never sent: due again at once, unspent."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(ids), Delivery.status == DeliveryStatus.SENDING)
                .values(status=DeliveryStatus.PENDING, lease_until=None, attempts=Delivery.attempts - 1)
            )

    async def later(self, job: Job, delay: float, error: str | None, *, count_attempt: bool = True) -> None:
        values: dict[str, Any] = {
            "status": DeliveryStatus.PENDING,
            "next_attempt_at": utcnow() + timedelta(seconds=delay),
            "lease_until": None,
        }
        if error is not None:
            values["last_error"] = error[:MAX_ERROR]
        if not count_attempt:  # a 429 is the platform's pace, not a failure of this job
            values["attempts"] = Delivery.attempts - 1
        await self._set(job.id, **values)

    async def digest_done(self, job: Job, until: datetime, message_ids: tuple[str, ...] | None) -> None:
        """A digest covering the stories until `until` went out (`message_ids`)
        or had nothing to show (None); the chat's next one is queued in the
        same transaction, so none is lost and none is doubled."""
        values: dict[str, Any] = {"lease_until": None, "sent_at": utcnow()}
        if message_ids is None:
            values |= {"status": DeliveryStatus.SKIPPED, "last_error": "nothing new since the last digest"}
        else:
            first = message_ids[0] if message_ids else None
            values |= {"status": DeliveryStatus.SENT, "message_ids": message_ids, "platform_message_id": first}
        async with self._sessions.begin() as session:
            await session.execute(update(Delivery).where(Delivery.id == job.id).values(**values))
            await digests.covered_in(session, job.chat_id, until)

    async def failed(self, job: Job, error: str) -> None:
        await self._set(job.id, status=DeliveryStatus.FAILED, last_error=error[:MAX_ERROR], lease_until=None)

    async def skipped(self, job: Job, reason: str) -> None:
        """Nothing to do (an edit of a push that never arrived): not a failure."""
        await self._set(job.id, status=DeliveryStatus.SKIPPED, last_error=reason[:MAX_ERROR], lease_until=None)

    async def cancelled(self, job: Job, reason: str) -> None:
        """No longer wanted (its story was withdrawn while it was claimed)."""
        await self._set(job.id, status=DeliveryStatus.CANCELLED, last_error=reason[:MAX_ERROR], lease_until=None)

    async def refused(self, job: Job, reason: str, *, thread_only: bool = False) -> None:
        """The chat is gone for the bot: deactivate it (with its threads) and skip
        everything still to do there. With `thread_only`, only the job's topic
        or thread is gone: it alone, and what was to be done in it."""
        async with self._sessions.begin() as session:
            gone = deactivate_place_in if thread_only and job.chat.thread_id is not None else deactivate_in
            rows = await gone(session, job.chat)
            await session.execute(
                update(Delivery)
                .where(Delivery.chat_id.in_(rows or [job.chat_id]), Delivery.status.in_(UNFINISHED))
                .values(status=DeliveryStatus.SKIPPED, last_error=reason[:MAX_ERROR], lease_until=None)
            )

    async def moved(self, job: Job, new_chat_id: str) -> Job:
        """The chat has a new id: it keeps its subscriptions there; the job goes there."""
        async with self._sessions.begin() as session:
            chat = await move_in(session, job.chat, new_chat_id)
        return job.at(chat)

    async def _set(self, delivery_id: int, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(update(Delivery).where(Delivery.id == delivery_id).values(**values))
