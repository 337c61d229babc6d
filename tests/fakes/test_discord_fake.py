"""The fake Discord server, driven by discord.py itself.

What matters is that discord.py understands every answer and every gateway
payload (so a real bot runs against the fake unmodified) and that a message
Discord would refuse is refused here too, with the exception discord.py raises
for it.
"""

from __future__ import annotations

import asyncio
import contextlib
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
    EMBED_LINKS,
    EPHEMERAL,
    LOADING,
    SEND_MESSAGES,
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
