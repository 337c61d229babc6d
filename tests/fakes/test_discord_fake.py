"""The fake Discord server, driven by discord.py itself.

What matters is that discord.py understands every answer and every gateway
payload (so a real bot runs against the fake unmodified) and that a message
Discord would refuse is refused here too, with the exception discord.py raises
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import time
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord import (
    ADMINISTRATOR,
    CROSSPOSTED,
    EMBED_LINKS,
    EPHEMERAL,
    LOADING,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    SEND_MESSAGES,
    SEND_MESSAGES_IN_THREADS,
    USE_APPLICATION_COMMANDS,
    VIEW_CHANNEL,
    FakeDiscord,
)

# Guild ids chosen for their shard: (id >> 22) % 2.
GUILD = 26_000_000_000 << 22  # shard 0 of 2
OTHER_GUILD = (26_000_000_001 << 22) + 7  # shard 1 of 2
OWNER = 310_000_000_000_000_001
USER = 310_000_000_000_000_002
MODERATOR = 310_000_000_000_000_003
CHANNEL = 320_000_000_000_000_001  # everyone may talk
READ_ONLY = 320_000_000_000_000_002  # @everyone may not send
HIDDEN = 320_000_000_000_000_003  # @everyone may not view
OTHER_CHANNEL = 320_000_000_000_000_004  # in OTHER_GUILD
DM = 320_000_000_000_000_009
MOD_ROLE = 330_000_000_000_000_001

FAST_READY = 0.05  # guild_ready_timeout: on_ready this long after the last GUILD_CREATE (discord.py's default: 2 s)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        server.patch_discord_py()
        server.add_guild(GUILD, "Newsroom", owner_id=OWNER)
        server.add_channel(GUILD, CHANNEL, "general")
        server.add_channel(GUILD, READ_ONLY, "announcements")
        server.add_channel(GUILD, HIDDEN, "staff")
        server.set_overwrite(READ_ONLY, GUILD, allow=0, deny=SEND_MESSAGES)
        server.set_overwrite(HIDDEN, GUILD, allow=0, deny=VIEW_CHANNEL)
        server.add_role(GUILD, MOD_ROLE, "moderators", ADMINISTRATOR)
        server.add_member(GUILD, USER, "ada")
        server.add_member(GUILD, MODERATOR, "grace", roles=[MOD_ROLE])
        server.open_dm(USER, DM)
        yield server


class Bot(discord.Client):
    """A minimal client with a command tree; commands report what happened through `outcomes`."""

    def __init__(self, *, intents: discord.Intents | None = None, **options: Any) -> None:
        super().__init__(intents=intents or discord.Intents.default(), guild_ready_timeout=FAST_READY, **options)
        self.tree = app_commands.CommandTree(self)
        self.outcomes: asyncio.Queue[Any] = asyncio.Queue()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # discord.py sleeps 5 s before identifying again (Discord's identify limit); not here

    async def report(self, action: Awaitable[Any]) -> None:
        """Runs an answer and puts its result, or the exception it raised, in `outcomes`."""
        try:
            self.outcomes.put_nowait(await action)
        except Exception as error:
            self.outcomes.put_nowait(error)

    async def outcome(self, timeout: float = 10.0) -> Any:
        return await asyncio.wait_for(self.outcomes.get(), timeout)


class FastShardedBot(discord.AutoShardedClient):
    """discord.py waits 5 s between two shards' IDENTIFYs (Discord's concurrency limit); not here."""

    def __init__(self, **options: Any) -> None:
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=FAST_READY, **options)
        self.tree = app_commands.CommandTree(self)
        self.seen: asyncio.Queue[discord.Interaction] = asyncio.Queue()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


@contextlib.asynccontextmanager
async def connected(client: discord.Client, fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    """Logs in, connects and waits for on_ready; closes the client afterwards."""
    await client.login(fake.token)
    running = asyncio.create_task(client.connect(reconnect=False))
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait({running, ready}, timeout=15, return_when=asyncio.FIRST_COMPLETED)
        if running in done:
            running.result()  # the connection failed: raise why
        assert ready in done, fake.dump("the client never became ready")
        yield client
    finally:
        ready.cancel()
        await client.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(running, 5)


async def sync_guild(client: Bot) -> list[app_commands.AppCommand]:
    return await client.tree.sync(guild=discord.Object(GUILD))


def add_reply_command(client: Bot, answer: Callable[[discord.Interaction, str], Awaitable[Any]]) -> None:
    """/latest topic:<str>, answered by `answer`, whose result or error goes to client.outcomes."""

    @client.tree.command(name="latest", description="The latest stories", guild=discord.Object(GUILD))
    async def latest(interaction: discord.Interaction, topic: str) -> None:
        await client.report(answer(interaction, topic))


# ----- connecting ------------------------------------------------------------------------------------


async def test_client_connects_and_caches_the_guild(fake: FakeDiscord) -> None:
    async with connected(Bot(), fake) as client:
        guild = client.get_guild(GUILD)
        assert guild is not None and guild.name == "Newsroom" and not guild.unavailable
        assert {c.id for c in guild.text_channels} == {CHANNEL, READ_ONLY, HIDDEN}
        assert guild.me is not None and guild.me.id == fake.bot_user_id
        assert client.user.name == fake.bot_name and client.application_id == fake.application_id
        # discord.py's cache agrees with the fake's permission rules
        assert not guild.me.guild_permissions.administrator
        assert guild.get_channel(READ_ONLY).permissions_for(guild.me).send_messages is False
    assert fake.identified_shards == [(0, 1)]
    assert fake.intents == discord.Intents.default().value
    assert {"GET /users/@me", "GET /oauth2/applications/@me"} <= {c.route for c in fake.calls}
    assert not fake.errors


async def test_gateway_speaks_one_zlib_stream(fake: FakeDiscord) -> None:
    """Every frame is binary, flushed with Z_SYNC_FLUSH, and decodes with one decompressor for the connection."""
    inflater = zlib.decompressobj()

    async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
        frame = await ws.receive(timeout=5)
        assert frame.type is aiohttp.WSMsgType.BINARY and frame.data.endswith(b"\x00\x00\xff\xff")
        return json.loads(inflater.decompress(frame.data))

    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(f"{fake.ws_url}/?v=10&encoding=json&compress=zlib-stream") as ws:
            hello = await receive(ws)
            assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
            await ws.send_str(json.dumps({"op": 1, "d": None}))
            assert (await receive(ws))["op"] == 11
            await ws.send_str(
                json.dumps({"op": 2, "d": {"token": fake.token, "intents": 513, "properties": {}, "shard": [0, 1]}})
            )
            ready, guild_create = await receive(ws), await receive(ws)
    assert (ready["t"], ready["s"], ready["d"]["shard"]) == ("READY", 1, [0, 1])
    assert ready["d"]["guilds"] == [{"id": str(GUILD), "unavailable": True}]
    assert (guild_create["t"], guild_create["s"]) == ("GUILD_CREATE", 2)
    assert guild_create["d"]["member_count"] == 4 and len(guild_create["d"]["channels"]) == 3


async def test_wrong_token_fails_login_and_unknown_routes_answer_json_404(fake: FakeDiscord) -> None:
    client = Bot()
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    async with aiohttp.ClientSession() as session:
        authorized = {"Authorization": f"Bot {fake.token}"}
        async with session.get(f"{fake.url}/api/v10/nowhere", headers=authorized) as response:
            assert response.status == 404
            assert response.headers["Content-Type"] == "application/json"  # exactly: discord.py parses nothing else
            assert await response.json() == {"message": "404: Not Found", "code": 0}


async def test_privileged_intents_must_be_enabled_for_the_application(fake: FakeDiscord) -> None:
    intents = discord.Intents.default()
    intents.members = True
    with pytest.raises(discord.ConnectionClosed) as closed:  # PrivilegedIntentsRequired when reconnecting
        async with connected(Bot(intents=intents), fake):
            pass
    assert closed.value.code == 4014
    fake.privileged_intents = discord.Intents(members=True).value
    async with connected(Bot(intents=intents), fake) as client:
        assert client.application_flags.gateway_guild_members_limited


async def test_client_resumes_after_the_connection_drops(fake: FakeDiscord) -> None:
    client = Bot()
    add_reply_command(client, lambda interaction, topic: interaction.response.send_message(f"on {topic}"))
    async with connected(client, fake):
        await sync_guild(client)
        fake.disconnect()
        await fake.wait_for(lambda: any(f.event == "RESUMED" for f in fake.gateway_frames))
        interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "chips"})
        assert not isinstance(await client.outcome(), Exception)
    assert fake.responses(interaction_id)[0]["data"]["content"] == "on chips"
    assert fake.identified_shards == [(0, 1)]  # resumed, not identified again


async def test_client_identifies_again_when_resuming_is_refused(fake: FakeDiscord) -> None:
    async with connected(Bot(), fake) as client:
        fake.disconnect(resumable=False)
        await fake.wait_for(lambda: len(fake.identified_shards) == 2)
        await fake.wait_ready()
        assert any(f.op == 9 for f in fake.gateway_frames)  # INVALID_SESSION answered the RESUME
        await client.get_channel(CHANNEL).send("still here")
    assert [m["content"] for m in fake.messages(CHANNEL)] == ["still here"]


# ----- commands ------------------------------------------------------------------------------------


async def test_syncing_the_tree_registers_the_commands(fake: FakeDiscord) -> None:
    client = Bot()
    add_reply_command(client, lambda interaction, topic: interaction.response.send_message(topic))

    @client.tree.command(name="explain", description="Explain a term")
    @app_commands.describe(term="The term", where="Where to post")
    async def explain(interaction: discord.Interaction, term: str, where: discord.TextChannel | None = None) -> None:
        pass

    async with connected(client, fake):
        guild_commands = await sync_guild(client)
        global_commands = await client.tree.sync()
    assert [c["name"] for c in fake.commands[GUILD]] == ["latest"]
    (explain_command,) = fake.commands[None]
    assert explain_command["name"] == "explain" and explain_command["application_id"] == str(fake.application_id)
    assert [(o["name"], o["type"]) for o in explain_command["options"]] == [("term", 3), ("where", 7)]
    assert explain_command["default_member_permissions"] is None
    assert [c.id for c in guild_commands] == [int(c["id"]) for c in fake.commands[GUILD]]
    assert global_commands[0].name == "explain"


async def test_invalid_command_definitions_are_refused(fake: FakeDiscord) -> None:
    # discord.py validates names itself, so the raw route is used to show the fake does too
    async with connected(Bot(), fake) as client:
        with pytest.raises(discord.HTTPException) as refused:
            await client.http.bulk_upsert_global_commands(
                fake.application_id,
                payload=[
                    {"name": "Latest News", "description": "x", "type": 1},
                    {"name": "ok", "description": "", "type": 1},
                ],
            )
        with pytest.raises(discord.HTTPException) as too_many:
            await client.http.bulk_upsert_global_commands(
                fake.application_id, payload=[{"name": f"c{i}", "description": "d", "type": 1} for i in range(101)]
            )
    assert (refused.value.status, refused.value.code) == (400, 50035)
    assert "0.name" in refused.value.text and "1.description" in refused.value.text
    assert (too_many.value.status, too_many.value.code) == (400, 30032)


async def test_slash_reaches_the_command_and_the_answer_is_recorded(fake: FakeDiscord) -> None:
    client = Bot()
    seen: list[discord.Interaction] = []

    async def answer(interaction: discord.Interaction, topic: str) -> Any:
        seen.append(interaction)
        no_pings = discord.AllowedMentions.none()
        return await interaction.response.send_message(f"Latest on {topic}", allowed_mentions=no_pings)

    add_reply_command(client, answer)
    async with connected(client, fake):
        await sync_guild(client)
        interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        callback = await client.outcome()
    assert isinstance(callback, discord.InteractionCallbackResponse) and callback.message_id is not None
    (interaction,) = seen
    assert (interaction.user.id, interaction.channel.id, interaction.guild.id) == (USER, CHANNEL, GUILD)
    assert interaction.permissions.send_messages and not interaction.permissions.administrator
    assert interaction.app_permissions.embed_links
    assert fake.responses(interaction_id) == [
        {
            "kind": "callback",
            "type": 4,
            "data": {"tts": False, "content": "Latest on ai", "allowed_mentions": {"parse": []}},
        }
    ]
    (message,) = fake.messages(CHANNEL)
    assert (message["content"], message["allowed_mentions"], message["flags"]) == ("Latest on ai", {"parse": []}, 0)
    assert int(message["id"]) == callback.message_id


async def test_slash_needs_a_registered_command_and_valid_options(fake: FakeDiscord) -> None:
    client = Bot()
    add_reply_command(client, lambda interaction, topic: interaction.response.send_message(topic))
    async with connected(client, fake):
        with pytest.raises(ValueError, match="not registered"):
            fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})  # defined but never synced
        await sync_guild(client)
        with pytest.raises(ValueError, match="required"):
            fake.slash(CHANNEL, USER, "latest")
        with pytest.raises(ValueError, match="does not fit"):
            fake.slash(CHANNEL, USER, "latest", {"topic": 42})
        with pytest.raises(ValueError, match="not registered"):
            fake.slash(DM, USER, "latest", {"topic": "ai"})  # a guild command does not exist in DMs


async def test_commands_follow_member_permissions(fake: FakeDiscord) -> None:
    client = Bot()

    @client.tree.command(name="publish", description="Publish a story", guild=discord.Object(GUILD))
    @app_commands.default_permissions(manage_guild=True)
    async def publish(interaction: discord.Interaction) -> None:
        await client.report(interaction.response.send_message(f"admin: {interaction.permissions.administrator}"))

    async with connected(client, fake):
        await sync_guild(client)
        manage_guild = discord.Permissions(manage_guild=True).value
        assert fake.commands[GUILD][0]["default_member_permissions"] == str(manage_guild)
        with pytest.raises(ValueError, match="default_member_permissions"):
            fake.slash(CHANNEL, USER, "publish")  # Discord does not even show it to them
        fake.set_overwrite(CHANNEL, MODERATOR, allow=0, deny=USE_APPLICATION_COMMANDS, type=1)
        fake.slash(CHANNEL, MODERATOR, "publish")  # administrator through a role: overwrites do not apply
        assert not isinstance(await client.outcome(), Exception)
        with pytest.raises(ValueError, match="cannot use application commands"):
            fake.slash(HIDDEN, USER, "publish")  # cannot see the channel at all
    assert fake.messages(CHANNEL)[0]["content"] == "admin: True"


async def test_channel_options_carry_resolved_channels(fake: FakeDiscord) -> None:
    client = Bot()

    @client.tree.command(name="post", description="Post somewhere", guild=discord.Object(GUILD))
    async def post(interaction: discord.Interaction, where: discord.TextChannel) -> None:
        may_send = where.permissions_for(interaction.user).send_messages  # from resolved.channels' permissions
        await client.report(interaction.response.send_message(f"{where.id} {may_send}"))

    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "post", {"where": READ_ONLY})
        assert not isinstance(await client.outcome(), Exception)
    assert fake.messages(CHANNEL)[-1]["content"] == f"{READ_ONLY} False"


async def test_dm_slash_commands_come_with_a_user(fake: FakeDiscord) -> None:
    client = Bot()

    @client.tree.command(name="help", description="How to use the bot")
    async def help_command(interaction: discord.Interaction) -> None:
        kind = type(interaction.user).__name__
        await client.report(interaction.response.send_message(f"{kind} {interaction.guild_id}", ephemeral=True))

    async with connected(client, fake):
        await client.tree.sync()
        interaction_id = fake.slash(DM, USER, "help")
        assert not isinstance(await client.outcome(), Exception)
    (message,) = fake.messages(DM)
    assert message["content"] == "User None" and message["flags"] == EPHEMERAL
    assert fake.responses(interaction_id)[0]["data"]["flags"] == EPHEMERAL


async def test_subcommand_groups_are_nested_as_discord_does(fake: FakeDiscord) -> None:
    client = Bot()
    news = app_commands.Group(name="news", description="News")
    ai = app_commands.Group(name="ai", description="AI news", parent=news)

    @ai.command(name="latest", description="The latest AI stories")
    async def latest(interaction: discord.Interaction, count: int = 3) -> None:
        await client.report(interaction.response.send_message(f"{count} stories"))

    client.tree.add_command(news, guild=discord.Object(GUILD))
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "news ai latest", {"count": 5})
        assert not isinstance(await client.outcome(), Exception)
        with pytest.raises(ValueError, match="needs a subcommand"):
            fake.slash(CHANNEL, USER, "news ai")
    assert fake.messages(CHANNEL)[0]["content"] == "5 stories"


async def test_direct_messages_open_a_dm_and_respect_blocks(fake: FakeDiscord) -> None:
    async with connected(Bot(), fake) as client:
        user = await client.fetch_user(USER)
        await user.send("Your daily digest")
        fake.block_dms(USER)
        with pytest.raises(discord.Forbidden) as blocked:
            await user.send("Another digest")
    assert [m["content"] for m in fake.messages(DM)] == ["Your daily digest"]
    assert blocked.value.code == 50007


# ----- what Discord refuses --------------------------------------------------------------------------


async def test_content_over_2000_characters_is_refused(fake: FakeDiscord) -> None:
    client = Bot()
    add_reply_command(client, lambda interaction, topic: interaction.response.send_message("x" * 2001))
    async with connected(client, fake):
        await sync_guild(client)
        interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        error = await client.outcome()
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert "data.content" in error.text and "2000" in error.text
    assert fake.responses(interaction_id) == [] and fake.messages(CHANNEL) == []


async def test_embed_with_26_fields_is_refused(fake: FakeDiscord) -> None:
    embed = discord.Embed(title="Too much")
    for i in range(26):
        embed.add_field(name=f"f{i}", value="v")
    client = Bot()
    add_reply_command(client, lambda interaction, topic: interaction.response.send_message(embed=embed))
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        error = await client.outcome()
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 50035)
    assert "data.embeds.0.fields" in error.text


async def test_embeds_over_6000_characters_and_empty_messages_are_refused(fake: FakeDiscord) -> None:
    long_embeds = [discord.Embed(description="d" * 4000), discord.Embed(description="d" * 2001)]
    async with connected(Bot(), fake) as client:
        channel = client.get_channel(CHANNEL)
        with pytest.raises(discord.HTTPException) as too_big:
            await channel.send(embeds=long_embeds)
        with pytest.raises(discord.HTTPException) as empty:
            await channel.send("   ")
    assert too_big.value.code == 50035 and "6000" in too_big.value.text
    assert (empty.value.status, empty.value.code) == (400, 50006)


async def test_answering_after_three_seconds_is_unknown_interaction(fake: FakeDiscord) -> None:
    async def slow(interaction: discord.Interaction, topic: str) -> Any:
        await asyncio.sleep(3.2)
        return await interaction.response.send_message("too late")

    client = Bot()
    add_reply_command(client, slow)
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        error = await client.outcome()
    assert isinstance(error, discord.NotFound) and error.code == 10062


async def test_answering_twice_is_refused(fake: FakeDiscord) -> None:
    async def twice(interaction: discord.Interaction, topic: str) -> Any:
        await interaction.response.send_message("first")
        interaction.response._response_type = None  # discord.py refuses a second answer itself; go past it
        return await interaction.response.send_message("second")

    client = Bot()
    add_reply_command(client, twice)
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        error = await client.outcome()
    assert isinstance(error, discord.HTTPException) and (error.status, error.code) == (400, 40060)
    assert [m["content"] for m in fake.messages(CHANNEL)] == ["first"]


async def test_channel_permissions_are_enforced(fake: FakeDiscord) -> None:
    fake.set_overwrite(CHANNEL, fake.bot_user_id, allow=0, deny=EMBED_LINKS, type=1)
    async with connected(Bot(), fake) as client:
        with pytest.raises(discord.Forbidden) as cannot_send:
            await client.get_channel(READ_ONLY).send("hello")
        with pytest.raises(discord.Forbidden) as cannot_see:
            await client.get_channel(HIDDEN).send("hello")
        with pytest.raises(discord.Forbidden) as no_embeds:
            await client.get_channel(CHANNEL).send(embed=discord.Embed(title="t"))
        sent = await client.get_channel(CHANNEL).send("plain text is fine")
    assert (cannot_send.value.status, cannot_send.value.code) == (403, 50013)
    assert (cannot_see.value.status, cannot_see.value.code) == (403, 50001)
    assert no_embeds.value.code == 50013
    assert [m["id"] for m in fake.messages(CHANNEL)] == [str(sent.id)]


async def test_a_message_a_moderator_deleted_is_unknown_to_the_bot(fake: FakeDiscord) -> None:
    deleted: asyncio.Queue[discord.RawMessageDeleteEvent] = asyncio.Queue()
    client = Bot()

    @client.event
    async def on_raw_message_delete(payload: discord.RawMessageDeleteEvent) -> None:
        deleted.put_nowait(payload)

    async with connected(client, fake):
        sent = await client.get_channel(CHANNEL).send("A short explainer")
        fake.delete_by_member(sent.id)
        assert (await asyncio.wait_for(deleted.get(), 5)).message_id == sent.id  # MESSAGE_DELETE reached the bot
        with pytest.raises(discord.NotFound) as edit_refused:
            await sent.edit(content="An updated explainer")
        with pytest.raises(discord.NotFound) as delete_refused:
            await sent.delete()
        dm = await (await client.fetch_user(USER)).send("Your daily digest")
    for refused in (edit_refused.value, delete_refused.value):
        assert (refused.status, refused.code, refused.text) == (404, 10008, "Unknown Message")
    route = f"/channels/{CHANNEL}/messages/{sent.id}"
    assert [(c.route, c.response) for c in fake.errors] == [
        (f"PATCH {route}", {"message": "Unknown Message", "code": 10008}),
        (f"DELETE {route}", {"message": "Unknown Message", "code": 10008}),
    ]
    assert fake.messages(CHANNEL) == []
    with pytest.raises(ValueError, match="no message"):
        fake.delete_by_member(sent.id)
    with pytest.raises(ValueError, match="DM"):
        fake.delete_by_member(dm.id)  # in a DM only the bot deletes its messages


async def test_an_interaction_answer_a_moderator_deleted_is_unknown(fake: FakeDiscord) -> None:
    async def answer(interaction: discord.Interaction, topic: str) -> Any:
        await interaction.response.send_message(f"Latest on {topic}")
        fake.delete_by_member((await interaction.original_response()).id)
        with pytest.raises(discord.NotFound) as edit_refused:
            await interaction.edit_original_response(content="Updated")
        with pytest.raises(discord.NotFound) as delete_refused:
            await interaction.delete_original_response()
        return edit_refused.value.code, delete_refused.value.code

    client = Bot()
    add_reply_command(client, answer)
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        assert await client.outcome() == (10008, 10008)
    assert [(c.method, c.status, c.code) for c in fake.errors] == [("PATCH", 404, 10008), ("DELETE", 404, 10008)]
    assert fake.messages(CHANNEL) == []


async def test_world_changes_reach_a_connected_bot(fake: FakeDiscord) -> None:
    """Changes made after the bot connected arrive as gateway events, so discord.py's cache stays right."""
    joined: asyncio.Queue[discord.Guild] = asyncio.Queue()
    client = Bot()

    @client.event
    async def on_guild_join(guild: discord.Guild) -> None:
        joined.put_nowait(guild)

    async with connected(client, fake):
        channel = client.get_channel(CHANNEL)
        fake.set_overwrite(CHANNEL, GUILD, allow=0, deny=SEND_MESSAGES)
        fake.add_member(GUILD, fake.bot_user_id, fake.bot_name, roles=[MOD_ROLE])  # the bot becomes admin
        fake.add_channel(GUILD, OTHER_CHANNEL, "late")
        fake.add_guild(OTHER_GUILD, "Other desk", owner_id=OWNER)
        assert (await asyncio.wait_for(joined.get(), 5)).id == OTHER_GUILD
        assert channel.permissions_for(channel.guild.me).administrator
        assert channel.overwrites_for(channel.guild.default_role).send_messages is False
        assert client.get_channel(OTHER_CHANNEL).name == "late"
        await channel.send("admins may")
        fake.add_member(GUILD, fake.bot_user_id, fake.bot_name)  # and is demoted again
        await fake.wait_for(lambda: not channel.permissions_for(channel.guild.me).send_messages)
        with pytest.raises(discord.Forbidden):
            await channel.send("hello")


async def test_rate_limited_requests_are_retried_after_retry_after(fake: FakeDiscord) -> None:
    fake.rate_limit_next("/messages", 0.3)
    async with connected(Bot(), fake) as client:
        started = time.monotonic()
        await client.get_channel(CHANNEL).send("hello")
        took = time.monotonic() - started
    limited, accepted = [c for c in fake.calls if c.route == f"POST /channels/{CHANNEL}/messages"]
    assert (limited.status, limited.response["retry_after"], accepted.status) == (429, 0.3, 200)
    assert took >= 0.3
    assert [m["content"] for m in fake.messages(CHANNEL)] == ["hello"]


async def test_global_rate_limits_are_retried_too(fake: FakeDiscord) -> None:
    fake.rate_limit_next("/messages", 0.2, is_global=True)
    async with connected(Bot(), fake) as client:
        await client.get_channel(CHANNEL).send("hello")
    assert [c.status for c in fake.calls if c.route.endswith("/messages")] == [429, 200]


async def test_duplicate_custom_ids_are_refused(fake: FakeDiscord) -> None:
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="a", custom_id="same"))
    view.add_item(discord.ui.Button(label="b", custom_id="same"))
    async with connected(Bot(), fake) as client:
        with pytest.raises(discord.HTTPException) as refused:
            await client.get_channel(CHANNEL).send("pick", view=view)
    assert refused.value.code == 50035 and "components.0.components.1.custom_id" in refused.value.text


# ----- autocomplete, deferrals, components, modals -----------------------------------------------------


async def test_autocomplete_allows_25_choices_not_26(fake: FakeDiscord) -> None:
    client = Bot()
    count = {"choices": 25}

    async def topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=f"{current}{i}", value=f"{current}{i}") for i in range(count["choices"])]

    @client.tree.command(name="latest", description="The latest stories", guild=discord.Object(GUILD))
    @app_commands.autocomplete(topic=topics)
    async def latest(interaction: discord.Interaction, topic: str) -> None:
        pass

    async with connected(client, fake):
        await sync_guild(client)
        assert fake.commands[GUILD][0]["options"][0]["autocomplete"] is True
        accepted = fake.autocomplete(CHANNEL, USER, "latest", "topic", "ai")
        await fake.wait_for(lambda: fake.responses(accepted))
        count["choices"] = 26
        fake.autocomplete(CHANNEL, USER, "latest", "topic", "ai")
        await fake.wait_for(lambda: fake.errors)
    (answer,) = fake.responses(accepted)
    assert answer["type"] == 8 and len(answer["data"]["choices"]) == 25
    (refused,) = fake.errors
    assert refused.route.endswith("/callback") and (refused.status, refused.code) == (400, 50035)


async def test_deferred_answer_is_replaced_by_the_first_followup(fake: FakeDiscord) -> None:
    async def deferred(interaction: discord.Interaction, topic: str) -> Any:
        await interaction.response.defer(ephemeral=True, thinking=True)
        assert fake.messages(CHANNEL)[0]["flags"] == EPHEMERAL | LOADING
        first = await interaction.followup.send("found 3 stories")
        await interaction.edit_original_response(content="found 4 stories")
        second = await interaction.followup.send("and one more", ephemeral=True)
        return first.id, second.id

    client = Bot()
    add_reply_command(client, deferred)
    async with connected(client, fake):
        await sync_guild(client)
        interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
        first_id, second_id = await client.outcome()
    original, extra = fake.messages(CHANNEL)
    assert (int(original["id"]), original["content"], original["flags"]) == (first_id, "found 4 stories", EPHEMERAL)
    assert (int(extra["id"]), extra["flags"]) == (second_id, EPHEMERAL)
    assert [r["kind"] for r in fake.responses(interaction_id)] == ["callback", "followup", "edit", "followup"]
    assert fake.responses(interaction_id)[0] == {"kind": "callback", "type": 5, "data": {"flags": EPHEMERAL}}


class Explainer(discord.ui.View):
    """A persistent view: no timeout, fixed custom ids."""

    def __init__(self, presses: asyncio.Queue[str]) -> None:
        super().__init__(timeout=None)
        self.presses = presses
        self.add_item(discord.ui.Button(label="Source", url="https://example.org/story"))

    @discord.ui.button(label="More", custom_id="explain:more", style=discord.ButtonStyle.primary)
    async def more(self, interaction: discord.Interaction, button: discord.ui.Button) -> None:
        await interaction.response.edit_message(content="More detail")
        self.presses.put_nowait(f"{interaction.user.id} {interaction.message.id}")


async def test_persistent_view_receives_button_presses(fake: FakeDiscord) -> None:
    presses: asyncio.Queue[str] = asyncio.Queue()
    client = Bot()
    async with connected(client, fake):
        client.add_view(Explainer(presses))
        sent_with = Explainer(asyncio.Queue())
        sent = await client.get_channel(CHANNEL).send("A short explainer", view=sent_with)
        sent_with.stop()  # as after a restart: only the persistent view registered at startup is left
        interaction_id = fake.press(CHANNEL, USER, sent.id, "explain:more")
        assert await asyncio.wait_for(presses.get(), 10) == f"{USER} {sent.id}"
        with pytest.raises(ValueError, match="no button"):
            fake.press(CHANNEL, USER, sent.id, "explain:less")
    assert fake.message(sent.id)["content"] == "More detail"
    assert fake.responses(interaction_id)[0]["type"] == 7


class Vote(discord.ui.DynamicItem[discord.ui.Button], template=r"vote:(?P<story>\d+)"):
    """A button whose custom id carries its state, found again by discord.py from any message."""

    def __init__(self, story: int) -> None:
        super().__init__(discord.ui.Button(label="Vote", custom_id=f"vote:{story}"))
        self.story = story

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: discord.ui.Button, match: Any) -> Vote:
        return cls(int(match["story"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"voted for {self.story}", ephemeral=True)


async def test_dynamic_items_answer_presses_with_ephemeral_messages(fake: FakeDiscord) -> None:
    client = Bot()
    async with connected(client, fake):
        client.add_dynamic_items(Vote)
        sent = await client.get_channel(CHANNEL).send("Story 42", view=discord.ui.View().add_item(Vote(42)))
        interaction_id = fake.press(CHANNEL, USER, sent.id, "vote:42")
        await fake.wait_for(lambda: fake.responses(interaction_id))
    _, vote = fake.messages(CHANNEL)  # the story, then the vote's answer
    assert (vote["content"], vote["flags"]) == ("voted for 42", EPHEMERAL)
    assert vote["interaction_metadata"]["interacted_message_id"] == str(sent.id)
    with pytest.raises(ValueError, match="ephemeral"):
        fake.press(CHANNEL, MODERATOR, int(vote["id"]), "anything")  # only USER sees that message


async def test_modal_submissions_reach_the_modal(fake: FakeDiscord) -> None:
    answers: asyncio.Queue[str] = asyncio.Queue()

    class Question(discord.ui.Modal, title="Ask the newsroom"):
        question = discord.ui.TextInput(label="Your question", custom_id="question")

        async def on_submit(self, interaction: discord.Interaction) -> None:
            answers.put_nowait(self.question.value)
            await interaction.response.send_message("Thanks!", ephemeral=True)

    client = Bot()

    @client.tree.command(name="ask", description="Ask a question", guild=discord.Object(GUILD))
    async def ask(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Question())

    async with connected(client, fake):
        await sync_guild(client)
        opened = fake.slash(CHANNEL, USER, "ask")
        await fake.wait_for(lambda: fake.responses(opened))
        fake.submit_modal(opened, {"question": "What is a transformer?"})
        assert await asyncio.wait_for(answers.get(), 10) == "What is a transformer?"
        await fake.wait_for(lambda: fake.messages(CHANNEL))
    assert fake.messages(CHANNEL)[0]["content"] == "Thanks!"


# ----- sharding -----------------------------------------------------------------------------------------


async def test_auto_sharded_client_gets_each_guild_on_its_shard(fake: FakeDiscord) -> None:
    fake.add_guild(OTHER_GUILD, "Other desk", owner_id=OWNER)
    fake.add_channel(OTHER_GUILD, OTHER_CHANNEL, "desk")
    fake.add_member(OTHER_GUILD, USER, "ada")
    client = FastShardedBot(shard_count=2)

    @client.tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        client.seen.put_nowait(interaction)
        await interaction.response.send_message("pong")

    async with connected(client, fake):
        assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]
        assert client.get_guild(GUILD).shard_id == 0 and client.get_guild(OTHER_GUILD).shard_id == 1
        await client.tree.sync()
        interaction_id = fake.slash(OTHER_CHANNEL, USER, "ping")
        interaction = await asyncio.wait_for(client.seen.get(), 10)
        await fake.wait_for(lambda: fake.responses(interaction_id))
    (delivery,) = [f for f in fake.gateway_frames if f.event == "INTERACTION_CREATE"]
    assert delivery.shard_id == 1 and interaction.guild.shard_id == 1
    assert "GET /gateway/bot" not in {c.route for c in fake.calls}  # a fixed shard count needs no advice


async def test_a_process_may_run_some_of_the_shards(fake: FakeDiscord) -> None:
    fake.add_guild(OTHER_GUILD, "Other desk", owner_id=OWNER)
    client = FastShardedBot(shard_count=2, shard_ids=[1])

    @client.tree.command(name="ping", description="Ping")
    async def ping(interaction: discord.Interaction) -> None:
        pass

    async with connected(client, fake):
        await fake.wait_ready(shard_ids=[1])
        assert [g.id for g in client.guilds] == [OTHER_GUILD]
        await client.tree.sync()
        with pytest.raises(AssertionError, match="no gateway session"):
            fake.slash(CHANNEL, USER, "ping")  # GUILD is on shard 0, which nobody runs
    assert fake.identified_shards == [(1, 2)]


async def test_auto_sharded_client_asks_how_many_shards(fake: FakeDiscord) -> None:
    fake.recommended_shards = 2
    async with connected(FastShardedBot(), fake) as client:
        assert client.shard_count == 2
    assert "GET /gateway/bot" in {c.route for c in fake.calls}
    assert sorted(fake.identified_shards) == [(0, 2), (1, 2)]


# ----- threads ------------------------------------------------------------------------------------------

THREAD = 340_000_000_000_000_001
OTHER_THREAD = 340_000_000_000_000_002
PRIVATE = 340_000_000_000_000_003
FORUM = 350_000_000_000_000_001
NEWS = 360_000_000_000_000_001
TAGS = [(370_000_000_000_000_000 + i, f"tag{i}") for i in range(7)]


async def test_threads_reach_the_bot_as_discord_sends_them(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions", owner_id=USER)
    fake.add_thread(CHANNEL, PRIVATE, "mods only", private=True, owner_id=MODERATOR)  # the bot is not in it
    fake.add_thread(CHANNEL, OTHER_THREAD, "old", archived=True)
    created: asyncio.Queue[discord.Thread] = asyncio.Queue()
    client = Bot()

    @client.event
    async def on_thread_create(thread: discord.Thread) -> None:
        created.put_nowait(thread)

    async with connected(client, fake):
        guild = client.get_guild(GUILD)
        assert [t.id for t in guild.threads] == [THREAD]  # active threads the bot can see
        assert [t.id for t in await guild.active_threads()] == [THREAD]
        thread = guild.get_thread(THREAD)
        assert (thread.parent_id, thread.owner_id, thread.type) == (CHANNEL, USER, discord.ChannelType.public_thread)
        assert not thread.archived and thread.auto_archive_duration == 1440
        fake.add_channel(GUILD, NEWS, "news", 5)
        fake.add_thread(NEWS, 340_000_000_000_000_009, "launch")
        late = await asyncio.wait_for(created.get(), 5)
        assert late.type is discord.ChannelType.news_thread and late.parent.is_news()
        archived = await client.fetch_channel(OTHER_THREAD)
        assert isinstance(archived, discord.Thread) and archived.archived
        with pytest.raises(discord.Forbidden) as hidden:
            await client.fetch_channel(PRIVATE)
    assert hidden.value.code == 50001
    data = fake.channel(THREAD)
    assert data["thread_metadata"]["archived"] is False and data["parent_id"] == str(CHANNEL)
    assert {"message_count", "member_count", "total_message_sent", "flags", "owner_id"} <= set(data)
    with pytest.raises(ValueError, match="private threads"):
        fake.add_thread(NEWS, 340_000_000_000_000_010, "secret", private=True)


async def test_sending_in_a_thread_needs_send_messages_in_threads(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions")
    fake.add_thread(HIDDEN, OTHER_THREAD, "staff questions")
    fake.set_overwrite(CHANNEL, GUILD, allow=SEND_MESSAGES, deny=SEND_MESSAGES_IN_THREADS)
    async with connected(Bot(), fake) as client:
        thread = client.get_channel(THREAD) or await client.fetch_channel(THREAD)
        with pytest.raises(discord.Forbidden) as refused:
            await thread.send("an answer")
        await client.get_channel(CHANNEL).send("Send Messages is for the channel itself")
        fake.set_overwrite(CHANNEL, GUILD, allow=SEND_MESSAGES_IN_THREADS, deny=SEND_MESSAGES)
        sent = await thread.send("an answer", embed=discord.Embed(title="links count in threads too"))
        with pytest.raises(discord.Forbidden) as cannot_see:
            await client.get_partial_messageable(OTHER_THREAD).send("hello")
    assert (refused.value.status, refused.value.code, refused.value.text) == (403, 50013, "Missing Permissions")
    assert (cannot_see.value.status, cannot_see.value.code) == (403, 50001)
    assert [m["id"] for m in fake.messages(THREAD)] == [str(sent.id)]
    assert fake.channel(THREAD)["message_count"] == 1 and fake.channel(THREAD)["last_message_id"] == str(sent.id)


async def test_posting_into_an_archived_thread_unarchives_it(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions")
    updates: asyncio.Queue[discord.RawThreadUpdateEvent] = asyncio.Queue()
    client = Bot()

    @client.event
    async def on_raw_thread_update(payload: discord.RawThreadUpdateEvent) -> None:
        updates.put_nowait(payload)

    async with connected(client, fake):
        first = await client.get_channel(THREAD).send("a first answer")
        fake.archive_thread(THREAD)
        assert (await asyncio.wait_for(updates.get(), 5)).data["thread_metadata"]["archived"] is True
        assert client.get_guild(GUILD).get_thread(THREAD) is None  # discord.py drops archived threads
        thread = await client.fetch_channel(THREAD)
        with pytest.raises(discord.HTTPException) as no_edits:
            await first.edit(content="edited")  # an archived thread's messages stay as they are
        await thread.send("reviving the thread")
        unarchived = await asyncio.wait_for(updates.get(), 5)
        assert unarchived.data["thread_metadata"]["archived"] is False
        assert client.get_guild(GUILD).get_thread(THREAD) is not None
    assert (no_edits.value.status, no_edits.value.code) == (400, 50083)
    assert fake.channel(THREAD)["thread_metadata"]["archived"] is False


async def test_an_archived_locked_thread_takes_messages_from_moderators_only(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions")
    fake.archive_thread(THREAD, locked=True)
    async with connected(Bot(), fake) as client:
        thread = await client.fetch_channel(THREAD)
        assert thread.archived and thread.locked
        with pytest.raises(discord.HTTPException) as refused:
            await thread.send("hello?")
        fake.add_role(GUILD, 330_000_000_000_000_002, "thread keepers", MANAGE_THREADS)
        fake.add_member(GUILD, fake.bot_user_id, fake.bot_name, roles=[330_000_000_000_000_002])
        await thread.send("a moderator may")
    assert (refused.value.status, refused.value.code, refused.value.text) == (400, 50083, "Thread is archived")
    metadata = fake.channel(THREAD)["thread_metadata"]
    assert (metadata["archived"], metadata["locked"]) == (False, True)
    assert [m["content"] for m in fake.messages(THREAD)] == ["a moderator may"]


async def test_a_deleted_thread_or_channel_is_unknown(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions")
    deleted: asyncio.Queue[Any] = asyncio.Queue()
    client = Bot()

    @client.event
    async def on_raw_thread_delete(payload: discord.RawThreadDeleteEvent) -> None:
        deleted.put_nowait(payload)

    @client.event
    async def on_guild_channel_delete(channel: discord.abc.GuildChannel) -> None:
        deleted.put_nowait(channel)

    async with connected(client, fake):
        thread = client.get_channel(THREAD)
        await thread.send("before")
        fake.delete_channel(THREAD)
        assert (await asyncio.wait_for(deleted.get(), 5)).thread_id == THREAD
        with pytest.raises(discord.NotFound) as send_refused:
            await thread.send("after")
        with pytest.raises(discord.NotFound) as fetch_refused:
            await client.fetch_channel(THREAD)
        fake.delete_channel(READ_ONLY)
        assert (await asyncio.wait_for(deleted.get(), 5)).id == READ_ONLY
        assert client.get_channel(READ_ONLY) is None
    for refused in (send_refused.value, fetch_refused.value):
        assert (refused.status, refused.code, refused.text) == (404, 10003, "Unknown Channel")
    assert fake.messages(THREAD) == []
    with pytest.raises(KeyError):
        fake.channel(THREAD)


async def test_the_bot_starts_archives_and_deletes_threads(fake: FakeDiscord) -> None:
    async with connected(Bot(), fake) as client:
        channel = client.get_channel(CHANNEL)
        thread = await channel.create_thread(name="follow-ups", type=discord.ChannelType.public_thread)
        assert thread.owner_id == fake.bot_user_id and thread.parent_id == CHANNEL
        archived = await thread.edit(archived=True)
        assert archived.archived
        with pytest.raises(discord.Forbidden) as cannot_delete:
            await thread.delete()  # deleting a thread needs Manage Threads
        with pytest.raises(discord.Forbidden) as cannot_lock:
            await thread.edit(archived=False, locked=True)
    assert cannot_delete.value.code == 50013 and cannot_lock.value.code == 50013
    created = next(c for c in fake.calls if c.route == f"POST /channels/{CHANNEL}/threads")
    assert (created.status, created.json["type"]) == (201, 11)
    assert fake.channel(thread.id)["thread_metadata"]["archived"] is True


# ----- forums ------------------------------------------------------------------------------------------


async def test_a_forum_takes_posts_not_messages(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, FORUM, "explainers", 15, tags=TAGS[:3])
    async with connected(Bot(), fake) as client:
        forum = client.get_channel(FORUM)
        assert isinstance(forum, discord.ForumChannel)
        assert [t.name for t in forum.available_tags] == ["tag0", "tag1", "tag2"]
        with pytest.raises(discord.HTTPException) as refused:
            await client.get_partial_messageable(FORUM).send("hello")
        thread, message = await forum.create_thread(
            name="What is a transformer?",
            embed=discord.Embed(title="Transformers", description="Attention is all you need"),
            applied_tags=[forum.get_tag(TAGS[0][0]), forum.get_tag(TAGS[2][0])],
        )
        assert isinstance(thread, discord.Thread) and thread.id == message.id
        assert thread.parent_id == FORUM and [t.id for t in thread.applied_tags] == [TAGS[0][0], TAGS[2][0]]
        assert message.embeds[0].title == "Transformers" and message.channel.id == thread.id
        reply = await thread.send("A follow-up")
        await message.edit(content="Updated starter")
        await reply.delete()
        (post,) = fake.posts(FORUM)
        await message.delete()  # the post stays, without its starter message
        fetched = await client.fetch_channel(FORUM)
    assert (refused.value.status, refused.value.code) == (400, 50008)
    assert refused.value.text == "Cannot send messages in a non-text channel"
    request = next(c for c in fake.calls if c.route == f"POST /channels/{FORUM}/threads")
    assert request.status == 201 and request.query == {"use_nested_fields": "1"}
    assert request.json["applied_tags"] == [str(TAGS[0][0]), str(TAGS[2][0])] and "embeds" in request.json["message"]
    assert (post["thread_id"], post["name"], post["applied_tags"]) == (
        thread.id,
        "What is a transformer?",
        [TAGS[0][0], TAGS[2][0]],
    )
    assert post["message"]["id"] == str(thread.id) and post["message"]["content"] == "Updated starter"
    assert fake.posts(FORUM)[0]["message"] is None
    assert fake.channel(thread.id)["message_count"] == 0  # the follow-up was deleted; the starter never counts
    assert isinstance(fetched, discord.ForumChannel) and len(fetched.available_tags) == 3


async def test_forum_posts_are_checked_as_discord_checks_them(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, FORUM, "explainers", 15, tags=TAGS, require_tag=True)
    async with connected(Bot(), fake) as client:
        forum = client.get_channel(FORUM)
        assert forum.flags.require_tag
        tags = [forum.get_tag(tag_id) for tag_id, _ in TAGS]
        attempts = {
            "six tags": forum.create_thread(name="t", content="c", applied_tags=tags[:6]),
            "no tag": forum.create_thread(name="t", content="c"),
            "long name": forum.create_thread(name="n" * 101, content="c", applied_tags=tags[:1]),
            "foreign tag": forum.create_thread(name="t", content="c", applied_tags=[discord.Object(1)]),
            "long content": forum.create_thread(name="t", content="c" * 2001, applied_tags=tags[:1]),
            "empty": forum.create_thread(name="t", applied_tags=tags[:1]),
        }
        refused = {}
        for what, attempt in attempts.items():
            with pytest.raises(discord.HTTPException) as error:
                await attempt
            refused[what] = error.value
        five = await forum.create_thread(name="n" * 100, content="c", applied_tags=tags[:5])
    assert refused["six tags"].code == 50035 and "applied_tags" in refused["six tags"].text
    assert (refused["no tag"].status, refused["no tag"].code) == (400, 40067)
    assert refused["no tag"].text == "A tag is required to create a forum post in this channel"
    assert refused["long name"].code == 50035 and "name" in refused["long name"].text
    assert refused["foreign tag"].code == 50035 and "applied_tags.0" in refused["foreign tag"].text
    assert refused["long content"].code == 50035 and "message.content" in refused["long content"].text
    assert refused["empty"].code == 50006
    assert [p["thread_id"] for p in fake.posts(FORUM)] == [five.thread.id]  # nothing refused left a thread


async def test_a_forum_post_with_files_goes_as_multipart(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, FORUM, "explainers", 15)
    async with connected(Bot(), fake) as client:
        thread, message = await client.get_channel(FORUM).create_thread(
            name="Sources", content="The paper", file=discord.File(io.BytesIO(b"%PDF-1.7"), "paper.pdf")
        )
    request = next(c for c in fake.calls if c.route == f"POST /channels/{FORUM}/threads")
    assert request.files[0]["filename"] == "paper.pdf" and request.json["name"] == "Sources"
    assert [a.filename for a in message.attachments] == ["paper.pdf"] and thread.id == message.id
    assert fake.posts(FORUM)[0]["message"]["attachments"][0]["size"] == 8


async def test_forum_posts_need_create_posts(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, FORUM, "explainers", 15)
    fake.set_overwrite(FORUM, GUILD, allow=0, deny=SEND_MESSAGES)
    async with connected(Bot(), fake) as client:
        with pytest.raises(discord.Forbidden) as refused:
            await client.get_channel(FORUM).create_thread(name="t", content="c")
    assert (refused.value.status, refused.value.code) == (403, 50013)
    assert fake.posts(FORUM) == []


# ----- announcement channels ----------------------------------------------------------------------------


async def test_publishing_is_limited_to_ten_an_hour_per_channel(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, NEWS, "news", 5)
    # without max_ratelimit_timeout discord.py would sleep out the hour and retry
    async with connected(Bot(max_ratelimit_timeout=30.0), fake) as client:
        channel = client.get_channel(NEWS)
        assert channel.is_news()
        sent = [await channel.send(f"story {i}") for i in range(12)]
        for message in sent[:10]:
            await message.publish()
        with pytest.raises(discord.RateLimited) as limited:
            await sent[10].publish()
        with pytest.raises(discord.HTTPException) as twice:
            await sent[0].publish()
        fake.age_crossposts(NEWS, 3600)
        await sent[10].publish()
        with pytest.raises(discord.HTTPException) as not_news:
            await (await client.get_channel(CHANNEL).send("plain")).publish()
    assert 3590 < limited.value.retry_after <= 3600
    assert not isinstance(limited.value, discord.HTTPException)
    answer = next(c for c in fake.calls if c.status == 429)
    assert answer.response["global"] is False and answer.response["message"] == "You are being rate limited."
    assert (twice.value.status, twice.value.code) == (400, 40033)
    assert twice.value.text == "This message has already been crossposted"
    assert not_news.value.code == 50024
    assert fake.crossposted(NEWS) == [m.id for m in sent[:11]]
    assert fake.message(sent[0].id)["flags"] & CROSSPOSTED and not fake.message(sent[11].id)["flags"]


async def test_publishing_another_users_message_needs_manage_messages(fake: FakeDiscord) -> None:
    fake.add_channel(GUILD, NEWS, "news", 5)
    async with connected(Bot(), fake) as client:
        theirs = fake.post_by_member(NEWS, USER, "breaking news")
        message = await client.get_channel(NEWS).fetch_message(theirs)
        assert message.author.id == USER and message.content == ""  # no message content intent
        with pytest.raises(discord.Forbidden) as refused:
            await message.publish()
        fake.set_overwrite(NEWS, fake.bot_user_id, allow=MANAGE_MESSAGES, deny=0, type=1)
        await message.publish()
    assert (refused.value.status, refused.value.code) == (403, 50013)
    assert fake.crossposted(NEWS) == [theirs]
    assert fake.messages(NEWS) == []  # messages() lists the bot's own


# ----- commands in threads, channel options -----------------------------------------------------------------


async def test_slash_commands_in_a_thread_come_from_the_thread(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions", owner_id=USER)
    fake.set_overwrite(CHANNEL, fake.bot_user_id, allow=0, deny=SEND_MESSAGES_IN_THREADS, type=1)
    seen: list[discord.Interaction] = []

    async def answer(interaction: discord.Interaction, topic: str) -> Any:
        seen.append(interaction)
        return await interaction.response.send_message(f"on {topic}")

    client = Bot()
    add_reply_command(client, answer)
    async with connected(client, fake):
        await sync_guild(client)
        fake.slash(THREAD, USER, "latest", {"topic": "ai"})
        assert not isinstance(await client.outcome(), Exception)
        fake.archive_thread(THREAD)
        with pytest.raises(ValueError, match="archived"):
            fake.slash(THREAD, USER, "latest", {"topic": "ai"})
    (interaction,) = seen
    assert isinstance(interaction.channel, discord.Thread) and interaction.channel.parent_id == CHANNEL
    assert interaction.channel_id == THREAD
    assert not interaction.app_permissions.send_messages_in_threads and interaction.app_permissions.send_messages
    delivery = next(f for f in fake.gateway_frames if f.event == "INTERACTION_CREATE")
    assert delivery.payload["d"]["channel"]["thread_metadata"]["archived"] is False
    assert [m["content"] for m in fake.messages(THREAD)] == ["on ai"]  # an answer needs no send permission


async def test_channel_options_resolve_threads_forums_and_announcement_channels(fake: FakeDiscord) -> None:
    fake.add_thread(CHANNEL, THREAD, "questions")
    fake.add_channel(GUILD, FORUM, "explainers", 15, tags=TAGS[:1], require_tag=True)
    fake.add_channel(GUILD, NEWS, "news", 5)
    client = Bot()

    @client.tree.command(name="place", description="Where to post", guild=discord.Object(GUILD))
    async def place(
        interaction: discord.Interaction, where: discord.Thread | discord.ForumChannel | discord.TextChannel
    ) -> None:
        await client.report(interaction.response.send_message(f"{type(where).__name__} {where.type.value}"))

    @client.tree.command(name="text", description="A text channel", guild=discord.Object(GUILD))
    async def text(interaction: discord.Interaction, where: discord.TextChannel) -> None:
        pass

    async with connected(client, fake):
        await sync_guild(client)
        for target in (THREAD, FORUM, NEWS):
            fake.slash(CHANNEL, USER, "place", {"where": target})
            assert not isinstance(await client.outcome(), Exception)
        with pytest.raises(ValueError, match="channel types"):
            fake.slash(CHANNEL, USER, "text", {"where": FORUM})
        with pytest.raises(ValueError, match="cannot see"):
            fake.slash(CHANNEL, USER, "place", {"where": HIDDEN})
    # discord.py swaps the resolved channels for its cached ones, matched by id and type
    assert [m["content"] for m in fake.messages(CHANNEL)] == ["Thread 11", "ForumChannel 15", "TextChannel 5"]
    deliveries = [f.payload["d"] for f in fake.gateway_frames if f.event == "INTERACTION_CREATE"]
    thread, forum, _ = (next(iter(d["data"]["resolved"]["channels"].values())) for d in deliveries)
    assert thread["parent_id"] == str(CHANNEL) and "thread_metadata" in thread and "permissions" in thread
    assert forum["flags"] == 1 << 4 and "permission_overwrites" not in forum
