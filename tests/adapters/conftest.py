"""Fixtures of the adapter tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from bot.composition import Core
from content.delivery.breaker import Breaker
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.worker import DeliveryWorker
from tests.adapters.telegram_rig import Rig
from tests.fakes.telegram import FakeTelegram


@pytest.fixture
async def rig(core: Core) -> AsyncIterator[Rig]:
    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    await bot.initialize()
    pushes = AiohttpRequest()
    await pushes.initialize()
    worker = DeliveryWorker(
        DeliveryQueue(core.sessions, lease_seconds=30),
        TelegramSender(bot, pushes),
        RateLimiter(Limits(1000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        breaker=Breaker("telegram", probe_first=0.01, probe_max=0.05),
    )
    try:
        yield Rig(core, fake, worker)
    finally:
        await pushes.shutdown()
        await bot.shutdown()
        await fake.stop()
