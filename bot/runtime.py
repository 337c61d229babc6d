"""Starts what the settings configure and stops it in reverse order."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web

from adapters.console import run_console
from adapters.http.app import build_app
from bot.composition import Core, build_discord, build_telegram
from content import db

log = logging.getLogger("explainer_bot")


async def serve(core: Core, *, console: bool | None = None, stop: asyncio.Event | None = None) -> None:
    settings = core.settings
    await core.prepare()
    telegram = build_telegram(core)
    routes = [r for r in (telegram.webhook_route() if telegram else None,) if r is not None]
    runner = web.AppRunner(build_app(lambda: db.ping(core.engine), routes), access_log=None)
    await runner.setup()
    started: list = []
    try:
        site = web.TCPSite(runner, settings.api_host, settings.api_port)
        await site.start()
        log.info("HTTP API on http://%s:%s", settings.api_host, settings.api_port)
        if telegram is not None:
            await telegram.start()
            started.append(telegram)
        discord_runner = build_discord(core)
        if discord_runner is not None:
            await discord_runner.start()
            started.append(discord_runner)

        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        no_platform = not started
        if console if console is not None else (no_platform and sys.stdin.isatty()):
            # With no platform configured the terminal is the chat; leaving it stops the bot.
            chat = asyncio.create_task(run_console(core.commands))
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait({chat, waiter}, return_when=asyncio.FIRST_COMPLETED)
            for task in (chat, waiter):
                task.cancel()
        else:
            await stop.wait()
        log.info("stopping")
    finally:
        for part in reversed(started):
            await part.stop()
        await runner.cleanup()
