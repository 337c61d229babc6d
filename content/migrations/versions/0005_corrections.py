"""Corrections and retractions: a story's note to readers, when what its
pushes show last changed, and its withdrawal.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

Moment = sa.DateTime(timezone=True)


_COLUMNS = (
    ("correction", sa.String(280)),
    ("corrected_at", Moment),
    ("retracted_at", Moment),
    ("retraction_reason", sa.String(500)),
)


def upgrade() -> None:
    for name, kind in _COLUMNS:
        op.add_column("stories", sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    # The revision before cannot tell a withdrawn story from a published one:
    # rather than show it to readers again, withdrawn stories go, with their
    # jobs. Any other cancelled row becomes skipped (not sent, nothing more
    # to do), which it reads the same way.
    withdrawn = "SELECT id FROM stories WHERE retracted_at IS NOT NULL"
    op.execute(f"DELETE FROM deliveries WHERE story_id IN ({withdrawn})")
    op.execute(f"DELETE FROM story_tags WHERE story_id IN ({withdrawn})")
    op.execute(f"DELETE FROM story_terms WHERE story_id IN ({withdrawn})")
    op.execute("DELETE FROM stories WHERE retracted_at IS NOT NULL")
    op.execute("UPDATE deliveries SET status = 'skipped' WHERE status = 'cancelled'")
    # A plain DROP COLUMN on both databases (SQLite since 3.35): a batch copy
    # of the table on SQLite would lose the search index's triggers on it.
    for name, _kind in reversed(_COLUMNS):
        op.execute(f"ALTER TABLE stories DROP COLUMN {name}")
