"""Starting and stopping the Discord side of a process."""

from __future__ import annotations

import asyncio
import logging

import discord
import yarl

from adapters.discord.bridge import DiscordBridge
from adapters.discord.client import MAX_RATELIMIT_WAIT, DiscordConfig, ExplainerClient
from adapters.discord.sender import DiscordSender
from content.errors import ConfigurationError

log = logging.getLogger(__name__)


def point_at(config: DiscordConfig) -> None:
    """Aim discord.py at another REST base and gateway (a proxy, a test server).

    discord.py has no option for this; both are class attributes it reads on
    every request and connection, so they are set before the client starts.
    """
    discord.http.Route.BASE = config.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url.rstrip("/") + "/")


class DiscordRunner:
    """The Discord side of a process: the client on the gateway (`gateway`:
    interactions arrive, slash commands are synced) in a task beside the rest,
    and the sender its delivery worker pushes with. A worker-only process logs
    in over REST only: pushes need no gateway."""

    platform = "discord"

    def __init__(self, config: DiscordConfig, client: discord.Client, *, gateway: bool = True) -> None:
        self.config = config
        self.client = client
        self.gateway = gateway
        self._task: asyncio.Task | None = None
        self._logged_in = False

    async def start(self) -> None:
        """Logs in (and joins the gateway). A token Discord refuses is a
        ConfigurationError; any other failure says only that Discord did not
        answer (the caller tries again)."""
        point_at(self.config)
        if not self._logged_in:
            try:
                await self.client.login(self.config.token)
            except discord.LoginFailure as exc:
                raise ConfigurationError("DISCORD_BOT_TOKEN", f"Discord refused the token ({exc})") from None
            self._logged_in = True
        if self.gateway and self._task is None:
            self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
            self._task.add_done_callback(_report)

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    def healthy(self) -> bool:
        """Whether interactions reach the bot now (for /healthz)."""
        if not self.gateway:
            return self._logged_in and not self.client.is_closed()
        return self.client.is_ready() and not self.client.is_closed()

    async def sender(self) -> DiscordSender:
        return DiscordSender(self.client)


def build_runner(config: DiscordConfig, bridge: DiscordBridge, *, gateway: bool = True) -> DiscordRunner:
    # Without the gateway a plain client: ExplainerClient syncs slash commands
    # when it logs in, which is the interactions process's business.
    client = (
        ExplainerClient(config, bridge)
        if gateway
        else discord.Client(intents=discord.Intents.none(), max_ratelimit_timeout=MAX_RATELIMIT_WAIT)
    )
    return DiscordRunner(config, client, gateway=gateway)


def _report(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Discord client stopped", exc_info=task.exception())
