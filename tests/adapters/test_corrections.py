"""Corrections and retractions end to end: the publisher, the queue, a worker and
python-telegram-bot against the fake Bot API server, on SQLite and PostgreSQL.

What a chat shows is read back from the fake: a push edited in place keeps
its message id and its button, a withdrawn one is gone or shows the notice."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.status import DeliveryStatus, JobKind
from content.messages import Message
from content.models import Chat, Delivery, Story, utcnow
from content.stories.drafts import StoryDraft
from content.stories.writer import SaveOutcome
from tests.adapters.telegram_rig import Rig

STORY = StoryDraft(
    slug="chip-export-rules",
    title="New chip export rules, explained",
    summary="What the rules cover and who they hit.",
    category="Policy",
    published_at=datetime(2026, 12, 2, 7, tzinfo=UTC),
    tags=("Chips",),
    url="https://news.test/chip-export-rules",
    terms=(),
    body="Lead paragraph.",
)


def text_of(message: Message) -> str:
    return " ".join(span.text for block in message.blocks for span in getattr(block, "spans", ()))


async def ask(rig: Rig, line: str, chat: int = 1) -> str:
    reply = await rig.core.commands.handle_text(Caller(ChatRef("telegram", str(chat), "private"), "1", True), line)
    return "\n".join(text_of(m) + " ".join(repr(b) for b in m.blocks) for m in reply.messages)


async def jobs(rig: Rig, kind: JobKind) -> list:
    async with rig.core.sessions() as session:
        query = (
            select(Delivery.status, Delivery.last_error, Chat.platform_chat_id)
            .join(Chat, Chat.id == Delivery.chat_id)
            .where(Delivery.kind == kind)
            .order_by(Delivery.id)
        )
        return (await session.execute(query)).all()


def latest(rig: Rig, chat: int) -> dict:
    """The latest version of each message the chat shows, by message id."""
    return {m.message_id: m for m in rig.fake.sent(chat)}


async def readers(rig: Rig, count: int, tags: str = "Chips") -> None:
    for n in range(1, count + 1):
        rig.fake.add_chat(n, "private", first_name=f"Reader {n}")
        await rig.follow(n, tags)


async def test_a_correction_edits_pushes_in_place_and_pending_sends_send_the_new_version(rig: Rig) -> None:
    await readers(rig, 3)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    pushes = {n: rig.fake.sent(n)[0] for n in (1, 2, 3)}

    fixed = replace(STORY, title="New chip export rules, explained again", correction="The rules start in March.")
    corrected = await rig.core.publisher.publish(fixed)
    assert (corrected.outcome, corrected.corrections_queued, corrected.deliveries_queued) == (SaveOutcome.UPDATED, 3, 0)
    await rig.drain()
    for n, push in pushes.items():
        assert len(rig.fake.sent(n)) == 2  # the push, and its edit: no second push
        edited = rig.fake.sent(n)[-1]
        assert edited.edited and edited.message_id == push.message_id
        assert "explained again" in edited.text and "The rules start in March." in edited.text
        assert "Corrected " in edited.text and " UTC: The rules start in March." in edited.text
        assert "<i>Corrected" in edited.html  # an italic line
        assert edited.buttons[0]["callback_data"] == f"story:{STORY.slug}"  # the button stays
    assert [r.status for r in await jobs(rig, JobKind.EDIT)] == [DeliveryStatus.SENT] * 3

    # A story corrected before its pushes went out: they send the new version, nothing is edited.
    second = replace(STORY, slug="second-story", title="A second story")
    await rig.core.publisher.publish(second)
    again = await rig.core.publisher.publish(replace(second, title="A second story, corrected"))
    assert (again.corrections_queued, again.deliveries_queued) == (0, 0)
    await rig.drain()
    for n in (1, 2, 3):
        assert [m.text.split("\n")[0] for m in rig.fake.sent(n)[2:]] == ["A second story, corrected"]
    assert len(await jobs(rig, JobKind.EDIT)) == 3
    assert rig.fake.errors == []


async def test_what_a_push_does_not_show_edits_nothing_and_an_edit_without_a_note_says_updated(rig: Rig) -> None:
    await readers(rig, 1)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    body_only = await rig.core.publisher.publish(replace(STORY, body="A longer lead paragraph."))
    assert (body_only.outcome, body_only.corrections_queued) == (SaveOutcome.UPDATED, 0)
    same = await rig.core.publisher.publish(replace(STORY, body="A longer lead paragraph."))
    assert (same.outcome, same.corrections_queued) == (SaveOutcome.UNCHANGED, 0)
    await rig.drain()
    assert len(rig.fake.sent(1)) == 1

    retagged = await rig.core.publisher.publish(replace(STORY, body="A longer lead paragraph.", category="Trade"))
    assert retagged.corrections_queued == 1
    await rig.drain()
    edited = rig.fake.sent(1)[-1]
    assert edited.edited and "Trade" in edited.text
    assert "Updated " in edited.text and "<i>Updated " in edited.html
    assert "Corrected" not in edited.text


async def test_the_story_shows_the_correction_first(rig: Rig) -> None:
    await rig.core.publisher.publish(STORY)
    await rig.core.publisher.publish(replace(STORY, summary="What the rules cover.", correction="Fixed the dates."))
    detail = await rig.core.commands.handle_text(
        Caller(ChatRef("telegram", "1", "private"), "1", True), f"/story {STORY.slug}"
    )
    (card,) = detail.messages[0].blocks
    first = card.blocks[0]  # type: ignore[attr-defined]
    assert first.spans[0].italic and "Fixed the dates." in first.spans[0].text
    assert first.spans[0].text.startswith("Corrected ")


async def test_a_tag_a_correction_adds_reaches_only_its_new_followers_and_only_while_the_story_is_young(
    rig: Rig,
) -> None:
    # The tags exist before anyone follows them (a tag nobody wrote about cannot be followed).
    await rig.core.publisher.publish(replace(STORY, slug="seed", title="Seed", tags=("Chips", "Trade", "Policy")))
    rig.fake.add_chat(1, "private", first_name="Chips reader")
    await rig.follow(1, "Chips")
    rig.fake.add_chat(2, "private", first_name="Trade reader")
    await rig.follow(2, "Trade")
    rig.fake.add_chat(3, "private", first_name="Both")
    await rig.follow(3, "Chips, Trade")
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    assert [len(rig.fake.sent(n)) for n in (1, 2, 3)] == [1, 0, 1]

    added = await rig.core.publisher.publish(replace(STORY, tags=("Chips", "Trade")))
    assert (added.deliveries_queued, added.corrections_queued) == (1, 2)  # a push to 2; 1 and 3 edited
    await rig.drain()
    assert [len(rig.fake.sent(n)) for n in (1, 2, 3)] == [2, 1, 2]
    assert not rig.fake.sent(2)[0].edited and "#Trade" in rig.fake.sent(2)[0].text
    assert all(rig.fake.sent(n)[-1].edited for n in (1, 3))

    # An older story: its new tag's followers are not pushed it.
    old = replace(STORY, slug="older-story", title="An older story")
    await rig.core.publisher.publish(old)
    await rig.drain()
    async with rig.core.sessions.begin() as session:
        await session.execute(
            update(Story).where(Story.slug == old.slug).values(created_at=utcnow() - timedelta(hours=25))
        )
    rig.fake.add_chat(4, "private", first_name="Policy reader")
    await rig.follow(4, "Policy")
    late = await rig.core.publisher.publish(replace(old, tags=("Chips", "Policy")))
    assert (late.deliveries_queued, late.corrections_queued) == (0, 2)
    await rig.drain()
    assert rig.fake.sent(4) == []


async def test_a_retraction_deletes_young_pushes_edits_old_ones_and_cancels_the_rest(rig: Rig) -> None:
    await readers(rig, 3)
    published = await rig.core.publisher.publish(STORY)
    async with rig.core.sessions.begin() as session:  # chat 3's push waits (a 429 earlier, say)
        chat3 = select(Chat.id).where(Chat.platform_chat_id == "3").scalar_subquery()
        await session.execute(
            update(Delivery).where(Delivery.chat_id == chat3).values(next_attempt_at=utcnow() + timedelta(hours=1))
        )
    await rig.worker.run_once()
    young, old = rig.fake.sent(1)[0], rig.fake.sent(2)[0]
    rig.fake.age(2, old.message_id, hours=49)  # Telegram lets a bot delete its messages for 48 hours
    corrected = await rig.core.publisher.publish(replace(STORY, title="New chip export rules, corrected"))
    assert corrected.corrections_queued == 2

    assert any("chip export" in r.title.lower() for r in await rig.core.commands.inline("chip export"))
    assert await rig.core.commands.complete("story", "chip-export") != []
    retracted = await rig.core.publisher.retract(STORY.slug, "The rules were not adopted.")
    assert retracted is not None
    assert (retracted.retractions_queued, retracted.cancelled) == (2, 3)  # 2 edits and chat 3's send cancelled
    while await rig.worker.run_once():
        pass
    assert (1, young.message_id) in rig.fake.deleted
    notice = latest(rig, 2)[old.message_id]
    assert notice.edited and notice.text.startswith("This story was withdrawn by the newsroom.")
    assert "The rules were not adopted." in notice.text and notice.reply_markup is None
    assert "corrected" not in notice.text  # no edit of the correction went out after the retraction
    assert rig.fake.sent(3) == []
    assert sorted(r.status for r in await jobs(rig, JobKind.DELETE)) == [DeliveryStatus.SENT] * 2
    assert {r.status for r in await jobs(rig, JobKind.EDIT)} == {DeliveryStatus.CANCELLED}

    # Gone from every read.
    assert STORY.title not in await ask(rig, "/latest")
    assert "withdrawn by the newsroom" in await ask(rig, f"/story {STORY.slug}")
    assert "The rules were not adopted." in await ask(rig, f"/story {STORY.slug}")
    assert "Nothing found" in await ask(rig, "/search chip export")
    # Before the retraction both offered it; now neither does.
    assert not any("chip export" in r.title.lower() for r in await rig.core.commands.inline("chip export"))
    assert not any("chip export" in r.title.lower() for r in await rig.core.commands.inline(""))
    assert await rig.core.commands.complete("story", "chip-export") == []
    assert await rig.core.catalog.story(STORY.slug) is None
    again = await rig.core.publisher.retract(STORY.slug)
    assert again is not None and (again.retractions_queued, again.cancelled) == (0, 0)

    # The slug published again later is a new publication, pushed as any new story.
    republished = await rig.core.publisher.publish(replace(STORY, title="Chip export rules, adopted"))
    assert republished.outcome is SaveOutcome.CREATED and republished.story_id != published.story_id
    assert republished.deliveries_queued == 3
    await rig.drain()
    assert all(rig.fake.sent(n)[-1].text.startswith("Chip export rules, adopted") for n in (1, 2, 3))
    assert "Chip export rules, adopted" in await ask(rig, f"/story {STORY.slug}")


async def test_a_push_the_reader_deleted_is_skipped_and_noted(rig: Rig) -> None:
    await readers(rig, 2)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    rig.fake.delete_by_reader(1, rig.fake.sent(1)[0].message_id)
    await rig.core.publisher.publish(replace(STORY, summary="Who the rules hit."))
    await rig.drain()
    edits = {r.platform_chat_id: r for r in await jobs(rig, JobKind.EDIT)}
    assert edits["1"].status is DeliveryStatus.SKIPPED and "message to edit not found" in edits["1"].last_error.lower()
    assert edits["2"].status is DeliveryStatus.SENT
    report = await rig.core.publisher.retract(STORY.slug)
    assert report is not None and report.retractions_queued == 2
    await rig.drain()
    deletes = {r.platform_chat_id: r.status for r in await jobs(rig, JobKind.DELETE)}
    assert deletes == {"1": DeliveryStatus.SENT, "2": DeliveryStatus.SENT}  # already gone counts as deleted


async def test_sends_and_edits_share_the_limit_without_a_429(rig: Rig) -> None:
    rig.fake.rate_limit(per_second_global=30)
    rig.worker.limiter = RateLimiter(Limits(20.0))
    await readers(rig, 30)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    # A new story's sends and the first one's edits go out together.
    await rig.core.publisher.publish(replace(STORY, slug="another", title="Another story"))
    await rig.core.publisher.publish(replace(STORY, title="New chip export rules, corrected"))
    started = asyncio.get_running_loop().time()
    await rig.drain(timeout=30)
    took = asyncio.get_running_loop().time() - started
    assert all(len(rig.fake.sent(n)) == 3 for n in range(1, 31))
    assert [c for c in rig.fake.errors if c.error_code == 429] == []
    assert took > 2.0  # 60 calls at 20/s: the limit held them


async def test_an_edit_the_chat_refuses_deactivates_the_chat(rig: Rig) -> None:
    await readers(rig, 2)
    await rig.core.publisher.publish(STORY)
    await rig.drain()
    rig.fake.block(2)
    await rig.core.publisher.publish(replace(STORY, title="New chip export rules, corrected"))
    await rig.drain()
    edits = {r.platform_chat_id: r.status for r in await jobs(rig, JobKind.EDIT)}
    assert edits == {"1": DeliveryStatus.SENT, "2": DeliveryStatus.SKIPPED}
    async with rig.core.sessions() as session:
        active = dict((await session.execute(select(Chat.platform_chat_id, Chat.active))).all())
    assert active == {"1": True, "2": False}
    # An inactive chat is not followed up again.
    await rig.core.publisher.publish(replace(STORY, title="Corrected twice"))
    assert len(await jobs(rig, JobKind.EDIT)) == 3
