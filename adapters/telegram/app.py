"""The python-telegram-bot Application: its configuration and its handlers.
It is started by hand beside the aiohttp server (`adapters.telegram.runner`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from adapters.telegram.bridge import TelegramBridge
from adapters.telegram.request import AiohttpRequest, QuietHTTPXRequest

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "channel_post", "callback_query", "inline_query", "my_chat_member"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    base_url: str
    mode: str = "polling"  # polling | webhook
    webhook_url: str | None = None
    webhook_secret: str | None = None
    poll_timeout: float = 10.0


def build_application(config: TelegramConfig, bridge: TelegramBridge, answers: AiohttpRequest) -> Application:
    # Answers and pushes go over aiohttp (see request.py); the one long poll stays on httpx.
    builder = (
        ApplicationBuilder()
        .token(config.token)
        .base_url(config.base_url)
        .concurrent_updates(64)
        .request(answers)
        .get_updates_request(QuietHTTPXRequest(connection_pool_size=1))
    )
    if config.mode == "webhook":
        builder = builder.updater(None)
    application = builder.build()
    commands = filters.COMMAND & (filters.UpdateType.MESSAGE | filters.UpdateType.CHANNEL_POST)
    application.add_handler(MessageHandler(commands, bridge.on_command))
    private_words = filters.TEXT & ~filters.COMMAND & filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    application.add_handler(MessageHandler(private_words, bridge.on_text))
    application.add_handler(CallbackQueryHandler(bridge.on_button))
    application.add_handler(InlineQueryHandler(bridge.on_inline))
    application.add_handler(ChatMemberHandler(bridge.on_membership, ChatMemberHandler.MY_CHAT_MEMBER))
    application.add_error_handler(_log_error)
    return application


async def _log_error(update: object, context) -> None:
    log.error("error while handling a Telegram update", exc_info=context.error)
