"""Pushes to Telegram chats, with Telegram's answers turned into the core's outcomes."""
from __future__ import annotations

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from adapters.telegram.render import outgoing
from content.delivery import Failed, Moved, Outcome, RateLimited, Refused, Sent
from content.messages import Message
from content.views import ChatRef

# Bad requests that mean the chat is gone for the bot, not that the message was wrong.
_GONE = ("chat not found", "bot was kicked", "bot is not a member", "user is deactivated", "need administrator rights", "have no rights to send")


def _seconds(value: object) -> float:
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)  # type: ignore[union-attr]


class TelegramSender:
    platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self._rendered: tuple[Message, object] | None = None

    def _outgoing(self, message: Message):  # noqa: ANN202
        # A fan-out sends one message to many chats: render it once.
        if self._rendered is None or self._rendered[0] is not message:
            self._rendered = (message, outgoing(message))
        return self._rendered[1]

    async def send(self, chat: ChatRef, message: Message) -> Outcome:
        out = self._outgoing(message)
        first_id: str | None = None
        try:
            for i, text in enumerate(out.texts):
                last = i == len(out.texts) - 1
                sent = await self.bot.send_message(
                    int(chat.chat_id), text, parse_mode=ParseMode.HTML,
                    reply_markup=out.markup if last else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=not out.preview),
                )
                first_id = first_id or str(sent.message_id)
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
