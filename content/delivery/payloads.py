"""What a job puts in the chat: a story's push, sent or edited into place,
rendered once per story for every chat."""

from __future__ import annotations

from content.delivery.status import JobKind
from content.messages import Message
from content.replies.stories import push_message
from content.stories.catalog import Catalog

# The kinds whose job carries a message (a delete carries none).
WITH_MESSAGE = frozenset({JobKind.SEND, JobKind.EDIT})


class Payloads:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def message(self, kind: JobKind, story_id: int) -> Message | None:
        """The message a send or an edit of `story_id` shows; None when the story is gone."""
        if kind not in WITH_MESSAGE:
            raise ValueError(f"a {kind} job carries no story message")
        stories = await self._catalog.stories_by_id([story_id])
        return push_message(stories[0]) if stories else None
