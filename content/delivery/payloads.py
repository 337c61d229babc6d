"""What a job puts in the chat: a story's push, sent or edited into place, or
the notice that replaces a withdrawn one; rendered once per story for every chat."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from content.delivery.status import JobKind
from content.messages import Message
from content.replies.digests import DIGEST_MAX, digest_message
from content.replies.stories import push_message, withdrawal_notice
from content.stories.catalog import Catalog

# The kinds whose job carries a message. A delete carries the withdrawal
# notice, shown where the platform will not delete the push.
WITH_MESSAGE = frozenset({JobKind.SEND, JobKind.EDIT, JobKind.DELETE})


class Payloads:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def message(self, kind: JobKind, story_id: int) -> Message | None:
        """The message a job of `story_id` shows; None when it is no longer
        wanted: a send or an edit of a story withdrawn. A withdrawn story
        stays withdrawn (its slug published again is another story), so a
        delete always has its notice."""
        if kind is JobKind.DELETE:
            withdrawal = await self._catalog.withdrawn(story_id)
            return withdrawal_notice(withdrawal.reason) if withdrawal is not None else None
        if kind not in WITH_MESSAGE:
            raise ValueError(f"a {kind} job carries no story message")
        story = await self._catalog.story_to_push(story_id)
        return push_message(story, updated=kind is JobKind.EDIT) if story is not None else None

    async def digest(self, chat_id: int, since: datetime, until: datetime, zone: str) -> Message | None:
        stories, total = await self._catalog.digest_for(chat_id, since, until, DIGEST_MAX)
        if not stories:
            return None
        return digest_message(until.astimezone(ZoneInfo(zone)).date(), stories, total)
