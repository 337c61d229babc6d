"""Places take pushes in their own way: a chat's form (messages, posts of
their own, announcements) and whether its pushes are republished to the
places following it.

Existing chats are plain message places that republish nothing, which is
what they were.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("form", sa.String(16), nullable=False, server_default="messages"))
    op.add_column("chats", sa.Column("republish", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    # A plain DROP COLUMN on both databases (SQLite since 3.35), as in 0005.
    op.execute("ALTER TABLE chats DROP COLUMN republish")
    op.execute("ALTER TABLE chats DROP COLUMN form")
