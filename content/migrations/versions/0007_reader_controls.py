"""Reader controls: a chat's time zone, digest and quiet hours; chats
following glossary terms; digests as rows of the delivery queue.

- chats gain time_zone, digest (off | daily | weekly), digest_at,
  digest_day, digest_since, quiet_from and quiet_until; existing chats get
  a push per story at any hour, as before.
- term_follows (chat, term), keyed like subscriptions.
- story_terms.position: where a story's glossary lists the term (its
  first is the one a push defines); existing links get 0, so their first
  is taken by the term's key.
- deliveries.story_id may be NULL: a digest is made of the stories due when
  it goes out. At most one digest waits per chat (a partial unique index).

SQLite cannot drop a column's NOT NULL, so deliveries is rebuilt (batch mode,
as in 0003); its partial indexes are dropped first and made again after, as
a rebuild does not carry their WHERE clauses.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

Moment = sa.DateTime(timezone=True)
SEND_ONLY = sa.text("kind = 'send'")
ACTS_ON_SOME = sa.text("acts_on_id IS NOT NULL")
DIGEST_WAITING = sa.text("kind = 'digest' AND status IN ('pending', 'sending')")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

_CHAT_COLUMNS = (
    sa.Column("time_zone", sa.String(64), nullable=True),
    sa.Column("digest", sa.String(16), nullable=False, server_default="off"),
    sa.Column("digest_at", sa.String(5), nullable=True),
    sa.Column("digest_day", sa.Integer(), nullable=True),
    sa.Column("digest_since", Moment, nullable=True),
    sa.Column("quiet_from", sa.String(5), nullable=True),
    sa.Column("quiet_until", sa.String(5), nullable=True),
)


def _partial_indexes(create: bool) -> None:
    partial = (
        ("uq_deliveries_send", ["story_id", "chat_id"], True, SEND_ONLY),
        ("ix_deliveries_acts_on", ["acts_on_id"], False, ACTS_ON_SOME),
    )
    for name, columns, unique, where in partial:
        if create:
            op.create_index(name, "deliveries", columns, unique=unique, sqlite_where=where, postgresql_where=where)
        else:
            op.drop_index(name, table_name="deliveries")


def upgrade() -> None:
    for column in _CHAT_COLUMNS:
        op.add_column("chats", column)
    op.create_table(
        "term_follows",
        sa.Column(
            "chat_id",
            BigId,
            sa.ForeignKey("chats.id", ondelete="CASCADE", name="fk_term_follows_chat_id_chats"),
            nullable=False,
        ),
        sa.Column(
            "term_id",
            BigId,
            sa.ForeignKey("terms.id", ondelete="CASCADE", name="fk_term_follows_term_id_terms"),
            nullable=False,
        ),
        sa.Column("created_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "term_id", name="pk_term_follows"),
    )
    op.create_index("ix_term_follows_term", "term_follows", ["term_id"])
    op.add_column("story_terms", sa.Column("position", sa.Integer(), nullable=False, server_default="0"))
    _partial_indexes(create=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("story_id", existing_type=BigId, nullable=True)
    _partial_indexes(create=True)
    op.create_index(
        "uq_deliveries_digest_waiting",
        "deliveries",
        ["chat_id"],
        unique=True,
        sqlite_where=DIGEST_WAITING,
        postgresql_where=DIGEST_WAITING,
    )


def downgrade() -> None:
    # Digests have no place in the old schema: they go; sends, edits and deletes stay.
    op.execute("DELETE FROM deliveries WHERE story_id IS NULL")
    op.drop_index("uq_deliveries_digest_waiting", table_name="deliveries")
    _partial_indexes(create=False)
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("story_id", existing_type=BigId, nullable=False)
    _partial_indexes(create=True)
    op.execute("ALTER TABLE story_terms DROP COLUMN position")
    op.drop_index("ix_term_follows_term", table_name="term_follows")
    op.drop_table("term_follows")
    for column in reversed(_CHAT_COLUMNS):
        op.execute(f"ALTER TABLE chats DROP COLUMN {column.name}")
