"""The discord.py client and its slash commands (`adapters.discord.runner` starts and stops it)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Optional

import discord
from discord import app_commands

from adapters.discord.bridge import NO_PINGS, DiscordBridge
from adapters.discord.buttons import ActionButton
from content.commands.registry import COMMANDS
from content.commands.spec import ArgKind, Argument, CommandSpec, Completion

log = logging.getLogger(__name__)


# A 429 asking for a longer wait than this raises discord.RateLimited instead
# of holding the request: the caller decides (an hourly crosspost limit is
# not worth a push waiting for).
MAX_RATELIMIT_WAIT = 60.0


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
        options: dict = {
            "intents": intents,
            "allowed_mentions": NO_PINGS,
            "guild_ready_timeout": config.guild_ready_timeout,
            "max_ratelimit_timeout": MAX_RATELIMIT_WAIT,
        }
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
    for spec in COMMANDS:
        tree.add_command(slash_command(spec, bridge))


def slash_command(spec: CommandSpec, bridge: DiscordBridge) -> app_commands.Command:
    """The registry's command as a slash command whose options are its typed arguments.

    discord.py reads a command's options off its callback's signature; one
    callback takes them all as keywords, and `__signature__` tells discord.py
    their names, types and defaults.
    """

    async def callback(interaction: discord.Interaction, **options: object) -> None:
        await bridge.run(interaction, spec.name, options)

    parameters = [
        inspect.Parameter("interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction)
    ]
    for argument in spec.arguments:
        annotation = _option_type(argument)
        if argument.required:
            parameters.append(inspect.Parameter(argument.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation))
        else:
            # Optional[...], not `| None`: a Range is a transformer, which `|` does not take.
            optional = Optional[annotation]  # type: ignore[valid-type]  # noqa: UP045
            parameters.append(
                inspect.Parameter(argument.name, inspect.Parameter.KEYWORD_ONLY, annotation=optional, default=None)
            )
    callback.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    if spec.arguments:
        app_commands.describe(**{a.name: a.description for a in spec.arguments})(callback)
    completed = {a.name: _completer(bridge, a.completion) for a in spec.arguments if a.completion is not None}
    if completed:
        app_commands.autocomplete(**completed)(callback)
    if spec.changes_chat:
        # Hidden from members who could not use it; the core checks again when it runs.
        app_commands.default_permissions(manage_channels=True)(callback)
    return app_commands.Command(name=spec.name, description=spec.description, callback=callback)


def _option_type(argument: Argument) -> object:
    if argument.kind is ArgKind.COUNT:
        return app_commands.Range[int, argument.minimum, argument.maximum]
    if argument.kind is ArgKind.PLACE:
        return app_commands.Transform[discord.abc.GuildChannel, PlaceOption]
    if argument.kind is ArgKind.SWITCH:
        return bool
    return str


class PlaceOption(app_commands.Transformer):
    """A channel option offering every place a push can land: text and
    announcement channels, forums and threads. discord.py's own channel
    transformers refuse a channel its cache lacks (an archived thread the
    gateway never announced); this one hands it on partial, and the bridge
    reads its rights off its parent."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        kinds = discord.ChannelType
        return [kinds.text, kinds.news, kinds.forum, kinds.public_thread, kinds.private_thread, kinds.news_thread]

    async def transform(self, interaction: discord.Interaction, value: Any, /) -> Any:
        return value.resolve() or value


def _completer(
    bridge: DiscordBridge, source: Completion
) -> Callable[[discord.Interaction, str], Coroutine[Any, Any, list[app_commands.Choice[str]]]]:
    async def complete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await bridge.choices(source, current)

    return complete
