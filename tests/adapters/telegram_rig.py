"""A core wired to the fake Bot API server through python-telegram-bot, for
delivery tests: the queue, a worker and TelegramSender, stepped by hand."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.worker import DeliveryWorker
from content.models import Chat, Delivery
from tests.fakes.telegram import FakeTelegram


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
