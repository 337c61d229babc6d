"""What a push says: the story, rendered once per story for every chat."""
from __future__ import annotations

from content.messages import Message
from content.replies.stories import push_message
from content.stories.catalog import Catalog


class Pushes:
    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def message(self, story_id: int) -> Message | None:
        stories = await self._catalog.stories_by_id([story_id])
        return push_message(stories[0]) if stories else None
