"""Feeds end to end, on SQLite and PostgreSQL: a local feed server serving
RSS and Atom written for these tests, the fetcher, the core's reading of
items into stories, the publisher's pushes, the HTTP API and the CLI's verbs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from adapters.feeds.fetch import FeedFetcher
from adapters.feeds.poller import FeedPoller
from bot.composition import Core, build_core, build_http_app
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import Delivery, Feed, FeedItem, Story
from content.stories.feeds import PAUSE_AFTER, Feeds
from tests.conftest import empty_core
from tests.fakes.feeds import FakeFeedServer

TOKEN = "feed-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def rss(*items: tuple[str, str, str]) -> bytes:
    """An RSS 2.0 feed of (guid, title, description) items, tagged xAI."""
    body = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><link>https://news.test/{guid}</link>"
        f"<description>{text}</description><category>xAI</category>"
        "<pubDate>Wed, 02 Dec 2026 09:00:00 GMT</pubDate></item>"
        for guid, title, text in items
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Newsroom</title>'
        f"<link>https://news.test/</link><description>The feed.</description>{body}</channel></rss>"
    ).encode()


OLD = ("old-1", "An old story", "Told before the feed was added.")
NEW = ("new-1", "A new story", "Told after the feed was added.")


@dataclass
class Rig:
    core: Core
    server: FakeFeedServer
    poller: FeedPoller

    async def count(self, model: type, *where: object) -> int:
        async with self.core.sessions() as session:
            return (await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one()


@pytest.fixture
async def feeds(database_url: str) -> AsyncIterator[Rig]:
    core = await empty_core(database_url, feed_allow_private=True, api_token=TOKEN, feed_poll_seconds=1)
    await core.prepare()
    server = FakeFeedServer()
    await server.start()
    poller = FeedPoller(core.feeds, FeedFetcher(allow_private=True, timeout=2.0), poll_seconds=1)
    try:
        yield Rig(core, server, poller)
    finally:
        await poller.fetcher.close()
        await server.stop()
        await core.close()


async def reader_follows_xai(core: Core) -> None:
    await core.commands.handle_text(Caller(ChatRef("test", "reader", "private"), "u", True), "/subscribe xAI")


async def make_due(core: Core) -> None:
    async with core.sessions.begin() as session:
        await session.execute(update(Feed).values(next_poll_at=Feed.created_at))


async def test_a_feed_brings_its_old_items_quietly_and_pushes_new_ones_once(feeds: Rig) -> None:
    await reader_follows_xai(feeds.core)
    feeds.server.serve("/news.xml", rss(OLD), etag='"v1"')
    feed, ingested = await feeds.poller.add(feeds.server.url("/news.xml"), ["Newsroom"], None)
    assert ingested.created == 1 and ingested.pushes_queued == 0
    assert await feeds.count(Delivery) == 0  # followers are not flooded with old news
    assert feed.item_count == 1
    # A new item is published and pushed once.
    feeds.server.serve("/news.xml", rss(NEW, OLD), etag='"v2"')
    await make_due(feeds.core)
    (result,) = await feeds.poller.poll_once()
    assert result.changed and (result.ingested.created, result.ingested.pushes_queued) == (1, 1)
    story = await feeds.core.catalog.story("a-new-story")
    assert story is not None and set(story.story.tags) == {"xAI", "Newsroom"}
    # Polled again: a 304 (the server honours If-None-Match) writes nothing.
    await make_due(feeds.core)
    (again,) = await feeds.poller.poll_once()
    assert not again.changed
    assert feeds.server.requests[-1][1].get("If-None-Match") == '"v2"'
    assert await feeds.count(Delivery) == 1 and await feeds.count(Story) >= 2
    # A changed item updates its story; it is not a new one.
    changed = ("new-1", "A new story, corrected", "Told after the feed was added, now right.")
    feeds.server.serve("/news.xml", rss(changed, OLD), etag='"v3"')
    await make_due(feeds.core)
    (corrected,) = await feeds.poller.poll_once()
    assert (corrected.ingested.created, corrected.ingested.updated) == (0, 1)
    story = await feeds.core.catalog.story("a-new-story")
    assert story is not None and story.story.title == "A new story, corrected"
    assert await feeds.count(FeedItem) == 2


async def test_an_unchanged_body_without_validators_does_no_writes(feeds: Rig) -> None:
    feeds.server.serve("/plain.xml", rss(OLD))  # no ETag, no Last-Modified
    await feeds.poller.add(feeds.server.url("/plain.xml"), [], None)
    stories = await feeds.count(Story)
    await make_due(feeds.core)
    (result,) = await feeds.poller.poll_once()
    assert not result.changed and await feeds.count(Story) == stories


async def test_errors_back_off_and_pause_and_a_poll_resumes(feeds: Rig) -> None:
    feeds.server.serve("/flaky.xml", rss(OLD))
    feed, _ = await feeds.poller.add(feeds.server.url("/flaky.xml"), [], None)
    feeds.server.fail("/flaky.xml", 503, times=4)  # three polls, then the one that pauses it
    gaps = []
    for _ in range(3):
        await make_due(feeds.core)
        (result,) = await feeds.poller.poll_once()
        assert result.problem == "HTTP 503"
        now = await feeds.core.feeds.get(feed.id)
        assert now is not None
        gaps.append((now.next_poll_at - now.last_fetch_at).total_seconds())  # type: ignore[operator]
    assert gaps[0] < gaps[1] < gaps[2]  # doubling
    async with feeds.core.sessions.begin() as session:
        await session.execute(update(Feed).values(failures=PAUSE_AFTER - 1))
    await make_due(feeds.core)
    await feeds.poller.poll_once()
    paused = await feeds.core.feeds.get(feed.id)
    assert paused is not None and paused.paused and paused.last_error == "HTTP 503"
    await make_due(feeds.core)
    assert await feeds.poller.poll_once() == []  # a paused feed is not polled
    assert await feeds.core.feeds.due_now(feed.id)
    (resumed,) = await feeds.poller.poll_once(feed.id)
    assert resumed.problem is None


async def test_a_private_address_is_refused_unless_allowed(feeds: Rig) -> None:
    from adapters.feeds.fetch import FeedFetchError

    feeds.server.serve("/news.xml", rss(OLD))
    strict = FeedPoller(feeds.core.feeds, FeedFetcher(allow_private=False), poll_seconds=1)
    try:
        with pytest.raises(FeedFetchError, match="private|loopback|refused"):
            await strict.add(feeds.server.url("/news.xml"), [], None)
    finally:
        await strict.fetcher.close()
    assert await feeds.count(Feed) == 0 and feeds.server.requests == []


async def test_two_pollers_never_import_an_item_twice(feeds: Rig) -> None:
    await reader_follows_xai(feeds.core)
    feeds.server.serve("/news.xml", rss(OLD))
    await feeds.poller.add(feeds.server.url("/news.xml"), [], None)
    feeds.server.serve("/news.xml", rss(NEW, OLD))
    await make_due(feeds.core)
    other_core = build_core(feeds.core.settings)
    other = FeedPoller(
        Feeds(other_core.sessions, other_core.publisher, 1), FeedFetcher(allow_private=True), poll_seconds=1
    )
    try:
        results = await asyncio.gather(feeds.poller.poll_once(), other.poll_once())
    finally:
        await other.fetcher.close()
        await other_core.close()
    assert sum(len(r) for r in results) == 1  # one of them had the feed
    assert await feeds.count(Story, Story.slug == "a-new-story") == 1
    assert await feeds.count(Delivery) == 1


async def test_the_api_adds_lists_polls_and_removes_feeds(feeds: Rig) -> None:
    feeds.server.serve("/news.xml", rss(OLD))
    feeds.server.serve("/page.html", b"<html><body>Not a feed</body></html>", content_type="text/html")
    app = build_http_app(feeds.core)
    async with TestClient(TestServer(app)) as client:
        refused = await client.post("/api/feeds", json={"url": feeds.server.url("/news.xml")})
        assert refused.status == 401
        not_feed = await client.post("/api/feeds", json={"url": feeds.server.url("/page.html")}, headers=AUTH)
        assert not_feed.status == 422 and (await not_feed.json())["field"] == "url"
        bad = await client.post("/api/feeds", json={"url": "ftp://x"}, headers=AUTH)
        assert bad.status == 422
        added = await client.post(
            "/api/feeds", json={"url": feeds.server.url("/news.xml"), "tags": ["Newsroom"]}, headers=AUTH
        )
        assert added.status == 201, await added.text()
        feed = await added.json()
        assert feed["items_imported"] == 1 and feed["tags"] == ["Newsroom"]
        again = await client.post("/api/feeds", json={"url": feeds.server.url("/news.xml")}, headers=AUTH)
        assert again.status == 409
        listed = await (await client.get("/api/feeds", headers=AUTH)).json()
        assert [f["id"] for f in listed["feeds"]] == [feed["id"]] and listed["feeds"][0]["item_count"] == 1
        feeds.server.serve("/news.xml", rss(NEW, OLD))
        polled = await client.post(f"/api/feeds/{feed['id']}/poll", headers=AUTH)
        assert polled.status == 200 and (await polled.json())["created"] == 1
        gone = await client.delete(f"/api/feeds/{feed['id']}", headers=AUTH)
        assert gone.status == 200
        assert (await client.delete(f"/api/feeds/{feed['id']}", headers=AUTH)).status == 404
    assert await feeds.count(Feed) == 0 and await feeds.count(Story, Story.slug == "a-new-story") == 1
