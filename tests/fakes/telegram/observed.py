"""What a test reads back from the fake: each request and its answer (Call), the
messages the bot sent or edited as users see them (SentMessage), and the fake's
attempts to post updates to a webhook (WebhookDelivery). Kept as plain records, apart
from the server, so assertions do not depend on how the server stores its world."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class Call:
    """One request to the fake and its answer."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float  # time.monotonic()

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass
class SentMessage:
    """A message the bot sent (or edited), as Telegram accepted it."""

    chat_id: int | None  # None for an inline message edited by inline_message_id
    message_id: int | None
    html: str  # the text as the bot sent it (HTML source when parse_mode was HTML)
    text: str  # the text after parsing, as users see it
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    link_preview_disabled: bool
    edited: bool = False
    inline_message_id: str | None = None
    # The message_thread_id it went to: a forum topic's, or a reply thread's in a chat
    # that is no forum; None for a forum's General topic and a chat without threads.
    thread_id: int | None = None
    # Sent with disable_notification: members get it without a sound.
    silent: bool = False

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class WebhookDelivery:
    update_id: int
    url: str
    status: int  # the receiver's HTTP status; 0 when it could not be reached
    at: float
    error: str | None = None
