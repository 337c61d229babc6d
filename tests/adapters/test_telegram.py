"""The Telegram adapter end to end: python-telegram-bot against a fake Bot API server.

The fake enforces Telegram's rules (HTML parsing, lengths, callback data,
answers to callbacks and inline queries), so any wrong message fails here.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import aiohttp
import pytest

from bot.composition import Core, build_telegram
from bot.runtime import serve
from content.chats.ref import ChatRef
from content.commands.registry import COMMANDS
from content.stories.drafts import StoryDraft, TermDraft
from tests.conftest import empty_core
from tests.fakes.telegram import FakeTelegram

PRIVATE, ADA = 1001, 1001
GROUP, GROUP_ADMIN, GROUP_MEMBER = -1002001, 1002, 1003
CHANNEL = -1003001
DISTILLATION = "musk-xai-distillation-testimony"
# Every call that carries the bot's words: none may be refused by the fake.
SENDING = {"sendMessage", "editMessageText", "answerCallbackQuery", "answerInlineQuery", "setMyCommands"}


def world(fake: FakeTelegram) -> None:
    fake.add_chat(PRIVATE, "private", first_name="Ada", username="ada")
    fake.add_chat(GROUP, "supergroup", title="Readers")
    fake.set_member(GROUP, GROUP_ADMIN, "administrator")
    fake.set_member(GROUP, GROUP_MEMBER, "member")
    fake.set_member(GROUP, fake.bot_id, "member")
    fake.add_chat(CHANNEL, "channel", title="Newsroom", username="newsroomchan")
    fake.set_member(CHANNEL, ADA, "creator")
    fake.set_member(CHANNEL, fake.bot_id, "administrator", can_post_messages=True)
    fake.add_chat(-1003002, "channel", title="No posting", username="nopostchan")
    fake.set_member(-1003002, ADA, "administrator")
    fake.set_member(-1003002, fake.bot_id, "left")
    fake.add_chat(-1003004, "channel", title="Read only", username="readonlychan")
    fake.set_member(-1003004, ADA, "creator")
    fake.set_member(-1003004, fake.bot_id, "administrator", can_post_messages=False)
    fake.add_chat(-1003003, "channel", title="Not mine", username="notminechan")
    fake.set_member(-1003003, ADA, "member")
    fake.set_member(-1003003, fake.bot_id, "administrator", can_post_messages=True)


@dataclass
class Harness:
    fake: FakeTelegram
    core: Core
    # Refusals a test provokes on purpose (status codes) are not failures.
    provoked: set[int] = field(default_factory=set)

    async def say(self, chat_id: int, user_id: int, text: str, replies: int = 1) -> list:
        """Send a message as a user and wait for the bot's answers to that chat."""
        before = len(self.fake.sent(chat_id))
        self.fake.send_text(chat_id, user_id, text)
        await self.fake.wait_for(lambda c: len(self.fake.sent(chat_id)) >= before + replies, timeout=15)
        await self.fake.wait_idle(quiet=0.2)
        return self.fake.sent(chat_id)[before:]


async def started(database_url: str, fake: FakeTelegram, **settings: object) -> Core:
    core = await empty_core(
        database_url, telegram_bot_token=fake.token, telegram_api_base_url=f"{fake.url}/bot", **settings
    )
    await core.prepare()
    return core


@pytest.fixture
async def tg(database_url: str) -> AsyncIterator[Harness]:
    fake = FakeTelegram()
    await fake.start()
    world(fake)
    core = await started(database_url, fake)
    runner = build_telegram(core)
    assert runner is not None
    runner.config = replace(runner.config, poll_timeout=1)  # quick shutdown
    await runner.start()
    harness = Harness(fake, core)
    try:
        yield harness
    finally:
        await runner.stop()
        await core.close()
        await fake.stop()
        assert not [c for c in fake.errors if c.method in SENDING and c.status not in harness.provoked], fake.errors


def texts(messages: list) -> str:
    return "\n\n".join(m.text for m in messages)


async def test_commands_are_registered_for_the_menu(tg: Harness) -> None:
    names = [c["command"] for c in tg.fake.commands or []]
    assert names == [c.name for c in COMMANDS]


async def test_every_command_in_a_private_chat(tg: Harness) -> None:
    start = texts(await tg.say(PRIVATE, ADA, "/start"))
    assert "30 seconds" in start and "/subscribe" in start
    assert "/explain TERM" in texts(await tg.say(PRIVATE, ADA, "/help"))
    (latest,) = await tg.say(PRIVATE, ADA, "/latest")
    assert latest.text.count("Read more") == 5 and latest.link_preview_disabled
    assert any(e["type"] == "text_link" for e in latest.entities)
    (story,) = await tg.say(PRIVATE, ADA, f"/story {DISTILLATION}")
    assert "partly" in story.text and "Glossary" in story.text and not story.link_preview_disabled
    (term,) = await tg.say(PRIVATE, ADA, "/explain distilation")
    assert "Querying a model many times" in term.text
    (found,) = await tg.say(PRIVATE, ADA, "/search distillation")
    assert DISTILLATION in found.text
    (subscribed,) = await tg.say(PRIVATE, ADA, "/subscribe #xai")
    assert "Subscribed to #xAI" in subscribed.text
    (listing,) = await tg.say(PRIVATE, ADA, "/subscriptions")
    assert listing.text == "This chat follows #xAI."
    (tags,) = await tg.say(PRIVATE, ADA, "/tags")
    assert "#xAI xAI · 2 stories ✓ following" in tags.text
    (gone,) = await tg.say(PRIVATE, ADA, "/unsubscribe all")
    assert "Unsubscribed from everything" in gone.text
    (plain_words,) = await tg.say(PRIVATE, ADA, "context window")
    assert plain_words.text.startswith("context window")
    (unknown,) = await tg.say(PRIVATE, ADA, "/frobnicate")
    assert "/help" in unknown.text


async def test_group_commands_addressing_and_admin_rights(tg: Harness) -> None:
    (addressed,) = await tg.say(GROUP, GROUP_MEMBER, f"/latest@{tg.fake.bot_username} 2")
    assert addressed.text.count("Read more") == 2
    tg.fake.send_text(GROUP, GROUP_MEMBER, "/latest@SomeOtherBot")
    await tg.fake.wait_idle(quiet=0.5)
    assert len(tg.fake.sent(GROUP)) == 1  # a command for another bot is not ours to answer
    (refused,) = await tg.say(GROUP, GROUP_MEMBER, "/subscribe xAI")
    assert "Only admins of this group" in refused.text
    assert any(c.method == "getChatMember" and str(c.params.get("user_id")) == str(GROUP_MEMBER) for c in tg.fake.calls)
    (accepted,) = await tg.say(GROUP, GROUP_ADMIN, "/subscribe xAI, OpenAI")
    assert "Subscribed to" in accepted.text
    (listing,) = await tg.say(GROUP, GROUP_MEMBER, "/subscriptions")
    assert "#OpenAI" in listing.text and "#xAI" in listing.text
    (no,) = await tg.say(GROUP, GROUP_MEMBER, "/unsubscribe all")
    assert "Only admins" in no.text


async def test_channel_subscriptions_from_a_private_chat(tg: Harness) -> None:
    (ok,) = await tg.say(PRIVATE, ADA, "/subscribe @newsroomchan xAI, Elon Musk")
    assert "@newsroomchan" in ok.text and "Subscribed to" in ok.text
    followed = await tg.core.catalog.followed(ChatRef("telegram", str(CHANNEL)))
    assert {t.name for t in followed} == {"xAI", "Elon Musk"}
    assert await tg.core.catalog.followed(ChatRef("telegram", str(PRIVATE))) == []
    (listing,) = await tg.say(PRIVATE, ADA, "/subscriptions @newsroomchan")
    assert "#ElonMusk, #xAI" in listing.text
    (by_id,) = await tg.say(PRIVATE, ADA, f"/unsubscribe {CHANNEL} xAI")
    assert "Unsubscribed from #xAI" in by_id.text
    (absent,) = await tg.say(PRIVATE, ADA, "/subscribe @nopostchan xAI")
    assert "Add me to it as an admin" in absent.text
    (no_post,) = await tg.say(PRIVATE, ADA, "/subscribe @readonlychan xAI")
    assert "I can't post in @readonlychan: give me the admin right to post messages" in no_post.text
    assert await tg.core.catalog.followed(ChatRef("telegram", "-1003004")) == []
    (not_admin,) = await tg.say(PRIVATE, ADA, "/subscribe @notminechan xAI")
    assert "Only admins of @notminechan" in not_admin.text
    (missing,) = await tg.say(PRIVATE, ADA, "/subscribe @nosuchchannel xAI")
    assert "I can't find @nosuchchannel" in missing.text


async def test_buttons_explain_and_page_on(tg: Harness) -> None:
    (latest,) = await tg.say(PRIVATE, ADA, "/latest")
    rows = latest.reply_markup["inline_keyboard"]
    explain = rows[0][0]["callback_data"]
    more = rows[-1][0]["callback_data"]
    assert explain.startswith("story:") and more.startswith("more:")

    before = len(tg.fake.sent(PRIVATE))
    query = tg.fake.press_button(PRIVATE, ADA, latest.message_id, explain)
    await tg.fake.wait_for(lambda c: len(tg.fake.sent(PRIVATE)) > before)
    assert query in tg.fake.answered_callbacks
    story = tg.fake.sent(PRIVATE)[-1]
    assert explain.removeprefix("story:") in story.html or "Glossary" in story.text

    query = tg.fake.press_button(PRIVATE, ADA, latest.message_id, more)
    edit = await tg.fake.wait_for(lambda c: c.method == "editMessageText")
    assert query in tg.fake.answered_callbacks
    assert edit.status == 200
    edited = tg.fake.sent(PRIVATE)[-1]
    assert edited.edited and edited.message_id == latest.message_id and edited.text != latest.text

    for forged in ("story:<b>", "more:abc:def", "nonsense", "story:" + "x" * 50):
        query = tg.fake.press_button(PRIVATE, ADA, latest.message_id, forged, stale=True)
        await tg.fake.wait_for(lambda c, q=query: q in tg.fake.answered_callbacks)
        assert "expired" in (tg.fake.answered_callbacks[query].get("text") or "")


async def test_inline_mode_offers_terms_and_stories(tg: Harness) -> None:
    query = tg.fake.inline_query(ADA, "distillation")
    await tg.fake.wait_for(lambda c: query in tg.fake.inline_answers)
    results = tg.fake.inline_answers[query]["results"]
    assert 1 < len(results) <= 10
    assert results[0]["title"] == "distillation"
    assert any("partly" in r["title"] for r in results)
    empty = tg.fake.inline_query(ADA, "")
    await tg.fake.wait_for(lambda c: empty in tg.fake.inline_answers)
    assert len(tg.fake.inline_answers[empty]["results"]) == 10


BAD_INPUT = [
    "/explain ",
    "/latest " + "x" * 1000,
    "/explain " + "a" * 1000,
    "/explain \x07\x1b[31m<red>",
    "/explain <b>bold</b> & <i>",
    "/search *bold* `code` @everyone",
    "/subscribe '; DROP TABLE tags; --",
    '/search " OR 1=1 --',
    "/story ../../etc/passwd",
    "/latest -5",
    "/explain &amp; &lt;",
    "/story <a href='x'>",
    "/subscribe <script>",
    "/nosuch",
    "/",
    "/explain 🤖🤖🤖",
    "/search " + "é" * 150,
]


async def test_bad_input_through_telegram_never_breaks_the_html(tg: Harness) -> None:
    for line in BAD_INPUT:
        replies = await tg.say(PRIVATE, ADA, line)
        assert replies, line
    assert not [c for c in tg.fake.errors if c.method in SENDING]
    shown = texts(tg.fake.sent(PRIVATE))
    assert "“<b>bold</b> & <i>”" in shown and "“&amp; &lt;”" in shown


async def save(core: Core, **fields: object) -> str:
    draft = StoryDraft(
        **{
            "slug": "sample",
            "title": "Sample",
            "summary": "Short.",
            "category": "Tech",
            "published_at": datetime(2026, 11, 25, 12, tzinfo=UTC),
            "tags": ("xAI",),
            "url": None,
            "terms": (TermDraft("sample term", "A term."),),
            "body": "Lead.",
            **fields,
        }
    )
    await core.writer.save(draft)
    return draft.slug


async def test_markup_characters_in_a_story_are_shown_as_text(tg: Harness) -> None:
    title = 'Models < 10B & "small" > big <b>'
    slug = await save(
        tg.core,
        slug="markup-story",
        title=title,
        body="Lead with <i>tags</i> & ampersands.\n\n## A <section> & \"more\"\n\nR&D < 5 > 3 'quotes'",
    )
    (story,) = await tg.say(PRIVATE, ADA, f"/story {slug}")
    assert title in story.text
    assert "Lead with <i>tags</i> & ampersands." in story.text and "R&D < 5 > 3 'quotes'" in story.text
    assert 'A <section> & "more"' in story.text


async def test_a_long_story_is_split_at_block_boundaries(tg: Harness) -> None:
    sections = "\n\n".join(f"## Part {i}\n\n" + f"Sentence {i} & more words < here. " * 25 for i in range(12))
    slug = await save(tg.core, slug="long-story", title="A long one", body="Lead.\n\n" + sections)
    parts = await tg.say(PRIVATE, ADA, f"/story {slug}", replies=2)
    assert len(parts) >= 2
    assert all(len(p.text.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    joined = texts(parts)
    for i in range(12):
        assert f"Part {i}" in joined and f"Sentence {i} & more words < here." in joined
    assert parts[-1].text.rstrip().endswith("#xAI")


async def test_flood_is_answered_once_then_ignored(database_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    world(fake)
    core = await started(database_url, fake, command_rate_limit=3, command_rate_window=3600)
    runner = build_telegram(core)
    runner.config = replace(runner.config, poll_timeout=1)  # quick shutdown
    await runner.start()
    try:
        for _ in range(6):
            fake.send_text(PRIVATE, ADA, "/help")
        await fake.wait_for(lambda c: len(fake.sent(PRIVATE)) >= 4)
        await fake.wait_idle(quiet=0.5)
        sent = fake.sent(PRIVATE)
        assert len(sent) == 4 and sum("Slow down" in m.text for m in sent) == 1
    finally:
        await runner.stop()
        await core.close()
        await fake.stop()


async def test_a_chat_that_blocked_the_bot_comes_back_when_it_writes_again(tg: Harness) -> None:
    await tg.say(PRIVATE, ADA, "/subscribe xAI")
    tg.fake.block(PRIVATE)
    tg.fake.send_text(PRIVATE, ADA, "/help")
    await tg.fake.wait_for(lambda c: c.method == "sendMessage" and c.status == 403)
    await asyncio.sleep(0.3)
    assert not await active(tg.core, PRIVATE)
    tg.fake.unblock(PRIVATE)
    await tg.say(PRIVATE, ADA, "/subscriptions")
    assert await active(tg.core, PRIVATE)
    tg.provoked.add(403)


async def active(core: Core, chat_id: int) -> bool:
    from sqlalchemy import select

    from content.models import Chat

    async with core.sessions() as session:
        query = select(Chat.active).where(Chat.platform == "telegram", Chat.platform_chat_id == str(chat_id))
        return bool((await session.execute(query)).scalar_one())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_webhook_mode_accepts_the_right_secret_only(database_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    world(fake)
    port = free_port()
    hook = f"http://127.0.0.1:{port}/telegram/hook"
    core = await started(
        database_url,
        fake,
        telegram_mode="webhook",
        telegram_webhook_url=hook,
        telegram_webhook_secret="s3cret_token",
        api_port=port,
    )
    stop = asyncio.Event()
    server = asyncio.create_task(serve(core, console=False, stop=stop))
    try:
        await fake.wait_for(lambda c: c.method == "setWebhook")
        assert tg_webhook(fake) == (hook, "s3cret_token")
        fake.send_text(PRIVATE, ADA, "/latest 1")
        await fake.wait_for(lambda c: len(fake.sent(PRIVATE)) >= 1)
        assert fake.sent(PRIVATE)[0].text.count("Read more") == 1
        update = {
            "update_id": 999,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": PRIVATE, "type": "private"},
                "from": {"id": ADA, "is_bot": False, "first_name": "Eve"},
                "text": "/help",
                "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
            },
        }
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(hook, json=update, headers=headers) as answer:
                    assert answer.status == 403
        await asyncio.sleep(0.5)
        assert len(fake.sent(PRIVATE)) == 1  # the forged updates did nothing
    finally:
        stop.set()
        await server
        await core.close()
        await fake.stop()


def tg_webhook(fake: FakeTelegram) -> tuple[str, str]:
    assert fake.webhook is not None
    return fake.webhook["url"], fake.webhook["secret_token"]


async def test_membership_updates_deactivate_and_reactivate(tg: Harness) -> None:
    await tg.say(GROUP, GROUP_ADMIN, "/subscribe xAI")
    assert await active(tg.core, GROUP)
    tg.fake.bot_removed(GROUP, GROUP_ADMIN)
    await wait_until(lambda: active(tg.core, GROUP), False)
    tg.fake.bot_added(GROUP, GROUP_ADMIN)
    await wait_until(lambda: active(tg.core, GROUP), True)


async def wait_until(probe, wanted: bool, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while await probe() != wanted:
        assert asyncio.get_running_loop().time() < deadline, f"never became {wanted}"
        await asyncio.sleep(0.05)


async def test_a_reply_that_finds_the_group_migrated_moves_its_subscriptions(tg: Harness) -> None:
    tg.fake.add_chat(-600, "group", title="Old group")
    tg.fake.set_member(-600, GROUP_ADMIN, "administrator")
    tg.fake.set_member(-600, tg.fake.bot_id, "member")
    await tg.say(-600, GROUP_ADMIN, "/subscribe xAI")
    tg.fake.migrate(-600, -1006000)
    # A command sent just before the upgrade is answered after it: the answer finds the new id.
    tg.fake.send_text(-600, GROUP_ADMIN, "/subscriptions")
    await tg.fake.wait_for(lambda c: len(tg.fake.sent(-1006000)) >= 1, timeout=15)
    assert "#xAI" in tg.fake.sent(-1006000)[0].text
    moved = await tg.core.catalog.followed(ChatRef("telegram", "-1006000"))
    assert [t.name for t in moved] == ["xAI"]
    assert await tg.core.catalog.followed(ChatRef("telegram", "-600")) == []
    tg.provoked.add(400)  # the first try at the old id is refused with the new one


async def test_a_push_only_runner_neither_polls_nor_sets_commands_and_reports_health(database_url: str) -> None:
    from content.chats.ref import ChatRef as Ref
    from content.delivery.outcomes import Sent
    from content.delivery.port import Target
    from content.messages import Message, para

    fake = FakeTelegram()
    await fake.start()
    world(fake)
    core = await started(database_url, fake)
    answering, pushing = build_telegram(core), build_telegram(core, receive=False)
    assert answering is not None and pushing is not None
    answering.config = replace(answering.config, poll_timeout=1)
    try:
        await pushing.start()
        sent = await (await pushing.sender()).send(Target(Ref("telegram", str(PRIVATE))), Message((para("Hello"),)))
        assert isinstance(sent, Sent) and fake.sent(PRIVATE)[-1].text == "Hello"
        assert pushing.healthy()
        assert not [c for c in fake.calls if c.method in ("getUpdates", "setMyCommands", "deleteWebhook")]
        assert not answering.healthy()  # not started: no updates reach it
        await answering.start()
        await fake.wait_for(lambda c: c.method == "getUpdates")
        assert answering.healthy()
        await answering.stop()
        assert not answering.healthy()
    finally:
        await pushing.stop()
        if answering.application.running:
            await answering.stop()
        await core.close()
        await fake.stop()
