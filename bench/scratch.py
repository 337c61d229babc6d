"""Throw-away databases for the benchmarks, and leaving them as a running bot would find them.

Nothing outside the scratch database is touched: SQLite lives in a temporary
folder, and the PostgreSQL database is created for the run and dropped at its
end, even on error, Ctrl-C or SIGTERM (with `cancel_on_sigterm`).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import uuid

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


class ScratchSQLite:
    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="explainer_bench_")
        self.url = f"sqlite:///{self._folder.name}/bench.db"

    async def __aenter__(self) -> str:
        return self.url

    async def __aexit__(self, *_exc) -> None:
        self._folder.cleanup()


class ScratchPostgres:
    """A database of its own, so a run never meets another one's data."""

    def __init__(self, server_url: str, keep: bool = False) -> None:
        self.keep = keep
        server = make_url(server_url).set(drivername="postgresql")
        self.name = f"explainer_bench_{uuid.uuid4().hex[:12]}"
        self._admin_dsn = server.render_as_string(hide_password=False)
        self.url = server.set(database=self.name).render_as_string(hide_password=False)

    async def _admin(self, statement: str) -> None:
        # CREATE/DROP DATABASE cannot run inside a transaction, hence a bare asyncpg connection.
        connection = await asyncpg.connect(self._admin_dsn)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    async def __aenter__(self) -> str:
        await self._admin(f'CREATE DATABASE "{self.name}"')
        return self.url

    async def __aexit__(self, *_exc) -> None:
        if self.keep:
            print(f"kept for inspection: {self.url}", file=sys.stderr)
            return
        # FORCE: a connection left behind by a failure must not keep the database alive.
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def scratch_for(
    database: str, postgres_url: str = DEFAULT_POSTGRES_URL, keep: bool = False
) -> ScratchSQLite | ScratchPostgres:
    return ScratchSQLite() if database == "sqlite" else ScratchPostgres(postgres_url, keep)


async def settle(engine: AsyncEngine, *, vacuum: bool = False) -> None:
    """Leave the database as a running bot would find it, not mid-way through a bulk load.

    The load writes hundreds of megabytes; flushing them now keeps the
    database's own background writes out of the timings.
    """
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        if engine.dialect.name == "sqlite":
            # The whole load sits in the WAL file; readers would search it page by page.
            await connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return
        # Fresh tables have no statistics; autovacuum would gather them later.
        # VACUUM also empties GIN pending lists and sets the visibility map,
        # as autovacuum would on a live server (this one may have it off).
        await connection.execute(text("VACUUM ANALYZE" if vacuum else "ANALYZE"))
        try:
            await connection.execute(text("CHECKPOINT"))
        except DBAPIError:
            print("note: not allowed to CHECKPOINT; timings may include the flush of the load", flush=True)


def cancel_on_sigterm() -> None:
    """SIGTERM cancels the main task, as Ctrl-C does, so that the scratch database is still dropped."""
    task = asyncio.current_task()
    if task is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)


async def server_version(engine: AsyncEngine) -> str:
    query = "SELECT sqlite_version()" if engine.dialect.name == "sqlite" else "SHOW server_version"
    async with engine.connect() as connection:
        return str((await connection.execute(text(query))).scalar_one())
