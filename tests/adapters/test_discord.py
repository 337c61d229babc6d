"""The Discord adapter end to end: discord.py against a fake Discord (REST and gateway).

The fake enforces Discord's limits (content, embeds, components, the 3 s
deadline, channel permissions), so a wrong message fails here; every message
must also carry allowed_mentions that ping no one.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select

from adapters.discord.sender import DiscordSender
from bot.composition import Core, build_discord, build_workers
from content.chats.ref import ChatRef
from content.commands.registry import COMMANDS
from content.models import Chat, Delivery, Story
from content.stories.drafts import StoryDraft
from tests.conftest import empty_core
from tests.fakes import discord as fakes
from tests.fakes.discord import FakeDiscord

GUILD, OWNER = 1000000000000000001, 1000000000000000002
GENERAL, ANNOUNCEMENTS, STAFF = 1100000000000000001, 1100000000000000002, 1100000000000000003
MODS = 1200000000000000001
ADMIN, MEMBER, DM_USER, DM = 1300000000000000001, 1300000000000000002, 1300000000000000003, 1400000000000000001
DISTILLATION = "musk-xai-distillation-testimony"


def world(fake: FakeDiscord) -> None:
    fake.add_guild(GUILD, "Newsroom", owner_id=OWNER)
    fake.add_role(GUILD, MODS, "mods", fakes.DEFAULT_EVERYONE_PERMISSIONS | fakes.MANAGE_CHANNELS)
    fake.add_channel(GUILD, GENERAL, "general")
    fake.add_channel(GUILD, ANNOUNCEMENTS, "announcements")
    fake.add_channel(GUILD, STAFF, "staff")
    fake.add_member(GUILD, OWNER, "owner")
    fake.add_member(GUILD, ADMIN, "ada", [MODS])
    fake.add_member(GUILD, MEMBER, "bob")
    fake.add_member(GUILD, fake.bot_user_id, "bot")
    # The bot may not post in #announcements and cannot see #staff.
    fake.set_overwrite(ANNOUNCEMENTS, fake.bot_user_id, allow=0, deny=fakes.SEND_MESSAGES, type=1)
    fake.set_overwrite(STAFF, fake.bot_user_id, allow=0, deny=fakes.VIEW_CHANNEL, type=1)
    # Ada manages channels in general but not in #announcements.
    fake.set_overwrite(ANNOUNCEMENTS, ADMIN, allow=0, deny=fakes.MANAGE_CHANNELS, type=1)
    fake.open_dm(DM_USER, DM)


@dataclass
class Harness:
    fake: FakeDiscord
    core: Core
    runner: object
    # Refusals a test provokes on purpose (status codes) are not failures.
    provoked: set = field(default_factory=set)

    async def run(self, channel: int, user: int, name: str, options: dict | None = None) -> list[dict]:
        interaction = self.fake.slash(channel, user, name, options)
        await self.fake.wait_for(lambda: self.fake.responses(interaction), timeout=15)
        await self.settle(interaction)
        return [r["data"] for r in self.fake.responses(interaction)]

    async def settle(self, interaction: str, quiet: float = 0.3) -> None:
        """Wait until no followup has come for `quiet` seconds (long answers come in parts)."""
        seen = -1
        while len(self.fake.responses(interaction)) != seen:
            seen = len(self.fake.responses(interaction))
            await asyncio.sleep(quiet)

    async def complete(self, name: str, focused: str, value: str, user: int = MEMBER) -> list[dict]:
        interaction = self.fake.autocomplete(GENERAL, user, name, focused, value)
        await self.fake.wait_for(lambda: self.fake.responses(interaction), timeout=15)
        return self.fake.responses(interaction)[0]["data"]["choices"]


async def start_bot(core: Core, fake: FakeDiscord):
    runner = build_discord(core)
    assert runner is not None
    await runner.start()
    await fake.wait_ready(timeout=20)
    return runner


@contextlib.asynccontextmanager
async def running(
    database_url: str,
    guild_ids: tuple[int, ...],
    build: Callable[[FakeDiscord], None] = world,
    stories: Sequence[StoryDraft] = (),
    checked: Sequence[int] = (GENERAL, ANNOUNCEMENTS, DM),
) -> AsyncIterator[Harness]:
    """The bot against a fake Discord holding `build`'s world, with the sample
    library and `stories` published; what it sent to the `checked` channels
    must ping no one."""
    fake = FakeDiscord()
    await fake.start()
    build(fake)
    core = await empty_core(
        database_url,
        discord_bot_token=fake.token,
        discord_api_base_url=f"{fake.url}/api/v10",
        discord_gateway_url=fake.ws_url,
        discord_guild_ids=guild_ids,
    )
    await core.prepare()
    for draft in stories:
        await core.publisher.publish(draft)
    runner = await start_bot(core, fake)
    harness = Harness(fake, core, runner)
    try:
        yield harness
    finally:
        await harness.runner.stop()
        await core.close()
        await fake.stop()
        fake.unpatch_discord_py()
        assert [c for c in fake.errors if c.status not in harness.provoked] == [], fake.dump("errors")
        for channel in checked:
            for message in fake.messages(channel):
                assert message["allowed_mentions"] == {"parse": []}, message
                assert not message.get("mention_everyone") and not message.get("mentions"), message


@pytest.fixture
async def dc(database_url: str) -> AsyncIterator[Harness]:
    """Commands synced to the test guild, as DISCORD_GUILD_IDS does for development."""
    async with running(database_url, (GUILD,)) as harness:
        yield harness


def text_of(data: dict) -> str:
    parts = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        parts += [embed.get("title", ""), embed.get("description", ""), (embed.get("footer") or {}).get("text", "")]
    return "\n".join(parts)


def ephemeral(data: dict) -> bool:
    return bool((data.get("flags") or 0) & 64)


async def test_commands_are_synced_with_default_permissions(dc: Harness) -> None:
    commands = {c["name"]: c for c in dc.fake.commands[GUILD]}
    assert set(commands) == {
        "latest",
        "story",
        "explain",
        "search",
        "tags",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "help",
        "about",
        "follow",
        "unfollow",
        "digest",
        "quiet",
        "settings",
    }
    for name in ("subscribe", "unsubscribe", "follow", "unfollow", "digest", "quiet"):
        assert int(commands[name]["default_member_permissions"]) == fakes.MANAGE_CHANNELS
    assert commands["latest"]["default_member_permissions"] is None


async def test_the_synced_commands_are_the_registry(dc: Harness) -> None:
    synced = {c["name"]: c for c in dc.fake.commands[GUILD]}
    assert sorted(synced) == sorted(c.name for c in COMMANDS) and len(synced) == len(COMMANDS)
    for spec in COMMANDS:
        command = synced[spec.name]
        assert command["description"] == spec.description
        options = command.get("options") or []
        assert [o["name"] for o in options] == [a.name for a in spec.arguments], spec.name
        for option, argument in zip(options, spec.arguments):
            assert option["description"] == argument.description
            assert bool(option.get("required")) is argument.required
            assert bool(option.get("autocomplete")) is (argument.completion is not None), (spec.name, argument.name)
    (count, _tag) = synced["latest"]["options"]
    assert (count["min_value"], count["max_value"]) == (1, 10)


async def test_every_command_in_a_channel(dc: Harness) -> None:
    (latest,) = await dc.run(GENERAL, MEMBER, "latest")
    assert len(latest["embeds"]) == 5 and not ephemeral(latest)
    first = latest["embeds"][0]
    assert first["url"].startswith("https://news.test/stories/") and "Read more" in first["description"]
    assert "#" in first["footer"]["text"] and first.get("color")
    ids = [c["custom_id"] for row in latest["components"] for c in row["components"]]
    assert ids[0].startswith("xb:story:") and ids[-1].startswith("xb:more:")
    (few,) = await dc.run(GENERAL, MEMBER, "latest", {"count": 2, "tag": "xAI"})
    assert len(few["embeds"]) == 2 and all("#xAI" in e["footer"]["text"] for e in few["embeds"])
    story = await dc.run(GENERAL, MEMBER, "story", {"slug": DISTILLATION})
    assert "partly" in story[0]["embeds"][0]["title"] and "Glossary" in text_of(story[-1])
    (term,) = await dc.run(GENERAL, MEMBER, "explain", {"term": "distilation"})
    assert term["embeds"][0]["title"] == "distillation" and "Querying a model" in term["embeds"][0]["description"]
    (found,) = await dc.run(GENERAL, MEMBER, "search", {"query": "distillation"})
    assert DISTILLATION in text_of(found)
    (tags,) = await dc.run(GENERAL, MEMBER, "tags")
    assert "\\#xAI" in text_of(tags) or "#xAI" in text_of(tags)
    (helped,) = await dc.run(GENERAL, MEMBER, "help")
    assert "/explain" in text_of(helped)
    (none,) = await dc.run(GENERAL, MEMBER, "subscriptions")
    assert "follows no tags" in text_of(none)


async def test_subscriptions_belong_to_a_channel_and_need_manage_channels(dc: Harness) -> None:
    (ok,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI, OpenAI"})
    assert "Subscribed to" in text_of(ok)
    followed = await dc.core.catalog.followed(ChatRef("discord", str(GENERAL)))
    assert {t.name for t in followed} == {"xAI", "OpenAI"}
    (listing,) = await dc.run(GENERAL, MEMBER, "subscriptions")
    assert "OpenAI" in text_of(listing) and "xAI" in text_of(listing)
    (not_there,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": ANNOUNCEMENTS})
    assert ephemeral(not_there) and "Manage Channels permission in #announcements" in text_of(not_there)
    (gone,) = await dc.run(GENERAL, ADMIN, "unsubscribe", {"tag": "all"})
    assert "Unsubscribed from everything" in text_of(gone)


async def test_another_channels_subscriptions_are_listed_to_who_manages_it(dc: Harness) -> None:
    (xai,) = [t for t in await dc.core.catalog.tags() if t.name == "xAI"]
    await dc.core.follows.follow(ChatRef("discord", str(ANNOUNCEMENTS), "group"), [xai.id])
    for user in (MEMBER, ADMIN):  # Ada manages #general, but not #announcements
        (refused,) = await dc.run(GENERAL, user, "subscriptions", {"channel": ANNOUNCEMENTS})
        assert ephemeral(refused), user
        assert "You need the Manage Channels permission in #announcements" in text_of(refused), user
        assert "xAI" not in text_of(refused)
    (listed,) = await dc.run(GENERAL, OWNER, "subscriptions", {"channel": ANNOUNCEMENTS})
    assert "#announcements:" in text_of(listed) and "This chat follows #xAI." in text_of(listed)
    (own,) = await dc.run(GENERAL, MEMBER, "subscriptions")  # this channel's are anyone's to see
    assert "follows no tags" in text_of(own)


async def test_the_bot_names_the_permission_it_lacks(dc: Harness) -> None:
    dc.fake.set_overwrite(ANNOUNCEMENTS, ADMIN, allow=fakes.MANAGE_CHANNELS, deny=0, type=1)
    (cannot,) = await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI", "channel": ANNOUNCEMENTS})
    assert ephemeral(cannot) and "I need the Send Messages permission" in text_of(cannot)
    (hidden,) = await dc.run(GENERAL, OWNER, "subscribe", {"tag": "xAI", "channel": STAFF})
    assert "I need the View Channel permission" in text_of(hidden)
    assert await dc.core.catalog.followed(ChatRef("discord", str(ANNOUNCEMENTS))) == []


async def test_global_commands_and_a_dm_that_subscribes_itself(database_url: str) -> None:
    async with running(database_url, ()) as dc:
        assert GUILD not in dc.fake.commands and len(dc.fake.commands[None]) == len(COMMANDS)
        (ok,) = await dc.run(DM, DM_USER, "subscribe", {"tag": "Elon Musk"})
        assert "Subscribed to #ElonMusk" in text_of(ok).replace("\\", "")
        followed = await dc.core.catalog.followed(ChatRef("discord", str(DM)))
        assert [t.name for t in followed] == ["Elon Musk"]
        (listing,) = await dc.run(DM, DM_USER, "subscriptions")
        assert "ElonMusk" in text_of(listing)


async def test_autocomplete_is_typo_tolerant_and_bounded(dc: Harness) -> None:
    tags = await dc.complete("latest", "tag", "opnai")
    assert 0 < len(tags) <= 25 and tags[0]["value"] == "OpenAI"
    everything = await dc.complete("subscribe", "tag", "", user=ADMIN)
    assert 10 <= len(everything) <= 25
    terms = await dc.complete("explain", "term", "distilation")
    assert terms[0]["value"] == "distillation" and len(terms) <= 25
    stories = await dc.complete("story", "slug", "musk")
    assert stories[0]["value"] == DISTILLATION and len(stories[0]["name"]) <= 100


async def test_buttons_work_after_a_restart(dc: Harness) -> None:
    interaction = dc.fake.slash(GENERAL, MEMBER, "latest")
    await dc.fake.wait_for(lambda: dc.fake.responses(interaction))
    message = dc.fake.messages(GENERAL)[-1]
    ids = [c["custom_id"] for row in message["components"] for c in row["components"]]
    await dc.runner.stop()
    dc.runner = await start_bot(dc.core, dc.fake)  # a new client: no view of the old message in memory

    pressed = dc.fake.press(GENERAL, MEMBER, int(message["id"]), ids[0])
    await dc.fake.wait_for(lambda: dc.fake.responses(pressed), timeout=15)
    opened = dc.fake.responses(pressed)[0]
    slug = ids[0].removeprefix("xb:story:")
    detail = await dc.core.catalog.story(slug)
    assert opened["type"] == 4 and ephemeral(opened["data"])
    assert opened["data"]["embeds"][0]["title"] == detail.story.title
    paged = dc.fake.press(GENERAL, MEMBER, int(message["id"]), ids[-1])
    await dc.fake.wait_for(lambda: dc.fake.responses(paged), timeout=15)
    update = dc.fake.responses(paged)[0]
    assert update["type"] == 7 and len(update["data"]["embeds"]) == 5
    assert update["data"]["embeds"][0]["title"] != message["embeds"][0]["title"]
    # A story taken down since: its old button answers politely, to the presser only.
    now = dc.fake.message(int(message["id"]))
    ids = [c["custom_id"] for row in now["components"] for c in row["components"]]
    async with dc.core.sessions.begin() as session:
        await session.execute(delete(Story).where(Story.slug == ids[1].removeprefix("xb:story:")))
    stale = dc.fake.press(GENERAL, MEMBER, int(message["id"]), ids[1])
    await dc.fake.wait_for(lambda: dc.fake.responses(stale), timeout=15)
    answer = dc.fake.responses(stale)[0]["data"]
    assert "expired" in text_of(answer) and ephemeral(answer)


BAD = [
    "@everyone",
    "<@123> <@&456> @here",
    "**bold** __under__ `code` ||spoiler||",
    "<b>x</b> & y",
    "'; DROP TABLE tags; --",
    "x" * 150,
]


async def test_bad_input_through_discord_pings_no_one_and_stays_in_limits(dc: Harness) -> None:
    for value in BAD:
        for name, option in (("explain", "term"), ("search", "query")):
            answers = await dc.run(GENERAL, MEMBER, name, {option: value})
            assert answers and all(text_of(a) for a in answers), (name, value)
    shown = "\n".join(text_of(m) for m in dc.fake.messages(GENERAL))
    assert "\\*\\*bold\\*\\*" in shown  # markdown from users is escaped, not rendered


async def test_a_slow_answer_is_deferred_within_three_seconds(dc: Harness) -> None:
    bridge = dc.runner.client.bridge
    real = bridge.commands

    class Slow:
        """The core taking longer than Discord waits, for one command."""

        def __getattr__(self, name: str):
            return getattr(real, name)

        async def command(self, *args, **kwargs):
            await asyncio.sleep(2.6)
            return await real.command(*args, **kwargs)

    bridge.commands = Slow()
    try:
        interaction = dc.fake.slash(GENERAL, MEMBER, "search", {"query": "distillation"})
        await dc.fake.wait_for(lambda: len(dc.fake.responses(interaction)) >= 2, timeout=15)
    finally:
        bridge.commands = real
    deferred, answer = dc.fake.responses(interaction)[:2]
    assert deferred["type"] == 5 and DISTILLATION in text_of(answer["data"])


async def test_shards_split_between_processes(database_url: str) -> None:
    fake = FakeDiscord()
    await fake.start()
    world(fake)
    cores = []
    try:
        for shard in (0, 1):
            core = await empty_core(
                database_url,
                discord_bot_token=fake.token,
                discord_api_base_url=f"{fake.url}/api/v10",
                discord_gateway_url=fake.ws_url,
                discord_shard_count=2,
                discord_shard_ids=(shard,),
            )
            await core.prepare(seed=shard == 0)
            runner = build_discord(core)
            await runner.start()
            cores.append((core, runner))
        await fake.wait_ready(timeout=20)
        assert sorted(tuple(s) for s in fake.identified_shards) == [(0, 2), (1, 2)]
        owner = (GUILD >> 22) % 2
        await fake.wait_for(lambda: cores[owner][1].client.get_guild(GUILD) is not None)
        assert cores[1 - owner][1].client.get_guild(GUILD) is None
    finally:
        for core, runner in cores:
            await runner.stop()
            await core.close()
        await fake.stop()
        fake.unpatch_discord_py()


async def test_pushes_reach_channels_and_dms_and_a_lost_channel_is_deactivated(dc: Harness) -> None:
    (xai,) = [t for t in await dc.core.catalog.tags() if t.name == "xAI"]
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
    await dc.core.follows.follow(ChatRef("discord", str(DM), "private"), [xai.id])  # as /subscribe in the DM does
    (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])
    draft = StoryDraft(
        slug="push-test",
        title="A push with @everyone **in** it",
        summary="Short <b>&</b> sweet.",
        category="AI",
        published_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    assert (await dc.core.publisher.publish(draft)).deliveries_queued == 2
    while await worker.run_once():
        pass
    push = dc.fake.messages(GENERAL)[-1]
    assert push["embeds"][0]["title"] == "A push with @everyone **in** it"  # titles show markdown as typed
    assert "Short <b>&</b> sweet." in push["embeds"][0]["description"]
    assert push["components"][0]["components"][0]["custom_id"] == "xb:story:push-test"
    assert dc.fake.messages(DM)[-1]["embeds"][0]["title"].startswith("A push")

    # The bot loses access to the channel: the next push deactivates it instead of retrying.
    dc.fake.set_overwrite(GENERAL, dc.fake.bot_user_id, allow=0, deny=fakes.VIEW_CHANNEL, type=1)
    dc.provoked.add(403)
    await dc.core.publisher.publish(replace(draft, slug="push-two", title="Second"))
    while await worker.run_once():
        pass
    async with dc.core.sessions() as session:
        unsent = dict(
            (
                await session.execute(
                    select(Chat.platform_chat_id, Delivery.status)
                    .join(Chat, Chat.id == Delivery.chat_id)
                    .where(Delivery.status != "sent")
                )
            ).all()
        )
        active = (await session.execute(select(Chat.active).where(Chat.platform_chat_id == str(GENERAL)))).scalar_one()
    assert unsent == {str(GENERAL): "skipped"} and active is False
    assert dc.fake.messages(DM)[-1]["embeds"][0]["title"] == "Second"
    # The workers' outcomes reach /metrics: two sends, then one sent and one refused.
    exposed = dc.core.metrics.exposition()[0].decode()
    assert 'explainer_deliveries_total{outcome="sent",platform="discord"} 3.0' in exposed
    assert 'explainer_deliveries_total{outcome="refused",platform="discord"} 1.0' in exposed


def test_a_thread_in_a_server_is_a_shared_chat_not_a_private_one() -> None:
    # discord.py's Thread is no GuildChannel: the server, not the class, decides.
    from types import SimpleNamespace

    from adapters.discord.bridge import chat_of

    thread = SimpleNamespace(id=4242, name="launch-day")
    assert chat_of(thread, 4242, in_guild=True) == ChatRef("discord", "4242", "group", "#launch-day")
    assert chat_of(None, 77, in_guild=False).kind == "private"


async def test_a_correction_edits_pushes_in_place_and_a_retraction_takes_them_down(dc: Harness) -> None:
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
    (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])
    draft = StoryDraft(
        slug="edit-test",
        title="Before the correction",
        summary="Short.",
        category="AI",
        published_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    await dc.core.publisher.publish(draft)
    while await worker.run_once():
        pass
    push = dc.fake.messages(GENERAL)[-1]
    corrected = await dc.core.publisher.publish(replace(draft, title="After the correction", correction="Wrong name."))
    assert corrected.corrections_queued == 1
    while await worker.run_once():
        pass
    edited = dc.fake.message(int(push["id"]))
    assert edited["embeds"][0]["title"] == "After the correction" and edited.get("edited_timestamp")
    assert "Corrected " in edited["embeds"][0]["description"] and "Wrong name." in edited["embeds"][0]["description"]
    assert edited["components"][0]["components"][0]["custom_id"] == "xb:story:edit-test"
    assert edited["allowed_mentions"] == {"parse": []}

    # A moderator deleted the push: the next correction has nothing to edit, and says so.
    dc.fake.delete_by_member(int(push["id"]))
    dc.provoked.add(404)
    await dc.core.publisher.publish(replace(draft, title="After two corrections"))
    while await worker.run_once():
        pass
    async with dc.core.sessions() as session:
        edits = (
            await session.execute(
                select(Delivery.status, Delivery.last_error).where(Delivery.kind == "edit").order_by(Delivery.id)
            )
        ).all()
    assert [status for status, _error in edits] == ["sent", "skipped"] and "10008" in edits[1].last_error

    # A retraction deletes the push of another story (Discord sets no age limit on a bot's own messages).
    other = replace(draft, slug="retract-test", title="To be withdrawn")
    await dc.core.publisher.publish(other)
    while await worker.run_once():
        pass
    withdrawn = dc.fake.messages(GENERAL)[-1]
    retracted = await dc.core.publisher.retract(other.slug, "Not confirmed.")
    assert retracted is not None and retracted.retractions_queued == 1
    while await worker.run_once():
        pass
    assert [m for m in dc.fake.messages(GENERAL) if m["id"] == withdrawn["id"]] == []
    async with dc.core.sessions() as session:
        deletes = (await session.execute(select(Delivery.status).where(Delivery.kind == "delete"))).scalars().all()
    assert deletes == ["sent"]
    exposed = dc.core.metrics.exposition()[0].decode()
    assert 'explainer_delivery_changes_total{kind="edit",outcome="vanished",platform="discord"} 1.0' in exposed
    assert 'explainer_delivery_changes_total{kind="delete",outcome="sent",platform="discord"} 1.0' in exposed


async def test_pushes_wait_out_a_discord_outage_and_arrive_once(dc: Harness) -> None:
    (xai,) = [t for t in await dc.core.catalog.tags() if t.name == "xAI"]
    await dc.run(GENERAL, ADMIN, "subscribe", {"tag": "xAI"})
    await dc.core.follows.follow(ChatRef("discord", str(DM), "private"), [xai.id])
    (worker,) = build_workers(dc.core, [DiscordSender(dc.runner.client)])
    dc.fake.outage(503)
    dc.provoked.add(503)
    draft = StoryDraft(
        slug="outage-test",
        title="Sent while Discord was down",
        summary="Short.",
        category="AI",
        published_at=datetime(2026, 12, 2, 9, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(),
        body="Lead.",
    )
    stop = asyncio.Event()
    running_worker = asyncio.create_task(worker.run(stop))
    try:
        await dc.core.publisher.publish(draft)
        await asyncio.sleep(3)  # several tries, none counted
        async with dc.core.sessions() as session:
            statuses = set((await session.execute(select(Delivery.status))).scalars())
        assert statuses <= {"pending", "sending"}
        dc.fake.outage(None)

        async def sent() -> bool:
            async with dc.core.sessions() as session:
                return set((await session.execute(select(Delivery.status))).scalars()) == {"sent"}

        async with asyncio.timeout(30):
            while not await sent():
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await running_worker
    for channel in (GENERAL, DM):
        titles = [embed["title"] for m in dc.fake.messages(channel) for embed in m.get("embeds") or []]
        assert titles.count("Sent while Discord was down") == 1, titles
    async with dc.core.sessions() as session:
        assert set((await session.execute(select(Delivery.attempts))).scalars()) == {1}
