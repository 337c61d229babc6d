"""The write side of publishing: a story saved and its pushes queued, at once.

In one transaction: the story is saved and, when it is new, its sends are
queued (`content.publishing.fanout`). A correction (a re-publish that changes
what a push shows) queues an edit of every push already out, and a send to
the followers of a tag it added, while the story is young. A retraction
withdraws the story, cancels what has not gone out and queues a delete of
every push that has.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from content.db import NOTIFY_CHANNEL, SessionFactory
from content.delivery.queue import DeliveryQueue
from content.delivery.status import JobKind
from content.dialect import is_postgres
from content.models import Story, StoryEventRow, utcnow
from content.publishing.fanout import queue_fanout
from content.stories.drafts import StoryDraft, retraction_reason
from content.stories.history import StoryEventKind
from content.stories.writer import SaveOutcome, StoryWriter

log = logging.getLogger(__name__)

CORRECTION_PUSH_HOURS = 24.0
# What runs inside a publish's transaction, given the story's id.
Within = Callable[[AsyncSession, int], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Published:
    slug: str
    story_id: int
    outcome: SaveOutcome
    deliveries_queued: int
    corrections_queued: int = 0  # edits of pushes already out


@dataclass(frozen=True, slots=True)
class Retracted:
    slug: str
    story_id: int
    retractions_queued: int  # deletes of pushes already out (or on their way)
    cancelled: int  # sends and edits that had not gone out
    already: bool = False  # it had been withdrawn before: nothing was done


class Publisher:
    def __init__(
        self,
        sessions: SessionFactory,
        writer: StoryWriter,
        correction_push_hours: float = CORRECTION_PUSH_HOURS,
    ) -> None:
        self._sessions = sessions
        self._writer = writer
        # A tag a correction adds is pushed to its followers only while the story is this young.
        self.correction_push_window = timedelta(hours=correction_push_hours)
        # Told when rows were queued, so senders start at once instead of at their next poll.
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def publish(
        self, draft: StoryDraft, *, push: bool = True, within: Within | None = None, by: str | None = None
    ) -> Published:
        """Save the story and queue its pushes, in one transaction. `push`
        False saves a new story without pushing it (a feed's old items);
        `within` runs in that transaction with the story's id (a feed
        remembering which item became which story); `by` names who did it
        in the story's history."""
        try:
            return await self._publish(draft, push, within, by)
        except IntegrityError:
            # Another writer created the same slug (or tag, or term) between our
            # read and our write; with that row in place the second try updates.
            log.info("publish of %s raced another writer; trying again", draft.slug)
            return await self._publish(draft, push, within, by)

    async def _publish(
        self, draft: StoryDraft, push: bool = True, within: Within | None = None, by: str | None = None
    ) -> Published:
        async with self._sessions.begin() as session:
            saved = await self._writer.save_in(session, draft)
            if within is not None:
                await within(session, saved.story_id)
            if saved.outcome is not SaveOutcome.UNCHANGED:
                if saved.outcome is SaveOutcome.CREATED:
                    kind, note = StoryEventKind.PUBLISHED, None
                elif saved.push_changed:
                    kind, note = StoryEventKind.CORRECTED, draft.correction
                else:
                    kind, note = StoryEventKind.UPDATED, None
                session.add(StoryEventRow(story_id=saved.story_id, kind=kind, note=note, by=by))
            queued = corrections = 0
            if saved.outcome is SaveOutcome.CREATED and push:
                queued = await queue_fanout(session, saved.story_id, saved.tag_ids)
            elif saved.outcome is SaveOutcome.UPDATED:
                if saved.push_changed:
                    # The story row was written first: a worker reading it to
                    # send waits for this commit (see Catalog.story_to_push).
                    corrections = await DeliveryQueue.follow_up_in(session, saved.story_id, JobKind.EDIT)
                young = saved.first_published is not None and (
                    utcnow() - saved.first_published <= self.correction_push_window
                )
                if saved.added_tag_ids and young:
                    # The fan-out's unique key keeps every chat that got it from getting it again.
                    queued = await queue_fanout(session, saved.story_id, saved.added_tag_ids, terms=False)
            await self._notify(session, queued + corrections)
        self._told(queued + corrections)
        return Published(saved.slug, saved.story_id, saved.outcome, queued, corrections)

    async def retract(self, slug: str, reason: str | None = None, *, by: str | None = None) -> Retracted | None:
        """Withdraws the story with `slug`; None when there is none. A story
        already withdrawn answers with nothing queued. A reason that breaks
        the rules (`retraction_reason`) raises StoryFileError, writing nothing."""
        reason = retraction_reason(reason, "retraction")
        async with self._sessions.begin() as session:
            story = (await session.execute(select(Story.id, Story.retracted_at).where(Story.slug == slug))).first()
            if story is None:
                return None
            if story.retracted_at is not None:
                return Retracted(slug, story.id, 0, 0, already=True)
            # The story row first: a worker about to send it waits for this
            # commit, then finds it withdrawn and cancels its send.
            await session.execute(
                update(Story).where(Story.id == story.id).values(retracted_at=utcnow(), retraction_reason=reason)
            )
            await self._writer.withdraw_in(session, story.id)
            session.add(StoryEventRow(story_id=story.id, kind=StoryEventKind.RETRACTED, note=reason, by=by))
            cancelled = await DeliveryQueue.cancel_pending_in(session, story.id, "the story was withdrawn")
            deletes = await DeliveryQueue.follow_up_in(session, story.id, JobKind.DELETE)
            await self._notify(session, deletes)
        self._told(deletes)
        log.info("retracted %s: %d pushes to take down, %d cancelled", slug, deletes, cancelled)
        return Retracted(slug, story.id, deletes, cancelled)

    @staticmethod
    async def _notify(session: AsyncSession, queued: int) -> None:
        if queued and is_postgres(session):
            # Delivered at commit: workers in other processes start at once.
            await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))

    def _told(self, queued: int) -> None:
        if queued:
            for listener in self._listeners:
                listener()
