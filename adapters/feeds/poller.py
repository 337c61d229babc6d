"""Polling the newsroom's feeds: due feeds claimed from the core, fetched
(conditionally), read into drafts by the core, and their items saved as
stories. A 304 or a body unchanged since the last fetch does nothing more."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.feeds.fetch import FeedFetcher, FeedFetchError
from content.models import utcnow
from content.stories.feeds import Feeds, FeedView, Ingested, body_hash
from content.stories.ingest import FeedError, parse_feed

log = logging.getLogger(__name__)


class FeedExists(ValueError):
    """A feed with this URL is kept already."""


@dataclass(frozen=True, slots=True)
class PollResult:
    feed_id: int
    changed: bool  # the body was read (not a 304, not the same bytes)
    ingested: Ingested = field(default_factory=Ingested)
    problem: str | None = None  # the fetch or the feed failed


class FeedPoller:
    def __init__(self, feeds: Feeds, fetcher: FeedFetcher, poll_seconds: float) -> None:
        self.feeds = feeds
        self.fetcher = fetcher
        self.poll_seconds = poll_seconds

    async def add(self, url: str, tags: Sequence[str], category: str | None) -> tuple[FeedView, Ingested]:
        """A feed the newsroom adds: fetched once to prove it is one (raises
        FeedFetchError or FeedError, having kept nothing), kept, and its
        items imported as stories without pushes, so followers are not
        flooded with old news. Raises FeedExists for a URL already kept."""
        fetched = await self.fetcher.fetch(url)
        assert fetched.body is not None  # no conditional headers were sent
        parsed = parse_feed(fetched.body, feed_tags=tuple(tags), category=category, fetched_at=utcnow())
        feed = await self.feeds.add(fetched.url if fetched.moved_permanently else url, tags, category)
        if feed is None:
            raise FeedExists(url)
        ingested = await self.feeds.ingest(feed, parsed.entries, push=False)
        at_least = max(fetched.max_age or 0, parsed.ttl_seconds or 0) or None
        await self.feeds.fetched(
            feed,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            digest=body_hash(fetched.body),
            at_least=at_least,
        )
        await self.feeds.noted(feed, parsed.problems)
        return (await self.feeds.get(feed.id)) or feed, ingested

    async def poll_once(self, feed_id: int | None = None) -> list[PollResult]:
        """Every feed due now (or just `feed_id`, if due), polled once."""
        results = []
        for feed in await self.feeds.claim(feed_id=feed_id):
            results.append(await self.poll(feed))
        return results

    async def poll(self, feed: FeedView, *, push: bool = True) -> PollResult:
        try:
            fetched = await self.fetcher.fetch(feed.url, feed.etag, feed.last_modified)
        except FeedFetchError as error:
            return await self._failed(feed, error.problem)
        moved = fetched.url if fetched.moved_permanently else None
        if fetched.status == 304 or fetched.body is None:
            await self.feeds.fetched(
                feed,
                etag=fetched.etag or feed.etag,
                last_modified=fetched.last_modified or feed.last_modified,
                digest=None,
                url=moved,
                at_least=fetched.max_age,
            )
            return PollResult(feed.id, changed=False)
        digest = body_hash(fetched.body)
        if digest == feed.body_hash:
            await self.feeds.fetched(
                feed,
                etag=fetched.etag,
                last_modified=fetched.last_modified,
                digest=None,
                url=moved,
                at_least=fetched.max_age,
            )
            return PollResult(feed.id, changed=False)
        try:
            parsed = parse_feed(fetched.body, feed_tags=feed.tags, category=feed.category, fetched_at=utcnow())
        except FeedError as error:
            return await self._failed(feed, f"not a feed: {error}")
        ingested = await self.feeds.ingest(feed, parsed.entries, push=push)
        at_least = max(fetched.max_age or 0, parsed.ttl_seconds or 0) or None
        await self.feeds.fetched(
            feed, etag=fetched.etag, last_modified=fetched.last_modified, digest=digest, url=moved, at_least=at_least
        )
        await self.feeds.noted(feed, parsed.problems)
        if ingested.created or ingested.updated:
            log.info(
                "feed %s: %s new, %s updated, %s pushes",
                feed.id,
                ingested.created,
                ingested.updated,
                ingested.pushes_queued,
            )
        return PollResult(feed.id, changed=True, ingested=ingested)

    async def _failed(self, feed: FeedView, problem: str) -> PollResult:
        after = await self.feeds.failed(feed, problem)
        log.info("feed %s (%s): %s%s", feed.id, feed.url, problem, "; paused" if after.paused else "")
        return PollResult(feed.id, changed=False, problem=problem)

    async def run(self, stop: asyncio.Event) -> None:
        """Polls due feeds until `stop`; a database or network error waits a poll and goes on."""
        while not stop.is_set():
            try:
                await self.poll_once()
            except Exception:  # nothing here may end the bot
                log.exception("feed polling failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=min(self.poll_seconds, 5.0))
        await self.fetcher.close()
