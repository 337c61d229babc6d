"""The newsroom page in a real browser: the bot running against the fake
Telegram and Discord (both adapters, their delivery workers, the HTTP
server), and Playwright driving Debian's Chromium (`/usr/bin/chromium`,
installed by `.ci/run`; no browser is downloaded)."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path

import argon2
import pytest
from aiohttp import web
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from bot.composition import Core, build_discord, build_http_app, build_telegram
from bot.runtime import Delivery
from content.newsroom.accounts import Accounts, EditorRole
from tests.adapters import test_discord as discord_world
from tests.adapters import test_telegram as telegram_world
from tests.conftest import empty_core
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
EDITOR, VIEWER, PASSWORD = "ed@newsroom.test", "vi@newsroom.test", "correct horse battery"
# A cheap hash for tests; the server verifies any argon2 hash by its own parameters.
CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Newsroom:
    core: Core
    telegram: FakeTelegram
    discord: FakeDiscord
    url: str
    browser: Browser

    async def page(self, *, javascript: bool = True) -> Page:
        context: BrowserContext = await self.browser.new_context(
            java_script_enabled=javascript, viewport={"width": 1360, "height": 900}
        )
        return await context.new_page()

    async def signed_in(self, email: str = EDITOR, *, javascript: bool = True) -> Page:
        page = await self.page(javascript=javascript)
        await page.goto(f"{self.url}/newsroom/signin")
        await page.fill("input[name=email]", email)
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await page.wait_for_url(f"{self.url}/newsroom/stories")
        return page


def chromium_path() -> str:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        why = f"Chromium is not at {CHROMIUM}: `apt-get install chromium` (.ci/run does it)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(why)  # CI: a browser test may not be skipped
        pytest.skip(why)
    return CHROMIUM


@pytest.fixture
async def newsroom(database_url: str) -> AsyncIterator[Newsroom]:
    executable = chromium_path()
    telegram = FakeTelegram()
    await telegram.start()
    telegram_world.world(telegram)
    discord = FakeDiscord()
    await discord.start()
    discord_world.world(discord)
    core = await empty_core(
        database_url,
        telegram_bot_token=telegram.token,
        telegram_api_base_url=f"{telegram.url}/bot",
        discord_bot_token=discord.token,
        discord_api_base_url=f"{discord.url}/api/v10",
        discord_gateway_url=discord.ws_url,
        discord_guild_ids=(discord_world.GUILD,),
    )
    await core.prepare()
    accounts = Accounts(core.sessions, CHEAP)
    await accounts.add(EDITOR, PASSWORD, EditorRole.EDITOR)
    await accounts.add(VIEWER, PASSWORD, EditorRole.VIEWER)
    tg = build_telegram(core)
    dc = build_discord(core)
    assert tg is not None and dc is not None
    tg.config = replace(tg.config, poll_timeout=1)  # a quick shutdown
    await tg.start()
    await dc.start()
    await discord.wait_ready(timeout=20)
    delivery = Delivery(core, asyncio.Event())
    await delivery.add(await tg.sender())
    await delivery.add(await dc.sender())
    port = free_port()
    runner = web.AppRunner(build_http_app(core), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    playwright = await async_playwright().start()
    browser = await playwright.chromium.launch(
        executable_path=executable,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )
    try:
        yield Newsroom(core, telegram, discord, f"http://127.0.0.1:{port}", browser)
    finally:
        await browser.close()
        await playwright.stop()
        await runner.cleanup()
        await delivery.stop()
        await dc.stop()
        await tg.stop()
        await core.close()
        await discord.stop()
        discord.unpatch_discord_py()
        await telegram.stop()
