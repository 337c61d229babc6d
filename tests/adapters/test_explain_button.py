"""A push's "What is TERM?" button end to end: pushes sent by a delivery worker
through python-telegram-bot and discord.py to the fake platforms, and the button
pressed there by readers in channels, groups and private chats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from telegram import Bot
from telegram.error import BadRequest

from adapters.discord.sender import DiscordSender
from adapters.telegram.request import AiohttpRequest
from bot.composition import build_telegram, build_workers
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.stories.drafts import StoryDraft, TermDraft
from tests.adapters.telegram_rig import Rig, push_worker
from tests.adapters.test_discord import ADMIN, DM, DM_USER, GENERAL, GUILD, MEMBER, ephemeral, running, text_of
from tests.conftest import empty_core
from tests.fakes.telegram import MAX_CALLBACK_ANSWER, FakeTelegram

PRIVATE, READER = 1001, 1001
GROUP, GROUP_MEMBER = -1002001, 1003
CHANNEL, CHANNEL_READER = -1003001, 1004
DEFINITION = "A model trained on what other models wrote, until its answers grow bland and wrong."
STORY = StoryDraft(
    slug="model-collapse-warning",
    title="Researchers warn of model collapse",
    summary="Training on machine-written text makes models worse, a study finds.",
    category="AI",
    published_at=datetime(2026, 12, 3, 8, tzinfo=UTC),
    tags=("xAI",),
    url=None,
    terms=(TermDraft("model collapse", DEFINITION), TermDraft("synthetic data", "Data a model made, not people.")),
    body="Lead.",
)
# What the push defines: the first term the story lists.
LINE = "model collapse: " + DEFINITION
DEFINE = "define:modelcollapse"
# Every call that carries the bot's words: none may be refused by the fake.
SENDING = {"sendMessage", "editMessageText", "answerCallbackQuery"}


# ----- Telegram -----------------------------------------------------------------
@dataclass
class Telegram:
    rig: Rig
    fake: FakeTelegram
    # Refusals a test provokes on purpose (status codes) are not failures.
    provoked: set[int] = field(default_factory=set)

    async def push(self, draft: StoryDraft = STORY) -> dict[int, int]:
        """Publishes `draft` and works the queue: the push's message id in each chat."""
        await self.rig.core.publisher.publish(draft)
        await self.rig.drain()
        return {chat: self.fake.sent(chat)[-1].message_id for chat in (PRIVATE, GROUP, CHANNEL)}

    async def press(self, chat: int, user: int, message_id: int, data: str = DEFINE) -> dict:
        """Presses the button as `user`; what the bot answered the callback with."""
        query = self.fake.press_button(chat, user, message_id, data)
        await self.fake.wait_for(lambda c: query in self.fake.answered_callbacks, timeout=15)
        await self.fake.wait_idle(quiet=0.3)
        return self.fake.answered_callbacks[query]


@pytest.fixture
async def telegram(database_url: str) -> AsyncIterator[Telegram]:
    fake = FakeTelegram()
    await fake.start()
    fake.add_chat(PRIVATE, "private", first_name="Ada", username="ada")
    fake.add_chat(GROUP, "supergroup", title="Readers")
    fake.set_member(GROUP, GROUP_MEMBER, "member")
    fake.set_member(GROUP, fake.bot_id, "member")
    fake.add_chat(CHANNEL, "channel", title="Newsroom", username="newsroomchan")
    fake.set_member(CHANNEL, CHANNEL_READER, "member")
    fake.set_member(CHANNEL, fake.bot_id, "administrator", can_post_messages=True)
    core = await empty_core(database_url, telegram_bot_token=fake.token, telegram_api_base_url=f"{fake.url}/bot")
    await core.prepare()
    runner = build_telegram(core)  # the bot, answering presses
    assert runner is not None
    runner.config = replace(runner.config, poll_timeout=1)
    await runner.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")  # the worker's own connection, as in production
    await bot.initialize()
    pushes = AiohttpRequest()
    await pushes.initialize()
    rig = Rig(core, fake, push_worker(core, bot, pushes))
    for chat, kind in ((PRIVATE, "private"), (GROUP, "group"), (CHANNEL, "channel")):
        await rig.follow(chat, "xAI", kind)
    harness = Telegram(rig, fake)
    try:
        yield harness
    finally:
        await runner.stop()
        await pushes.shutdown()
        await bot.shutdown()
        await core.close()
        await fake.stop()
        assert not [c for c in fake.errors if c.method in SENDING and c.status not in harness.provoked], fake.errors


async def test_a_telegram_push_defines_its_term_and_carries_the_button(telegram: Telegram) -> None:
    await telegram.push()
    for chat in (PRIVATE, GROUP, CHANNEL):
        (push,) = telegram.fake.sent(chat)
        assert LINE in push.text and push.text.index(STORY.summary) < push.text.index(LINE)
        assert "<i>model collapse</i>: " + DEFINITION in push.html
        assert [(b["text"], b["callback_data"]) for b in push.buttons] == [
            ("Explain", f"story:{STORY.slug}"),
            ("What is model collapse?", DEFINE),
        ]


@pytest.mark.parametrize(("chat", "reader"), [(CHANNEL, CHANNEL_READER), (GROUP, GROUP_MEMBER)])
async def test_pressed_in_a_channel_or_group_it_pops_up_and_posts_nothing(
    telegram: Telegram, chat: int, reader: int
) -> None:
    pushed = await telegram.push()
    before = len(telegram.fake.sent(chat))
    answered = await telegram.press(chat, reader, pushed[chat])
    assert answered["show_alert"] is True
    assert answered["text"] == LINE
    assert len(telegram.fake.sent(chat)) == before  # nothing posted into the chat


async def test_pressed_in_a_private_chat_it_pops_up_and_answers_in_full(telegram: Telegram) -> None:
    pushed = await telegram.push()
    before = len(telegram.fake.sent(PRIVATE))
    answered = await telegram.press(PRIVATE, READER, pushed[PRIVATE])
    assert answered["show_alert"] is True and answered["text"] == LINE
    (explained,) = telegram.fake.sent(PRIVATE)[before:]
    assert explained.text.startswith("model collapse") and DEFINITION in explained.text
    assert "Explained in" in explained.text and STORY.title in explained.text  # the /explain answer
    reader = Caller(ChatRef("telegram", str(PRIVATE), "private"), str(READER))
    explain = await telegram.rig.core.commands.handle_text(reader, "/explain model collapse")
    assert [b["callback_data"] for b in explained.buttons] == [
        f"{b.action}:{b.argument}" for row in explain.messages[0].buttons for b in row
    ]


async def test_a_long_definition_pops_up_within_200_characters(telegram: Telegram) -> None:
    long = " ".join(["A definition that goes on and on, clause after clause,"] * 7)
    assert len(long) > MAX_CALLBACK_ANSWER
    wordy = replace(STORY, slug="wordy", title="A wordy one", terms=(TermDraft("verbosity", long),), tags=("xAI",))
    pushed = await telegram.push(wordy)
    answered = await telegram.press(GROUP, GROUP_MEMBER, pushed[GROUP], "define:verbosity")
    text = answered["text"]
    assert answered["show_alert"] is True and len(text) <= MAX_CALLBACK_ANSWER and text.endswith("…")
    assert f"verbosity: {long}".startswith(text.removesuffix("…"))


async def test_the_fake_holds_a_callback_answer_to_200_characters(telegram: Telegram) -> None:
    telegram.provoked.add(400)
    async with Bot(telegram.fake.token, base_url=f"{telegram.fake.url}/bot") as bot:
        with pytest.raises(BadRequest, match="(?i)message_too_long"):
            await bot.answer_callback_query("1", "x" * (MAX_CALLBACK_ANSWER + 1), show_alert=True)


async def test_a_term_gone_since_the_push_gets_a_polite_note(telegram: Telegram) -> None:
    pushed = await telegram.push()
    # The story drops its glossary: the term goes, and the old button with it.
    await telegram.rig.core.publisher.publish(replace(STORY, terms=()))
    answered = await telegram.press(GROUP, GROUP_MEMBER, pushed[GROUP])
    assert "no longer in the glossary" in answered["text"] and not answered.get("show_alert")
    assert telegram.fake.sent(GROUP)[-1].message_id == pushed[GROUP]  # nothing posted


# ----- Discord --------------------------------------------------------------------
async def test_on_discord_the_button_answers_ephemerally_in_channels_and_dms(database_url: str) -> None:
    async with running(database_url, (GUILD,)) as dc:
        await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
        (xai,) = [t for t in await dc.core.catalog.tags() if t.name == "xAI"]
        await dc.core.follows.follow(ChatRef("discord", str(DM), "private"), [xai.id])
        (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])
        await dc.core.publisher.publish(STORY)
        while await worker.run_once():
            pass
        for channel, user in ((GENERAL, MEMBER), (DM, DM_USER)):
            push = dc.fake.messages(channel)[-1]
            assert LINE.replace("model collapse", "*model collapse*", 1) in push["embeds"][0]["description"]
            ids = [(c["label"], c["custom_id"]) for row in push["components"] for c in row["components"]]
            assert ids == [
                ("Explain", f"xb:story:{STORY.slug}"),
                ("What is model collapse?", "xb:define:modelcollapse"),
            ]
            before = len(dc.fake.messages(channel))
            pressed = dc.fake.press(channel, user, int(push["id"]), "xb:define:modelcollapse")
            await dc.fake.wait_for(lambda p=pressed: dc.fake.responses(p), timeout=15)
            await dc.settle(pressed)
            (answer,) = dc.fake.responses(pressed)
            assert answer["type"] == 4 and ephemeral(answer["data"]), channel
            assert answer["data"]["embeds"][0]["title"] == "model collapse"
            assert DEFINITION in text_of(answer["data"])
            shown = [m for m in dc.fake.messages(channel)[before:] if not ephemeral(m)]
            assert shown == [], channel  # nothing for everyone to see
