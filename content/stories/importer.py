"""Story files and folders loaded through the writer (or a publisher): a refused
file is reported with its field and problem, and the others go on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from content.errors import StoryFileError
from content.stories.drafts import StoryDraft, load_story_file, story_paths
from content.stories.writer import SaveOutcome, StoryWriter


@dataclass(slots=True)
class ImportReport:
    saved: list[Any] = field(default_factory=list)  # Saved, or what the `save` given returned
    errors: list[StoryFileError] = field(default_factory=list)

    def count(self, outcome: SaveOutcome) -> int:
        return sum(1 for s in self.saved if s.outcome == outcome)

    def summary(self) -> str:
        line = (
            f"{self.count(SaveOutcome.CREATED)} created, {self.count(SaveOutcome.UPDATED)} updated, "
            f"{self.count(SaveOutcome.UNCHANGED)} unchanged"
        )
        return line + (f", {len(self.errors)} refused" if self.errors else "")


class StoryImporter:
    """Loads story files and folders; a refused file is reported, the others go on."""

    def __init__(self, writer: StoryWriter) -> None:
        self._writer = writer

    async def import_paths(
        self, paths: list[Path], save: Callable[[StoryDraft], Awaitable[Any]] | None = None
    ) -> ImportReport:
        """Every story file under `paths`, checked, then saved (or handed to `save`,
        e.g. `Publisher.publish`, whose results the report lists)."""
        save = save or self._writer.save
        report = ImportReport()
        seen: dict[str, str] = {}
        for path in story_paths(paths):
            try:
                draft = load_story_file(path)
            except StoryFileError as error:
                report.errors.append(error)
                continue
            if draft.slug in seen:
                report.errors.append(
                    StoryFileError(str(path), "slug", f"{draft.slug!r} is also the slug of {seen[draft.slug]}")
                )
                continue
            seen[draft.slug] = str(path)
            report.saved.append(await save(draft))
        return report
