"""A fake Telegram Bot API server for end-to-end tests.

It speaks the Bot API's wire protocol on 127.0.0.1, so python-telegram-bot
runs against it unmodified:

    fake = FakeTelegram()
    await fake.start()
    app = ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot").build()
    fake.add_chat(42, "private")
    fake.send_text(42, 42, "/latest")
    sent = await fake.wait_for(lambda call: call.method == "sendMessage")

It enforces the rules Telegram enforces (HTML entities, message length,
button data, chat rights, rate limits...) and answers a broken request the
way Telegram does, so a bot that sends a wrong message fails its test
instead of failing in production. The error wordings are Telegram's where
they are known. Where Telegram would quietly accept a sloppy message the fake
is deliberately stricter (a bare `&`, an `<a>` without `href`).

The package, one module per part of the fake:
constants (Telegram's limits and names), errors (the ok=false answers),
observed (what a test reads back: calls, sent messages, webhook deliveries),
html (UTF-16 lengths and Telegram's HTML), keyboards (reply markup checks),
limits (flood limits), state (chats, forum topics and members), plumbing (reading a
request's parameters), server (FakeTelegram: lifecycle, world setup, user
actions, observation, request bookkeeping) and methods/ (the Bot API methods,
one mixin of FakeTelegram per group). Everything a test imports is
re-exported here.
"""

from .constants import (
    CHAT_TYPES,
    DEFAULT_UPDATE_EXCLUDED,
    GENERAL_TOPIC,
    MAX_CALLBACK_ANSWER,
    MAX_CALLBACK_DATA,
    MAX_COMMANDS,
    MAX_INLINE_RESULTS,
    MAX_TEXT,
    MAX_TOPIC_NAME,
    MEMBER_STATUSES,
    QUERY_TOO_OLD,
    SECRET_HEADER,
    SUPERSEDED_GRACE,
    THREAD_NOT_FOUND,
    TOPIC_CLOSED,
)
from .errors import ApiError, bad_request, forbidden
from .html import HtmlParser, link_url, parse_text, utf16_len
from .keyboards import callback_data_of, check_reply_markup
from .limits import RateLimits
from .observed import Call, SentMessage, WebhookDelivery
from .plumbing import read_params
from .server import FakeTelegram
from .state import FakeChat, FakeTopic

__all__ = [
    "CHAT_TYPES",
    "DEFAULT_UPDATE_EXCLUDED",
    "GENERAL_TOPIC",
    "MAX_CALLBACK_ANSWER",
    "MAX_CALLBACK_DATA",
    "MAX_COMMANDS",
    "MAX_INLINE_RESULTS",
    "MAX_TEXT",
    "MAX_TOPIC_NAME",
    "MEMBER_STATUSES",
    "QUERY_TOO_OLD",
    "SECRET_HEADER",
    "SUPERSEDED_GRACE",
    "THREAD_NOT_FOUND",
    "TOPIC_CLOSED",
    "ApiError",
    "Call",
    "FakeChat",
    "FakeTelegram",
    "FakeTopic",
    "HtmlParser",
    "RateLimits",
    "SentMessage",
    "WebhookDelivery",
    "bad_request",
    "callback_data_of",
    "check_reply_markup",
    "forbidden",
    "link_url",
    "parse_text",
    "read_params",
    "utf16_len",
]
