"""A core wired to the fake Bot API server through python-telegram-bot, for
delivery tests: the queue, a worker and TelegramSender, stepped by hand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.breaker import Breaker
from content.delivery.payloads import Payloads
from content.delivery.policy import RetryPolicy
from content.delivery.queue import DeliveryQueue
from content.delivery.ratelimit import Limits, RateLimiter
from content.delivery.worker import DeliveryWorker
from content.models import Chat, Delivery
from tests.fakes.telegram import FakeTelegram


def push_worker(core: Core, bot: Bot, pushes: AiohttpRequest) -> DeliveryWorker:
    """A worker sending through TelegramSender, quick to retry and with a lax limit."""
    return DeliveryWorker(
        DeliveryQueue(core.sessions, lease_seconds=30),
        TelegramSender(bot, pushes),
        RateLimiter(Limits(1000.0)),
        Payloads(core.catalog),
        RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05),
        breaker=Breaker("telegram", probe_first=0.01, probe_max=0.05),
    )


@dataclass
class Rig:
    core: Core
    fake: FakeTelegram
    worker: DeliveryWorker

    async def follow(self, chat_id: int, tags: str, kind: str = "private") -> None:
        caller = Caller(ChatRef("telegram", str(chat_id), kind), str(chat_id), is_admin=True)
        reply = await self.core.commands.handle_text(caller, f"/subscribe {tags}")
        assert "Subscribed" in reply.messages[0].blocks[0].spans[0].text

    async def drain(self, timeout: float = 20.0) -> None:
        """Work the queue until nothing is pending or being sent."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            if not await self.worker.run_once():
                if not await self.count("pending", "sending"):
                    return
                await asyncio.sleep(0.05)
            assert asyncio.get_running_loop().time() < deadline, "the queue never drained"

    async def count(self, *statuses: str) -> int:
        async with self.core.sessions() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.status.in_(statuses))
            return (await session.execute(query)).scalar_one()

    async def rows(self) -> list:
        async with self.core.sessions() as session:
            query = select(
                Delivery.status,
                Delivery.attempts,
                Delivery.last_error,
                Chat.platform_chat_id,
                Chat.active,
                Delivery.platform_message_id,
            ).join(Chat, Chat.id == Delivery.chat_id)
            return (await session.execute(query)).all()
