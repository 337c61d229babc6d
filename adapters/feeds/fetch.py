"""Fetching a feed over HTTP, politely and safely.

Feed URLs are typed in by editors, so they are untrusted: a URL must never make
the bot talk to the machine it runs on or to the private network around it
(SSRF), hand it an endless body, or hold it for ever. The guard sits in the
resolver, on the very addresses the connection is then made to, so a name that
resolves to a public address when checked and to a private one when connecting
(DNS rebinding) has no second lookup to exploit.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from yarl import URL

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_CHUNK = 64 * 1024

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Fetched:
    status: int  # 200, or 304 (not modified: body None)
    body: bytes | None
    etag: str | None
    last_modified: str | None
    url: str  # the URL finally fetched, after redirects
    moved_permanently: bool  # every redirect on the way was 301/308: the caller stores `url` as the feed's new URL
    max_age: int | None  # seconds, from Cache-Control max-age (None when absent)


class FeedFetchError(Exception):
    """`problem` is a short sentence for an editor: 'not reachable: ...', 'too large: over 5 MiB', 'timed out after 30 s', 'refused: 10.0.0.5 is a private address', 'HTTP 404', 'not http or https', 'too many redirects'."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


class _Refused(OSError):
    # An OSError, so that aiohttp's connector wraps it like any failed lookup
    # (ClientConnectorDNSError) instead of letting it escape half-handled;
    # `fetch` recognises it again in the exception's cause.
    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def forbidden_reason(address: IPAddress) -> str | None:
    """Why the bot must not connect to `address` ('a loopback address', ...), or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        # ::ffff:10.0.0.5 and 2002:0a00:0005:: (6to4) reach IPv4 hosts: judge those.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return forbidden_reason(embedded)
    checks = (
        (address.is_unspecified, "an unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_link_local, "a link-local address"),
        (address.is_multicast, "a multicast address"),
        # Before is_private, which also covers 240.0.0.0/4 but would misname it to the editor.
        (address.is_reserved, "a reserved address"),
        (address.is_private, "a private address"),
    )
    for matched, reason in checks:
        if matched:
            return reason
    # What none of the flags name but is still not on the internet (100.64.0.0/10, the carrier-grade NAT range).
    return None if address.is_global else "not a public address"


def _parse_address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _refusal(host: str, address: IPAddress) -> str | None:
    reason = forbidden_reason(address)
    return None if reason is None else f"refused: {host} is {reason}"


class PublicAddressResolver(AbstractResolver):
    """Resolves through `inner` and keeps only public addresses; none left is a refusal."""

    def __init__(self, inner: AbstractResolver) -> None:
        self._inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        resolved = await self._inner.resolve(host, port, family)
        kept: list[ResolveResult] = []
        first_refusal: str | None = None
        for result in resolved:
            address = _parse_address(result["host"].split("%", 1)[0])
            problem = (
                f"refused: {host} has an unreadable address"
                if address is None
                else _refusal(f"{host} ({address})", address)
            )
            if problem is None:
                kept.append(result)
            elif first_refusal is None:
                first_refusal = problem
        if not kept:
            raise _Refused(first_refusal or f"not reachable: {host} has no address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def _describe_size(limit: int) -> str:
    for unit, size in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit >= size and limit % size == 0:
            return f"{limit // size} {unit}"
    return f"{limit} bytes"


def max_age_of(cache_control: list[str]) -> int | None:
    """The max-age of Cache-Control header values, in seconds; None when absent or malformed."""
    for value in cache_control:
        for directive in value.split(","):
            name, _, argument = directive.strip().partition("=")
            if name.strip().lower() != "max-age":
                continue
            argument = argument.strip().strip('"')
            # A malformed max-age is ignored rather than read as 0, which would make us poll hard.
            return int(argument) if argument.isdigit() else None
    return None


class FeedFetcher:
    def __init__(
        self,
        *,
        max_bytes: int = 5 * 1024 * 1024,
        timeout: float = 30.0,
        allow_private: bool = False,
        max_redirects: int = 5,
        user_agent: str = "explainer-bot feed reader",
    ) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.user_agent = user_agent
        self._session: aiohttp.ClientSession | None = None
        self._resolver: AbstractResolver | None = None

    def _client(self) -> aiohttp.ClientSession:
        # Lazily, because a ClientSession binds to the running loop, and this object may be built before one runs.
        if self._session is None or self._session.closed:
            inner = DefaultResolver()
            self._resolver = inner if self.allow_private else PublicAddressResolver(inner)
            connector = aiohttp.TCPConnector(resolver=self._resolver, limit_per_host=4)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.user_agent},
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                # No proxy from the environment: it would connect on our behalf, past the address guard.
                trust_env=False,
                # Cookies from one feed's host must not follow a redirect elsewhere, nor the next fetch.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        session, resolver = self._session, self._resolver
        self._session = self._resolver = None
        if session is not None:
            await session.close()
        if resolver is not None:
            # A connector only closes the resolvers it made itself.
            await resolver.close()

    async def fetch(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        try:
            async with asyncio.timeout(self.timeout):
                return await self._follow(url, etag, last_modified)
        except TimeoutError:
            raise FeedFetchError(f"timed out after {self.timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise FeedFetchError(_connect_problem(exc)) from exc
        except aiohttp.ClientPayloadError as exc:
            raise FeedFetchError("not reachable: the answer broke off before its end") from exc
        except aiohttp.ClientError as exc:
            raise FeedFetchError(f"not reachable: {exc or type(exc).__name__}") from exc

    def _check(self, url: URL) -> None:
        if url.scheme not in ("http", "https"):
            raise FeedFetchError("not http or https")
        if not url.host:
            raise FeedFetchError("not reachable: the URL names no host")
        # The connector resolves no literal address, so the resolver's guard never sees one: check it here.
        address = _parse_address(url.host.split("%", 1)[0])
        if address is not None and not self.allow_private:
            problem = _refusal(str(address), address)
            if problem is not None:
                raise FeedFetchError(problem)

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> Fetched:
        try:
            current = URL(url)
        except (ValueError, TypeError):
            raise FeedFetchError("not reachable: not a URL") from None
        headers: dict[str, str] = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        session = self._client()
        redirects = 0
        permanent = True
        while True:
            self._check(current)
            async with session.get(current, headers=headers, allow_redirects=False) as response:
                if response.status in _REDIRECTS:
                    location = response.headers.get("Location")
                    if not location:
                        raise FeedFetchError(f"HTTP {response.status} without a Location")
                    redirects += 1
                    if redirects > self.max_redirects:
                        raise FeedFetchError("too many redirects")
                    # One temporary hop and the URL reached is no longer one to store for good.
                    permanent = permanent and response.status in _PERMANENT
                    try:
                        current = response.url.join(URL(location))
                    except ValueError:
                        raise FeedFetchError(f"HTTP {response.status} to an unreadable Location") from None
                    continue
                if response.status == 304:
                    return self._fetched(response, None, redirects > 0 and permanent, etag, last_modified)
                if not 200 <= response.status < 300:
                    raise FeedFetchError(f"HTTP {response.status}")
                body = await self._read(response)
                return self._fetched(response, body, redirects > 0 and permanent, None, None)

    async def _read(self, response: aiohttp.ClientResponse) -> bytes:
        too_large = f"too large: over {_describe_size(self.max_bytes)}"
        if response.content_length is not None and response.content_length > self.max_bytes:
            response.close()
            raise FeedFetchError(too_large)
        # Counted as it arrives (and after decompression): a missing or lying Content-Length changes nothing.
        body = bytearray()
        async for chunk in response.content.iter_chunked(_CHUNK):
            body += chunk
            if len(body) > self.max_bytes:
                response.close()
                raise FeedFetchError(too_large)
        return bytes(body)

    @staticmethod
    def _fetched(
        response: aiohttp.ClientResponse,
        body: bytes | None,
        moved: bool,
        etag: str | None,
        last_modified: str | None,
    ) -> Fetched:
        # A 304 need not repeat the validators; keeping the ones sent spares the caller from forgetting them.
        return Fetched(
            status=response.status,
            body=body,
            etag=response.headers.get("ETag") or etag,
            last_modified=response.headers.get("Last-Modified") or last_modified,
            url=str(response.url),
            moved_permanently=moved,
            max_age=max_age_of(response.headers.getall("Cache-Control", [])),
        )


def _connect_problem(exc: aiohttp.ClientConnectorError) -> str:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, _Refused):
            return cause.problem
        cause = cause.__cause__
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return f"not reachable: no address found for {exc.host}"
    reason = exc.os_error.strerror or str(exc.os_error) or type(exc.os_error).__name__
    return f"not reachable: {exc.host} port {exc.port}: {reason}"
