"""Alembic environment: runs on a connection handed over by content.db.migrate.

There is no alembic.ini: `explainer-bot migrate` (and start-up) passes the
open connection in `config.attributes`, so the same code serves SQLite and
PostgreSQL with the engine the application already built.
"""

from alembic import context

from content.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `explainer-bot migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
