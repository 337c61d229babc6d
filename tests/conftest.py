"""Fixtures: the core on SQLite and on the PostgreSQL server of this machine.

PostgreSQL tests use one scratch database per run, dropped afterwards. When
the server cannot be reached they are skipped with a message saying so, unless
REQUIRE_POSTGRES is set (CI sets it): then they fail.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from bot.composition import Core, build_core
from bot.settings import Settings
from content.chats.ref import ChatRef
from content.commands.caller import Caller

POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASES = ("sqlite", "postgres")
TABLES = (
    "newsroom_sessions",
    "story_events",
    "newsroom_accounts",
    "delivery_workers",
    "feed_items",
    "feeds",
    "deliveries",
    "term_follows",
    "subscriptions",
    "chats",
    "story_terms",
    "term_aliases",
    "terms",
    "story_tags",
    "tags",
    "stories",
)


def _with_database(server: str, name: str) -> str:
    return server.rsplit("/", 1)[0] + "/" + name


async def _create(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_SERVER, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    name = f"explainer_test_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_create(name))
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        message = f"PostgreSQL not reachable at {POSTGRES_SERVER} ({exc}); PostgreSQL tests skipped"
        if os.environ.get("REQUIRE_POSTGRES"):
            pytest.fail(message.replace("skipped", "required (REQUIRE_POSTGRES is set)"))
        pytest.skip(message)
    try:
        yield _with_database(POSTGRES_SERVER, name)
    finally:
        asyncio.run(_drop(name))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    return request.getfixturevalue("postgres_url")


def settings_for(url: str, **extra: object) -> Settings:
    # Tests send many commands quickly; flood protection has tests of its own.
    values: dict[str, object] = {"site_url": "https://news.test", "command_rate_limit": 100_000, **extra}
    return Settings(_env_file=None, database_url=url, **values)  # type: ignore[call-arg]


async def empty_core(url: str, **extra: object) -> Core:
    """A migrated core with no rows, whatever earlier tests left in the shared database."""
    core = build_core(settings_for(url, **extra))
    await core.prepare(seed=False)
    async with core.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
        else:
            for table in TABLES:
                await connection.execute(text(f"DELETE FROM {table}"))
        await connection.execute(text("UPDATE catalog_state SET version = 0"))
    return core


@pytest.fixture
async def blank(database_url: str) -> AsyncIterator[Core]:
    core = await empty_core(database_url)
    yield core
    await core.close()


@pytest.fixture
async def core(blank: Core) -> Core:
    await blank.prepare()  # seeds the sample library into the empty database
    return blank


PRIVATE = Caller(ChatRef("test", "private-1", "private", "Ada"), user_id="u1")
GROUP_MEMBER = Caller(ChatRef("test", "group-1", "group", "Readers"), user_id="u2", is_admin=False)
GROUP_ADMIN = Caller(ChatRef("test", "group-1", "group", "Readers"), user_id="u3", is_admin=True)
CHANNEL_ADMIN = Caller(ChatRef("test", "channel-1", "channel", "News"), user_id="u3", is_admin=True)
