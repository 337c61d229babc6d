"""Feeds: the newsroom's RSS and Atom feeds the bot polls, and which story
each of their items became.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", BigId, nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("category", sa.String(40), nullable=True),
        sa.Column("etag", sa.String(500), nullable=True),
        sa.Column("last_modified", sa.String(100), nullable=True),
        sa.Column("body_hash", sa.String(64), nullable=True),
        sa.Column("last_fetch_at", Moment, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("next_poll_at", Moment, nullable=False),
        sa.Column("lease_until", Moment, nullable=True),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feeds"),
        sa.UniqueConstraint("url", name="uq_feeds_url"),
    )
    op.create_index("ix_feeds_due", "feeds", ["paused", "next_poll_at"])
    op.create_table(
        "feed_items",
        sa.Column(
            "feed_id",
            BigId,
            sa.ForeignKey("feeds.id", ondelete="CASCADE", name="fk_feed_items_feed_id_feeds"),
            nullable=False,
        ),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column(
            "story_id",
            BigId,
            sa.ForeignKey("stories.id", ondelete="CASCADE", name="fk_feed_items_story_id_stories"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("feed_id", "key", name="pk_feed_items"),
    )
    op.create_index("ix_feed_items_story_id", "feed_items", ["story_id"])


def downgrade() -> None:
    # The stories feeds brought stay; only the feeds and the item map go.
    op.drop_index("ix_feed_items_story_id", table_name="feed_items")
    op.drop_table("feed_items")
    op.drop_index("ix_feeds_due", table_name="feeds")
    op.drop_table("feeds")
