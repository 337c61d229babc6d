"""Starts what the settings and roles (`bot.roles`) configure, and stops it in
reverse order. The default runs every role in one process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Collection

from aiohttp import web

from adapters.console import ConsoleSender, run_console
from bot.composition import Core, build_http_app, build_platforms, build_workers
from bot.roles import ALL_ROLES, Role
from content import db

log = logging.getLogger("explainer_bot")


async def serve(
    core: Core, *, console: bool | None = None, stop: asyncio.Event | None = None, roles: Collection[Role] = ALL_ROLES
) -> None:
    settings = core.settings
    stop = stop or asyncio.Event()
    await core.prepare()
    platforms = build_platforms(core, roles)
    # Those that answer their users report to /healthz; a push-only one has no users here.
    answering = [p for p in platforms if Role(p.platform) in roles]
    runner: web.AppRunner | None = None
    started: list = []  # each has stop(); stopped in reverse order
    workers: list[asyncio.Task] = []
    try:
        if Role.API in roles:
            routes = [route for p in answering if (route := getattr(p, "webhook_route", lambda: None)()) is not None]
            checks = {p.platform: p.healthy for p in answering}
            runner = web.AppRunner(build_http_app(core, routes, adapters=checks), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, settings.api_host, settings.api_port).start()
            log.info("HTTP API on http://%s:%s", settings.api_host, settings.api_port)
        for platform in platforms:
            await platform.start()
            started.append(platform)
        chatting = console if console is not None else (not answering and Role.API in roles and sys.stdin.isatty())
        if Role.WORKER in roles:
            senders = [await platform.sender() for platform in platforms]
            if chatting:
                senders.append(ConsoleSender())
            workers = await start_delivery(core, senders, stop, started)
            log.info(
                "delivering to %s", ", ".join(w.get_name().removeprefix("deliver-") for w in workers) or "no platform"
            )

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
