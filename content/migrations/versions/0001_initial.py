"""Initial schema: stories, tags, terms, chats, subscriptions, deliveries, search.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Must match content.models: BIGINT on PostgreSQL, the rowid alias on SQLite.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Moment = sa.DateTime(timezone=True)


def _id() -> sa.Column[int]:
    return sa.Column("id", BigId, nullable=False)


def _fk(owner: str, name: str, table: str) -> sa.Column[int]:
    constraint = f"fk_{owner}_{name}_{table}"
    return sa.Column(name, BigId, sa.ForeignKey(f"{table}.id", ondelete="CASCADE", name=constraint), nullable=False)


def upgrade() -> None:
    op.create_table(
        "catalog_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", BigId, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_catalog_state"),
    )
    op.execute("INSERT INTO catalog_state (id, version) VALUES (1, 0)")
    op.create_table(
        "stories",
        _id(),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("published_at", Moment, nullable=False),
        sa.Column("url", sa.String(500), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_stories"),
        sa.UniqueConstraint("slug", name="uq_stories_slug"),
    )
    op.create_index("ix_stories_published", "stories", ["published_at", "id"])
    op.create_table(
        "tags",
        _id(),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("story_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tags"),
        sa.UniqueConstraint("key", name="uq_tags_key"),
    )
    op.create_table(
        "story_tags",
        _fk("story_tags", "story_id", "stories"),
        _fk("story_tags", "tag_id", "tags"),
        sa.Column("published_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("story_id", "tag_id", name="pk_story_tags"),
    )
    op.create_index("ix_story_tags_tag_published", "story_tags", ["tag_id", "published_at", "story_id"])
    op.create_table(
        "terms",
        _id(),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_terms"),
        sa.UniqueConstraint("key", name="uq_terms_key"),
    )
    op.create_table(
        "term_aliases",
        _id(),
        _fk("term_aliases", "term_id", "terms"),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_term_aliases"),
        sa.UniqueConstraint("key", name="uq_term_aliases_key"),
    )
    op.create_index("ix_term_aliases_term_id", "term_aliases", ["term_id"])
    op.create_table(
        "story_terms",
        _fk("story_terms", "story_id", "stories"),
        _fk("story_terms", "term_id", "terms"),
        sa.PrimaryKeyConstraint("story_id", "term_id", name="pk_story_terms"),
    )
    op.create_index("ix_story_terms_term", "story_terms", ["term_id"])
    op.create_table(
        "chats",
        _id(),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("platform_chat_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("title", sa.String(256), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("updated_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chats"),
        sa.UniqueConstraint("platform", "platform_chat_id", name="uq_chats_platform_chat"),
    )
    op.create_table(
        "subscriptions",
        _fk("subscriptions", "chat_id", "chats"),
        _fk("subscriptions", "tag_id", "tags"),
        sa.Column("created_at", Moment, nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "tag_id", name="pk_subscriptions"),
    )
    op.create_index("ix_subscriptions_tag", "subscriptions", ["tag_id"])
    op.create_table(
        "deliveries",
        _id(),
        _fk("deliveries", "story_id", "stories"),
        _fk("deliveries", "chat_id", "chats"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", Moment, nullable=False),
        sa.Column("lease_until", Moment, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("platform_message_id", sa.String(64), nullable=True),
        sa.Column("created_at", Moment, nullable=False),
        sa.Column("sent_at", Moment, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_deliveries"),
        sa.UniqueConstraint("story_id", "chat_id", name="uq_deliveries_story_chat"),
    )
    op.create_index("ix_deliveries_due", "deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_deliveries_chat", "deliveries", ["chat_id"])

    if op.get_bind().dialect.name == "postgresql":
        # A narrow table beside stories: a bitmap scan over thousands of matches
        # then reads a few MB instead of the wide story rows. The vectors are
        # pushed out of line (toast_tuple_target, EXTERNAL storage) so the rows
        # stay narrow; only the rows being ranked fetch them. A trigger keeps it
        # in step with stories, as FTS5's triggers do on SQLite.
        op.execute(
            "CREATE TABLE story_search ("
            " story_id BIGINT PRIMARY KEY REFERENCES stories(id) ON DELETE CASCADE,"
            " search_vector tsvector NOT NULL) WITH (toast_tuple_target = 128)"
        )
        op.execute("ALTER TABLE story_search ALTER COLUMN search_vector SET STORAGE EXTERNAL")
        # fastupdate off: no pending list for every search to scan; stories are
        # written rarely and read all the time.
        op.execute(
            "CREATE INDEX ix_story_search_vector ON story_search USING GIN (search_vector) WITH (fastupdate = off)"
        )
        # Weighted so that a match in the headline outranks one in the body.
        op.execute(
            """
            CREATE FUNCTION stories_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO story_search (story_id, search_vector) VALUES (
                    NEW.id,
                    setweight(to_tsvector('english', NEW.title), 'A') ||
                    setweight(to_tsvector('english', NEW.summary), 'B') ||
                    setweight(to_tsvector('english', NEW.body), 'C'))
                ON CONFLICT (story_id) DO UPDATE SET search_vector = EXCLUDED.search_vector;
                RETURN NULL;
            END $$
            """
        )
        op.execute(
            "CREATE TRIGGER stories_search_sync AFTER INSERT OR UPDATE OF title, summary, body ON stories "
            "FOR EACH ROW EXECUTE FUNCTION stories_search_sync()"
        )
    else:
        # An external-content FTS5 index kept in step by triggers (the pattern
        # SQLite's FTS5 documentation gives for content tables).
        op.execute(
            "CREATE VIRTUAL TABLE story_search USING fts5("
            "title, summary, body, content='stories', content_rowid='id', tokenize='porter unicode61')"
        )
        op.execute(
            "CREATE TRIGGER stories_search_insert AFTER INSERT ON stories BEGIN "
            "INSERT INTO story_search(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER stories_search_delete AFTER DELETE ON stories BEGIN "
            "INSERT INTO story_search(story_search, rowid, title, summary, body) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER stories_search_update AFTER UPDATE OF title, summary, body ON stories BEGIN "
            "INSERT INTO story_search(story_search, rowid, title, summary, body) "
            "VALUES ('delete', old.id, old.title, old.summary, old.body); "
            "INSERT INTO story_search(rowid, title, summary, body) VALUES (new.id, new.title, new.summary, new.body); END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE IF EXISTS story_search")
        op.execute("DROP TRIGGER IF EXISTS stories_search_sync ON stories")
        op.execute("DROP FUNCTION IF EXISTS stories_search_sync()")
    else:
        for trigger in ("stories_search_insert", "stories_search_delete", "stories_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS story_search")
    for table in (
        "deliveries",
        "subscriptions",
        "chats",
        "story_terms",
        "term_aliases",
        "terms",
        "story_tags",
        "tags",
        "stories",
        "catalog_state",
    ):
        op.drop_table(table)
