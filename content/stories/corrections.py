"""What makes a re-publish a correction readers are told of.

A push shows a story's headline, summary, category, link, tags and the
newsroom's correction note; a change to any of these is edited into every
push already delivered. The body and the glossary are only in /story, so a
change to them alone edits nothing.
"""

from __future__ import annotations

from content.models import Story

Shown = tuple[str, str, str, str | None, str | None, frozenset[str]]


def shown(story: Story, tag_keys: frozenset[str]) -> Shown:
    """What a push of `story` shows, given the keys of its tags, as one comparable value."""
    return (story.title, story.summary, story.category, story.url, story.correction, tag_keys)
