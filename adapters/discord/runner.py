"""Starting and stopping the Discord side of a process."""
from __future__ import annotations

import asyncio
import logging

import discord
import yarl

from adapters.discord.client import DiscordConfig, ExplainerClient

log = logging.getLogger(__name__)


def point_at(config: DiscordConfig) -> None:
    """Aim discord.py at another REST base and gateway (a proxy, a test server).

    discord.py has no option for this; both are class attributes it reads on
    every request and connection, so they are set before the client starts.
    """
    discord.http.Route.BASE = config.api_base_url.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(config.gateway_url.rstrip("/") + "/")


class DiscordRunner:
    """Starts the client in a task beside the rest; stops it on shutdown."""

    def __init__(self, config: DiscordConfig, client: ExplainerClient) -> None:
        self.config = config
        self.client = client
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        point_at(self.config)
        await self.client.login(self.config.token)
        self._task = asyncio.create_task(self.client.connect(reconnect=True), name="discord")
        self._task.add_done_callback(_report)

    async def stop(self) -> None:
        await self.client.close()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)


def _report(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("Discord client stopped", exc_info=task.exception())
