"""The newsroom page: editors' accounts, their signed-in sessions, and each
story's history (filled in for the stories already there from what their
rows tell: published, last corrected, retracted).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "newsroom_accounts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_newsroom_accounts"),
        sa.UniqueConstraint("email", name="uq_newsroom_accounts_email"),
    )
    op.create_table(
        "newsroom_sessions",
        sa.Column("id", BigId, nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column(
            "account_id",
            BigId,
            sa.ForeignKey(
                "newsroom_accounts.id", ondelete="CASCADE", name="fk_newsroom_sessions_account_id_newsroom_accounts"
            ),
            nullable=False,
        ),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("expires_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_newsroom_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_newsroom_sessions_token_hash"),
    )
    op.create_index("ix_newsroom_sessions_account_id", "newsroom_sessions", ["account_id"])
    op.create_index("ix_newsroom_sessions_expires_at", "newsroom_sessions", ["expires_at"])
    op.create_table(
        "story_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column(
            "story_id",
            BigId,
            sa.ForeignKey("stories.id", ondelete="CASCADE", name="fk_story_events_story_id_stories"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", Moment, nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("by", sa.String(254), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_story_events"),
    )
    op.create_index("ix_story_events_story_id", "story_events", ["story_id"])
    # The history so far, as far as the rows keep it.
    op.execute(
        "INSERT INTO story_events (story_id, kind, at, note, by) "
        "SELECT id, 'published', created_at, NULL, NULL FROM stories ORDER BY id"
    )
    op.execute(
        "INSERT INTO story_events (story_id, kind, at, note, by) "
        "SELECT id, 'corrected', corrected_at, correction, NULL FROM stories WHERE corrected_at IS NOT NULL ORDER BY id"
    )
    op.execute(
        "INSERT INTO story_events (story_id, kind, at, note, by) "
        "SELECT id, 'retracted', retracted_at, retraction_reason, NULL FROM stories "
        "WHERE retracted_at IS NOT NULL ORDER BY id"
    )


def downgrade() -> None:
    op.drop_index("ix_story_events_story_id", table_name="story_events")
    op.drop_table("story_events")
    op.drop_index("ix_newsroom_sessions_expires_at", table_name="newsroom_sessions")
    op.drop_index("ix_newsroom_sessions_account_id", table_name="newsroom_sessions")
    op.drop_table("newsroom_sessions")
    op.drop_table("newsroom_accounts")
