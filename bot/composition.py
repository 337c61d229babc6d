"""The composition root: the only place that builds concrete things from settings."""
from __future__ import annotations

from dataclasses import dataclass
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.settings import Settings
from content import db
from content.catalog import Catalog
from content.commands import Commands
from content.search import Search
from content.stories import SAMPLE_LIBRARY, StoryImporter, StoryWriter, has_stories
from content.subscriptions import Subscriptions



@dataclass
class Core:
    settings: Settings
    engine: AsyncEngine
    sessions: db.SessionFactory
    catalog: Catalog
    commands: Commands
    writer: StoryWriter
    importer: StoryImporter

    async def prepare(self, *, seed: bool | None = None) -> None:
        """Migrate; on an empty database, load the sample library (unless told not to)."""
        await db.migrate(self.engine)
        if (self.settings.seed_samples if seed is None else seed) and not await has_stories(self.sessions):
            report = await self.importer.import_paths([SAMPLE_LIBRARY])
            if report.errors:
                raise RuntimeError(f"the bundled library is broken: {report.errors[0]}")

    async def close(self) -> None:
        await self.engine.dispose()


def build_core(settings: Settings) -> Core:
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    catalog = Catalog(sessions, settings.site_url)
    writer = StoryWriter(sessions)
    commands = Commands(catalog, Search(sessions), Subscriptions(sessions))
    return Core(settings, engine, sessions, catalog, commands, writer, StoryImporter(writer))
