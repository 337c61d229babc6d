"""What makes a re-publish a correction readers are told of.

A push shows a story's headline, summary, category, link, tags, the
newsroom's correction note and the definition of its first glossary term; a
change to any of these is edited into every push already delivered. The
body and the rest of the glossary are only in /story, so a change to them
alone edits nothing.
"""

from __future__ import annotations

from content.models import Story

Shown = tuple[str, str, str, str | None, str | None, frozenset[str], tuple[str, str] | None]


def shown(story: Story, tag_keys: frozenset[str], term: tuple[str, str] | None) -> Shown:
    """What a push of `story` shows, given the keys of its tags and its first
    term (name, definition), as one comparable value."""
    return (story.title, story.summary, story.category, story.url, story.correction, tag_keys, term)
