"""The python-telegram-bot Application, started by hand beside the aiohttp server.

Polling: PTB's updater long-polls getUpdates. Webhook: Telegram posts updates
to the project's own aiohttp server (see `webhook_route`), which checks the
secret header and hands them to the Application's queue; PTB's own webhook
server is not used, so one port serves the API and Telegram.
"""
from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from json import JSONDecodeError
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update
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
from adapters.telegram.request import AiohttpRequest
from content.commands.registry import COMMANDS

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


def build_application(config: TelegramConfig, bridge: TelegramBridge) -> Application:
    # Answers and pushes go over aiohttp (see request.py); the one long poll stays on httpx.
    builder = (ApplicationBuilder().token(config.token).base_url(config.base_url).concurrent_updates(64)
               .request(AiohttpRequest()))
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


async def _log_error(update: object, context) -> None:  # noqa: ANN001
    log.error("error while handling a Telegram update", exc_info=context.error)


class TelegramRunner:
    def __init__(self, config: TelegramConfig, application: Application) -> None:
        self.config = config
        self.application = application

    async def start(self) -> None:
        app = self.application
        await app.initialize()
        await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in COMMANDS])
        await app.start()
        if self.config.mode == "webhook":
            await app.bot.set_webhook(
                self.config.webhook_url, secret_token=self.config.webhook_secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("Telegram: webhook mode at %s as @%s", self.config.webhook_url, app.bot.username)
        else:
            await app.bot.delete_webhook()
            assert app.updater is not None
            await app.updater.start_polling(timeout=self.config.poll_timeout, allowed_updates=ALLOWED_UPDATES)
            log.info("Telegram: polling as @%s", app.bot.username)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()

    def webhook_route(self) -> web.RouteDef | None:
        """The aiohttp route that receives Telegram's posts, in webhook mode."""
        if self.config.mode != "webhook" or not self.config.webhook_url:
            return None
        path = urlsplit(self.config.webhook_url).path or "/"
        expected = (self.config.webhook_secret or "").encode()

        async def receive(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "").encode()
            if not expected or not hmac.compare_digest(given, expected):
                return web.json_response({"error": "wrong or missing secret token"}, status=403)
            try:
                data = await request.json()
            except (JSONDecodeError, UnicodeDecodeError):
                return web.json_response({"error": "body is not JSON"}, status=400)
            update = Update.de_json(data, self.application.bot)
            if update is not None:
                await self.application.update_queue.put(update)
            return web.json_response({"ok": True})

        return web.post(path, receive)
