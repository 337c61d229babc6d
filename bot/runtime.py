"""Starts what the settings and roles configure, and stops it in reverse order.

Roles let several processes share one PostgreSQL database: `api` serves HTTP,
`telegram` and `discord` take updates from those platforms, `worker` pushes
deliveries. The default runs them all in one process.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

from aiohttp import web

from adapters.console import ConsoleSender, run_console
from bot.composition import (
    Core,
    build_discord,
    build_http_app,
    build_senders,
    build_telegram,
    build_workers,
)
from content import db

log = logging.getLogger("explainer_bot")

ROLES = ("api", "telegram", "discord", "worker")


async def serve(
    core: Core, *, console: bool | None = None, stop: asyncio.Event | None = None, roles: tuple[str, ...] = ROLES
) -> None:
    settings = core.settings
    stop = stop or asyncio.Event()
    await core.prepare()
    telegram = build_telegram(core) if "telegram" in roles else None
    discord_runner = build_discord(core) if "discord" in roles else None
    runner: web.AppRunner | None = None
    started: list = []  # each has stop(); stopped in reverse order
    workers: list[asyncio.Task] = []
    try:
        if "api" in roles:
            routes = [r for r in (telegram.webhook_route() if telegram else None,) if r is not None]
            runner = web.AppRunner(build_http_app(core, routes, adapters=adapter_checks(telegram, discord_runner)), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, settings.api_host, settings.api_port).start()
            log.info("HTTP API on http://%s:%s", settings.api_host, settings.api_port)
        for part in (telegram, discord_runner):
            if part is not None:
                await part.start()
                started.append(part)
        chatting = console if console is not None else (not started and "api" in roles and sys.stdin.isatty())
        if "worker" in roles:
            senders, helpers = await build_senders(core, telegram, discord_runner)
            started.extend(helpers)
            if chatting:
                senders.append(ConsoleSender())
            workers = await start_delivery(core, senders, stop, started)
            log.info("delivering to %s", ", ".join(w.get_name().removeprefix("deliver-") for w in workers) or "no platform")

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        if chatting:
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
        stop.set()
        await asyncio.gather(*workers, return_exceptions=True)
        for part in reversed(started):
            await part.stop()
        if runner is not None:
            await runner.cleanup()


def adapter_checks(telegram, discord_runner) -> dict:  # noqa: ANN001
    """For /healthz: is each configured platform connected?"""
    checks: dict = {}
    if telegram is not None:
        app = telegram.application
        checks["telegram"] = lambda: app.running and (
            telegram.config.mode == "webhook" or bool(app.updater is not None and app.updater.running)
        )
    if discord_runner is not None:
        client = discord_runner.client
        checks["discord"] = lambda: client.is_ready() and not client.is_closed()
    return checks


async def start_delivery(core: Core, senders: list, stop: asyncio.Event, started: list) -> list[asyncio.Task]:
    """A worker per sender, running until `stop`; on PostgreSQL a listener wakes
    them when another process publishes (it joins `started`, to be stopped)."""
    built = build_workers(core, senders)
    if built and db.is_postgres_url(core.settings.database_url):
        listener = db.Listener(core.settings.database_url, lambda: [w.wake.set() for w in built])
        await listener.start()
        started.append(listener)
    return [asyncio.create_task(w.run(stop), name=f"deliver-{w.sender.platform}") for w in built]


async def console_with_pushes(core: Core) -> None:
    """The console chat, with pushes for it printed as they are delivered."""
    await core.prepare()
    stop = asyncio.Event()
    started: list = []
    tasks = await start_delivery(core, [ConsoleSender()], stop, started)
    try:
        await run_console(core.commands)
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        for part in reversed(started):
            await part.stop()
