"""Discord threads, forum channels and announcement channels end to end:
slash commands through discord.py's client, pushes by a delivery worker
through DiscordSender, against the fake Discord that keeps them as Discord
does (thread permissions and archiving, forum posts with their tags and
required tags, crossposting and its hourly limit), on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from sqlalchemy import select

from adapters.discord.sender import NOT_CROSSPOSTED, DiscordSender
from bot.composition import Core, build_workers
from content.delivery.reports import Reports
from content.delivery.status import DeliveryStatus
from content.delivery.worker import DeliveryWorker
from content.models import Chat
from tests.adapters.test_discord import Harness, ephemeral, running, text_of
from tests.fakes import discord as fakes
from tests.fakes.discord import FakeDiscord
from tests.helpers import short_story

GUILD, OWNER, ADMIN, MODS = 2000000000000000001, 2000000000000000002, 2000000000000000003, 2000000000000000004
GENERAL, LAUNCH, OLD_THREAD = 2100000000000000001, 2100000000000000002, 2100000000000000003
FORUM, STRICT_FORUM, NEWS, QUIET = 2100000000000000004, 2100000000000000005, 2100000000000000006, 2100000000000000007
MUTED_THREAD = 2100000000000000008
TAG_XAI, TAG_CHIPS, TAG_POLICY, TAG_MISC = (
    2200000000000000001,
    2200000000000000002,
    2200000000000000003,
    2200000000000000004,
)


def world(fake: FakeDiscord) -> None:
    fake.add_guild(GUILD, "Newsroom", owner_id=OWNER)
    fake.add_role(GUILD, MODS, "mods", fakes.DEFAULT_EVERYONE_PERMISSIONS | fakes.MANAGE_CHANNELS)
    fake.add_member(GUILD, OWNER, "owner")
    fake.add_member(GUILD, ADMIN, "ada", [MODS])
    fake.add_member(GUILD, fake.bot_user_id, "bot")
    fake.add_channel(GUILD, GENERAL, "general")
    fake.add_thread(GENERAL, LAUNCH, "launch-day")
    fake.add_thread(GENERAL, OLD_THREAD, "old-news", archived=True)
    # Forum tags spelled as members would; the core's tag key matches them to the story's.
    fake.add_channel(
        GUILD,
        FORUM,
        "stories",
        type=fakes.FORUM_CHANNEL,
        tags=[(TAG_XAI, "XAI"), (TAG_CHIPS, "chips"), (TAG_POLICY, "Policy")],
    )
    fake.add_channel(
        GUILD, STRICT_FORUM, "strict", type=fakes.FORUM_CHANNEL, tags=[(TAG_MISC, "Misc")], require_tag=True
    )
    fake.add_channel(GUILD, NEWS, "announcements", type=fakes.NEWS_CHANNEL)
    fake.add_channel(GUILD, QUIET, "quiet")
    fake.add_thread(QUIET, MUTED_THREAD, "muted")
    # In #quiet the bot may send messages but not in its threads.
    fake.set_overwrite(QUIET, fake.bot_user_id, allow=0, deny=fakes.SEND_MESSAGES_IN_THREADS, type=1)


@pytest.fixture
async def dc(database_url: str) -> AsyncIterator[Harness]:
    seeds = (short_story("seed-xai", "xAI"), short_story("seed-chips", "Chips"), short_story("seed-policy", "Policy"))
    async with running(database_url, (GUILD,), world, seeds, checked=(GENERAL, LAUNCH, OLD_THREAD, NEWS)) as harness:
        yield harness


def worker_of(dc: Harness) -> DeliveryWorker:
    (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])  # type: ignore[attr-defined]
    return worker


async def drain(worker: DeliveryWorker) -> None:
    while await worker.run_once():
        pass


def pushes(fake: FakeDiscord, channel: int) -> list[str]:
    return [m["embeds"][0]["title"] for m in fake.messages(channel) if m.get("embeds") and m.get("components")]


async def active(core: Core) -> dict[str, bool]:
    async with core.sessions() as session:
        rows = await session.execute(select(Chat.platform_chat_id, Chat.thread_id, Chat.active))
        return {thread or chat: on for chat, thread, on in rows.all()}


async def test_a_thread_subscription_pushes_into_the_thread_and_a_deleted_thread_stops_alone(dc: Harness) -> None:
    (ok,) = await dc.run(LAUNCH, ADMIN, "subscribe", {"tag": "xAI"})
    assert "Subscribed to" in text_of(ok)
    (listing,) = await dc.run(LAUNCH, ADMIN, "subscriptions")
    assert "This thread follows" in text_of(listing)
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "Chips"})
    # Another thread, named from the channel: archived, so the push unarchives it.
    (named,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "Chips", "channel": OLD_THREAD})
    assert "#old-news:" in text_of(named) and "Subscribed" in text_of(named)
    (everywhere,) = await dc.run(GENERAL, ADMIN, "subscriptions", {"all": True})
    assert text_of(everywhere).split("\n\n") == [
        "**The chat itself:** #Chips",
        "**Thread “#launch-day”:** #xAI",
        "**Thread “#old-news”:** #Chips",
    ]
    worker = worker_of(dc)
    await dc.core.publisher.publish(short_story("grok", "xAI", title="Grok, explained"))
    await dc.core.publisher.publish(short_story("gpu", "Chips", title="A GPU, explained"))
    await drain(worker)
    assert pushes(dc.fake, LAUNCH) == ["Grok, explained"]
    assert pushes(dc.fake, GENERAL) == ["A GPU, explained"]
    assert pushes(dc.fake, OLD_THREAD) == ["A GPU, explained"]
    assert dc.fake.channel(OLD_THREAD)["thread_metadata"]["archived"] is False

    dc.fake.delete_channel(LAUNCH)
    dc.provoked.add(404)
    await dc.core.publisher.publish(short_story("grok-2", "xAI", "Chips", title="Grok again"))
    await drain(worker)
    assert await active(dc.core) == {str(GENERAL): True, str(LAUNCH): False, str(OLD_THREAD): True}
    report = await Reports(dc.core.sessions, dc.core.catalog).deliveries("grok-2")
    assert report is not None and report.by_status[DeliveryStatus.SENT] == 2
    (gone,) = report.failures
    assert gone.thread_id == str(LAUNCH) and "no longer gets pushes" in (gone.error or "")
    assert pushes(dc.fake, GENERAL) == ["A GPU, explained", "Grok again"]


async def test_a_forum_gets_one_post_per_story_with_its_matching_tags(dc: Harness) -> None:
    (ok,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI, Chips, Policy", "channel": FORUM})
    assert "as posts of their own" in text_of(ok)
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": STRICT_FORUM})
    worker = worker_of(dc)
    long_title = "A headline far longer than a forum post's name may be, " * 3
    await dc.core.publisher.publish(short_story("grok-chips", "xAI", "Chips", title="Grok runs on new chips"))
    await dc.core.publisher.publish(short_story("rules", "Policy", title=long_title.strip()))
    await drain(worker)
    posts = {p["name"]: p for p in dc.fake.posts(FORUM)}
    assert len(posts) == 2 and "Grok runs on new chips" in posts
    grok = posts["Grok runs on new chips"]
    assert sorted(str(t) for t in grok["applied_tags"]) == sorted([str(TAG_XAI), str(TAG_CHIPS)])
    assert grok["message"]["embeds"][0]["title"] == "Grok runs on new chips"
    assert grok["message"]["components"][0]["components"][0]["custom_id"] == "xb:story:grok-chips"
    (rules,) = [p for name, p in posts.items() if name != "Grok runs on new chips"]
    assert len(rules["name"]) <= 100 and rules["name"].endswith("…")
    assert [str(t) for t in rules["applied_tags"]] == [str(TAG_POLICY)]
    # The strict forum requires a tag and has none matching: its first one.
    (strict,) = dc.fake.posts(STRICT_FORUM)
    assert [str(t) for t in strict["applied_tags"]] == [str(TAG_MISC)]
    # A correction edits the post's first message in place and renames the post,
    # after a day too, when Discord has archived the idle post.
    dc.fake.archive_thread(int(grok["thread_id"]))
    dc.provoked.add(400)  # the first edit meets the archived post
    corrected = replace(
        short_story("grok-chips", "xAI", "Chips", title="Grok runs on newer chips"), correction="Newer."
    )
    assert (await dc.core.publisher.publish(corrected)).corrections_queued == 2  # both forums got it
    await drain(worker)
    (edited,) = [p for p in dc.fake.posts(FORUM) if p["thread_id"] == grok["thread_id"]]
    assert edited["message"]["embeds"][0]["title"] == "Grok runs on newer chips"
    assert edited["name"] == "Grok runs on newer chips"
    assert len(dc.fake.posts(FORUM)) == 2


async def test_a_crossposted_announcement_is_published_until_the_hourly_limit(dc: Harness) -> None:
    (refused,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "crosspost": True})
    assert ephemeral(refused) and "Only an announcement channel" in text_of(refused)
    (ok,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": NEWS, "crosspost": True})
    assert "also be published to the servers following" in text_of(ok)
    worker = worker_of(dc)
    dc.provoked.add(429)  # the 11th publish in the hour
    for n in range(11):
        await dc.core.publisher.publish(short_story(f"news-{n}", "xAI", title=f"News {n}"))
        await drain(worker)
    assert len(pushes(dc.fake, NEWS)) == 11
    assert len(dc.fake.crossposted(NEWS)) == 10
    report = await Reports(dc.core.sessions, dc.core.catalog).deliveries("news-10")
    assert report is not None and report.by_status[DeliveryStatus.SENT] == 1 and not report.failures
    (note,) = report.notes
    assert note.chat_id == str(NEWS) and note.note == NOT_CROSSPOSTED
    # An hour on, publishing works again; turned off, it stops.
    dc.fake.age_crossposts(NEWS, 3600)
    await dc.core.publisher.publish(short_story("news-11", "xAI", title="News 11"))
    await drain(worker)
    assert len(dc.fake.crossposted(NEWS)) == 11
    (off,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": NEWS, "crosspost": False})
    assert "no longer be published" in text_of(off)
    await dc.core.publisher.publish(short_story("news-12", "xAI", title="News 12"))
    await drain(worker)
    assert len(pushes(dc.fake, NEWS)) == 13 and len(dc.fake.crossposted(NEWS)) == 11


async def test_subscribing_names_the_permission_a_thread_or_forum_needs(dc: Harness) -> None:
    (thread,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": MUTED_THREAD})
    assert ephemeral(thread) and "I need the Send Messages in Threads permission" in text_of(thread)
    (inside,) = await dc.run(MUTED_THREAD, ADMIN, "subscribe", {"tag": "xAI"})
    assert ephemeral(inside) and "I can't post here: I need the Send Messages in Threads permission" in text_of(inside)
    dc.fake.set_overwrite(FORUM, dc.fake.bot_user_id, allow=0, deny=fakes.SEND_MESSAGES, type=1)
    (forum,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": FORUM})
    assert "I need the Send Messages and Create Posts permission" in text_of(forum)
    assert set(await active(dc.core)) == set()  # nothing was written


async def test_a_retracted_story_takes_its_forum_post_down_or_empties_it(dc: Harness) -> None:
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": FORUM})
    worker = worker_of(dc)
    await dc.core.publisher.publish(short_story("kept", "xAI", title="A post the bot may not delete"))
    await drain(worker)
    (post,) = dc.fake.posts(FORUM)
    # Without Manage Threads the bot may not delete the post: it empties it of the story.
    dc.provoked.add(403)
    retracted = await dc.core.publisher.retract("kept", "The figures were wrong.")
    assert retracted is not None and retracted.retractions_queued == 1
    await drain(worker)
    (emptied,) = dc.fake.posts(FORUM)
    assert emptied["thread_id"] == post["thread_id"] and emptied["name"] == "Withdrawn by the newsroom"
    assert emptied["message"]["content"].startswith("*This story was withdrawn by the newsroom.*")
    assert "The figures were wrong." in emptied["message"]["content"]
    assert not emptied["message"].get("embeds") and not emptied["message"].get("components")
    assert dc.fake.channel(int(post["thread_id"]))["thread_metadata"]["archived"] is True
    # With Manage Threads it goes whole.
    dc.fake.set_overwrite(FORUM, dc.fake.bot_user_id, allow=fakes.MANAGE_THREADS, deny=0, type=1)
    await dc.core.publisher.publish(short_story("gone", "xAI", title="A post the bot may delete"))
    await drain(worker)
    assert len(dc.fake.posts(FORUM)) == 2
    await dc.core.publisher.retract("gone", None)
    await drain(worker)
    assert [p["name"] for p in dc.fake.posts(FORUM)] == ["Withdrawn by the newsroom"]
