"""Deliveries carry their chat's platform, and the due index leads with it.

A worker claims one platform's due rows, oldest first. With the platform
only on chats, the pick joined every due row of a fan-out to its chat and
sorted them all for each batch of 200 (0.3 to 1 s per claim with 400,000
rows queued on PostgreSQL, see bench/delivery_planning.py); with
(platform, status, next_attempt_at, id) it reads the batch off the index.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("platform", sa.String(16), nullable=True))
    op.execute(
        "UPDATE deliveries SET platform = (SELECT chats.platform FROM chats WHERE chats.id = deliveries.chat_id)"
    )
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("platform", existing_type=sa.String(16), nullable=False)
    op.create_index("ix_deliveries_due", "deliveries", ["platform", "status", "next_attempt_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("platform")
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
