"""Starts what the settings configure and stops it in reverse order."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web

from adapters.console import ConsoleSender, run_console
from adapters.http.app import build_app
from bot.composition import Core, build_discord, build_telegram, build_workers
from content import db

log = logging.getLogger("explainer_bot")


async def serve(core: Core, *, console: bool | None = None, stop: asyncio.Event | None = None) -> None:
    settings = core.settings
    stop = stop or asyncio.Event()
    await core.prepare()
    telegram = build_telegram(core)
    routes = [r for r in (telegram.webhook_route() if telegram else None,) if r is not None]
    runner = web.AppRunner(build_app(lambda: db.ping(core.engine), routes), access_log=None)
    await runner.setup()
    started: list = []
    workers: list[asyncio.Task] = []
    try:
        site = web.TCPSite(runner, settings.api_host, settings.api_port)
        await site.start()
        log.info("HTTP API on http://%s:%s", settings.api_host, settings.api_port)
        senders: list = []
        if telegram is not None:
            from adapters.telegram.sender import TelegramSender

            await telegram.start()
            started.append(telegram)
            senders.append(TelegramSender(telegram.application.bot))
        discord_runner = build_discord(core)
        if discord_runner is not None:
            from adapters.discord.sender import DiscordSender

            await discord_runner.start()
            started.append(discord_runner)
            senders.append(DiscordSender(discord_runner.client))
        # With no platform configured the terminal is the chat; leaving it stops the bot.
        chatting = console if console is not None else (not started and sys.stdin.isatty())
        if chatting:
            senders.append(ConsoleSender())
        workers = [asyncio.create_task(w.run(stop), name=f"deliver-{w.sender.platform}") for w in build_workers(core, senders)]

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        if chatting:
            chat = asyncio.create_task(run_console(core.commands))
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({chat, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for task in (chat, waiter):
                task.cancel()
        else:
            await stop.wait()
        log.info("stopping")
    finally:
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        for part in reversed(started):
            await part.stop()
        await runner.cleanup()


async def console_with_pushes(core: Core) -> None:
    """The console chat, with pushes for it printed as they are delivered."""
    await core.prepare()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(w.run(stop)) for w in build_workers(core, [ConsoleSender()])]
    try:
        await run_console(core.commands)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
