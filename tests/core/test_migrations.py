"""The migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.composition import Core
from content import db
from content.models import Base

# Search objects are per database and live only in the migration.
SEARCH_OBJECTS = {"story_search", "ix_story_search_vector"}


def _include(obj, name, kind, reflected, compare_to) -> bool:  # noqa: ANN001
    return not (name in SEARCH_OBJECTS or (kind == "table" and name and name.startswith("story_search")))


async def test_schema_matches_models_and_migrating_twice_is_harmless(blank: Core) -> None:
    await db.migrate(blank.engine)

    def differences(connection) -> list:  # noqa: ANN001
        context = MigrationContext.configure(connection, opts={"include_object": _include, "compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with blank.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {"stories", "tags", "story_tags", "terms", "term_aliases", "story_terms", "chats", "subscriptions", "deliveries"} <= tables
