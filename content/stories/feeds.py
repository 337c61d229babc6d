"""The newsroom's feeds, as the core keeps them: which are due to be polled
(claimed with a lease, so two pollers never fetch one feed at once), what
their last fetch said, and which story each item became.

Fetching is the adapters' (`adapters.feeds`); reading a body into drafts is
`content.stories.ingest`. Items are saved through the publisher, with the
item's key recorded in the same transaction: an item seen again updates its
story (a correction, when what a push shows changed), and none is imported
twice, whichever poller gets it.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.db import SessionFactory
from content.dialect import insert_for, is_postgres
from content.keys import SLUG_MAX
from content.models import Feed, FeedItem, Story, utcnow
from content.publishing.publisher import Publisher
from content.stories.ingest import FeedEntry

MAX_BACKOFF = 86_400.0  # a failing feed is tried at least once a day
PAUSE_AFTER = 50  # failures in a row
LEASE = timedelta(seconds=120)


@dataclass(frozen=True, slots=True)
class FeedView:
    id: int
    url: str
    tags: tuple[str, ...]
    category: str | None
    last_fetch_at: datetime | None
    last_error: str | None
    failures: int
    paused: bool
    next_poll_at: datetime
    item_count: int
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Ingested:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pushes_queued: int = 0


def _view(feed: Feed) -> FeedView:
    return FeedView(
        feed.id,
        feed.url,
        tuple(feed.tags or ()),
        feed.category,
        feed.last_fetch_at,
        feed.last_error,
        feed.failures,
        feed.paused,
        feed.next_poll_at,
        feed.item_count,
        feed.etag,
        feed.last_modified,
        feed.body_hash,
    )


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class Feeds:
    def __init__(self, sessions: SessionFactory, publisher: Publisher, interval: float = 600.0) -> None:
        self._sessions = sessions
        self._publisher = publisher
        self.interval = interval

    # ----- the editors' side ----------------------------------------------
    async def add(self, url: str, tags: Sequence[str], category: str | None) -> FeedView | None:
        """A new feed, due now; None when one with this URL exists."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                insert_for(session, Feed)
                .values(
                    url=url,
                    tags=list(tags),
                    category=category,
                    failures=0,
                    paused=False,
                    next_poll_at=utcnow(),
                    item_count=0,
                    created_at=utcnow(),
                )
                .on_conflict_do_nothing(index_elements=["url"])
                .returning(Feed.id)
            )
            feed_id = result.scalar_one_or_none()
            if feed_id is None:
                return None
            return _view((await session.execute(select(Feed).where(Feed.id == feed_id))).scalar_one())

    async def get(self, feed_id: int) -> FeedView | None:
        async with self._sessions() as session:
            feed = (await session.execute(select(Feed).where(Feed.id == feed_id))).scalar_one_or_none()
            return _view(feed) if feed is not None else None

    async def by_url(self, url: str) -> FeedView | None:
        async with self._sessions() as session:
            feed = (await session.execute(select(Feed).where(Feed.url == url))).scalar_one_or_none()
            return _view(feed) if feed is not None else None

    async def all(self) -> list[FeedView]:
        async with self._sessions() as session:
            return [_view(f) for f in (await session.execute(select(Feed).order_by(Feed.id))).scalars()]

    async def remove(self, feed_id: int) -> bool:
        """The feed goes; the stories it brought stay."""
        async with self._sessions.begin() as session:
            result = await session.execute(delete(Feed).where(Feed.id == feed_id))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def pause(self, feed_id: int) -> bool:
        """Stop polling it until it is polled now again (`due_now`); its stories stay."""
        async with self._sessions.begin() as session:
            result = await session.execute(update(Feed).where(Feed.id == feed_id).values(paused=True, lease_until=None))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due_now(self, feed_id: int) -> bool:
        """Poll it at the next chance, a paused one too (which resumes it)."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Feed)
                .where(Feed.id == feed_id)
                .values(next_poll_at=utcnow(), paused=False, failures=0, lease_until=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]

    # ----- the pollers' side ----------------------------------------------
    async def claim(self, limit: int = 10, feed_id: int | None = None) -> list[FeedView]:
        """Feeds due now, leased to this poller; on PostgreSQL SKIP LOCKED
        keeps two pollers off one feed, and on both the lease does."""
        now = utcnow()
        async with self._sessions.begin() as session:
            query = select(Feed.id).where(
                Feed.paused.is_(False),
                Feed.next_poll_at <= now,
                or_(Feed.lease_until.is_(None), Feed.lease_until < now),
            )
            if feed_id is not None:
                query = query.where(Feed.id == feed_id)
            query = query.order_by(Feed.next_poll_at, Feed.id).limit(limit)
            if is_postgres(session):
                query = query.with_for_update(skip_locked=True)
            ids = list((await session.execute(query)).scalars())
            if not ids:
                return []
            taken = await session.execute(
                update(Feed)
                .where(Feed.id.in_(ids), or_(Feed.lease_until.is_(None), Feed.lease_until < now))
                .values(lease_until=now + LEASE)
                .returning(Feed.id)
            )
            ids = list(taken.scalars())
            feeds = (await session.execute(select(Feed).where(Feed.id.in_(ids)).order_by(Feed.id))).scalars()
            return [_view(f) for f in feeds]

    def _next(self, now: datetime, at_least: float | None) -> datetime:
        # Spread over the interval, so that many feeds do not all fetch at once;
        # never sooner than the feed's own max-age or ttl asks.
        wait = max(self.interval, at_least or 0.0)
        return now + timedelta(seconds=wait * random.uniform(0.9, 1.1))

    async def fetched(
        self,
        feed: FeedView,
        *,
        etag: str | None,
        last_modified: str | None,
        digest: str | None,
        url: str | None = None,
        at_least: float | None = None,
    ) -> None:
        """A fetch that worked (changed or not): the next poll is scheduled."""
        now = utcnow()
        values: dict[str, object] = {
            "etag": etag,
            "last_modified": last_modified,
            "last_fetch_at": now,
            "last_error": None,
            "failures": 0,
            "next_poll_at": self._next(now, at_least),
            "lease_until": None,
        }
        if digest is not None:
            values["body_hash"] = digest
        if url is not None and url != feed.url:
            values["url"] = url  # moved permanently
        async with self._sessions.begin() as session:
            await session.execute(update(Feed).where(Feed.id == feed.id).values(**values))
            await self._count(session, feed.id)

    async def failed(self, feed: FeedView, problem: str) -> FeedView:
        """Kept on the feed; tried again later and later, paused after PAUSE_AFTER in a row."""
        now = utcnow()
        failures = feed.failures + 1
        wait = min(self.interval * 2 ** min(failures, 20), MAX_BACKOFF)
        async with self._sessions.begin() as session:
            await session.execute(
                update(Feed)
                .where(Feed.id == feed.id)
                .values(
                    last_error=problem[:2000],
                    last_fetch_at=now,
                    failures=failures,
                    paused=failures >= PAUSE_AFTER,
                    next_poll_at=now + timedelta(seconds=wait),
                    lease_until=None,
                )
            )
            return _view((await session.execute(select(Feed).where(Feed.id == feed.id))).scalar_one())

    async def noted(self, feed: FeedView, problems: Sequence[str]) -> None:
        """What was refused or cut of a feed that was read: kept, not a failure."""
        if problems:
            text = "; ".join(problems)
            async with self._sessions.begin() as session:
                await session.execute(update(Feed).where(Feed.id == feed.id).values(last_error=text[:2000]))

    @staticmethod
    async def _count(session: AsyncSession, feed_id: int) -> None:
        counted = select(func.count()).select_from(FeedItem).where(FeedItem.feed_id == feed_id).scalar_subquery()
        await session.execute(update(Feed).where(Feed.id == feed_id).values(item_count=counted))

    # ----- items to stories -----------------------------------------------
    async def ingest(self, feed: FeedView, entries: Sequence[FeedEntry], *, push: bool) -> Ingested:
        """Each entry saved as a story: a new item published (pushed with
        `push`), a known one updating its story. One transaction an item, so
        a refused one loses nothing of the others."""
        created = updated = unchanged = queued = 0
        for entry in entries:
            draft = replace(entry.draft, slug=await self._slug_for(feed.id, entry))

            async def remember(session: AsyncSession, story_id: int, key: str = entry.key) -> None:
                await session.execute(
                    insert_for(session, FeedItem)
                    .values(feed_id=feed.id, key=key, story_id=story_id)
                    .on_conflict_do_nothing(index_elements=["feed_id", "key"])
                )

            published = await self._publisher.publish(draft, push=push, within=remember, by=f"feed {feed.url}"[:254])
            outcome = published.outcome.value
            created += outcome == "created"
            updated += outcome == "updated"
            unchanged += outcome == "unchanged"
            queued += published.deliveries_queued
        async with self._sessions.begin() as session:
            await self._count(session, feed.id)
        return Ingested(created, updated, unchanged, queued)

    async def _slug_for(self, feed_id: int, entry: FeedEntry) -> str:
        """The item's story's slug when it has one; else its title's, made
        unique with a piece of its key when another story holds that one."""
        async with self._sessions() as session:
            known = (
                await session.execute(
                    select(Story.slug)
                    .join(FeedItem, FeedItem.story_id == Story.id)
                    .where(FeedItem.feed_id == feed_id, FeedItem.key == entry.key)
                )
            ).scalar_one_or_none()
            if known is not None:
                return str(known)
            slug = entry.draft.slug
            taken = (await session.execute(select(Story.id).where(Story.slug == slug))).first()
        if taken is None:
            return slug
        tail = hashlib.sha256(entry.key.encode()).hexdigest()[:8]
        return f"{slug[: SLUG_MAX - 9].rstrip('-')}-{tail}"
