"""Engine, sessions and migrations. Built only by the composition root."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

MIGRATIONS = Path(__file__).with_name("migrations")

SessionFactory = async_sessionmaker[AsyncSession]


def async_url(url: str) -> str:
    """Accept the usual spellings (`postgresql://`, `sqlite:///`) and pick the async driver."""
    parsed = make_url(url)
    driver = {"postgresql": "postgresql+asyncpg", "postgres": "postgresql+asyncpg", "sqlite": "sqlite+aiosqlite"}
    if parsed.drivername in driver:
        parsed = parsed.set(drivername=driver[parsed.drivername])
    return parsed.render_as_string(hide_password=False)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    url = async_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(url, echo=echo, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    # WAL lets readers go on while a writer commits; foreign keys are off by
    # default in SQLite and the schema relies on cascades.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision; a no-op when it is there."""
    async with engine.begin() as connection:
        await connection.run_sync(lambda sync: command.upgrade(_alembic_config(sync), "head"))


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


NOTIFY_CHANNEL = "explainer_deliveries"


class Listener:
    """PostgreSQL LISTEN on a dedicated connection: a publish in one process wakes
    the workers of every other process at once (polling stays as the fallback)."""

    def __init__(self, url: str, on_notify) -> None:  # noqa: ANN001
        self._dsn = make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_notify = on_notify
        self._connection = None

    async def start(self) -> None:
        import asyncpg

        self._connection = await asyncpg.connect(self._dsn)
        await self._connection.add_listener(NOTIFY_CHANNEL, lambda *_: self._on_notify())

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None


def is_postgres_url(url: str) -> bool:
    return make_url(async_url(url)).get_backend_name() == "postgresql"
