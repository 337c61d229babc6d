"""The migrations build exactly the schema the models describe, on both databases."""
from __future__ import annotations

from datetime import datetime, timezone

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


async def test_0002_gives_queued_deliveries_their_chat_platform(core: Core) -> None:
    from alembic import command
    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.stories.drafts import StoryDraft

    await core.commands.handle_text(Caller(ChatRef("telegram", "42", "private"), "u42", True), "/subscribe xAI")
    await core.commands.handle_text(Caller(ChatRef("discord", "77", "private"), "u77", True), "/subscribe xAI")
    draft = StoryDraft(slug="queued-before-0002", title="Queued before 0002", summary="A row from before.", category="AI",
                       published_at=datetime(2026, 11, 27, tzinfo=timezone.utc), tags=("xAI",), url=None, terms=(), body="Lead.")
    assert (await core.publisher.publish(draft)).deliveries_queued == 2

    def to(revision: str):  # noqa: ANN202
        def run(sync) -> None:  # noqa: ANN001
            (command.upgrade if revision == "head" else command.downgrade)(db._alembic_config(sync), revision)  # noqa: SLF001
        return run

    try:
        async with core.engine.begin() as connection:
            await connection.run_sync(to("0001"))
            columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("deliveries")})
            assert "platform" not in columns
    finally:
        async with core.engine.begin() as connection:
            await connection.run_sync(to("head"))
    async with core.engine.connect() as connection:
        rows = await connection.execute(text(
            "SELECT chats.platform, deliveries.platform FROM deliveries JOIN chats ON chats.id = deliveries.chat_id"))
        assert sorted(rows.all()) == [("discord", "discord"), ("telegram", "telegram")]
