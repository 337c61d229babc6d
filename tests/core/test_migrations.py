"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import argon2
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from bot.composition import Core
from content import db
from content.models import Base
from tests.conftest import PRIVATE

# Search objects are per database and live only in the migration.
SEARCH_OBJECTS = {"story_search", "ix_story_search_vector"}


def _include(obj, name, kind, reflected, compare_to) -> bool:
    return not (name in SEARCH_OBJECTS or (kind == "table" and name and name.startswith("story_search")))


async def test_schema_matches_models_and_migrating_twice_is_harmless(blank: Core) -> None:
    await db.migrate(blank.engine)

    def differences(connection) -> list:
        context = MigrationContext.configure(connection, opts={"include_object": _include, "compare_type": False})
        return compare_metadata(context, Base.metadata)

    async with blank.engine.connect() as connection:
        assert await connection.run_sync(differences) == []
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert {
        "stories",
        "tags",
        "story_tags",
        "terms",
        "term_aliases",
        "story_terms",
        "chats",
        "subscriptions",
        "deliveries",
    } <= tables


async def test_0002_gives_queued_deliveries_their_chat_platform(core: Core) -> None:
    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.stories.drafts import StoryDraft

    await core.commands.handle_text(Caller(ChatRef("telegram", "42", "private"), "u42", True), "/subscribe xAI")
    await core.commands.handle_text(Caller(ChatRef("discord", "77", "private"), "u77", True), "/subscribe xAI")
    draft = StoryDraft(
        slug="queued-before-0002",
        title="Queued before 0002",
        summary="A row from before.",
        category="AI",
        published_at=datetime(2026, 11, 27, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    assert (await core.publisher.publish(draft)).deliveries_queued == 2

    try:
        await db.downgrade(core.engine, "0001")
        async with core.engine.connect() as connection:
            columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("deliveries")})
            assert "platform" not in columns
    finally:
        await db.migrate(core.engine)
    async with core.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT chats.platform, deliveries.platform FROM deliveries JOIN chats ON chats.id = deliveries.chat_id"
            )
        )
        assert sorted(rows.all()) == [("discord", "discord"), ("telegram", "telegram")]


async def test_0003_keeps_chats_and_their_rows_and_makes_queued_rows_sends(core: Core) -> None:
    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.delivery.queue import DeliveryQueue
    from content.delivery.status import JobKind
    from content.stories.drafts import StoryDraft

    for platform, chat in (("telegram", "42"), ("discord", "77"), ("telegram", "43")):
        await core.commands.handle_text(
            Caller(ChatRef(platform, chat, "private"), f"u{chat}", True), "/subscribe xAI, OpenAI"
        )
    draft = StoryDraft(
        slug="queued-before-0003",
        title="Queued before 0003",
        summary="Rows from before.",
        category="AI",
        published_at=datetime(2026, 12, 1, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    assert (await core.publisher.publish(draft)).deliveries_queued == 3
    await db.downgrade(core.engine, "0002")
    async with core.engine.begin() as connection:
        columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("deliveries")})
        assert "kind" not in columns and "message_ids" not in columns
        # One push went out before the upgrade: its message id is on the row.
        await connection.execute(
            text(
                "UPDATE deliveries SET status = 'sent', platform_message_id = '9001' WHERE chat_id = "
                "(SELECT id FROM chats WHERE platform_chat_id = '42')"
            )
        )
        before = {
            table: (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one()
            for table in ("chats", "subscriptions", "deliveries", "stories", "story_tags")
        }
    assert before == {"chats": 3, "subscriptions": 6, "deliveries": 3, "stories": 17, "story_tags": 45}

    await db.migrate(core.engine)
    async with core.engine.connect() as connection:
        after = {
            table: (await connection.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one() for table in before
        }
        assert after == before  # rebuilding chats cascaded into nothing
        rows = (
            await connection.execute(
                text(
                    "SELECT chats.platform_chat_id, chats.thread_id, deliveries.kind, deliveries.status, deliveries.message_ids "
                    "FROM deliveries JOIN chats ON chats.id = deliveries.chat_id ORDER BY chats.platform_chat_id"
                )
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("42", "", "send", "sent", "9001"),
        ("43", "", "send", "pending", None),
        ("77", "", "send", "pending", None),
    ]
    # The new schema works on the migrated rows: a follow-up edit of the send that went out (the
    # pending ones send the story as it is when they go), and still one send per chat.
    assert (
        await DeliveryQueue(core.sessions).follow_up((await core.publisher.publish(draft)).story_id, JobKind.EDIT) == 1
    )
    (claimed,) = [job for job in await DeliveryQueue(core.sessions).claim("telegram", 10) if job.kind is JobKind.EDIT]
    assert claimed.target.message_ids == ("9001",) and claimed.chat.chat_id == "42"


async def test_0004_adds_the_workers_heartbeats_beside_rows_in_place(core: Core) -> None:
    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.delivery.membership import Membership, Share
    from content.stories.drafts import StoryDraft

    await core.commands.handle_text(Caller(ChatRef("telegram", "42", "private"), "u42", True), "/subscribe xAI")
    draft = StoryDraft(
        slug="queued-before-0004",
        title="Queued before 0004",
        summary="A row from before.",
        category="AI",
        published_at=datetime(2026, 12, 2, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    assert (await core.publisher.publish(draft)).deliveries_queued == 1
    await db.downgrade(core.engine, "0003")
    async with core.engine.connect() as connection:
        assert "delivery_workers" not in await connection.run_sync(lambda c: inspect(c).get_table_names())
        before = (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one()
    await db.migrate(core.engine)
    async with core.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == before == 1
    first, second = Membership(core.sessions, "telegram", 30), Membership(core.sessions, "telegram", 30)
    assert await first.beat() == Share(0, 1)
    shares = {await second.beat(), await first.beat()}
    assert shares == {Share(0, 2), Share(1, 2)}
    await second.leave()
    assert await first.beat() == Share(0, 1)


async def test_0005_adds_corrections_and_retractions_to_stories_in_place(core: Core) -> None:
    from dataclasses import replace

    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.stories.drafts import StoryDraft
    from content.stories.writer import SaveOutcome

    await core.commands.handle_text(Caller(ChatRef("telegram", "42", "private"), "u42", True), "/subscribe xAI")
    await core.commands.handle_text(Caller(ChatRef("telegram", "43", "private"), "u43", True), "/subscribe xAI")
    draft = StoryDraft(
        slug="published-before-0005",
        title="Published before 0005",
        summary="A story from before corrections.",
        category="AI",
        published_at=datetime(2026, 12, 2, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    assert (await core.publisher.publish(draft)).deliveries_queued == 2
    await db.downgrade(core.engine, "0004")
    async with core.engine.begin() as connection:
        columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("stories")})
        assert not {"correction", "corrected_at", "retracted_at", "retraction_reason"} & columns
        # One push went out at 0004, one is still queued.
        await connection.execute(
            text(
                "UPDATE deliveries SET status = 'sent', message_ids = '9001', platform_message_id = '9001' "
                "WHERE chat_id = (SELECT id FROM chats WHERE platform_chat_id = '42')"
            )
        )
    await db.migrate(core.engine)
    # The story's hash is what it was: the same file again writes nothing.
    assert (await core.publisher.publish(draft)).outcome is SaveOutcome.UNCHANGED
    assert (await core.catalog.story(draft.slug)) is not None
    corrected = await core.publisher.publish(replace(draft, title="Corrected quokka", correction="A fix."))
    assert (corrected.outcome, corrected.corrections_queued) == (SaveOutcome.UPDATED, 1)
    retracted = await core.publisher.retract(draft.slug, "Wrong.")
    assert retracted is not None and (retracted.retractions_queued, retracted.cancelled) == (1, 2)
    assert await core.catalog.story(draft.slug) is None
    await db.downgrade(core.engine, "0004")
    async with core.engine.connect() as connection:
        # The revision before cannot hide a withdrawn story: it goes, with its jobs, rather than reappear.
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == 0
        slugs = (await connection.execute(text("SELECT slug FROM stories"))).scalars().all()
        assert draft.slug not in slugs
    await db.migrate(core.engine)
    # The search index's triggers on stories survived the way down and up.
    from content.stories.search import Search

    search = Search(core.sessions)
    assert await search.story_ids("quokka") == []
    fresh = await core.publisher.publish(replace(draft, slug="after-the-way-back", title="Zeppelin index check"))
    assert await search.story_ids("Zeppelin") == [fresh.story_id]


async def test_0006_gives_existing_places_their_form_and_keeps_their_pushes(core: Core) -> None:
    from sqlalchemy import text

    from content.chats.ref import ChatRef, PlaceForm
    from content.commands.caller import Caller
    from content.delivery.queue import DeliveryQueue
    from tests.helpers import short_story

    await db.downgrade(core.engine, "0005")
    async with core.engine.begin() as connection:
        columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("chats")})
        assert not {"form", "republish"} & columns
    # Rows written at 0005: a chat and a topic of it, each following a tag, and a push queued for each.
    topic = ChatRef("telegram", "-1001", "group", "AI", thread_id="7")
    async with core.engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO chats (platform, platform_chat_id, kind, thread_id, title, active, created_at, updated_at) "
                "VALUES ('telegram', '-1001', 'group', '', 'Readers', true, :now, :now), "
                "('telegram', '-1001', 'group', '7', 'AI', true, :now, :now)"
            ),
            {"now": datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
        await connection.execute(
            text(
                "INSERT INTO subscriptions (chat_id, tag_id, created_at) "
                "SELECT chats.id, tags.id, :now FROM chats, tags WHERE tags.key = 'xai'"
            ),
            {"now": datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None)},
        )
    await db.migrate(core.engine)
    async with core.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT thread_id, form, republish FROM chats ORDER BY thread_id"))).all()
    assert [(t, f, bool(r)) for t, f, r in rows] == [("", "messages", False), ("7", "messages", False)]
    draft = short_story("after-0006", "xAI")
    assert (await core.publisher.publish(draft)).deliveries_queued == 2
    jobs = await DeliveryQueue(core.sessions).claim("telegram", 10)
    claimed = sorted((j.chat.thread_id or "", j.chat.form, j.target.republish) for j in jobs)
    assert claimed == [("", PlaceForm.MESSAGES, False), ("7", PlaceForm.MESSAGES, False)]
    reply = await core.commands.handle_text(Caller(topic, "u1", is_admin=True), "/subscriptions")
    assert "follows #xAI" in str(reply)
    await db.downgrade(core.engine, "0005")
    async with core.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM chats"))).scalar_one() == 2
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == 2
    await db.migrate(core.engine)


async def test_0007_keeps_chats_and_their_pushes_and_takes_digests(core: Core) -> None:
    from sqlalchemy import text

    from content.chats.ref import ChatRef
    from content.commands.caller import Caller
    from content.delivery.status import DeliveryStatus, JobKind
    from content.models import Delivery
    from tests.helpers import short_story

    reader = Caller(ChatRef("telegram", "42", "private"), "u42", True)
    await core.commands.handle_text(reader, "/subscribe xAI")
    # A push queued, still waiting, when the schema goes back to 0006 and up again.
    published = await core.publisher.publish(short_story("queued-at-0006", "xAI"))
    assert published.deliveries_queued == 1
    await db.downgrade(core.engine, "0006")
    async with core.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        columns = await connection.run_sync(lambda c: {col["name"] for col in inspect(c).get_columns("chats")})
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == 1
    assert "term_follows" not in tables and not {"digest", "quiet_from", "time_zone"} & columns
    await db.migrate(core.engine)
    async with core.engine.connect() as connection:
        row = (await connection.execute(text("SELECT digest, quiet_from, time_zone FROM chats"))).one()
        assert tuple(row) == ("off", None, None)
        pending = (await connection.execute(text("SELECT kind, status FROM deliveries"))).all()
        assert [tuple(r) for r in pending] == [("send", "pending")]
    # The partial indexes made again hold as before: the same send twice is refused silently.
    again = await core.publisher.publish(short_story("queued-at-0006", "xAI", title="Changed"))
    assert again.deliveries_queued == 0
    await core.commands.handle_text(reader, "/digest daily 08:00")
    async with core.sessions() as session:
        kinds = (await session.execute(select(Delivery.kind, Delivery.story_id, Delivery.status))).all()
    assert (JobKind.DIGEST, None, DeliveryStatus.PENDING) in kinds
    await db.downgrade(core.engine, "0006")
    async with core.engine.connect() as connection:
        # A digest has no place before: it goes; the send stays.
        kinds = (await connection.execute(text("SELECT kind FROM deliveries"))).scalars().all()
        assert kinds == ["send"]
    await db.migrate(core.engine)


async def test_0008_adds_feeds_beside_the_stories_in_place(core: Core) -> None:
    from sqlalchemy import text

    stories = await core.catalog.latest(100)
    await db.downgrade(core.engine, "0007")
    async with core.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert not {"feeds", "feed_items"} & tables
    await db.migrate(core.engine)
    assert [s.slug for s in await core.catalog.latest(100)] == [s.slug for s in stories]
    feed = await core.feeds.add("https://news.test/feed.xml", ["xAI"], "AI")
    assert feed is not None and feed.tags == ("xAI",) and not feed.paused
    async with core.engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO feed_items (feed_id, key, story_id) SELECT :feed, 'guid-1', id FROM stories LIMIT 1"),
            {"feed": feed.id},
        )
    await db.downgrade(core.engine, "0007")
    async with core.engine.connect() as connection:
        # The stories a feed brought stay; the feeds go.
        assert (await connection.execute(text("SELECT count(*) FROM stories"))).scalar_one() == len(stories)
    await db.migrate(core.engine)


async def test_0009_adds_editors_accounts_beside_stories_and_pushes_in_place(core: Core) -> None:
    from sqlalchemy import text

    from content.newsroom.accounts import Accounts, EditorRole
    from content.newsroom.sessions import SignIns
    from tests.helpers import short_story

    await core.commands.handle_text(PRIVATE, "/subscribe xAI")
    await core.publisher.publish(short_story("before-accounts", "xAI"))
    await core.publisher.publish(replace(short_story("before-accounts", "xAI"), title="Now right", correction="Fixed."))
    await core.publisher.retract("musk-xai-distillation-testimony", "Misquoted.")
    await db.downgrade(core.engine, "0008")
    async with core.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        queued = (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one()
    assert not {"newsroom_accounts", "newsroom_sessions"} & tables
    assert queued == 1
    await db.migrate(core.engine)
    # The history of the stories in place, from what their rows tell.
    async with core.engine.connect() as connection:
        events = (
            await connection.execute(
                text(
                    "SELECT s.slug, e.kind, e.note FROM story_events e JOIN stories s ON s.id = e.story_id "
                    "WHERE e.kind != 'published' ORDER BY e.id"
                )
            )
        ).all()
        published = (
            await connection.execute(text("SELECT count(*) FROM story_events WHERE kind = 'published'"))
        ).scalar_one()
        stories = (await connection.execute(text("SELECT count(*) FROM stories"))).scalar_one()
    assert [tuple(e) for e in events] == [
        ("before-accounts", "corrected", "Fixed."),
        ("musk-xai-distillation-testimony", "retracted", "Misquoted."),
    ]
    assert published == stories
    accounts = Accounts(core.sessions, argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    account = await accounts.add("Ed@Newsroom.test", "a long enough password", EditorRole.EDITOR)
    token, _ = await SignIns(core.sessions).open(account)
    assert (await SignIns(core.sessions).find(token)) is not None
    async with core.engine.connect() as connection:
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == 1
    await db.downgrade(core.engine, "0008")
    async with core.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert (await connection.execute(text("SELECT count(*) FROM deliveries"))).scalar_one() == 1
        assert (
            await connection.execute(text("SELECT count(*) FROM stories WHERE slug = 'before-accounts'"))
        ).scalar_one() == 1
    assert not {"newsroom_accounts", "newsroom_sessions"} & tables
    await db.migrate(core.engine)
