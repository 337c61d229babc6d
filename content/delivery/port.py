"""The port the adapters implement: how a platform's sender pushes a message."""
from __future__ import annotations

from typing import Protocol

from content.chats.ref import ChatRef
from content.delivery.outcomes import Outcome
from content.messages import Message


class Sender(Protocol):
    """A platform's way of pushing one message to one chat (the port adapters implement)."""

    platform: str

    async def send(self, chat: ChatRef, message: Message) -> Outcome: ...

