"""The write side of publishing: a story saved and its pushes queued, at once.

In one transaction: the story is saved and, when it is new, one delivery row
is queued per active chat following any of its tags, by one set-based
INSERT ... SELECT (DISTINCT, so a chat following two of the story's tags gets
one message; ON CONFLICT, so nothing is ever queued twice). A re-publish of
the same slug updates the story and queues nothing.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import literal, select, text
from sqlalchemy.exc import IntegrityError

from content.db import NOTIFY_CHANNEL, SessionFactory
from content.delivery.status import DeliveryStatus
from content.dialect import insert_for, is_postgres
from content.models import Chat, Delivery, Subscription, utcnow
from content.stories.drafts import StoryDraft
from content.stories.writer import SaveOutcome, StoryWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Published:
    slug: str
    story_id: int
    outcome: SaveOutcome
    deliveries_queued: int


class Publisher:
    def __init__(self, sessions: SessionFactory, writer: StoryWriter) -> None:
        self._sessions = sessions
        self._writer = writer
        # Told when rows were queued, so senders start at once instead of at their next poll.
        self._listeners: list[Callable[[], None]] = []

    def on_queued(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    async def publish(self, draft: StoryDraft) -> Published:
        try:
            return await self._publish(draft)
        except IntegrityError:
            # Another writer created the same slug (or tag, or term) between our
            # read and our write; with that row in place the second try updates.
            log.info("publish of %s raced another writer; trying again", draft.slug)
            return await self._publish(draft)

    async def _publish(self, draft: StoryDraft) -> Published:
        async with self._sessions.begin() as session:
            saved = await self._writer.save_in(session, draft)
            queued = 0
            if saved.outcome is SaveOutcome.CREATED:
                queued = await self._queue(session, saved.story_id, saved.tag_ids)
                if queued and is_postgres(session):
                    # Delivered at commit: workers in other processes start at once.
                    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        if queued:
            for listener in self._listeners:
                listener()
        return Published(saved.slug, saved.story_id, saved.outcome, queued)

    @staticmethod
    async def _queue(session, story_id: int, tag_ids: tuple[int, ...]) -> int:  # noqa: ANN001
        now = utcnow()
        if not tag_ids:
            return 0
        followers = (
            select(
                literal(story_id).label("story_id"),
                Subscription.chat_id,
                Chat.platform,
                literal(DeliveryStatus.PENDING, type_=Delivery.status.type).label("status"),
                literal(0).label("attempts"),
                literal(now, type_=Delivery.next_attempt_at.type).label("next_attempt_at"),
                literal(now, type_=Delivery.created_at.type).label("created_at"),
            )
            .join(Chat, Chat.id == Subscription.chat_id)
            .where(Chat.active.is_(True))
            # The tag ids as values: the planner then knows how many followers
            # to expect (rows added in this transaction have no statistics yet).
            .where(Subscription.tag_id.in_(list(tag_ids)))
            .distinct()
            # In chat order, the new rows' index entries and the checks of their
            # chats go through the indexes in order, not at random.
            .order_by(Subscription.chat_id)
        )
        statement = (
            insert_for(session, Delivery)
            .from_select(["story_id", "chat_id", "platform", "status", "attempts", "next_attempt_at", "created_at"], followers)
            .on_conflict_do_nothing(index_elements=["story_id", "chat_id"])
        )
        result = await session.execute(statement)
        return max(result.rowcount or 0, 0)
