"""Starts what the settings and roles (`bot.roles`) configure, and stops it in
reverse order. The default runs every role in one process.

Nothing waits for a platform: the HTTP API, the console and the delivery
workers start at once, and each platform joins when it answers (one that is
down is tried again with backoff). A platform refusing its token is a
configuration error: everything stops and `serve` raises it, so that the
process exits non-zero and a supervisor that restarts on failure sees it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Collection

from aiohttp import web

from adapters.console import ConsoleSender, run_console
from bot.composition import Core, Platform, build_feed_poller, build_http_app, build_platforms, build_workers
from bot.roles import ALL_ROLES, Role
from content import db
from content.delivery.health import PlatformHealth, platform_health
from content.delivery.port import Sender
from content.delivery.worker import DeliveryWorker
from content.errors import ConfigurationError

log = logging.getLogger("explainer_bot")

# A platform that does not answer at start is tried again this often: 1 s, doubling, at most a minute.
START_RETRY_FIRST, START_RETRY_MAX = 1.0, 60.0


class Delivery:
    """The process's delivery workers, started as their platforms come up, and
    the PostgreSQL listener that wakes them all when another process publishes."""

    def __init__(self, core: Core, stop: asyncio.Event) -> None:
        self._core = core
        self._stop = stop
        self.workers: dict[str, DeliveryWorker] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: db.Listener | None = None

    async def add(self, sender: Sender) -> None:
        (worker,) = build_workers(self._core, [sender])
        self.workers[sender.platform] = worker
        self._core.metrics.watch_platform(sender.platform, worker.breaker)
        if self._listener is None and db.is_postgres_url(self._core.settings.database_url):
            self._listener = db.Listener(self._core.settings.database_url, self._wake_all)
            await self._listener.start()
        self._tasks.append(asyncio.create_task(worker.run(self._stop), name=f"deliver-{sender.platform}"))

    def _wake_all(self) -> None:
        for worker in self.workers.values():
            worker.wake.set()

    def health(self, platform: Platform) -> PlatformHealth:
        worker = self.workers.get(platform.platform)
        return platform_health(platform.healthy(), worker.breaker.view() if worker is not None else None)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._listener is not None:
            await self._listener.stop()


async def serve(
    core: Core, *, console: bool | None = None, stop: asyncio.Event | None = None, roles: Collection[Role] = ALL_ROLES
) -> None:
    settings = core.settings
    stop = stop or asyncio.Event()
    await core.prepare()
    platforms = build_platforms(core, roles)
    # Those that answer their users report to /healthz; a push-only one has no users here.
    answering = [p for p in platforms if Role(p.platform) in roles]
    delivery = Delivery(core, asyncio.Event())
    runner: web.AppRunner | None = None
    fatal: list[ConfigurationError] = []
    joining: list[asyncio.Task[None]] = []
    try:
        if Role.API in roles:
            routes = [route for p in answering if (route := getattr(p, "webhook_route", lambda: None)()) is not None]
            checks = {p.platform: (lambda p=p: delivery.health(p)) for p in answering}
            runner = web.AppRunner(build_http_app(core, routes, adapters=checks), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, settings.api_host, settings.api_port).start()
            log.info("HTTP API on http://%s:%s", settings.api_host, settings.api_port)

        async def join(platform: Platform) -> None:
            if not await _start_until_up(platform, stop, fatal):
                return
            if Role.WORKER in roles:
                await delivery.add(await platform.sender())
                log.info("delivering to %s", platform.platform)

        joining = [asyncio.create_task(join(p), name=f"start-{p.platform}") for p in platforms]
        if Role.WORKER in roles:
            # Feeds are polled where pushes are worked on; claims keep two processes off one feed.
            joining.append(asyncio.create_task(build_feed_poller(core).run(stop), name="feeds"))
        chatting = console if console is not None else (not answering and Role.API in roles and sys.stdin.isatty())
        if Role.WORKER in roles and chatting:
            await delivery.add(ConsoleSender())

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
        for task in joining:
            task.cancel()
        await asyncio.gather(*joining, return_exceptions=True)
        await delivery.stop()
        for part in reversed(platforms):  # those that never came up too: they hold connections
            try:
                await part.stop()
            except Exception:
                log.exception("could not stop %s cleanly", part.platform)
        if runner is not None:
            await runner.cleanup()
    if fatal:
        raise fatal[0]


async def _start_until_up(platform: Platform, stop: asyncio.Event, fatal: list[ConfigurationError]) -> bool:
    """Starts the platform, trying again with backoff while it does not answer;
    False when stopped first, or when its settings are wrong (which stops everything)."""
    delay = START_RETRY_FIRST
    warned = False
    while not stop.is_set():
        try:
            await platform.start()
        except ConfigurationError as error:
            fatal.append(error)
            stop.set()
            return False
        except Exception as exc:
            if not warned:
                log.warning(
                    "%s is not answering (%s: %s); trying again until it does",
                    platform.platform,
                    type(exc).__name__,
                    exc,
                )
                warned = True
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
            delay = min(START_RETRY_MAX, delay * 2)
            continue
        if warned:
            log.info("%s answers now", platform.platform)
        return True
    return False


async def console_with_pushes(core: Core) -> None:
    """The console chat, with pushes for it printed as they are delivered,
    and the newsroom's feeds polled, so their new items reach it too."""
    await core.prepare()
    delivery = Delivery(core, asyncio.Event())
    await delivery.add(ConsoleSender())
    stop = asyncio.Event()
    feeds = asyncio.create_task(build_feed_poller(core).run(stop), name="feeds")
    try:
        await run_console(core.commands)
    finally:
        stop.set()
        await asyncio.gather(feeds, return_exceptions=True)
        await delivery.stop()
