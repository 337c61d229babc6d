"""Push delivery end to end: the queue, the worker and python-telegram-bot against the fake
Bot API server, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from content.chats.ref import ChatRef
from content.delivery.outcomes import Sent
from content.delivery.port import Target
from content.delivery.queue import DeliveryQueue
from content.delivery.status import JobKind
from content.messages import Button, Message, para
from content.models import Delivery, utcnow
from content.stories.drafts import StoryDraft
from tests.adapters.telegram_rig import Rig

STORY = StoryDraft(
    slug="breaking",
    title="Breaking: a <new> model & more",
    summary="Short & sweet.",
    category="AI",
    published_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
    tags=("xAI", "OpenAI"),
    url=None,
    terms=(),
    body="Lead.",
)


async def test_fan_out_reaches_every_follower_once(rig: Rig) -> None:
    for n in range(1, 41):
        rig.fake.add_chat(n, "private", first_name=f"Reader {n}")
        await rig.follow(n, "xAI" if n % 3 == 0 else "OpenAI" if n % 3 == 1 else "xAI, OpenAI")
    rig.fake.add_chat(99, "private", first_name="Google fan")
    await rig.follow(99, "Google")
    published = await rig.core.publisher.publish(STORY)
    assert published.deliveries_queued == 40
    await rig.drain()
    for n in range(1, 41):
        (push,) = rig.fake.sent(n)
        assert "Breaking: a <new> model & more" in push.text and "#OpenAI #xAI" in push.text
        assert push.reply_markup["inline_keyboard"][0][0]["callback_data"] == "story:breaking"
        assert push.link_preview_disabled is False  # a push previews the story's page
    assert rig.fake.sent(99) == [] and rig.fake.errors == []
    rows = await rig.rows()
    assert {r.status for r in rows} == {"sent"} and all(r.platform_message_id for r in rows)

    again = await rig.core.publisher.publish(STORY)
    assert again.deliveries_queued == 0
    await rig.drain()
    assert all(len(rig.fake.sent(n)) == 1 for n in range(1, 41))


async def test_a_429_waits_retry_after_and_then_delivers(rig: Rig) -> None:
    rig.fake.add_chat(1, "private", first_name="Ada")
    await rig.follow(1, "xAI")
    rig.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    await rig.core.publisher.publish(STORY)
    started = asyncio.get_running_loop().time()
    await rig.drain()
    assert asyncio.get_running_loop().time() - started >= 0.9
    assert len(rig.fake.sent(1)) == 1
    (row,) = await rig.rows()
    assert row.status == "sent" and row.attempts == 1  # the wait did not count as a failed try


async def test_a_blocked_chat_is_deactivated_and_skipped(rig: Rig) -> None:
    for n in (1, 2):
        rig.fake.add_chat(n, "private", first_name="Reader")
        await rig.follow(n, "xAI")
    rig.fake.block(1)
    await rig.core.publisher.publish(STORY)
    await rig.core.publisher.publish(replace(STORY, slug="second", title="Second"))
    rig.worker.batch = 1  # one row a claim: the 403 comes before chat 1's second row is claimed
    await rig.drain()
    rows = {(r.platform_chat_id, r.status) for r in await rig.rows()}
    assert rows == {("1", "skipped"), ("2", "sent")}
    assert not [r for r in await rig.rows() if r.platform_chat_id == "1" and r.active]
    asked_blocked = [c for c in rig.fake.calls if c.method == "sendMessage" and str(c.params["chat_id"]) == "1"]
    assert len(asked_blocked) == 1  # its second push was skipped, not tried
    # Its subscriptions stay, inactive with the chat, for when it comes back.
    assert [t.name for t in await rig.core.catalog.followed(ChatRef("telegram", "1"))] == ["xAI"]
    assert len(rig.fake.sent(2)) == 2
    third = await rig.core.publisher.publish(replace(STORY, slug="third", title="Third"))
    assert third.deliveries_queued == 1  # the inactive chat gets nothing queued


async def test_a_migrated_group_moves_and_gets_the_message(rig: Rig) -> None:
    rig.fake.add_chat(-500, "group", title="Readers")
    await rig.follow(-500, "xAI", kind="group")
    rig.fake.migrate(-500, -1009000)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    assert len(rig.fake.sent(-1009000)) == 1
    (row,) = await rig.rows()
    assert row.status == "sent" and row.platform_chat_id == "-1009000"
    followed = await rig.core.catalog.followed(ChatRef("telegram", "-1009000"))
    assert [t.name for t in followed] == ["xAI"]


async def test_5xx_spend_no_attempt_but_a_chat_that_alone_fails_counts_them(rig: Rig) -> None:
    for n in (1, 2, 3, 4):
        rig.fake.add_chat(n, "private", first_name="Reader")
    await rig.follow(1, "xAI")
    rig.fake.fail_next("sendMessage", 502, "Bad Gateway", times=2)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    (row,) = await rig.rows()
    # Telegram not answering is no fault of the row: it went once Telegram did, with its one attempt.
    assert row.status == "sent" and row.attempts == 1 and len(rig.fake.sent(1)) == 1

    for n in (2, 3, 4):
        await rig.follow(n, "OpenAI")
    # Chat 2 alone gets 502s while Telegram answers the others: that is the row's own error.
    rig.fake.fail_chat(2, "sendMessage", 502, "Bad Gateway", times=100)
    await rig.core.publisher.publish(replace(STORY, slug="later", tags=("OpenAI",)))
    await rig.drain()
    failed = [r for r in await rig.rows() if r.status == "failed"]
    assert len(failed) == 1 and failed[0].platform_chat_id == "2"
    assert failed[0].attempts == 3 and "Bad Gateway" in failed[0].last_error
    assert rig.fake.sent(2) == [] and len(rig.fake.sent(3)) == len(rig.fake.sent(4)) == 1


async def test_a_timeout_is_retried_and_the_message_delivered(rig: Rig) -> None:
    rig.fake.add_chat(1, "private", first_name="Ada")
    await rig.follow(1, "xAI")
    impatient = AiohttpRequest(read_timeout=0.3)
    await impatient.initialize()
    try:
        rig.worker.sender = TelegramSender(Bot(rig.fake.token, base_url=f"{rig.fake.url}/bot"), impatient)
        rig.fake.stall_next("sendMessage", 1.0)
        await rig.core.publisher.publish(STORY)
        await rig.drain()
    finally:
        await impatient.shutdown()
    (row,) = await rig.rows()
    # A timeout says nothing about the row: tried again, with no attempt spent.
    assert row.status == "sent" and row.attempts == 1 and row.platform_message_id
    # The timed-out try may still have reached Telegram: at most that one message twice.
    assert 1 <= len(rig.fake.sent(1)) <= 2


async def test_an_expired_lease_is_claimed_again(rig: Rig) -> None:
    rig.fake.add_chat(1, "private", first_name="Ada")
    await rig.follow(1, "xAI")
    await rig.core.publisher.publish(STORY)
    queue = DeliveryQueue(rig.core.sessions, lease_seconds=30)
    (taken,) = await queue.claim("telegram", 10)  # a worker that dies right after claiming
    assert await queue.claim("telegram", 10) == []  # leased: nobody else takes it
    async with rig.core.sessions.begin() as session:  # its lease runs out
        await session.execute(
            update(Delivery).where(Delivery.id == taken.id).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    await rig.drain()
    assert len(rig.fake.sent(1)) == 1


async def test_an_edit_changes_the_push_in_place_and_a_delete_takes_it_down(rig: Rig) -> None:
    rig.fake.add_chat(1, "private", first_name="Ada")
    await rig.follow(1, "xAI")
    published = await rig.core.publisher.publish(STORY)
    await rig.drain()
    (push,) = rig.fake.sent(1)
    corrected = await rig.core.publisher.publish(replace(STORY, title="Breaking: a corrected model"))
    assert corrected.corrections_queued == 1
    await rig.drain()
    edited = rig.fake.sent(1)[-1]
    assert edited.edited and edited.message_id == push.message_id and "a corrected model" in edited.text
    assert edited.reply_markup["inline_keyboard"][0][0]["callback_data"] == "story:breaking"  # the button stays
    # The same content again is no change, and no failure.
    assert await rig.worker.queue.follow_up(published.story_id, JobKind.EDIT) == 1
    await rig.drain()
    retracted = await rig.core.publisher.retract(STORY.slug)
    assert retracted is not None and retracted.retractions_queued == 1
    await rig.drain()
    assert rig.fake.deleted == [(1, push.message_id)]
    assert {r.status for r in await rig.rows()} == {"sent"}
    assert rig.fake.errors == [] or all("not modified" in (c.description or "") for c in rig.fake.errors)


async def test_an_edit_to_fewer_or_more_parts_removes_or_sends_the_difference(rig: Rig) -> None:
    rig.fake.add_chat(1, "private", first_name="Ada")
    sender = rig.worker.sender
    long = Message(tuple(para(f"Part {i}. " + "word " * 600) for i in range(3)))
    short = Message((para("Short now."),), buttons=((Button("Explain", "story", "breaking"),),))
    sent = await sender.send(Target(ChatRef("telegram", "1")), long)
    assert isinstance(sent, Sent) and len(sent.message_ids) == 3
    first, middle, last = sent.message_ids
    rig.fake.age(1, int(last), hours=49)  # too old for Telegram to let the bot delete it

    shrunk = await sender.edit(Target(ChatRef("telegram", "1"), sent.message_ids), short)
    assert shrunk == Sent((first,))
    assert rig.fake.deleted == [(1, int(middle))]
    now = {m.message_id: m for m in rig.fake.sent(1)}  # the latest record of each message
    assert now[int(first)].text == "Short now." and now[int(first)].reply_markup is not None
    assert now[int(last)].text == "—"  # emptied where it could not be deleted

    grown = await sender.edit(Target(ChatRef("telegram", "1"), shrunk.message_ids), long)
    assert isinstance(grown, Sent) and grown.message_ids[0] == first and len(grown.message_ids) == 3
    latest = {m.message_id: m for m in rig.fake.sent(1)}
    assert [latest[int(i)].text.split(".")[0] for i in grown.message_ids] == ["Part 0", "Part 1", "Part 2"]
    assert latest[int(first)].reply_markup is None  # the buttons end the message, on its last part
