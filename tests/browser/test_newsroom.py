"""The newsroom page as an editor uses it, in Chromium: sign in, write with
both previews following, publish to chats subscribed through the fake
Telegram and Discord, watch the bars fill; and what it refuses."""

from __future__ import annotations

import json
import time
from typing import Any

from playwright.async_api import Page, expect
from sqlalchemy import func, select

from content.models import Story
from tests.adapters.test_discord import ADMIN, GENERAL
from tests.adapters.test_telegram import ADA, PRIVATE
from tests.browser.conftest import DOCS, EDITOR, PASSWORD, VIEWER, Newsroom
from tests.fakes.telegram.html import HtmlParser
from tests.helpers import short_story

SUMMARY = (
    "A newsroom editor writes a story on the page, sees it as both platforms will show it, "
    "and publishes it to every chat that follows xAI."
)


async def subscribe_both(room: Newsroom) -> None:
    before = len(room.telegram.sent(PRIVATE))
    room.telegram.send_text(PRIVATE, ADA, "/subscribe xAI")
    await room.telegram.wait_for(lambda _c: len(room.telegram.sent(PRIVATE)) > before, timeout=15)
    interaction = room.discord.slash(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
    await room.discord.wait_for(lambda: bool(room.discord.responses(interaction)), timeout=15)


async def stories(room: Newsroom) -> int:
    async with room.core.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Story))).scalar_one())


async def fill_story(page: Page, title: str) -> None:
    await page.fill("input[name=title]", title)
    await page.fill("textarea[name=summary]", SUMMARY)
    await page.fill("input[name=category]", "AI")
    await page.fill("input[name=tags]", "xai")
    await page.fill("input[name=term-0]", "Preview")
    await page.fill("input[name=definition-0]", "the push shown before it is sent.")


async def test_an_editor_writes_previews_publishes_and_watches_it_arrive(newsroom: Newsroom) -> None:
    room = newsroom
    await subscribe_both(room)
    page = await room.signed_in()
    await page.click("nav >> text=Write")
    previews: list[dict[str, Any]] = []

    async def keep(response: Any) -> None:
        if response.url.endswith("/newsroom/preview") and response.ok:
            previews.append(await response.json())

    page.on("response", keep)
    await page.fill("input[name=title]", "Editors see their push before it goes")
    await page.fill("textarea[name=summary]", "One two three")
    await expect(page.locator("#word-count")).to_have_text("3")
    await fill_story(page, "Editors see their push before it goes")
    await expect(page.locator("#word-count")).to_have_text(str(len(SUMMARY.split())))
    # Both previews follow the form, with the stored tag's own spelling.
    telegram = page.locator(".tg-text").first
    await expect(telegram).to_contain_text("Editors see their push before it goes")
    await expect(telegram).to_contain_text("#xAI")
    await expect(telegram).to_contain_text("Preview: the push shown before it is sent.")
    await expect(page.locator(".dc-title").first).to_have_text("Editors see their push before it goes")
    await expect(page.locator(".tg-button").first).to_have_text("Explain")
    await expect(page.locator(".reach[data-platform=telegram]")).to_contain_text("1 Telegram")
    await expect(page.locator(".reach[data-platform=discord]")).to_contain_text("1 Discord")
    # A change shows at once; a core refusal shows at its field.
    await page.fill("input[name=url]", "not a link")
    await expect(page.locator("[data-error-for=url]")).to_contain_text("http")
    await page.fill("input[name=url]", "")
    await expect(page.locator("[data-error-for=url]")).to_be_hidden()
    await page.fill("input[name=title]", "Editors see their push before it is sent")
    await expect(page.locator(".dc-title").first).to_have_text("Editors see their push before it is sent")
    await page.wait_for_timeout(400)  # the last preview's answer
    DOCS.mkdir(exist_ok=True)
    await page.screenshot(path=str(DOCS / "newsroom-write.png"), full_page=True)
    # Publishing asks first, with the number of chats.
    await page.click("button[value=publish]")
    await expect(page.locator(".confirm")).to_contain_text("Publish to 2 chats")
    assert await stories(room) == 16  # nothing is written before the confirmation
    await page.click("button[value=confirm]")
    await page.wait_for_url("**/newsroom/stories/editors-see-their-push-before-it-is-sent?done=published")
    for platform in ("telegram", "discord"):
        bar = page.locator(f".bar[data-platform={platform}]")
        await expect(bar.locator(".n-percent")).to_have_text("100", timeout=20_000)
        await expect(bar.locator(".n-sent")).to_have_text("1")
    await page.reload()
    await expect(page.locator("figure.chart #chart-title")).to_contain_text("Sends per second: 2 in")
    await page.screenshot(path=str(DOCS / "newsroom-story.png"), full_page=True)
    await page.goto(f"{room.url}/newsroom/stories")
    await expect(page.locator(".story").first).to_contain_text("Editors see their push before it is sent")
    await page.screenshot(path=str(DOCS / "newsroom-stories.png"), full_page=True)

    # What the chats got is what the preview showed.
    shown = previews[-1]
    sent = [m for m in room.telegram.sent(PRIVATE) if "before it is sent" in m.text]
    assert len(sent) == 1
    assert sent[0].html == shown["telegram"]["texts"][0]
    text, entities = HtmlParser(shown["telegram"]["texts"][0]).parse()
    assert (sent[0].text, sent[0].entities) == (text, entities)
    assert [b["text"] for b in sent[0].buttons] == [label for row in shown["telegram"]["buttons"] for label in row]
    posted = [m for m in room.discord.messages(GENERAL) if m.get("embeds") and "before it is sent" in json.dumps(m)]
    assert len(posted) == 1
    assert posted[0]["embeds"] == shown["discord"]["messages"][0]["embeds"]


async def test_without_javascript_the_preview_button_and_publishing_work(newsroom: Newsroom) -> None:
    room = newsroom
    await subscribe_both(room)
    page = await room.signed_in(javascript=False)
    await page.goto(f"{room.url}/newsroom/write")
    await fill_story(page, "Written with scripts off")
    await page.click("button[value=preview]")
    await expect(page.locator(".tg-text").first).to_contain_text("Written with scripts off")
    await expect(page.locator(".dc-title").first).to_have_text("Written with scripts off")
    await page.click("button[value=publish]")
    await expect(page.locator(".confirm")).to_contain_text("Publish to 2 chats")
    await page.click("button[value=confirm]")
    await page.wait_for_url("**/newsroom/stories/written-with-scripts-off?done=published")
    await room.telegram.wait_for(lambda _c: any("scripts off" in m.text for m in room.telegram.sent(PRIVATE)))


async def test_a_viewer_reads_but_cannot_publish(newsroom: Newsroom) -> None:
    room = newsroom
    page = await room.signed_in(VIEWER)
    await expect(page.locator("nav")).not_to_contain_text("Write")
    answer = await page.goto(f"{room.url}/newsroom/write")
    assert answer is not None and answer.status == 403
    await page.goto(f"{room.url}/newsroom/stories")
    csrf = await page.locator("form.who input[name=csrf]").get_attribute("value")
    posted = await page.request.post(
        f"{room.url}/newsroom/write",
        form={
            "csrf": csrf or "",
            "action": "confirm",
            "title": "A viewer's story",
            "summary": "No.",
            "category": "AI",
            "tags": "xAI",
        },
    )
    assert posted.status == 403
    assert await stories(room) == 16


async def test_a_story_with_markup_shows_as_text(newsroom: Newsroom) -> None:
    room = newsroom
    title = "<script>window.pwned = 1</script> Tags <b>stay</b> text"
    await room.core.publisher.publish(short_story("markup-title", "xAI", title=title))
    page = await room.signed_in()
    await expect(page.locator(".headline", has_text="Tags")).to_have_text(title)
    await page.click(".headline >> text=Tags")
    await expect(page.locator("h1")).to_have_text(title)
    await page.goto(f"{room.url}/newsroom/write")
    await fill_story(page, title)
    await expect(page.locator(".tg-text").first).to_contain_text(title)
    await expect(page.locator(".dc-title").first).to_have_text(title)
    assert await page.evaluate("typeof window.pwned") == "undefined"
    assert await page.locator("main b:text-is('stay')").count() == 0


async def test_a_form_without_its_csrf_token_is_refused(newsroom: Newsroom) -> None:
    room = newsroom
    page = await room.signed_in()
    fields = {"action": "confirm", "title": "Forged", "summary": "Forged.", "category": "AI", "tags": "xAI"}
    for form in (fields, fields | {"csrf": "not-the-token"}):
        answer = await page.request.post(f"{room.url}/newsroom/write", form=form)
        assert answer.status == 403
        assert "expired" in await answer.text()
    assert await stories(room) == 16
    # Signing in without the sign-in form's own token is refused as well.
    answer = await page.request.post(
        f"{room.url}/newsroom/signin", form={"email": EDITOR, "password": PASSWORD}, headers={"Cookie": ""}
    )
    assert answer.status == 403


async def test_wrong_passwords_slow_the_next_tries_down(newsroom: Newsroom) -> None:
    room = newsroom
    page = await room.page()
    await page.goto(f"{room.url}/newsroom/signin")
    took = []
    for _ in range(6):
        await page.fill("input[name=email]", EDITOR)
        await page.fill("input[name=password]", "wrong password")
        started = time.monotonic()
        await page.click("button[type=submit]")
        await expect(page.locator(".error")).to_have_text("Wrong email or password.")
        took.append(time.monotonic() - started)
    assert max(took[:5]) < 0.9 <= took[5]  # the sixth try waited its second
    # The right password still signs in (after its wait), and clears the count.
    await page.fill("input[name=email]", EDITOR)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{room.url}/newsroom/stories")
