"""Telegram forum topics end to end: commands typed in a topic through
python-telegram-bot's Application, pushes by a delivery worker through
TelegramSender, against the fake Bot API server that keeps topics as Telegram
does (message_thread_id on updates and sends, the General topic that takes
none, closed and deleted topics), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import pytest
from sqlalchemy import select
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from bot.composition import Core, build_telegram
from content.delivery.reports import Reports
from content.delivery.status import DeliveryStatus
from content.models import Chat
from tests.adapters.telegram_rig import Rig, push_worker
from tests.adapters.test_telegram import started
from tests.fakes.telegram import FakeTelegram
from tests.helpers import short_story

FORUM, ADMIN, MEMBER = -1004001, 2001, 2002


@dataclass
class Forum:
    rig: Rig
    ai: int
    hardware: int

    @property
    def fake(self) -> FakeTelegram:
        return self.rig.fake

    async def say(self, text: str, topic: int | None, user: int = ADMIN) -> str:
        """A user writes in a topic (None: General); the bot's answer, which must land in that topic."""
        before = len(self.fake.sent(FORUM))
        self.fake.send_text(FORUM, user, text, thread_id=topic)
        await self.fake.wait_for(lambda c: len(self.fake.sent(FORUM)) > before, timeout=15)
        await self.fake.wait_idle(quiet=0.2)
        (answer,) = self.fake.sent(FORUM)[before:]
        assert answer.thread_id == topic, f"{text!r} in {topic} answered in {answer.thread_id}"
        return answer.text

    def pushed(self, topic: int | None) -> list[str]:
        return [m.text for m in self.fake.sent(FORUM, thread_id=topic) if "Read more" in m.text]


@pytest.fixture
async def forum(database_url: str) -> AsyncIterator[Forum]:
    fake = FakeTelegram()
    await fake.start()
    fake.add_chat(FORUM, "supergroup", title="Readers' forum", is_forum=True)
    fake.set_member(FORUM, ADMIN, "administrator")
    fake.set_member(FORUM, MEMBER, "member")
    ai, hardware = fake.add_topic(FORUM, "AI"), fake.add_topic(FORUM, "Hardware")
    core = await started(database_url, fake)
    for draft in (
        short_story("seed-xai", "xAI"),
        short_story("seed-chips", "Chips"),
        short_story("seed-openai", "OpenAI"),
    ):
        await core.publisher.publish(draft)
    runner = build_telegram(core)
    assert runner is not None
    runner.config = replace(runner.config, poll_timeout=1)
    await runner.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    await bot.initialize()
    pushes = AiohttpRequest()
    await pushes.initialize()
    worker = push_worker(core, bot, pushes)
    try:
        yield Forum(Rig(core, fake, worker), ai, hardware)
    finally:
        await runner.stop()
        await pushes.shutdown()
        await bot.shutdown()
        await core.close()
        await fake.stop()


async def places(core: Core) -> dict[str, bool]:
    async with core.sessions() as session:
        rows = await session.execute(select(Chat.thread_id, Chat.active).where(Chat.platform_chat_id == str(FORUM)))
        return dict(rows.all())


async def test_two_topics_following_different_tags_each_get_only_their_stories(forum: Forum) -> None:
    assert "Subscribed to #xAI" in await forum.say("/subscribe xAI", forum.ai)
    assert "Subscribed to #Chips" in await forum.say("/subscribe Chips", forum.hardware)
    assert "Subscribed to #OpenAI" in await forum.say("/subscribe OpenAI", None)  # General: the chat itself
    assert await forum.say("/subscriptions", forum.ai) == "This thread follows #xAI."
    assert await forum.say("/subscriptions", None) == "This chat follows #OpenAI."
    everywhere = await forum.say("/subscriptions all", forum.hardware)
    assert [line for line in everywhere.splitlines() if line] == [
        "The chat itself: #OpenAI",
        "Thread “AI”: #xAI",
        "Thread “Hardware”: #Chips",
    ]
    core = forum.rig.core
    for draft in (
        short_story("grok-update", "xAI", title="Grok gets an update"),
        short_story("new-gpu", "Chips", title="A new GPU, explained"),
        short_story("both", "xAI", "Chips", title="Chips for Grok"),
        short_story("gpt-news", "OpenAI", title="GPT news"),
    ):
        await core.publisher.publish(draft)
    await forum.rig.drain()
    ai, hardware, general = forum.pushed(forum.ai), forum.pushed(forum.hardware), forum.pushed(None)
    # Workers send in any order: what matters is which topic got what, once.
    assert sorted(t.split("\n")[0] for t in ai) == ["Chips for Grok", "Grok gets an update"]
    assert sorted(t.split("\n")[0] for t in hardware) == ["A new GPU, explained", "Chips for Grok"]
    assert [t.split("\n")[0] for t in general] == ["GPT news"]
    # A member of the group is no admin, in a topic as in the group.
    assert "Only admins" in await forum.say("/subscribe OpenAI", forum.ai, user=MEMBER)


async def test_a_closed_or_deleted_topic_stops_alone(forum: Forum) -> None:
    await forum.say("/subscribe xAI", forum.ai)
    await forum.say("/subscribe Chips", forum.hardware)
    await forum.say("/subscribe Chips", None)
    core = forum.rig.core
    forum.fake.close_topic(FORUM, forum.hardware)
    await core.publisher.publish(short_story("closed-one", "Chips", "xAI", title="Closed one"))
    await forum.rig.drain()
    report = await Reports(core.sessions, core.catalog).deliveries("closed-one")
    assert report is not None
    assert (report.by_status[DeliveryStatus.SENT], report.by_status[DeliveryStatus.SKIPPED]) == (2, 1)
    (closed,) = report.failures
    assert closed.thread_id == str(forum.hardware)
    assert closed.error == "Telegram: the topic was closed (Topic_closed); it no longer gets pushes"
    assert await places(core) == {"": True, str(forum.ai): True, str(forum.hardware): False}
    forum.fake.delete_topic(FORUM, forum.ai)
    await core.publisher.publish(short_story("deleted-one", "xAI", "Chips", title="Deleted one"))
    await forum.rig.drain()
    assert await places(core) == {"": True, str(forum.ai): False, str(forum.hardware): False}
    # The chat itself goes on, and hears about it all.
    assert [t.split("\n")[0] for t in forum.pushed(None)] == ["Closed one", "Deleted one"]
    everywhere = await forum.say("/subscriptions all", None)
    assert "Thread “AI”: #xAI (no longer reachable: nothing is pushed there)" in everywhere
    # Subscribing again in a reopened topic brings it back.
    forum.fake.reopen_topic(FORUM, forum.hardware)
    assert "Already following #Chips" in await forum.say("/subscribe Chips", forum.hardware)
    assert (await places(core))[str(forum.hardware)] is True
