"""A local feed server: what the feed fetcher meets on the web, on 127.0.0.1.

Each path is told what to answer (a feed, a redirect, a huge body, a slow or
failing answer); every request is recorded with its headers, so tests can see
conditional GETs and count fetches. It speaks conditional GET the way feed
hosts do: a matching If-None-Match, or failing that an If-Modified-Since not
older than the feed, gets a 304 with no body.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from types import TracebackType

from aiohttp import web
from multidict import CIMultiDict


@dataclass
class _Feed:
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    cache_control: str | None


@dataclass
class _Redirect:
    to: str
    status: int


@dataclass
class _Large:
    size: int
    content_length: bool


@dataclass
class _Faults:
    delay: float = 0.0
    failures: list[int] = field(default_factory=list)  # statuses still to answer, first first


def _opaque(tag: str) -> str:
    # Weak comparison (RFC 9110 §8.8.3.2): W/"x" and "x" name the same version for a GET.
    return tag.strip().removeprefix("W/")


def _not_modified(request: web.Request, feed: _Feed) -> bool:
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        # When both are sent the ETag decides: dates are only a second precise.
        if feed.etag is None:
            return False
        sent = {_opaque(tag) for tag in if_none_match.split(",")}
        return "*" in sent or _opaque(feed.etag) in sent
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None or feed.last_modified is None:
        return False
    try:
        return parsedate_to_datetime(feed.last_modified) <= parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False


class FakeFeedServer:
    def __init__(self) -> None:
        self.port = 0
        self.requests: list[tuple[str, CIMultiDict[str]]] = []
        self.sent: dict[str, int] = {}  # body bytes written per path by serve_large
        self._routes: dict[str, _Feed | _Redirect | _Large] = {}
        self._faults: dict[str, _Faults] = {}
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()

    # -- set-up -------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "application/rss+xml",
        etag: str | None = None,
        last_modified: str | None = None,
        cache_control: str | None = None,
    ) -> None:
        self._routes[path] = _Feed(body, content_type, etag, last_modified, cache_control)

    def redirect(self, path: str, to_path: str, status: int = 301) -> None:
        """`to_path` goes into Location as given: a path (relative, as many servers send) or a full URL."""
        self._routes[path] = _Redirect(to_path, status)

    def serve_large(self, path: str, size: int, *, content_length: bool = True) -> None:
        """`size` bytes, streamed in pieces; without Content-Length only the reader's own count can stop it."""
        self._routes[path] = _Large(size, content_length)

    def slow(self, path: str, seconds: float) -> None:
        self._faults.setdefault(path, _Faults()).delay = seconds

    def fail(self, path: str, status: int, times: int = 1) -> None:
        self._faults.setdefault(path, _Faults()).failures.extend([status] * times)

    def requests_for(self, path: str) -> list[CIMultiDict[str]]:
        return [headers for seen, headers in self.requests if seen == path]

    # -- life cycle ---------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        # A client that gave up cancels its handler, so slow answers don't hold stop() up.
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeFeedServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # -- answering ----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append((path, CIMultiDict(request.headers)))
        faults = self._faults.get(path)
        if faults is not None:
            if faults.delay:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), faults.delay)
            if faults.failures:
                return web.Response(status=faults.failures.pop(0), text="failing on purpose")
        route = self._routes.get(path)
        if route is None:
            return web.Response(status=404, text="no feed here")
        if isinstance(route, _Redirect):
            return web.Response(status=route.status, headers={"Location": route.to})
        if isinstance(route, _Large):
            return await self._stream(request, path, route)
        headers = {
            name: value
            for name, value in (
                ("ETag", route.etag),
                ("Last-Modified", route.last_modified),
                ("Cache-Control", route.cache_control),
            )
            if value is not None
        }
        if _not_modified(request, route):
            return web.Response(status=304, headers=headers)
        return web.Response(body=route.body, content_type=route.content_type, headers=headers)

    async def _stream(self, request: web.Request, path: str, large: _Large) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        if large.content_length:
            response.content_length = large.size
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        piece = b"<" * 64 * 1024
        self.sent[path] = 0
        try:
            while self.sent[path] < large.size:
                chunk = piece[: large.size - self.sent[path]]
                await response.write(chunk)
                self.sent[path] += len(chunk)
            await response.write_eof()
        except ConnectionError:
            pass  # the reader hung up, which is what the size limit is for
        return response
