"""The newsroom's feeds over HTTP (bearer API_TOKEN): `POST /api/feeds`,
`GET /api/feeds`, `DELETE /api/feeds/{id}`, `POST /api/feeds/{id}/poll`."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from adapters.feeds.fetch import FeedFetchError
from adapters.feeds.poller import FeedExists, FeedPoller
from adapters.http.api import ApiRefusal, iso
from content.stories.feeds import FeedView
from content.stories.ingest import FeedError

MAX_FEED_BODY = 16 * 1024
MAX_URL = 2000


def feed_json(feed: FeedView) -> dict[str, Any]:
    return {
        "id": feed.id,
        "url": feed.url,
        "tags": list(feed.tags),
        "category": feed.category,
        "last_fetch_at": iso(feed.last_fetch_at) if feed.last_fetch_at else None,
        "last_error": feed.last_error,
        "failures": feed.failures,
        "paused": feed.paused,
        "next_poll_at": iso(feed.next_poll_at),
        "item_count": feed.item_count,
    }


def _invalid(field: str, problem: str) -> ApiRefusal:
    return ApiRefusal(422, {"error": f"{field}: {problem}", "field": field, "problem": problem})


def validate_feed(body: bytes) -> tuple[str, list[str], str | None]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiRefusal(400, {"error": "the body is not JSON"}) from None
    if not isinstance(data, dict):
        raise _invalid("body", "must be a JSON object")
    unknown = sorted(set(data) - {"url", "tags", "category"})
    if unknown:
        raise _invalid(unknown[0], "is not a field of a feed")
    url = data.get("url")
    if not isinstance(url, str) or not url.strip() or len(url) > MAX_URL:
        raise _invalid("url", f"must be an http or https URL of at most {MAX_URL} characters")
    if not url.strip().lower().startswith(("http://", "https://")):
        raise _invalid("url", "must be an http or https URL")
    tags = data.get("tags", [])
    if (
        not isinstance(tags, list)
        or len(tags) > 10
        or not all(isinstance(t, str) and 0 < len(t.strip()) <= 64 for t in tags)
    ):
        raise _invalid("tags", "must be a list of at most 10 tags of 1 to 64 characters")
    category = data.get("category")
    if category is not None and (not isinstance(category, str) or not category.strip() or len(category) > 40):
        raise _invalid("category", "must be text of 1 to 40 characters")
    return url.strip(), [t.strip() for t in tags], category.strip() if category else None


@dataclass
class FeedsApi:
    poller: FeedPoller
    authorize: Callable[[web.Request, str], None]

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/feeds", self.add),
            web.get("/api/feeds", self.list),
            web.delete("/api/feeds/{id}", self.remove),
            web.post("/api/feeds/{id}/poll", self.poll),
        ]

    async def add(self, request: web.Request) -> web.Response:
        try:
            self.authorize(request, "managing feeds")
            body = await request.read()
            if len(body) > MAX_FEED_BODY:
                raise ApiRefusal(413, {"error": f"the request body is larger than {MAX_FEED_BODY} bytes"})
            url, tags, category = validate_feed(body)
            try:
                feed, ingested = await self.poller.add(url, tags, category)
            except FeedFetchError as error:
                raise _invalid("url", error.problem) from None
            except FeedError as error:
                raise _invalid("url", f"not a feed: {error}") from None
            except FeedExists:
                raise ApiRefusal(409, {"error": "a feed with this URL exists", "url": url}) from None
        except ApiRefusal as refused:
            return refused.response()
        body_json = feed_json(feed) | {"items_imported": ingested.created + ingested.updated}
        return web.json_response(body_json, status=201, headers={"Location": f"/api/feeds/{feed.id}"})

    async def list(self, request: web.Request) -> web.Response:
        try:
            self.authorize(request, "managing feeds")
        except ApiRefusal as refused:
            return refused.response()
        return web.json_response({"feeds": [feed_json(f) for f in await self.poller.feeds.all()]})

    def _id(self, request: web.Request) -> int | None:
        raw = request.match_info["id"]
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 18 else None

    async def remove(self, request: web.Request) -> web.Response:
        try:
            self.authorize(request, "managing feeds")
        except ApiRefusal as refused:
            return refused.response()
        feed_id = self._id(request)
        if feed_id is None or not await self.poller.feeds.remove(feed_id):
            return web.json_response({"error": "no such feed"}, status=404)
        return web.json_response({"id": feed_id, "outcome": "removed"})

    async def poll(self, request: web.Request) -> web.Response:
        try:
            self.authorize(request, "managing feeds")
        except ApiRefusal as refused:
            return refused.response()
        feed_id = self._id(request)
        if feed_id is None or not await self.poller.feeds.due_now(feed_id):
            return web.json_response({"error": "no such feed"}, status=404)
        results = await self.poller.poll_once(feed_id)
        feed = await self.poller.feeds.get(feed_id)
        polled: dict[str, Any] = {"polled": bool(results)}
        if results:
            result = results[0]
            polled |= {
                "changed": result.changed,
                "created": result.ingested.created,
                "updated": result.ingested.updated,
                "pushes_queued": result.ingested.pushes_queued,
                "problem": result.problem,
            }
        return web.json_response(feed_json(feed) | polled if feed else polled)
