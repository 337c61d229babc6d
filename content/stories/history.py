"""What happened to a story, as the newsroom page lists it: published,
corrected (with the note readers saw), updated (what only /story shows),
retracted (with the reason), each with when and by whom."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class StoryEventKind(StrEnum):
    PUBLISHED = "published"
    CORRECTED = "corrected"  # what a push shows changed: the pushes out are edited
    UPDATED = "updated"  # only the body or the rest of the glossary changed
    RETRACTED = "retracted"


@dataclass(frozen=True, slots=True)
class StoryEvent:
    kind: StoryEventKind
    at: datetime
    note: str | None  # a correction's note, a retraction's reason
    by: str | None  # an editor's email, "api", "feed", "command line"; None when not known
