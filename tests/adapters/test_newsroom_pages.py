"""The newsroom page over HTTP, without a browser: its headers and cookies,
corrections and retractions through its forms, the tags and feeds pages,
the live progress, and what it refuses."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import argon2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.composition import Core, build_http_app
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import Delivery, NewsroomSession, Story
from content.newsroom.accounts import Accounts, EditorRole
from tests.conftest import empty_core
from tests.fakes.feeds import FakeFeedServer
from tests.helpers import short_story

EDITOR, VIEWER, PASSWORD = "ed@newsroom.test", "vi@newsroom.test", "correct horse battery"
CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
SLUG = "musk-xai-distillation-testimony"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass
class Pages:
    core: Core
    client: TestClient

    async def sign_in(self, email: str = EDITOR, password: str = PASSWORD, **headers: str) -> str:
        self.client.session.cookie_jar.clear()  # as another browser
        page = await self.client.get("/newsroom/signin")
        token = CSRF.search(await page.text())
        assert token is not None
        answer = await self.client.post(
            "/newsroom/signin",
            data={"csrf": token.group(1), "email": email, "password": password, "next": ""},
            allow_redirects=False,
            headers=headers,
        )
        assert answer.status == 303, await answer.text()
        return answer.headers.getall("Set-Cookie")[0]

    async def csrf(self, path: str = "/newsroom/stories") -> str:
        found = CSRF.search(await (await self.client.get(path)).text())
        assert found is not None
        return found.group(1)

    async def count(self, model: type, *where: object) -> int:
        async with self.core.sessions() as session:
            return int((await session.execute(select(func.count()).select_from(model).where(*where))).scalar_one())


@pytest.fixture
async def pages(database_url: str) -> AsyncIterator[Pages]:
    core = await empty_core(database_url, feed_allow_private=True)
    await core.prepare()
    accounts = Accounts(core.sessions, CHEAP)
    await accounts.add(EDITOR, PASSWORD, EditorRole.EDITOR)
    await accounts.add(VIEWER, PASSWORD, EditorRole.VIEWER)
    async with TestServer(build_http_app(core), host="127.0.0.1") as server, TestClient(server) as client:
        yield Pages(core, client)
    await core.close()


async def test_pages_need_a_session_and_carry_strict_headers(pages: Pages) -> None:
    answer = await pages.client.get("/newsroom/stories?q=a&b=c", allow_redirects=False)
    assert (
        answer.status == 303 and answer.headers["Location"] == "/newsroom/signin?next=/newsroom/stories?q%3Da%26b%3Dc"
    )
    form = await (await pages.client.get(answer.headers["Location"])).text()
    assert 'name="next" value="/newsroom/stories?q=a&amp;b=c"' in form  # back where the editor was going
    cookie = await pages.sign_in(**{"X-Forwarded-Proto": "https"})
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie and "Path=/newsroom" in cookie
    await pages.sign_in()  # a Secure cookie is not sent back over the test's plain HTTP
    answer = await pages.client.get("/newsroom/stories")
    assert answer.status == 200
    csp = answer.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Cache-Control"] == "no-store"
    page = await answer.text()
    assert "<script>" not in page and " style=" not in page  # nothing inline for the CSP to refuse
    assert "#xAI" in page and 'data-progress="musk-xai-distillation-testimony"' in page


async def test_plain_http_gets_no_secure_cookie_and_sign_out_ends_the_session(pages: Pages) -> None:
    cookie = await pages.sign_in()
    assert "Secure" not in cookie
    token = await pages.csrf()
    answer = await pages.client.post("/newsroom/signout", data={"csrf": token}, allow_redirects=False)
    assert answer.status == 303
    assert await pages.count(NewsroomSession) == 0
    again = await pages.client.get("/newsroom/stories", allow_redirects=False)
    assert again.status == 303


async def test_an_expired_session_signs_out(pages: Pages) -> None:
    await pages.sign_in()
    async with pages.core.sessions.begin() as session:
        await session.execute(update(NewsroomSession).values(expires_at=datetime(2026, 1, 1, tzinfo=UTC)))
    answer = await pages.client.get("/newsroom/stories", allow_redirects=False)
    assert answer.status == 303


async def test_a_refused_story_shows_the_core_problem_at_its_field_and_writes_nothing(pages: Pages) -> None:
    await pages.sign_in()
    token = await pages.csrf("/newsroom/write")
    stories = await pages.count(Story)
    fields = {"csrf": token, "title": "A long one", "category": "AI", "tags": "xAI", "action": "confirm"}
    answer = await pages.client.post("/newsroom/write", data=fields | {"summary": "word " * 121})
    assert answer.status == 422
    page = await answer.text()
    assert re.search(r'data-error-for="summary">has 121 words; at most 120', page), page
    # An existing slug is never overwritten by a new story.
    answer = await pages.client.post(
        "/newsroom/write", data=fields | {"summary": "Short.", "slug": SLUG, "action": "confirm"}
    )
    assert answer.status == 422 and "open it to correct it" in await answer.text()
    assert await pages.count(Story) == stories


async def test_a_correction_opens_filled_in_and_edits_the_pushes_out(pages: Pages) -> None:
    core = pages.core
    await core.commands.handle_text(Caller(ChatRef("console", "reader", "private"), "u", True), "/subscribe xAI")
    await core.publisher.publish(short_story("to-correct", "xAI"))
    async with core.sessions.begin() as session:  # as if its push had gone out
        await session.execute(
            update(Delivery).values(status="sent", sent_at=Delivery.created_at, platform_message_id="1")
        )
    await pages.sign_in()
    form = await (await pages.client.get("/newsroom/write?slug=to-correct")).text()
    assert 'name="editing" value="to-correct"' in form and "readonly" in form
    assert "Story to-correct" in form and "What changed, in one line." in form
    fields = dict(re.findall(r'<input type="[a-z]+" name="([a-z0-9_-]+)" value="([^"]*)"', form))
    fields |= {
        "summary": "What changed, in one line, now right.",
        "body": "Lead paragraph.",
        "correction": "The summary missed a word.",
        "action": "publish",
    }
    confirm = await (await pages.client.post("/newsroom/write", data=fields)).text()
    assert "Save this correction? 1 push already out will be edited" in confirm
    answer = await pages.client.post("/newsroom/write", data=fields | {"action": "confirm"}, allow_redirects=False)
    assert answer.status == 303, await answer.text()
    assert answer.headers["Location"] == "/newsroom/stories/to-correct?done=saved"
    after = await core.catalog.story("to-correct")
    assert after is not None and after.story.summary.endswith("now right.")
    assert after.story.correction == "The summary missed a word."
    assert await pages.count(Delivery, Delivery.kind == "edit") == 1
    page = await (await pages.client.get("/newsroom/stories/to-correct")).text()
    assert re.search(
        r"Published</li>.*Corrected: <q>The summary missed a word.</q> <span class=\"by\">by ed@newsroom.test",
        page,
        re.S,
    ), page


async def test_a_retraction_asks_for_confirmation_and_a_viewer_cannot(pages: Pages) -> None:
    await pages.sign_in(VIEWER)
    token = await pages.csrf()
    answer = await pages.client.post(f"/newsroom/stories/{SLUG}/retract", data={"csrf": token, "confirm": "yes"})
    assert answer.status == 403
    await pages.sign_in()
    token = await pages.csrf(f"/newsroom/stories/{SLUG}/retract")
    unconfirmed = await pages.client.post(f"/newsroom/stories/{SLUG}/retract", data={"csrf": token, "reason": "Wrong."})
    assert unconfirmed.status == 422 and "confirm" in await unconfirmed.text()
    assert await pages.core.catalog.story(SLUG) is not None
    too_long = await pages.client.post(
        f"/newsroom/stories/{SLUG}/retract", data={"csrf": token, "reason": "x" * 501, "confirm": "yes"}
    )
    assert too_long.status == 422 and await pages.core.catalog.story(SLUG) is not None
    done = await pages.client.post(
        f"/newsroom/stories/{SLUG}/retract",
        data={"csrf": token, "reason": "The testimony was misquoted.", "confirm": "yes"},
        allow_redirects=False,
    )
    assert done.status == 303
    assert await pages.core.catalog.story(SLUG) is None
    page = await (await pages.client.get(f"/newsroom/stories/{SLUG}")).text()
    assert 'Retracted: <q>The testimony was misquoted.</q> <span class="by">by ed@newsroom.test</span>' in page
    listing = await (await pages.client.get("/newsroom/stories")).text()
    assert "withdrawn" in listing


async def test_the_tags_page_counts_followers_per_platform(pages: Pages) -> None:
    for name in ("a", "b"):
        await pages.core.commands.handle_text(Caller(ChatRef("console", name, "private"), name, True), "/subscribe xAI")
    await pages.sign_in(VIEWER)
    page = await (await pages.client.get("/newsroom/tags")).text()
    row = page[page.index("#xAI") :]
    row = row[: row.index("</tr>")]
    assert "Console 2" in row


async def test_the_live_progress_streams_and_polls(pages: Pages) -> None:
    await pages.core.commands.handle_text(Caller(ChatRef("console", "r", "private"), "r", True), "/subscribe xAI")
    await pages.sign_in(VIEWER)
    await pages.core.publisher.publish(short_story("live-one", "xAI"))
    polled = await (await pages.client.get("/newsroom/progress?slugs=live-one,nope")).json()
    assert polled == {"live-one": {"console": {"sent": 0, "pending": 1, "failed": 0, "cancelled": 0, "total": 1}}}
    answer = await pages.client.get("/newsroom/events?slugs=live-one")
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    first = await asyncio.wait_for(answer.content.readline(), 5)
    assert b'"pending": 1' in first
    async with pages.core.sessions.begin() as session:
        await session.execute(update(Delivery).values(status="sent", sent_at=Delivery.created_at))
    await asyncio.wait_for(answer.content.readline(), 5)  # the blank line ending the first event
    second = await asyncio.wait_for(answer.content.readline(), 5)
    assert b'"sent": 1' in second
    answer.close()


async def test_the_feeds_page_adds_pauses_and_resumes(pages: Pages) -> None:
    server = FakeFeedServer()
    await server.start()
    try:
        server.serve(
            "/news.xml",
            '<?xml version="1.0"?><rss version="2.0"><channel><title>N</title><link>https://n.test/</link>'
            "<description>d</description><item><title>An item</title><link>https://n.test/a</link>"
            "<guid>a</guid><description>Told in one line.</description></item></channel></rss>",
        )
        await pages.sign_in()
        token = await pages.csrf("/newsroom/feeds")
        bad = await pages.client.post("/newsroom/feeds", data={"csrf": token, "url": "ftp://x"})
        assert bad.status == 422 and "url" in await bad.text()
        added = await pages.client.post(
            "/newsroom/feeds",
            data={"csrf": token, "url": server.url("/news.xml"), "tags": "Feeds"},
            allow_redirects=False,
        )
        assert added.status == 303, await added.text()
        (feed,) = await pages.core.feeds.all()
        assert feed.item_count == 1 and feed.tags == ("Feeds",)
        await pages.client.post(f"/newsroom/feeds/{feed.id}/pause", data={"csrf": token})
        page = await (await pages.client.get("/newsroom/feeds")).text()
        assert "paused" in page and "Resume" in page
        await pages.client.post(f"/newsroom/feeds/{feed.id}/resume", data={"csrf": token})
        resumed = await pages.core.feeds.get(feed.id)
        assert resumed is not None and not resumed.paused
    finally:
        await server.stop()
