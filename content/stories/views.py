"""What the read side returns: plain, immutable views, no ORM objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class TagView:
    id: int
    key: str
    name: str
    story_count: int


@dataclass(frozen=True, slots=True)
class PlaceFollows:
    """What one place of a chat follows: the chat itself (thread_id None) or
    one of its topics or threads, with the name it was last seen under."""

    thread_id: str | None
    title: str | None
    active: bool
    tags: tuple[TagView, ...]


@dataclass(frozen=True, slots=True)
class KeyTerm:
    """The term a push defines beside its summary: the story's first glossary
    term, the first the newsroom listed (`content.stories.drafts.key_term`). `key` and `id` name
    it to a button pressed long after."""

    id: int
    key: str
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class StoryView:
    id: int
    slug: str
    title: str
    summary: str
    category: str
    published_at: datetime
    url: str
    tags: tuple[str, ...]
    correction: str | None = None  # the newsroom's note on its latest correction
    corrected_at: datetime | None = None  # when what a push shows last changed
    term: KeyTerm | None = None  # read for pushes only (Catalog.story_to_push); lists leave it out


@dataclass(frozen=True, slots=True)
class Withdrawal:
    """A story the newsroom withdrew: what readers are told instead of it."""

    slug: str
    reason: str | None
    retracted_at: datetime


@dataclass(frozen=True, slots=True)
class GlossaryEntry:
    name: str
    definition: str


@dataclass(frozen=True, slots=True)
class StoryDetail:
    story: StoryView
    body: str
    glossary: tuple[GlossaryEntry, ...]


@dataclass(frozen=True, slots=True)
class StoryLink:
    slug: str
    title: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class TermView:
    id: int
    name: str
    definition: str
    aliases: tuple[str, ...]
    stories: tuple[StoryLink, ...]
