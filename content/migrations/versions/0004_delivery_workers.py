"""Delivery workers' heartbeats: the live workers of a platform divide its chats.

Replaces the hand-set shares (DELIVERY_WORKERS, DELIVERY_WORKER_INDEX): a
worker that dies drops out after a lease, one that starts joins.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_workers",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("started_at", Moment, nullable=False),
        sa.Column("beat_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_workers"),
    )
    op.create_index("ix_delivery_workers_platform_beat", "delivery_workers", ["platform", "beat_at"])


def downgrade() -> None:
    op.drop_index("ix_delivery_workers_platform_beat", table_name="delivery_workers")
    op.drop_table("delivery_workers")
