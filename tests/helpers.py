"""Reading replies in tests (the plain-text rendering the console uses), and
short stories to publish in them."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.console import render_plain
from content.messages import Card, Message, Reply
from content.stories.drafts import StoryDraft


def short_story(slug: str, *tags: str, title: str | None = None) -> StoryDraft:
    """A story with these tags and a one-line lead, dated 2 December 2026."""
    return StoryDraft(
        slug=slug,
        title=title or f"Story {slug}",
        summary="What changed, in one line.",
        category="Tech",
        published_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
        tags=tags,
        url=f"https://news.test/{slug}",
        terms=(),
        body="Lead paragraph.",
    )


def plain(reply: Reply) -> str:
    return "\n\n".join(render_plain(m) for m in reply.messages)


def cards(reply: Reply) -> list[Card]:
    return [b for m in reply.messages for b in m.blocks if isinstance(b, Card)]


def only(reply: Reply) -> Message:
    assert len(reply.messages) == 1, reply
    return reply.messages[0]
