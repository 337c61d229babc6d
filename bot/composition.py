"""The composition root: the only place that builds concrete things from settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.http.metrics import Metrics
from bot.roles import Role
from bot.settings import Settings
from content import db
from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.chats.settings import ChatSettings
from content.commands.dispatcher import Commands
from content.commands.flood import FloodGuard
from content.commands.spec import Newsroom
from content.publishing import digests
from content.publishing.publisher import Publisher
from content.stories.catalog import Catalog
from content.stories.feeds import Feeds
from content.stories.importer import StoryImporter
from content.stories.search import Search
from content.stories.writer import SAMPLE_LIBRARY, StoryWriter, has_stories

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping

    from aiohttp import web

    from adapters.discord.client import DiscordConfig
    from adapters.discord.runner import DiscordRunner
    from adapters.feeds.poller import FeedPoller
    from adapters.http.web.newsroom import NewsroomPages
    from adapters.telegram.runner import TelegramRunner
    from content.delivery.health import PlatformHealth
    from content.delivery.port import Sender
    from content.delivery.reports import Reports


class Platform(Protocol):
    """What the runtime needs of a platform's adapter, whichever it is."""

    platform: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    def healthy(self) -> bool: ...
    async def sender(self) -> Sender: ...


@dataclass
class Core:
    settings: Settings
    engine: AsyncEngine
    sessions: db.SessionFactory
    catalog: Catalog
    commands: Commands
    chats: Chats
    follows: Follows
    writer: StoryWriter
    importer: StoryImporter
    publisher: Publisher
    metrics: Metrics  # Prometheus metrics: served on /metrics, updated by commands and workers
    feeds: Feeds

    async def prepare(self, *, seed: bool | None = None) -> None:
        """Migrate; on an empty database, load the sample library (unless told not to)."""
        await db.migrate(self.engine)
        if (self.settings.seed_samples if seed is None else seed) and not await has_stories(self.sessions):
            report = await self.importer.import_paths([SAMPLE_LIBRARY])
            if report.errors:
                raise RuntimeError(f"the bundled library is broken: {report.errors[0]}")

    async def close(self) -> None:
        await self.engine.dispose()


def build_core(settings: Settings) -> Core:
    engine = db.create_engine(settings.database_url)
    sessions = db.session_factory(engine)
    catalog = Catalog(sessions, settings.site_url)
    writer = StoryWriter(sessions)
    chats = Chats(sessions)
    follows = Follows(sessions)
    flood = FloodGuard(settings.command_rate_limit, settings.command_rate_window)
    metrics = Metrics()
    newsroom = Newsroom(settings.newsroom_name, settings.newsroom_about, settings.site_url)
    settings_of_chats = ChatSettings(sessions, digests.rescheduled_in)
    commands = Commands(
        catalog,
        Search(sessions),
        chats,
        follows,
        settings_of_chats,
        flood=flood,
        on_command=metrics.count_command,
        newsroom=newsroom,
    )
    publisher = Publisher(sessions, writer, settings.delivery_correction_push_hours)
    feeds = Feeds(sessions, publisher, settings.feed_poll_seconds)
    return Core(
        settings,
        engine,
        sessions,
        catalog,
        commands,
        chats,
        follows,
        writer,
        StoryImporter(writer),
        publisher,
        metrics,
        feeds,
    )


def build_feed_poller(core: Core) -> FeedPoller:
    """The poller of the newsroom's feeds, with the fetcher the settings describe."""
    from adapters.feeds.fetch import FeedFetcher
    from adapters.feeds.poller import FeedPoller

    fetcher = FeedFetcher(max_bytes=core.settings.feed_max_bytes, allow_private=core.settings.feed_allow_private)
    return FeedPoller(core.feeds, fetcher, core.settings.feed_poll_seconds)


def build_http_app(
    core: Core,
    routes: list[web.RouteDef] | None = None,
    adapters: Mapping[str, Callable[[], PlatformHealth]] | None = None,
) -> web.Application:
    """The HTTP server: health, metrics, the publishing API (bearer API_TOKEN) and the adapters' routes."""
    from adapters.http.api import PublishingApi
    from adapters.http.app import build_app
    from content.delivery.reports import Reports

    token = core.settings.api_token.get_secret_value() if core.settings.api_token is not None else None
    from adapters.http.feeds_api import FeedsApi

    api = PublishingApi(core.publisher, Reports(core.sessions, core.catalog), token)
    feeds = FeedsApi(build_feed_poller(core), api._authorize)
    app = build_app(
        lambda: db.ping(core.engine),
        [*(routes or []), *feeds.routes()],
        api=api,
        metrics=core.metrics,
        adapters=adapters,
    )

    app.add_subapp("/newsroom", build_newsroom(core, api.reports, feeds.poller).app())

    async def close_fetcher(_app: web.Application) -> None:
        await feeds.poller.fetcher.close()  # its HTTP session lives as long as the app

    app.on_cleanup.append(close_fetcher)
    return app


def build_newsroom(core: Core, reports: Reports, feeds: FeedPoller | None) -> NewsroomPages:
    """The newsroom's pages, on the same core as the API."""
    from adapters.http.web.newsroom import NewsroomPages
    from content.newsroom.accounts import Accounts
    from content.newsroom.board import Board
    from content.newsroom.sessions import SignIns
    from content.newsroom.throttle import SignInThrottle

    settings = core.settings
    return NewsroomPages(
        Board(core.sessions, core.catalog, Search(core.sessions), settings.site_url),
        core.publisher,
        reports,
        Accounts(core.sessions),
        SignIns(core.sessions, settings.newsroom_session_hours),
        SignInThrottle(),
        feeds,
        settings.newsroom_name,
    )


def build_telegram(core: Core, *, receive: bool = True) -> TelegramRunner | None:
    """The Telegram adapter, when a token is configured (`receive`: it answers updates)."""
    settings = core.settings
    if settings.telegram_bot_token is None:
        return None
    from adapters.telegram.app import TelegramConfig
    from adapters.telegram.bridge import TelegramBridge
    from adapters.telegram.runner import build_runner

    config = TelegramConfig(
        token=settings.telegram_bot_token.get_secret_value(),
        base_url=settings.telegram_api_base_url,
        mode=settings.telegram_mode,
        webhook_url=settings.telegram_webhook_url,
        webhook_secret=settings.telegram_webhook_secret.get_secret_value()
        if settings.telegram_webhook_secret
        else None,
    )
    return build_runner(config, TelegramBridge(core.commands, core.chats), receive=receive)


def discord_config(settings: Settings) -> DiscordConfig:
    from adapters.discord.client import DiscordConfig

    assert settings.discord_bot_token is not None
    return DiscordConfig(
        token=settings.discord_bot_token.get_secret_value(),
        api_base_url=settings.discord_api_base_url,
        gateway_url=settings.discord_gateway_url,
        guild_ids=settings.discord_guild_ids,
        shard_count=settings.discord_shard_count,
        shard_ids=settings.discord_shard_ids,
    )


def build_discord(core: Core, *, gateway: bool = True) -> DiscordRunner | None:
    """The Discord adapter, when a token is configured (`gateway`: it answers interactions)."""
    if core.settings.discord_bot_token is None:
        return None
    from adapters.discord.bridge import DiscordBridge
    from adapters.discord.runner import build_runner

    return build_runner(discord_config(core.settings), DiscordBridge(core.commands), gateway=gateway)


def build_platforms(core: Core, roles: Collection[Role]) -> list[Platform]:
    """A runner per configured platform that these roles need: one that answers
    its users (its own role), or one that only pushes (a worker-only process)."""
    platforms: list[Platform | None] = []
    if Role.TELEGRAM in roles or Role.WORKER in roles:
        platforms.append(build_telegram(core, receive=Role.TELEGRAM in roles))
    if Role.DISCORD in roles or Role.WORKER in roles:
        platforms.append(build_discord(core, gateway=Role.DISCORD in roles))
    return [platform for platform in platforms if platform is not None]


def build_workers(core: Core, senders: list) -> list:
    """One delivery worker per platform sender, each within that platform's limits."""
    from content.delivery.breaker import Breaker
    from content.delivery.membership import Membership
    from content.delivery.payloads import Payloads
    from content.delivery.policy import RetryPolicy
    from content.delivery.queue import DeliveryQueue
    from content.delivery.ratelimit import Limits, RateLimiter
    from content.delivery.worker import DeliveryWorker

    settings = core.settings
    # The overall rates: the live workers of a platform divide them (content.delivery.membership).
    limits = {
        "telegram": Limits(
            settings.telegram_rate_limit, settings.telegram_chat_interval, settings.telegram_group_per_minute
        ),
        "discord": Limits(settings.discord_rate_limit, settings.discord_channel_interval),
        "console": Limits(100.0),
    }
    lease = settings.delivery_lease_seconds
    probe_max = settings.delivery_outage_probe_max
    payloads = Payloads(core.catalog)
    policy = RetryPolicy(max_attempts=settings.delivery_max_attempts)
    workers = [
        DeliveryWorker(
            DeliveryQueue(core.sessions, lease),
            sender,
            RateLimiter(limits[sender.platform]),
            payloads,
            policy,
            poll_interval=settings.delivery_poll_seconds,
            on_outcome=lambda platform, item, outcome: core.metrics.delivery_outcome(
                platform, outcome, item.created_at, item.kind
            ),
            breaker=Breaker(sender.platform, probe_first=min(1.0, probe_max), probe_max=probe_max),
            membership=Membership(core.sessions, sender.platform, lease),
        )
        for sender in senders
    ]

    def wake_all() -> None:
        for worker in workers:
            worker.wake.set()

    core.publisher.on_queued(wake_all)
    return workers
