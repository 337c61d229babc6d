"""The tables. Unique keys make publishing and subscribing idempotent.

The full-text index is not declared here: it differs per database (an FTS5
table with triggers on SQLite, a generated tsvector with a GIN index on
PostgreSQL) and lives in the migrations only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from content.chats.preferences import DigestEvery
from content.chats.ref import ChatKind, PlaceForm
from content.delivery.status import DeliveryStatus, JobKind
from content.newsroom.roles import EditorRole
from content.stories.history import StoryEventKind


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime.

    SQLite has no time zones; without this, values read back from it would be
    naive and compare wrongly with the aware ones the code makes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as its text: a value outside the enum is refused on the
    way in, and reads hand back the enum member, not a bare string."""

    impl = String(16)
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int = 16) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        return None if value is None else self.enum(value)


class MessageIds(TypeDecorator[tuple[str, ...]]):
    """The platform's ids of the messages one push became (a long story goes
    out in parts), in order, stored space-separated: platform ids hold no spaces."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: tuple[str, ...] | None, dialect: Dialect) -> str | None:
        if not value:
            return None
        if any(not part or " " in part for part in value):
            raise ValueError(f"a message id is empty or holds a space: {value!r}")
        return " ".join(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple[str, ...]:
        return tuple(value.split()) if value else ()


def utcnow() -> datetime:
    return datetime.now(UTC)


# Constraint names are fixed so that migrations can refer to them on both databases.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# BIGINT on PostgreSQL, but INTEGER on SQLite so that it stays the rowid alias
# (autoincrementing, and the FTS5 content_rowid).
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Story(Base):
    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(40))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)
    url: Mapped[str | None] = mapped_column(String(500))
    body: Mapped[str] = mapped_column(Text)
    # Hash of everything a story file says: a re-import of the same file
    # compares it and writes nothing.
    content_hash: Mapped[str] = mapped_column(String(64))
    # The newsroom's note to readers on its latest correction, and when what a
    # push shows last changed (None: never since the first publication).
    correction: Mapped[str | None] = mapped_column(String(280))
    corrected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A withdrawn story stays as a row, so its pushes can be taken down and
    # its slug answered with the newsroom's reason; readers no longer see it.
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retraction_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    # Newest first, ties broken by id: the order of every list.
    __table_args__ = (Index("ix_stories_published", "published_at", "id"),)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    # Kept up to date by the writer so that /tags never counts 300k rows.
    story_count: Mapped[int] = mapped_column(Integer, default=0)


class StoryTag(Base):
    __tablename__ = "story_tags"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    # A copy of the story's date, so that "/latest TAG" is one index range scan.
    published_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_story_tags_tag_published", "tag_id", "published_at", "story_id"),)


class Term(Base):
    __tablename__ = "terms"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    definition: Mapped[str] = mapped_column(Text)


class TermAlias(Base):
    __tablename__ = "term_aliases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))


class StoryTerm(Base):
    __tablename__ = "story_terms"

    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), primary_key=True)
    # Where the story's glossary lists it: its first term is the one a push defines.
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (Index("ix_story_terms_term", "term_id"),)


class Chat(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[ChatKind] = mapped_column(EnumText(ChatKind))
    # A topic or thread within the chat (Telegram's message_thread_id), or ""
    # for the chat itself: each is a place of its own that follows tags, is
    # pushed to and can be closed. Not NULL, so that the unique key holds.
    thread_id: Mapped[str] = mapped_column(String(64), default="", server_default="")
    title: Mapped[str | None] = mapped_column(String(256))
    # How pushes land there (content.chats.ref.PlaceForm), and whether each
    # is republished to the places following this one (an announcement channel's).
    form: Mapped[PlaceForm] = mapped_column(
        EnumText(PlaceForm), default=PlaceForm.MESSAGES, server_default=PlaceForm.MESSAGES.value
    )
    republish: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The reader's controls (content.chats.preferences): an IANA zone (None:
    # UTC), a digest instead of a push per story, quiet hours; wall-clock
    # times as HH:MM in that zone. `digest_since`: what the last digest covered up to.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    digest: Mapped[DigestEvery] = mapped_column(
        EnumText(DigestEvery), default=DigestEvery.OFF, server_default=DigestEvery.OFF.value
    )
    digest_at: Mapped[str | None] = mapped_column(String(5))
    digest_day: Mapped[int | None] = mapped_column(Integer)
    digest_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quiet_from: Mapped[str | None] = mapped_column(String(5))
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("platform", "platform_chat_id", "thread_id", name="uq_chats_platform_chat_thread"),
    )


class Subscription(Base):
    __tablename__ = "subscriptions"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_subscriptions_tag", "tag_id"),)


class TermFollow(Base):
    """A chat following a glossary term: new stories that explain it reach it."""

    __tablename__ = "term_follows"

    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True)
    term_id: Mapped[int] = mapped_column(ForeignKey("terms.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_term_follows_term", "term_id"),)


# The predicate of the partial unique key on sends, as SQL both databases
# accept verbatim (ON CONFLICT must name it exactly to infer the index).
SEND_ONLY = text("kind = 'send'")
ACTS_ON_SOME = text("acts_on_id IS NOT NULL")
# A chat has at most one digest waiting or going out.
DIGEST_WAITING = text("kind = 'digest' AND status IN ('pending', 'sending')")


class Delivery(Base):
    """A job of the delivery queue: send a story to a chat, or edit or delete
    what an earlier send put there (`acts_on`)."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[JobKind] = mapped_column(EnumText(JobKind), default=JobKind.SEND, server_default=JobKind.SEND.value)
    # None for a digest, which is made of the stories due when it goes out.
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(ForeignKey("chats.id", ondelete="CASCADE"))
    # For an edit or a delete: the send whose messages it changes. It is
    # claimed only once that send is done, and after earlier jobs on it. No
    # foreign key: a fan-out's sends would each pay its check for a NULL, and
    # both rows go only with their story, whose key cascades to them.
    acts_on_id: Mapped[int | None] = mapped_column(BigId)
    # The chat's platform, copied when queued: a worker's claim reads one
    # platform's due rows off ix_deliveries_due without joining chats.
    platform: Mapped[str] = mapped_column(String(16))
    status: Mapped[DeliveryStatus] = mapped_column(EnumText(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    platform_message_id: Mapped[str | None] = mapped_column(String(64))  # the first message, what a link points at
    message_ids: Mapped[tuple[str, ...]] = mapped_column(
        MessageIds, nullable=True, default=()
    )  # every part, what edits act on
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # One send per (story, chat); edits and deletes as many as corrections need.
        Index(
            "uq_deliveries_send", "story_id", "chat_id", unique=True, sqlite_where=SEND_ONLY, postgresql_where=SEND_ONLY
        ),
        Index("ix_deliveries_due", "platform", "status", "next_attempt_at", "id"),
        Index("ix_deliveries_chat", "chat_id"),
        # Sends (most rows) have no acts_on: only the rows that do are indexed.
        Index("ix_deliveries_acts_on", "acts_on_id", sqlite_where=ACTS_ON_SOME, postgresql_where=ACTS_ON_SOME),
        Index(
            "uq_deliveries_digest_waiting",
            "chat_id",
            unique=True,
            sqlite_where=DIGEST_WAITING,
            postgresql_where=DIGEST_WAITING,
        ),
    )


class Feed(Base):
    """A newsroom feed (RSS or Atom) the bot polls; its items become stories."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # added to every item's own
    category: Mapped[str | None] = mapped_column(String(40))
    # What the last fetch said, for a conditional GET and to skip an unchanged body.
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    last_fetch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # in a row
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_poll_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a poller has it
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_feeds_due", "paused", "next_poll_at"),)


class FeedItem(Base):
    """Which story a feed's item became, by the item's key (guid, link or hash):
    a changed item updates its story, and no item is imported twice."""

    __tablename__ = "feed_items"

    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(500), primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)


class StoryEventRow(Base):
    """One thing that happened to a story (`content.stories.history`), written
    in the transaction that did it."""

    __tablename__ = "story_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"), index=True)
    kind: Mapped[StoryEventKind] = mapped_column(EnumText(StoryEventKind))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str | None] = mapped_column(String(500))
    by: Mapped[str | None] = mapped_column(String(254))


class NewsroomAccount(Base):
    """An editor of the newsroom page; only the password's argon2 hash is kept."""

    __tablename__ = "newsroom_accounts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[EditorRole] = mapped_column(EnumText(EditorRole))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NewsroomSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, never the token."""

    __tablename__ = "newsroom_sessions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("newsroom_accounts.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class CatalogState(Base):
    """One row whose version changes with every content write.

    Readers keep the term and tag keys in memory for fuzzy matching and reload
    them only when this number moves; one primary-key read per lookup keeps
    several processes sharing a database consistent.
    """

    __tablename__ = "catalog_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), default=0)


class DeliveryWorkerBeat(Base):
    """A delivery worker's heartbeat: the live ones divide a platform's chats
    between them (content.delivery.membership)."""

    __tablename__ = "delivery_workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_delivery_workers_platform_beat", "platform", "beat_at"),)
