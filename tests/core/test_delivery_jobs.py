"""Jobs of several kinds in one queue: a send per (story, chat), edits and deletes
that follow it in order, each claimed, leased and recorded like a send."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.outcomes import Failed, Outcome, Sent
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.port import Target
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.status import DeliveryStatus, JobKind
from content.delivery.worker import DeliveryWorker
from content.messages import Message
from content.models import Delivery, utcnow
from content.stories.drafts import StoryDraft

DRAFT = StoryDraft(
    slug="jobs",
    title="Jobs of a kind",
    summary="Sent, then edited, then deleted.",
    category="AI",
    published_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
    tags=("xAI",),
    url=None,
    terms=(),
    body="Lead.",
)


class Recorder:
    """A sender that keeps a chat's messages as a platform would: ids, edits, deletes."""

    platform = "test"

    def __init__(self) -> None:
        self.shown: dict[str, dict[str, str]] = {}  # chat -> message id -> its title
        self.calls: list[tuple[str, str]] = []
        self.fail_sends_to: set[str] = set()
        self._next = 0

    def _title(self, message: Message) -> str:
        return message.blocks[0].title  # type: ignore[union-attr]

    async def send(self, target: Target, message: Message) -> Outcome:
        chat = target.chat.chat_id
        self.calls.append(("send", chat))
        if chat in self.fail_sends_to:
            return Failed("refused as a message", transient=False)
        self._next += 1
        self.shown.setdefault(chat, {})[str(self._next)] = self._title(message)
        return Sent((str(self._next),))

    async def edit(self, target: Target, message: Message) -> Outcome:
        chat = target.chat.chat_id
        self.calls.append(("edit", chat))
        for message_id in target.message_ids:
            assert message_id in self.shown[chat], "an edit of a message the chat does not show"
            self.shown[chat][message_id] = self._title(message)
        return Sent(target.message_ids)

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        chat = target.chat.chat_id
        self.calls.append(("delete", chat))
        for message_id in target.message_ids:
            self.shown[chat].pop(message_id)
        return Sent(())


async def follow(core: Core, chats: range) -> None:
    for n in chats:
        await core.commands.handle_text(
            Caller(ChatRef("test", f"chat-{n}", "private"), f"user-{n}", True), "/subscribe xAI"
        )


def worker_for(core: Core, sender: Recorder) -> DeliveryWorker:
    return DeliveryWorker(
        DeliveryQueue(core.sessions),
        sender,
        RateLimiter(Limits(10_000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=2),
        batch=50,
    )


async def drain(worker: DeliveryWorker) -> None:
    while await worker.run_once():
        pass


async def rows(core: Core) -> list:
    async with core.sessions() as session:
        query = select(
            Delivery.id,
            Delivery.kind,
            Delivery.status,
            Delivery.chat_id,
            Delivery.acts_on_id,
            Delivery.message_ids,
            Delivery.last_error,
        ).order_by(Delivery.id)
        return (await session.execute(query)).all()


async def test_edits_and_deletes_follow_their_send_and_each_other_in_order(core: Core) -> None:
    await follow(core, range(3))
    sender = Recorder()
    worker = worker_for(core, sender)
    published = await core.publisher.publish(DRAFT)
    queue = DeliveryQueue(core.sessions)
    # A send still pending needs no edit: it reads the story when it goes.
    assert await queue.follow_up(published.story_id, JobKind.EDIT) == 0
    first = await queue.claim("test", 50)
    assert {job.kind for job in first} == {JobKind.SEND} and len(first) == 3
    # Queued while the sends are on the wire: they must wait for them.
    assert await queue.follow_up(published.story_id, JobKind.EDIT) == 3
    assert await queue.follow_up(published.story_id, JobKind.EDIT) == 0  # one pending edit carries any correction
    assert await queue.claim("test", 50) == []  # the edits wait while their sends are out
    async with core.sessions.begin() as session:  # the sends' worker died: their leases run out
        await session.execute(
            update(Delivery).where(Delivery.kind == JobKind.SEND).values(lease_until=utcnow() - timedelta(seconds=1))
        )
    await drain(worker)
    retracted = await core.publisher.retract(DRAFT.slug)
    assert retracted is not None and (retracted.retractions_queued, retracted.cancelled) == (3, 0)
    await drain(worker)

    kinds = [kind for kind, _chat in sender.calls]
    assert kinds.count("send") == 3 and kinds.count("edit") == 3 and kinds.count("delete") == 3
    for chat in ("chat-0", "chat-1", "chat-2"):
        mine = [kind for kind, where in sender.calls if where == chat]
        assert mine == ["send", "edit", "delete"], mine
        assert sender.shown[chat] == {}  # deleted in the end
    done = await rows(core)
    assert {r.status for r in done} == {DeliveryStatus.SENT}
    sends = [r for r in done if r.kind is JobKind.SEND]
    assert all(r.message_ids == () for r in sends)  # after the delete the chat shows nothing of it
    assert {r.acts_on_id for r in done if r.kind is not JobKind.SEND} == {r.id for r in sends}


async def test_an_edit_of_a_send_that_never_arrived_is_skipped(core: Core) -> None:
    await follow(core, range(2))
    sender = Recorder()
    sender.fail_sends_to.add("chat-1")
    worker = worker_for(core, sender)
    published = await core.publisher.publish(DRAFT)
    await drain(worker)
    assert await DeliveryQueue(core.sessions).follow_up(published.story_id, JobKind.EDIT) == 1  # not the failed one
    async with core.sessions.begin() as session:  # and one queued by hand for the failed send waits for nothing
        failed = (await session.execute(select(Delivery).where(Delivery.status == DeliveryStatus.FAILED))).scalar_one()
        failed.status = DeliveryStatus.SENT  # as if sent, but with no message kept
    # chat-0 has an edit waiting already, which carries this one too.
    assert await DeliveryQueue(core.sessions).follow_up(published.story_id, JobKind.EDIT) == 1
    await drain(worker)
    edits = [r for r in await rows(core) if r.kind is JobKind.EDIT]
    assert sorted(r.status for r in edits) == [DeliveryStatus.SENT, DeliveryStatus.SKIPPED]
    assert [kind for kind, chat in sender.calls if chat == "chat-1"] == ["send"]


async def test_one_send_per_story_and_chat_but_any_number_of_edits(core: Core) -> None:
    await follow(core, range(1))
    published = await core.publisher.publish(DRAFT)
    (send,) = await rows(core)
    values = {"story_id": published.story_id, "chat_id": send.chat_id, "platform": "test"}
    async with core.sessions.begin() as session:
        for _ in range(3):
            await session.execute(insert(Delivery).values(kind=JobKind.EDIT, acts_on_id=send.id, **values))
    with pytest.raises(IntegrityError):
        async with core.sessions.begin() as session:
            await session.execute(insert(Delivery).values(kind=JobKind.SEND, **values))
    again = await core.publisher.publish(replace(DRAFT, summary="Changed."))
    assert again.deliveries_queued == 0
    assert len(await rows(core)) == 4


async def test_only_edits_and_deletes_follow_a_send(core: Core) -> None:
    with pytest.raises(ValueError, match="only edits and deletes"):
        await DeliveryQueue(core.sessions).follow_up(1, JobKind.SEND)


def test_a_new_version_edits_the_parts_both_have_sends_the_extra_and_drops_the_rest() -> None:
    from content.delivery.port import PartsChange, change_parts

    assert change_parts(("1", "2", "3"), 1) == PartsChange(edit=(("1", 0),), send=(), drop=("2", "3"))
    assert change_parts(("1",), 3) == PartsChange(edit=(("1", 0),), send=(1, 2), drop=())
    assert change_parts(("1", "2"), 2) == PartsChange(edit=(("1", 0), ("2", 1)), send=(), drop=())
