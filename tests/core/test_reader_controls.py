"""Reader controls in the core, on SQLite and PostgreSQL: digests as rows of
the delivery queue (with the clock moved by rewriting when a row is due),
quiet hours, following a glossary term, and the answers to bad input."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from bot.composition import Core
from content.chats.preferences import Digest, DigestEvery, Preferences, Quiet, is_quiet, next_digest_after
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.outcomes import Outcome, Sent
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.port import Target
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.status import DeliveryStatus, JobKind
from content.delivery.worker import DeliveryWorker
from content.messages import BulletList, Message
from content.models import Chat, Delivery, utcnow
from content.stories.drafts import TermDraft
from tests.helpers import plain, short_story

BERLIN = ZoneInfo("Europe/Berlin")
READER = ChatRef("test", "reader-1", "private")


@dataclass
class Recorder:
    """A sender that keeps what it was asked to send, and where."""

    platform: str = "test"
    sent: list[tuple[Target, Message]] = field(default_factory=list)

    async def send(self, target: Target, message: Message) -> Outcome:
        self.sent.append((target, message))
        return Sent((f"m{len(self.sent)}",))


def worker_for(core: Core, sender: Recorder) -> DeliveryWorker:
    return DeliveryWorker(
        DeliveryQueue(core.sessions),
        sender,  # type: ignore[arg-type]  # sends only: these tests queue no edits or deletes
        RateLimiter(Limits(1000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
    )


async def say(core: Core, line: str, chat: ChatRef = READER) -> str:
    """The answer, its lines joined (the console's rendering wraps them)."""
    return " ".join(plain(await core.commands.handle_text(Caller(chat, "u1", is_admin=True), line)).split())


async def drain(worker: DeliveryWorker) -> None:
    while await worker.run_once():
        pass


async def digest_rows(core: Core) -> list:
    async with core.sessions() as session:
        query = select(Delivery.status, Delivery.next_attempt_at, Delivery.last_error).where(
            Delivery.kind == JobKind.DIGEST
        )
        return (await session.execute(query.order_by(Delivery.id))).all()


async def make_digest_due(core: Core, at: datetime | None = None) -> None:
    """As if the clock had reached the waiting digest's time."""
    async with core.sessions.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.kind == JobKind.DIGEST, Delivery.status == DeliveryStatus.PENDING)
            .values(next_attempt_at=at or utcnow() - timedelta(seconds=1))
        )


def digest_titles(message: Message) -> list[str]:
    (items,) = [b for b in message.blocks if isinstance(b, BulletList)]
    return [item[0].text for item in items.items]


# ----- the rules --------------------------------------------------------------------------------
def test_a_daily_digest_keeps_its_local_time_across_the_daylight_saving_change() -> None:
    eight = Digest(DigestEvery.DAILY, time(8, 0))
    # Berlin moves its clocks on 29 March 2026 (CET to CEST) and back on 25 October.
    assert next_digest_after(eight, BERLIN, datetime(2026, 3, 27, 9, tzinfo=UTC)) == datetime(
        2026, 3, 28, 7, tzinfo=UTC
    )
    assert next_digest_after(eight, BERLIN, datetime(2026, 3, 28, 8, tzinfo=UTC)) == datetime(
        2026, 3, 29, 6, tzinfo=UTC
    )
    assert next_digest_after(eight, BERLIN, datetime(2026, 10, 24, 7, tzinfo=UTC)) == datetime(
        2026, 10, 25, 7, tzinfo=UTC
    )
    # Just before the time it is due that very day; just after, the next day.
    assert next_digest_after(eight, BERLIN, datetime(2026, 12, 2, 6, 59, tzinfo=UTC)) == datetime(
        2026, 12, 2, 7, tzinfo=UTC
    )
    monday_nine = Digest(DigestEvery.WEEKLY, time(9, 0), day=0)
    # Wednesday 2 December 2026: the next Monday is the 7th.
    assert next_digest_after(monday_nine, ZoneInfo("UTC"), datetime(2026, 12, 2, tzinfo=UTC)) == datetime(
        2026, 12, 7, 9, tzinfo=UTC
    )


def test_quiet_hours_wrap_past_midnight_in_the_chats_zone() -> None:
    night = Quiet(time(22, 0), time(7, 0))
    assert is_quiet(night, BERLIN, datetime(2026, 12, 2, 22, 30, tzinfo=UTC))  # 23:30 in Berlin
    assert is_quiet(night, BERLIN, datetime(2026, 12, 2, 5, 59, tzinfo=UTC))  # 06:59
    assert not is_quiet(night, BERLIN, datetime(2026, 12, 2, 6, 0, tzinfo=UTC))  # 07:00
    assert not is_quiet(None, BERLIN, datetime(2026, 12, 2, 23, tzinfo=UTC))


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ("/digest daily 25:00", "“25:00” is no time of day: write it as HH:MM, from 00:00 to 23:59."),
        ("/digest hourly", "Write /digest daily HH:MM [TIMEZONE], /digest weekly DAY HH:MM [TIMEZONE]"),
        ("/digest weekly someday 08:00", "“someday” is no day: use mon, tue, wed, thu, fri, sat or sun."),
        ("/digest daily 08:00 Mars/Olympus", "I don't know the time zone “Mars/Olympus”."),
        ("/digest daily 08:00 Europe/Berln", "Did you mean Europe/Berlin?"),
        ("/quiet 7-22", "“7” is no time of day"),
        ("/quiet 22:00", "Write /quiet HH:MM-HH:MM [TIMEZONE] or /quiet off"),
        ("/quiet 22:00-22:00", "Quiet hours need a start and an end that differ"),
        ("/follow quantum foam", "There's no glossary term"),
        ("/digest " + "x" * 1000, "That's too long for me"),
        ("/quiet " + "9" * 1000, "That's too long for me"),
    ],
)
async def test_bad_input_gets_a_short_helpful_answer_and_changes_nothing(core: Core, line: str, said: str) -> None:
    answer = await say(core, line)
    assert said in answer and len(answer) < 300
    assert await core.commands._services.settings.read(READER) == Preferences()  # nothing was written


async def test_settings_are_the_chats_and_only_admins_change_them_in_a_group(core: Core) -> None:
    group = ChatRef("test", "group-1", "group")
    member = Caller(group, "u2", is_admin=False)
    refused = plain(await core.commands.handle_text(member, "/digest daily 08:00"))
    assert "Only admins" in refused
    assert "daily at 08:00 (Europe/Berlin)" in await say(core, "/digest daily 08:00 europe/berlin", group)
    # The zone, once given, is remembered.
    assert "Quiet hours 22:00-07:00 (Europe/Berlin)" in await say(core, "/quiet 22:00-07:00", group)
    shown = await say(core, "/settings", group)
    assert "Digest: daily at 08:00" in shown and "Time zone: Europe/Berlin" in shown
    assert "Quiet hours: 22:00-07:00" in shown
    # A button of /settings, pressed by a member, changes nothing; by an admin, it does.
    denied = plain(await core.commands.press(member, "setting", "quiet:off"))
    assert "Only admins" in denied
    pressed = await core.commands.press(Caller(group, "u1", is_admin=True), "setting", "digest:off")
    assert pressed.messages[0].replaces_pressed and "Digest: off" in plain(pressed)
    assert (await core.commands._services.settings.read(group)).quiet == Quiet(time(22), time(7))


# ----- digests ----------------------------------------------------------------------------------
async def test_a_digest_goes_out_once_with_the_stories_since_the_last_and_schedules_the_next(core: Core) -> None:
    await say(core, "/subscribe xAI")
    await say(core, "/digest daily 08:00 Europe/Berlin")
    # Asked again, the waiting digest moves; a chat never has two waiting.
    await say(core, "/digest daily 08:00 Europe/Berlin")
    ((status, due, _),) = await digest_rows(core)
    assert status is DeliveryStatus.PENDING
    assert utcnow() < due <= utcnow() + timedelta(days=1) and due.astimezone(BERLIN).time() == time(8)
    first = await core.publisher.publish(short_story("grok-one", "xAI", title="Grok one"))
    second = await core.publisher.publish(short_story("grok-two", "xAI", title="Grok two"))
    # In digest mode a story is never pushed on its own.
    assert first.deliveries_queued == second.deliveries_queued == 0
    sender = Recorder()
    worker = worker_for(core, sender)
    await drain(worker)
    assert sender.sent == []  # not due yet
    await make_digest_due(core)
    await drain(worker)
    ((target, digest),) = sender.sent
    assert target.chat.chat_id == READER.chat_id
    assert digest_titles(digest) == ["Grok two", "Grok one"]
    assert [b.argument for row in digest.buttons for b in row] == ["grok-two", "grok-one"]
    assert "Your digest" in plain_message(digest)
    sent, waiting = await digest_rows(core)
    assert sent.status is DeliveryStatus.SENT and waiting.status is DeliveryStatus.PENDING
    assert waiting.next_attempt_at > utcnow() and waiting.next_attempt_at.astimezone(BERLIN).time() == time(8)
    # The next one has only what came since.
    await core.publisher.publish(short_story("grok-three", "xAI", title="Grok three"))
    await make_digest_due(core)
    await drain(worker)
    assert digest_titles(sender.sent[-1][1]) == ["Grok three"]
    # Nothing new: no digest, and the one after is still scheduled.
    await make_digest_due(core)
    await drain(worker)
    assert len(sender.sent) == 2
    rows = await digest_rows(core)
    assert [r.status for r in rows] == [
        DeliveryStatus.SENT,
        DeliveryStatus.SENT,
        DeliveryStatus.SKIPPED,
        DeliveryStatus.PENDING,
    ]
    assert rows[2].last_error == "nothing new since the last digest"


def plain_message(message: Message) -> str:
    from adapters.console import render_plain

    return render_plain(message)


async def test_a_digest_missed_while_the_bot_was_down_is_sent_once(core: Core) -> None:
    await say(core, "/subscribe xAI")
    await say(core, "/digest daily 08:00")
    for n in range(12):
        await core.publisher.publish(short_story(f"missed-{n}", "xAI", title=f"Missed {n}"))
    # Three days down: the one waiting row is three days overdue.
    await make_digest_due(core, utcnow() - timedelta(days=3))
    sender = Recorder()
    await drain(worker_for(core, sender))
    ((_, digest),) = sender.sent
    assert len(digest_titles(digest)) == 10
    assert "…and 2 more" in plain_message(digest)
    rows = await digest_rows(core)
    assert [r.status for r in rows] == [DeliveryStatus.SENT, DeliveryStatus.PENDING]
    assert rows[1].next_attempt_at > utcnow()


async def test_switching_digests_on_keeps_pending_pushes_and_off_releases_the_digest(core: Core) -> None:
    await say(core, "/subscribe xAI")
    queued = await core.publisher.publish(short_story("before", "xAI", title="Before"))
    assert queued.deliveries_queued == 1
    await say(core, "/digest daily 08:00")
    await core.publisher.publish(short_story("during", "xAI", title="During"))
    sender = Recorder()
    worker = worker_for(core, sender)
    await drain(worker)
    # The push queued before digests were on still goes out, alone.
    assert [m.title for _, m in sender.sent] == ["Before"]
    assert "Anything gathered for the digest comes now" in await say(core, "/digest off")
    await drain(worker)
    assert digest_titles(sender.sent[-1][1]) == ["During"]
    # Off: stories are pushed one by one again, none twice, and no digest waits.
    await core.publisher.publish(short_story("after", "xAI", title="After"))
    await drain(worker)
    assert [m.title for _, m in sender.sent[:1] + sender.sent[2:]] == ["Before", "After"]
    assert [r.status for r in await digest_rows(core)] == [DeliveryStatus.SENT]


# ----- terms and quiet hours --------------------------------------------------------------------
async def test_a_term_follower_gets_the_stories_that_explain_it_once(core: Core) -> None:
    assert "Following “distillation”" in await say(core, "/follow distilation")
    assert "Already following" in await say(core, "/follow Distillation")
    # A story whose glossary spells it as one of its aliases explains it too.
    by_alias = replace(
        short_story("by-alias", "Chips", title="By alias"),
        terms=(TermDraft("knowledge distillation", "A small model learning from a big one."),),
    )
    assert (await core.publisher.publish(by_alias)).deliveries_queued == 1
    defines = replace(
        short_story("defines-it", "Chips", title="Defines distillation"),
        terms=(TermDraft("distillation", "Querying a model many times to copy its behaviour."),),
    )
    assert (await core.publisher.publish(defines)).deliveries_queued == 1
    other = await core.publisher.publish(short_story("other-term", "Chips", title="Nothing on it"))
    assert other.deliveries_queued == 0
    # Following a tag and a term of the same story: one push.
    await say(core, "/subscribe Chips")
    both = replace(defines, slug="both-ways", title="Both ways")
    assert (await core.publisher.publish(both)).deliveries_queued == 1
    assert "follows #Chips and the term distillation" in await say(core, "/subscriptions")
    assert "No longer following" in await say(core, "/unfollow distillation")


async def test_pushes_in_quiet_hours_go_silently(core: Core) -> None:
    await say(core, "/subscribe xAI")
    now = utcnow()
    start, end = (now - timedelta(hours=1)).time(), (now + timedelta(hours=1)).time()
    await say(core, f"/quiet {start:%H:%M}-{end:%H:%M} UTC")
    await core.publisher.publish(short_story("hush", "xAI", title="Hush"))
    loud = ChatRef("test", "reader-2", "private")
    await say(core, "/subscribe xAI", loud)
    await core.publisher.publish(short_story("hush-two", "xAI", title="Hush two"))
    sender = Recorder()
    await drain(worker_for(core, sender))
    silent = {(t.chat.chat_id, m.title): t.silent for t, m in sender.sent}
    assert silent == {("reader-1", "Hush"): True, ("reader-1", "Hush two"): True, ("reader-2", "Hush two"): False}


async def test_settings_and_term_follows_travel_with_a_chat_that_moves(core: Core) -> None:
    old = ChatRef("test", "-100", "group")
    await say(core, "/follow distillation", old)
    await say(core, "/quiet 22:00-07:00 Europe/Berlin", old)
    await core.chats.move(old, "-200")
    moved = ChatRef("test", "-200", "group")
    shown = await say(core, "/settings", moved)
    assert "Quiet hours: 22:00-07:00" in shown and "Terms: distillation" in shown
    async with core.sessions() as session:
        assert (await session.execute(select(Chat.platform_chat_id))).scalars().all() == ["-200"]
