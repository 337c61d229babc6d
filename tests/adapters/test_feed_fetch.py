"""The feed fetcher against a local feed server: conditional GET, redirects, limits, and the address guard."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.abc import AbstractResolver, ResolveResult

from adapters.feeds.fetch import FeedFetcher, FeedFetchError, PublicAddressResolver, max_age_of
from tests.fakes.feeds import FakeFeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Newsroom</title></channel></rss>'
LAST_MODIFIED = "Thu, 30 Apr 2026 09:00:00 GMT"


@pytest.fixture
async def server() -> AsyncIterator[FakeFeedServer]:
    async with FakeFeedServer() as fake:
        yield fake


@pytest.fixture
async def fetcher() -> AsyncIterator[FeedFetcher]:
    # The fake listens on 127.0.0.1, which the guard refuses unless told otherwise.
    client = FeedFetcher(allow_private=True, timeout=5.0)
    yield client
    await client.close()


@pytest.fixture
async def guarded() -> AsyncIterator[FeedFetcher]:
    client = FeedFetcher(timeout=5.0)
    yield client
    await client.close()


async def problem_of(fetcher: FeedFetcher, url: str) -> str:
    with pytest.raises(FeedFetchError) as caught:
        await fetcher.fetch(url)
    assert str(caught.value) == caught.value.problem
    return caught.value.problem


# -- conditional GET ---------------------------------------------------------


async def test_a_feed_comes_with_its_validators(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.serve("/feed.xml", RSS, etag='"v1"', last_modified=LAST_MODIFIED)

    fetched = await fetcher.fetch(server.url("/feed.xml"))

    assert fetched.status == 200
    assert fetched.body == RSS
    assert fetched.etag == '"v1"'
    assert fetched.last_modified == LAST_MODIFIED
    assert fetched.url == server.url("/feed.xml")
    assert not fetched.moved_permanently
    assert fetched.max_age is None
    [headers] = server.requests_for("/feed.xml")
    assert "If-None-Match" not in headers and "If-Modified-Since" not in headers
    assert headers["User-Agent"] == "explainer-bot feed reader"


async def test_a_second_fetch_asks_if_changed_and_gets_not_modified(
    server: FakeFeedServer, fetcher: FeedFetcher
) -> None:
    server.serve("/feed.xml", RSS, etag='"v1"', last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(server.url("/feed.xml"))

    second = await fetcher.fetch(server.url("/feed.xml"), etag=first.etag, last_modified=first.last_modified)

    assert second.status == 304
    assert second.body is None
    assert (second.etag, second.last_modified) == ('"v1"', LAST_MODIFIED)
    asked = server.requests_for("/feed.xml")[1]
    assert asked["If-None-Match"] == '"v1"'
    assert asked["If-Modified-Since"] == LAST_MODIFIED


async def test_a_changed_feed_answers_the_conditional_get_in_full(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.serve("/feed.xml", RSS + b"<!-- v2 -->", etag='"v2"')

    fetched = await fetcher.fetch(server.url("/feed.xml"), etag='"v1"')

    assert (fetched.status, fetched.etag) == (200, '"v2"')
    assert fetched.body == RSS + b"<!-- v2 -->"


async def test_if_modified_since_alone_gets_not_modified(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.serve("/feed.xml", RSS, last_modified=LAST_MODIFIED)

    fetched = await fetcher.fetch(server.url("/feed.xml"), last_modified=LAST_MODIFIED)

    assert (fetched.status, fetched.body, fetched.last_modified) == (304, None, LAST_MODIFIED)


async def test_cache_control_max_age_is_read(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.serve("/feed.xml", RSS, cache_control="public, max-age=120")

    assert (await fetcher.fetch(server.url("/feed.xml"))).max_age == 120


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["max-age=120"], 120),
        (["no-cache", 'public, MAX-AGE="300"'], 300),
        (["s-maxage=60, max-age=0"], 0),
        (["max-age=-5"], None),
        (["max-age=soon"], None),
        (["no-store"], None),
        ([], None),
    ],
)
def test_max_age_parsing(values: list[str], expected: int | None) -> None:
    assert max_age_of(values) == expected


# -- redirects ---------------------------------------------------------------


async def test_a_permanent_chain_moves_the_feed(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.redirect("/old", "/older-still", status=301)
    server.redirect("/older-still", server.url("/new"), status=308)
    server.serve("/new", RSS)

    fetched = await fetcher.fetch(server.url("/old"))

    assert fetched.status == 200
    assert fetched.body == RSS
    assert fetched.url == server.url("/new")
    assert fetched.moved_permanently


async def test_a_temporary_redirect_does_not_move_the_feed(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.redirect("/feed", "/today", status=302)
    server.serve("/today", RSS)

    fetched = await fetcher.fetch(server.url("/feed"))

    assert fetched.url == server.url("/today")
    assert not fetched.moved_permanently


async def test_a_temporary_hop_after_a_permanent_one_does_not_move_the_feed(
    server: FakeFeedServer, fetcher: FeedFetcher
) -> None:
    # Storing /today would pin the feed to a URL its host called temporary.
    server.redirect("/old", "/feed", status=301)
    server.redirect("/feed", "/today", status=307)
    server.serve("/today", RSS)

    assert not (await fetcher.fetch(server.url("/old"))).moved_permanently


async def test_conditional_headers_follow_redirects(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.redirect("/old", "/new")
    server.serve("/new", RSS, etag='"v1"')

    fetched = await fetcher.fetch(server.url("/old"), etag='"v1"')

    assert (fetched.status, fetched.moved_permanently) == (304, True)
    assert server.requests_for("/new")[0]["If-None-Match"] == '"v1"'


async def test_five_redirects_are_followed_and_six_refused(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    for hop in range(6):
        server.redirect(f"/hop{hop}", f"/hop{hop + 1}")
    server.serve("/hop6", RSS)

    assert (await fetcher.fetch(server.url("/hop1"))).url == server.url("/hop6")
    assert await problem_of(fetcher, server.url("/hop0")) == "too many redirects"
    assert not server.requests_for("/hop6")[1:]  # the sixth hop's target was never asked for


async def test_a_redirect_loop_ends(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.redirect("/a", "/b", status=302)
    server.redirect("/b", "/a", status=302)

    assert await problem_of(fetcher, server.url("/a")) == "too many redirects"


async def test_a_redirect_to_another_scheme_is_refused(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.redirect("/feed", "file:///etc/passwd")

    assert await problem_of(fetcher, server.url("/feed")) == "not http or https"


# -- limits ------------------------------------------------------------------


async def test_a_body_over_the_limit_is_refused_by_its_content_length(server: FakeFeedServer) -> None:
    server.serve_large("/huge", 2 * 1024 * 1024)
    fetcher = FeedFetcher(allow_private=True, max_bytes=1024 * 1024)
    try:
        assert await problem_of(fetcher, server.url("/huge")) == "too large: over 1 MiB"
    finally:
        await fetcher.close()


async def test_a_body_over_the_limit_is_refused_while_streaming(server: FakeFeedServer) -> None:
    server.serve_large("/endless", 64 * 1024 * 1024, content_length=False)
    fetcher = FeedFetcher(allow_private=True, max_bytes=256 * 1024)
    try:
        assert await problem_of(fetcher, server.url("/endless")) == "too large: over 256 KiB"
    finally:
        await fetcher.close()
    [headers] = server.requests_for("/endless")
    assert "Content-Length" not in headers


async def test_a_body_at_the_limit_is_read(server: FakeFeedServer) -> None:
    server.serve_large("/exact", 300_000, content_length=False)
    fetcher = FeedFetcher(allow_private=True, max_bytes=300_000)
    try:
        fetched = await fetcher.fetch(server.url("/exact"))
    finally:
        await fetcher.close()
    assert fetched.body is not None and len(fetched.body) == 300_000


async def test_a_slow_answer_times_out(server: FakeFeedServer) -> None:
    server.serve("/feed.xml", RSS)
    server.slow("/feed.xml", 5.0)
    fetcher = FeedFetcher(allow_private=True, timeout=0.5)
    started = time.monotonic()
    try:
        assert await problem_of(fetcher, server.url("/feed.xml")) == "timed out after 0.5 s"
    finally:
        await fetcher.close()
    assert time.monotonic() - started < 2.0


async def test_the_timeout_bounds_the_whole_redirect_chain(server: FakeFeedServer) -> None:
    # Each hop alone is within the limit; together they are not.
    for hop in range(4):
        server.redirect(f"/hop{hop}", f"/hop{hop + 1}")
        server.slow(f"/hop{hop}", 0.2)
    server.serve("/hop4", RSS)
    fetcher = FeedFetcher(allow_private=True, timeout=0.5)
    try:
        assert await problem_of(fetcher, server.url("/hop0")) == "timed out after 0.5 s"
    finally:
        await fetcher.close()


# -- failures ------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 500, 503])
async def test_an_error_status_is_refused(server: FakeFeedServer, fetcher: FeedFetcher, status: int) -> None:
    server.serve("/feed.xml", RSS)
    server.fail("/feed.xml", status)

    assert await problem_of(fetcher, server.url("/feed.xml")) == f"HTTP {status}"
    assert (await fetcher.fetch(server.url("/feed.xml"))).status == 200  # failing once, then well again


async def test_an_unknown_path_is_http_404(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    assert await problem_of(fetcher, server.url("/nothing")) == "HTTP 404"


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/feed.xml", "file:///etc/passwd", "gopher://example.test/"])
async def test_other_schemes_are_refused(fetcher: FeedFetcher, url: str) -> None:
    assert await problem_of(fetcher, url) == "not http or https"


async def test_a_closed_port_is_not_reachable(fetcher: FeedFetcher) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: nothing answers there

        problem = await problem_of(fetcher, f"http://127.0.0.1:{port}/feed.xml")

    assert problem.startswith("not reachable: 127.0.0.1 port ")


async def test_the_fetcher_is_usable_after_close(server: FakeFeedServer, fetcher: FeedFetcher) -> None:
    server.serve("/feed.xml", RSS)
    await fetcher.fetch(server.url("/feed.xml"))
    await fetcher.close()

    assert (await fetcher.fetch(server.url("/feed.xml"))).status == 200


# -- the address guard ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "problem"),
    [
        ("127.0.0.1", "refused: 127.0.0.1 is a loopback address"),
        ("[::1]", "refused: ::1 is a loopback address"),
        ("[::ffff:127.0.0.1]", "refused: ::ffff:7f00:1 is a loopback address"),
        ("10.0.0.5", "refused: 10.0.0.5 is a private address"),
        ("192.168.1.20", "refused: 192.168.1.20 is a private address"),
        ("172.16.0.1", "refused: 172.16.0.1 is a private address"),
        ("169.254.169.254", "refused: 169.254.169.254 is a link-local address"),
        ("[fe80::1]", "refused: fe80::1 is a link-local address"),
        ("[fd00::1]", "refused: fd00::1 is a private address"),
        ("0.0.0.0", "refused: 0.0.0.0 is an unspecified address"),
        ("224.0.0.1", "refused: 224.0.0.1 is a multicast address"),
        ("240.0.0.1", "refused: 240.0.0.1 is a reserved address"),
        ("100.64.0.1", "refused: 100.64.0.1 is not a public address"),
    ],
)
async def test_a_private_literal_address_is_refused_without_connecting(
    server: FakeFeedServer, guarded: FeedFetcher, host: str, problem: str
) -> None:
    server.serve("/feed.xml", RSS)

    assert await problem_of(guarded, f"http://{host}:{server.port}/feed.xml") == problem
    assert server.requests == []


async def test_a_name_resolving_to_loopback_is_refused_without_connecting(
    server: FakeFeedServer, guarded: FeedFetcher
) -> None:
    server.serve("/feed.xml", RSS)

    problem = await problem_of(guarded, f"http://localhost:{server.port}/feed.xml")

    assert re.fullmatch(r"refused: localhost \((127\.0\.0\.1|::1)\) is a loopback address", problem)
    assert server.requests == []


@pytest.mark.parametrize("host", ["2130706433", "0x7f.1", "127.1"])
async def test_loopback_spelt_otherwise_never_connects(server: FakeFeedServer, guarded: FeedFetcher, host: str) -> None:
    # getaddrinfo would read these as 127.0.0.1; whichever layer stops them, no request may arrive.
    server.serve("/feed.xml", RSS)

    await problem_of(guarded, f"http://{host}:{server.port}/feed.xml")

    assert server.requests == []


async def test_allow_private_reaches_the_local_server(server: FakeFeedServer) -> None:
    server.serve("/feed.xml", RSS)
    fetcher = FeedFetcher(allow_private=True)
    try:
        for host in ("127.0.0.1", "localhost"):
            assert (await fetcher.fetch(f"http://{host}:{server.port}/feed.xml")).body == RSS
    finally:
        await fetcher.close()


async def test_a_redirect_to_a_private_address_is_refused(
    server: FakeFeedServer, guarded: FeedFetcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The fake is on loopback; let loopback pass for this test alone, so the first hop connects.
    from adapters.feeds import fetch

    real = fetch.forbidden_reason
    monkeypatch.setattr(fetch, "forbidden_reason", lambda address: None if address.is_loopback else real(address))
    server.redirect("/feed.xml", "http://169.254.169.254/latest/meta-data/")

    problem = await problem_of(guarded, server.url("/feed.xml"))

    assert problem == "refused: 169.254.169.254 is a link-local address"
    assert [path for path, _ in server.requests] == ["/feed.xml"]


class _StubResolver(AbstractResolver):
    def __init__(self, *addresses: str) -> None:
        self.addresses = addresses
        self.closed = False

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in self.addresses
        ]

    async def close(self) -> None:
        self.closed = True


async def test_the_resolver_keeps_only_public_addresses() -> None:
    # What the connection uses is what was checked: private answers never reach the connector.
    resolver = PublicAddressResolver(_StubResolver("10.0.0.5", "93.184.215.14", "::ffff:192.168.0.1", "2606:4700::1"))

    kept = await resolver.resolve("feeds.example", 443)

    assert [result["host"] for result in kept] == ["93.184.215.14", "2606:4700::1"]
    await resolver.close()


async def test_the_resolver_refuses_a_name_with_only_private_addresses() -> None:
    inner = _StubResolver("::ffff:10.0.0.5", "192.168.0.1")
    resolver = PublicAddressResolver(inner)

    with pytest.raises(OSError, match=r"refused: feeds\.example \(::ffff:a00:5\) is a private address"):
        await resolver.resolve("feeds.example", 443)

    await resolver.close()
    assert inner.closed
