"""Delivery rows become jobs of a kind; chats gain a thread.

- deliveries.kind (send, edit, delete, digest; existing rows are sends),
  deliveries.acts_on_id (the send an edit or a delete changes; indexed
  where set, with no foreign key, which every send would pay for) and
  deliveries.message_ids (every message a send became, filled from
  platform_message_id for rows already sent).
- The unique key on (story_id, chat_id) holds for sends only, so a story
  sent once can be edited any number of times: a partial unique index.
- chats.thread_id ("" for the chat itself), and the chats' unique key
  becomes (platform, platform_chat_id, thread_id): a forum topic or thread
  is a place of its own.

SQLite cannot drop a table's UNIQUE constraint, so both tables are rebuilt
(batch mode); content.db.migrate turns foreign keys off around migrations on
SQLite, or rebuilding chats would cascade into subscriptions and deliveries.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
SEND_ONLY = sa.text("kind = 'send'")
ACTS_ON_SOME = sa.text("acts_on_id IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("thread_id", sa.String(64), nullable=False, server_default=""))
        batch.drop_constraint("uq_chats_platform_chat", type_="unique")
        batch.create_unique_constraint("uq_chats_platform_chat_thread", ["platform", "platform_chat_id", "thread_id"])

    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False, server_default="send"))
        batch.add_column(sa.Column("acts_on_id", BigId, nullable=True))
        batch.add_column(sa.Column("message_ids", sa.Text(), nullable=True))
        batch.drop_constraint("uq_deliveries_story_chat", type_="unique")
    op.execute("UPDATE deliveries SET message_ids = platform_message_id WHERE platform_message_id IS NOT NULL")
    op.create_index(
        "uq_deliveries_send",
        "deliveries",
        ["story_id", "chat_id"],
        unique=True,
        sqlite_where=SEND_ONLY,
        postgresql_where=SEND_ONLY,
    )
    op.create_index(
        "ix_deliveries_acts_on", "deliveries", ["acts_on_id"], sqlite_where=ACTS_ON_SOME, postgresql_where=ACTS_ON_SOME
    )


def downgrade() -> None:
    # Edits and deletes have no place in the old schema: they go, sends stay.
    op.execute("DELETE FROM deliveries WHERE kind <> 'send'")
    op.drop_index("ix_deliveries_acts_on", table_name="deliveries")
    op.drop_index("uq_deliveries_send", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("message_ids")
        batch.drop_column("acts_on_id")
        batch.drop_column("kind")
        batch.create_unique_constraint("uq_deliveries_story_chat", ["story_id", "chat_id"])
    # Topics fold back into their chat: only the chat's own row can stay.
    op.execute("DELETE FROM chats WHERE thread_id <> ''")
    with op.batch_alter_table("chats") as batch:
        batch.drop_constraint("uq_chats_platform_chat_thread", type_="unique")
        batch.drop_column("thread_id")
        batch.create_unique_constraint("uq_chats_platform_chat", ["platform", "platform_chat_id"])
