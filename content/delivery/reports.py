"""The read side of the publishing API: stories as it lists them, and how a
story's pushes are going. Plain views out, no ORM objects; the story queries
are the catalog's own, so the API and the commands list stories alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from content.db import SessionFactory
from content.delivery.status import NOT_SENT, DeliveryStatus, JobKind
from content.keys import key_of
from content.models import Chat, Delivery, Story
from content.stories.catalog import Catalog
from content.stories.views import StoryDetail, StoryView, TagView, Withdrawal


@dataclass(frozen=True, slots=True)
class UndeliveredPush:
    platform: str
    chat_id: str  # the platform's id of the chat
    status: DeliveryStatus  # failed | skipped
    attempts: int
    error: str | None
    kind: JobKind = JobKind.SEND  # a send, or the edit or delete of one
    thread_id: str | None = None  # the topic or thread, when the push was for one


@dataclass(frozen=True, slots=True)
class PushNote:
    """A push that went out, with what went otherwise than asked (not a failure)."""

    platform: str
    chat_id: str
    thread_id: str | None
    note: str


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The sends of a story (`total`, `by_status`, `by_platform`), and the
    edits its corrections and the deletes its retraction queued."""

    slug: str
    total: int
    by_status: dict[DeliveryStatus, int]  # every status, zero included
    by_platform: dict[str, dict[DeliveryStatus, int]]  # platforms with rows; every status under each
    failures: tuple[UndeliveredPush, ...]  # oldest first, at most `failure_limit`
    corrections: dict[DeliveryStatus, int]  # edits, every status
    retractions: dict[DeliveryStatus, int]  # deletes, every status
    corrected_at: datetime | None = None
    retracted_at: datetime | None = None
    notes: tuple[PushNote, ...] = ()  # sent with a note, oldest first, at most `failure_limit`


class Reports:
    def __init__(self, sessions: SessionFactory, catalog: Catalog) -> None:
        self._sessions = sessions
        self._catalog = catalog

    # ----- stories --------------------------------------------------------
    async def tag(self, name: str) -> TagView | None:
        """The tag a reader's spelling names (`xAI`, `#xai`, `Elon Musk`), if it exists."""
        return (await self._catalog.keys()).tags.get(key_of(name))

    async def latest(self, limit: int, tag: TagView | None = None) -> list[StoryView]:
        return await self._catalog.latest(limit, 0, tag.id if tag is not None else None)

    async def story(self, slug: str) -> StoryDetail | None:
        return await self._catalog.story(slug)

    async def withdrawal(self, slug: str) -> Withdrawal | None:
        return await self._catalog.withdrawal(slug)

    # ----- deliveries -----------------------------------------------------
    async def deliveries(self, slug: str, failure_limit: int = 100) -> DeliveryReport | None:
        """Counts of a story's delivery rows by status and by platform, and the
        rows that will not be sent; None when no story has this slug."""
        async with self._sessions() as session:
            story = (
                await session.execute(
                    select(Story.id, Story.corrected_at, Story.retracted_at).where(Story.slug == slug)
                )
            ).first()
            if story is None:
                return None
            counts = (
                await session.execute(
                    select(Delivery.kind, Delivery.platform, Delivery.status, func.count())
                    .where(Delivery.story_id == story.id)
                    .group_by(Delivery.kind, Delivery.platform, Delivery.status)
                    .order_by(Delivery.kind, Delivery.platform, Delivery.status)
                )
            ).all()
            failures = (
                await session.execute(
                    select(
                        Chat.platform,
                        Chat.platform_chat_id,
                        Delivery.status,
                        Delivery.attempts,
                        Delivery.last_error,
                        Delivery.kind,
                        Chat.thread_id,
                    )
                    .join(Chat, Chat.id == Delivery.chat_id)
                    .where(Delivery.story_id == story.id, Delivery.status.in_(NOT_SENT))
                    .order_by(Delivery.id)
                    .limit(failure_limit)
                )
            ).all()
            notes = (
                await session.execute(
                    select(Chat.platform, Chat.platform_chat_id, Chat.thread_id, Delivery.last_error)
                    .join(Chat, Chat.id == Delivery.chat_id)
                    .where(
                        Delivery.story_id == story.id,
                        Delivery.status == DeliveryStatus.SENT,
                        Delivery.last_error.is_not(None),
                    )
                    .order_by(Delivery.id)
                    .limit(failure_limit)
                )
            ).all()
        by_status = dict.fromkeys(DeliveryStatus, 0)
        by_kind = {kind: dict.fromkeys(DeliveryStatus, 0) for kind in (JobKind.EDIT, JobKind.DELETE)}
        by_platform: dict[str, dict[DeliveryStatus, int]] = {}
        for kind, platform, status, count in counts:
            if kind in by_kind:
                by_kind[kind][status] += count
                continue
            by_status[status] += count
            by_platform.setdefault(platform, dict.fromkeys(DeliveryStatus, 0))[status] = count
        return DeliveryReport(
            slug=slug,
            total=sum(by_status.values()),
            by_status=by_status,
            by_platform=by_platform,
            failures=tuple(UndeliveredPush(*row[:6], thread_id=row.thread_id or None) for row in failures),
            corrections=by_kind[JobKind.EDIT],
            retractions=by_kind[JobKind.DELETE],
            corrected_at=story.corrected_at,
            retracted_at=story.retracted_at,
            notes=tuple(PushNote(p, c, t or None, n or "") for p, c, t, n in notes),
        )

    async def queue_depth(self) -> int:
        """Deliveries waiting to be sent (pending rows, due or backing off)."""
        async with self._sessions() as session:
            return (
                await session.execute(
                    select(func.count()).select_from(Delivery).where(Delivery.status == DeliveryStatus.PENDING)
                )
            ).scalar_one()
