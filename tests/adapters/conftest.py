"""Fixtures of the adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from bot.composition import Core
from tests.adapters.telegram_rig import Rig, push_worker
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
async def rig(core: Core) -> AsyncIterator[Rig]:
    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    await bot.initialize()
    pushes = AiohttpRequest()
    await pushes.initialize()
    worker = push_worker(core, bot, pushes)
    try:
        yield Rig(core, fake, worker)
    finally:
        await pushes.shutdown()
        await bot.shutdown()
        await fake.stop()
