"""Pushes to Telegram chats, with Telegram's answers turned into the core's outcomes."""
from __future__ import annotations

import json
from urllib.parse import urlencode

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from adapters.telegram.render import outgoing
from adapters.telegram.request import AiohttpRequest, EncodedForm
from content.chats.ref import ChatRef
from content.delivery.outcomes import Failed, Moved, Outcome, RateLimited, Refused, Sent
from content.messages import Message

# Bad requests that mean the chat is gone for the bot, not that the message was wrong.
_GONE = ("chat not found", "bot was kicked", "bot is not a member", "user is deactivated", "need administrator rights", "have no rights to send")


def _seconds(value: object) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)  # type: ignore[union-attr]


class TelegramSender:
    """Sends pushes with python-telegram-bot's transport and its mapping of
    Telegram's answers (`BaseRequest.post` raises RetryAfter, ChatMigrated,
    Forbidden, ... as the Bot's methods do), but not through
    `Bot.send_message`: that encodes the request anew for every chat and
    builds a telegram.Message from every answer, which cost more CPU than the
    send itself. Here a fan-out's message is encoded once, only chat_id
    changes, and of the answer only message_id is read."""

    platform = "telegram"

    def __init__(self, bot: Bot, request: AiohttpRequest) -> None:
        self._url = f"{bot.base_url}/sendMessage"
        self._request = request
        self._encoded: tuple[Message, list[bytes]] | None = None

    def _parts(self, message: Message) -> list[bytes]:
        """The form body of each part of the message, but its chat_id."""
        if self._encoded is None or self._encoded[0] is not message:
            out = outgoing(message)
            preview = json.dumps(LinkPreviewOptions(is_disabled=not out.preview).to_dict())
            parts = []
            for i, text in enumerate(out.texts):
                # Values as the Bot sends them: strings as they are, objects as JSON.
                fields = {"text": text, "parse_mode": ParseMode.HTML.value, "link_preview_options": preview}
                if i == len(out.texts) - 1 and out.markup is not None:
                    fields["reply_markup"] = json.dumps(out.markup.to_dict())
                parts.append(urlencode(fields).encode())
            self._encoded = (message, parts)
        return self._encoded[1]

    async def send(self, chat: ChatRef, message: Message) -> Outcome:
        to = b"chat_id=%d&" % int(chat.chat_id)
        first_id: str | None = None
        try:
            for part in self._parts(message):
                # An EncodedForm where python-telegram-bot types a RequestData: AiohttpRequest takes both.
                sent = await self._request.post(self._url, EncodedForm(to + part))  # type: ignore[arg-type]
                first_id = first_id or str(sent["message_id"])  # type: ignore[index, call-overload]
        except RetryAfter as exc:
            return RateLimited(_seconds(exc.retry_after))
        except ChatMigrated as exc:
            return Moved(str(exc.new_chat_id))
        except Forbidden as exc:
            return Refused(f"Telegram: {exc.message}")
        except BadRequest as exc:
            if any(marker in exc.message.lower() for marker in _GONE):
                return Refused(f"Telegram: {exc.message}")
            return Failed(f"Telegram refused the message: {exc.message}", transient=False)
        except (TimedOut, NetworkError) as exc:
            return Failed(f"Telegram unreachable: {exc}")
        except TelegramError as exc:
            return Failed(f"Telegram: {exc}")
        return Sent(first_id)
