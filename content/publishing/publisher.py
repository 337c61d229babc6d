"""The write side of publishing: a story saved and its pushes queued, at once.

In one transaction: the story is saved and, when it is new, its sends are
queued (`content.publishing.fanout`). A re-publish of the same slug updates
the story and queues nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from content.db import NOTIFY_CHANNEL, SessionFactory
from content.dialect import is_postgres
from content.publishing.fanout import queue_fanout
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
                queued = await queue_fanout(session, saved.story_id, saved.tag_ids)
                if queued and is_postgres(session):
                    # Delivered at commit: workers in other processes start at once.
                    await session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))
        if queued:
            for listener in self._listeners:
                listener()
        return Published(saved.slug, saved.story_id, saved.outcome, queued)
