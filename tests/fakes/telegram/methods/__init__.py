"""The Bot API methods FakeTelegram answers, one mixin per group: the bot and its
updates (getMe, getUpdates, webhooks and their delivery), commands, messages,
callback and inline queries, chats and members. Each handler takes the decoded
parameters and returns the result or raises the ApiError Telegram would answer; the
server's method table maps the method names to them. A new method goes into the
mixin of its group, or a new mixin here."""

from .chats import ChatMethodsMixin
from .commands import CommandMethodsMixin
from .messages import MessageMethodsMixin
from .queries import QueryMethodsMixin
from .updates import UpdateMethodsMixin

__all__ = [
    "ChatMethodsMixin",
    "CommandMethodsMixin",
    "MessageMethodsMixin",
    "QueryMethodsMixin",
    "UpdateMethodsMixin",
]
