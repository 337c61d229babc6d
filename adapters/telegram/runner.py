"""Starting and stopping the Telegram side of a process.

Polling: PTB's updater long-polls getUpdates. Webhook: Telegram posts updates
to the project's own aiohttp server (see `webhook_route`), which checks the
secret header and hands them to the Application's queue; PTB's own webhook
server is not used, so one port serves the API and Telegram.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from json import JSONDecodeError
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update
from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from adapters.telegram.app import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    TelegramConfig,
    build_application,
)
from adapters.telegram.bridge import TelegramBridge
from adapters.telegram.request import INVALID_ANSWER, AiohttpRequest
from adapters.telegram.sender import TelegramSender
from content.commands.registry import COMMANDS
from content.errors import ConfigurationError

log = logging.getLogger(__name__)


class TelegramRunner:
    """The Telegram side of a process: answering updates (`receive`: polling or
    webhook) and the sender its delivery worker pushes with. A worker-only
    process starts it without receiving: only the bot (getMe, so that a wrong
    token stops it at once) and the pushes' connection pool."""

    platform = "telegram"

    def __init__(
        self,
        config: TelegramConfig,
        application: Application,
        *,
        receive: bool = True,
        answers: AiohttpRequest | None = None,
    ) -> None:
        self.config = config
        self.application = application
        self.receive = receive
        # The Bot's transport: closed here too, since the Bot leaves it open when its start failed.
        self._answers = answers
        self._pushes: AiohttpRequest | None = None
        self._commands_set = False
        self._bot_ready = False

    async def start(self) -> None:
        """Connects; each step is skipped when done already, so that a start the
        platform's outage broke off is tried again from where it stopped.
        A token Telegram refuses is a ConfigurationError; any other failure
        says only that Telegram did not answer (the caller tries again)."""
        app = self.application
        try:
            await app.initialize()  # getMe
            self._bot_ready = True
            if not self.receive:
                return
            if not self._commands_set:
                await app.bot.set_my_commands([BotCommand(c.name, c.description) for c in COMMANDS])
                self._commands_set = True
            if not app.running:
                await app.start()
            if self.config.mode == "webhook":
                await app.bot.set_webhook(
                    self.config.webhook_url, secret_token=self.config.webhook_secret, allowed_updates=ALLOWED_UPDATES
                )
                log.info("Telegram: webhook mode at %s as @%s", self.config.webhook_url, app.bot.username)
            else:
                assert app.updater is not None
                if not app.updater.running:
                    await app.bot.delete_webhook()
                    await app.updater.start_polling(
                        timeout=timedelta(seconds=self.config.poll_timeout),
                        allowed_updates=ALLOWED_UPDATES,
                        error_callback=self._polling_failed,
                    )
                log.info("Telegram: polling as @%s", app.bot.username)
        except InvalidToken:
            # Not the error's words: they quote the token.
            raise ConfigurationError("TELEGRAM_BOT_TOKEN", "Telegram refused the token (401 Unauthorized)") from None

    def _polling_failed(self, error: TelegramError) -> None:
        """The long poll failed; python-telegram-bot tries again with backoff.
        A network error is the platform's outage, whose one line the delivery
        breaker writes; anything else is a real error."""
        if isinstance(error, NetworkError) or error.message == INVALID_ANSWER:
            log.debug("Telegram: polling failed: %s", error)
        else:
            log.error("Telegram: polling failed: %s", error)

    async def stop(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if self._answers is not None:
            await self._answers.shutdown()
        if self._pushes is not None:
            await self._pushes.shutdown()
            self._pushes = None

    def healthy(self) -> bool:
        """Whether updates reach the bot now (for /healthz)."""
        app = self.application
        if not self.receive:
            return self._bot_ready
        return app.running and (self.config.mode == "webhook" or bool(app.updater is not None and app.updater.running))

    async def sender(self) -> TelegramSender:
        """The sender for pushes. They get a connection pool of their own, so
        that a fan-out never keeps the answers to readers' commands waiting."""
        if self._pushes is None:
            self._pushes = AiohttpRequest()
            await self._pushes.initialize()
        return TelegramSender(self.application.bot, self._pushes)

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


def build_runner(config: TelegramConfig, bridge: TelegramBridge, *, receive: bool = True) -> TelegramRunner:
    answers = AiohttpRequest()
    return TelegramRunner(config, build_application(config, bridge, answers), receive=receive, answers=answers)
