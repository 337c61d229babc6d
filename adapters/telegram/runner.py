"""Starting and stopping the Telegram side of a process.

Polling: PTB's updater long-polls getUpdates. Webhook: Telegram posts updates
to the project's own aiohttp server (see `webhook_route`), which checks the
secret header and hands them to the Application's queue; PTB's own webhook
server is not used, so one port serves the API and Telegram.
"""
from __future__ import annotations

import hmac
import logging
from json import JSONDecodeError
from urllib.parse import urlsplit

from aiohttp import web
from telegram import BotCommand, Update
from telegram.ext import Application

from adapters.telegram.app import ALLOWED_UPDATES, SECRET_HEADER, TelegramConfig
from content.commands.registry import COMMANDS

log = logging.getLogger(__name__)


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
