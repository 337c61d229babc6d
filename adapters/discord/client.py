"""The discord.py client and its slash commands (`adapters.discord.runner` starts and stops it)."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

import discord
from discord import app_commands

from adapters.discord.bridge import NO_PINGS, DiscordBridge
from adapters.discord.buttons import ActionButton
from content.commands.browse import LATEST_DEFAULT, LATEST_MAX
from content.commands.registry import COMMANDS

log = logging.getLogger(__name__)
DESCRIPTIONS = {c.name: c.description for c in COMMANDS}


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str
    api_base_url: str = "https://discord.com/api/v10"
    gateway_url: str = "wss://gateway.discord.gg"
    guild_ids: tuple[int, ...] = ()
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None
    guild_ready_timeout: float = 2.0


class ExplainerClient(discord.AutoShardedClient):
    def __init__(self, config: DiscordConfig, bridge: DiscordBridge) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and the bot's own member: enough for permissions
        options: dict = {"intents": intents, "allowed_mentions": NO_PINGS, "guild_ready_timeout": config.guild_ready_timeout}
        if config.shard_count is not None:
            options["shard_count"] = config.shard_count
            if config.shard_ids is not None:
                options["shard_ids"] = list(config.shard_ids)
        super().__init__(**options)
        self.config = config
        self.bridge = bridge
        self.tree = app_commands.CommandTree(self)
        add_commands(self.tree, bridge)
        self.synced = asyncio.Event()

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        if self.config.guild_ids:
            for guild_id in self.config.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()
        self.synced.set()


def add_commands(tree: app_commands.CommandTree, bridge: DiscordBridge) -> None:
    async def tags(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await bridge.choices("tag", current)

    async def terms(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await bridge.choices("term", current)

    async def stories(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await bridge.choices("story", current)

    @app_commands.command(name="latest", description=DESCRIPTIONS["latest"])
    @app_commands.describe(count=f"How many stories (1-{LATEST_MAX})", tag="Only stories with this tag")
    @app_commands.autocomplete(tag=tags)
    async def latest(interaction: discord.Interaction, count: app_commands.Range[int, 1, LATEST_MAX] = LATEST_DEFAULT,
                     tag: str | None = None) -> None:
        await bridge.run(interaction, "latest", f"{count} {tag or ''}".strip())

    @app_commands.command(name="story", description=DESCRIPTIONS["story"])
    @app_commands.describe(slug="The story (type to search)")
    @app_commands.autocomplete(slug=stories)
    async def story(interaction: discord.Interaction, slug: str) -> None:
        await bridge.run(interaction, "story", slug)

    @app_commands.command(name="explain", description=DESCRIPTIONS["explain"])
    @app_commands.describe(term="A term, e.g. distillation")
    @app_commands.autocomplete(term=terms)
    async def explain(interaction: discord.Interaction, term: str) -> None:
        await bridge.run(interaction, "explain", term)

    @app_commands.command(name="search", description=DESCRIPTIONS["search"])
    @app_commands.describe(query="Words to look for")
    async def search(interaction: discord.Interaction, query: str) -> None:
        await bridge.run(interaction, "search", query)

    @app_commands.command(name="tags", description=DESCRIPTIONS["tags"])
    async def tags_command(interaction: discord.Interaction) -> None:
        await bridge.run(interaction, "tags")

    @app_commands.command(name="subscribe", description=DESCRIPTIONS["subscribe"])
    @app_commands.describe(tag="A tag, or several separated by commas", channel="The channel (default: this one)")
    @app_commands.autocomplete(tag=tags)
    @app_commands.default_permissions(manage_channels=True)
    async def subscribe(interaction: discord.Interaction, tag: str, channel: discord.TextChannel | None = None) -> None:
        await bridge.run(interaction, "subscribe", tag, channel)

    @app_commands.command(name="unsubscribe", description=DESCRIPTIONS["unsubscribe"])
    @app_commands.describe(tag="A tag, several separated by commas, or all", channel="The channel (default: this one)")
    @app_commands.autocomplete(tag=tags)
    @app_commands.default_permissions(manage_channels=True)
    async def unsubscribe(interaction: discord.Interaction, tag: str, channel: discord.TextChannel | None = None) -> None:
        await bridge.run(interaction, "unsubscribe", tag, channel)

    @app_commands.command(name="subscriptions", description=DESCRIPTIONS["subscriptions"])
    @app_commands.describe(channel="The channel (default: this one)")
    async def subscriptions(interaction: discord.Interaction, channel: discord.TextChannel | None = None) -> None:
        await bridge.run(interaction, "subscriptions", "", channel)

    @app_commands.command(name="help", description=DESCRIPTIONS["help"])
    async def help_command(interaction: discord.Interaction) -> None:
        await bridge.run(interaction, "help")

    for command in (latest, story, explain, search, tags_command, subscribe, unsubscribe, subscriptions, help_command):
        tree.add_command(command)
