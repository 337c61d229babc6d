"""Pushes to Telegram chats (sent, edited in place, deleted), with Telegram's
answers turned into the core's outcomes."""

from __future__ import annotations

import json
from datetime import timedelta
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
)

from adapters.telegram.render import outgoing
from adapters.telegram.request import INVALID_ANSWER, AiohttpRequest, EncodedForm
from content.delivery.outcomes import Failed, Moved, Outcome, RateLimited, Refused, Sent, Unavailable, Vanished
from content.delivery.port import Target, change_parts
from content.messages import Message

# Bad requests that mean the chat is gone for the bot, not that the message was wrong.
_GONE = (
    "chat not found",
    "bot was kicked",
    "bot is not a member",
    "user is deactivated",
    "need administrator rights",
    "have no rights to send",
)
# A forum topic deleted or closed: that topic is gone for the bot, not its chat
# (python-telegram-bot shows TOPIC_CLOSED as "Topic_closed").
_TOPIC_GONE = {
    "message thread not found": "the topic is gone",
    "topic_deleted": "the topic is gone",
    "topic_closed": "the topic was closed",
}
# An edit that changes nothing: the message already shows what it should.
_NOT_MODIFIED = "message is not modified"
# A delete of a message that is already gone has nothing left to do.
_ALREADY_GONE = "message to delete not found"
# An edit of a message the reader deleted, or that can no longer be edited: nothing to change.
_VANISHED = ("message to edit not found", "message can't be edited")
# A delete Telegram refuses for a message's age (bots may delete their own for 48 hours).
_TOO_OLD = "can't be deleted"
# What a part no longer needed shows when Telegram will not delete it (older than 48 hours).
EMPTIED = "—"


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def outcome_of(exc: TelegramError) -> Outcome:
    """What a Telegram error says about the job: the pace, the chat, the message, or the network."""
    if isinstance(exc, RetryAfter):
        return RateLimited(_seconds(exc.retry_after))
    if isinstance(exc, ChatMigrated):
        return Moved(str(exc.new_chat_id))
    if isinstance(exc, Forbidden):
        return Refused(f"Telegram: {exc.message}")
    if isinstance(exc, BadRequest):
        said = next((what for marker, what in _TOPIC_GONE.items() if marker in exc.message.lower()), None)
        if said is not None:
            return Refused(f"Telegram: {said} ({exc.message}); it no longer gets pushes", thread_only=True)
        if any(marker in exc.message.lower() for marker in _GONE):
            return Refused(f"Telegram: {exc.message}")
        if any(marker in exc.message.lower() for marker in _VANISHED):
            return Vanished(f"Telegram: {exc.message}")
        return Failed(f"Telegram refused the message: {exc.message}", transient=False)
    if isinstance(exc, NetworkError):  # 5xx, timeouts, refused and reset connections
        # Without the page python-telegram-bot quotes when the answer was not JSON (nginx's HTML).
        return Unavailable(f"Telegram unreachable: {exc.message.split('. Parsing the server response')[0]}")
    if exc.message == INVALID_ANSWER:  # an answer that is not the Bot API's JSON: its front end without it
        return Unavailable(f"Telegram answered no API response: {exc}")
    return Failed(f"Telegram: {exc}")


class TelegramSender:
    """Sends pushes with python-telegram-bot's transport and its mapping of
    Telegram's answers (`BaseRequest.post` raises RetryAfter, ChatMigrated,
    Forbidden, ... as the Bot's methods do), but not through
    `Bot.send_message`: that encodes the request anew for every chat and
    builds a telegram.Message from every answer, which cost more CPU than the
    send itself. Here a fan-out's message is encoded once, only the chat
    changes, and of the answer only message_id is read."""

    platform = "telegram"

    def __init__(self, bot: Bot, request: AiohttpRequest) -> None:
        self._base = bot.base_url
        self._request = request
        self._encoded: tuple[Message, list[bytes]] | None = None

    def _parts(self, message: Message) -> list[bytes]:
        """The form body of each part of the message, but where it goes."""
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

    async def _call(self, method: str, body: bytes) -> object:
        # An EncodedForm where python-telegram-bot types a RequestData: AiohttpRequest takes both.
        return await self._request.post(f"{self._base}/{method}", EncodedForm(body))  # type: ignore[arg-type]

    @staticmethod
    def _to(target: Target) -> bytes:
        to = b"chat_id=%d&" % int(target.chat.chat_id)
        if target.chat.thread_id is not None:
            to += b"message_thread_id=%d&" % int(target.chat.thread_id)
        if target.silent:  # the chat's quiet hours: delivered without a sound
            to += b"disable_notification=true&"
        return to

    @staticmethod
    def _message(target: Target, message_id: str) -> bytes:
        return b"chat_id=%d&message_id=%d&" % (int(target.chat.chat_id), int(message_id))

    async def _post(self, target: Target, part: bytes) -> str:
        sent = await self._call("sendMessage", self._to(target) + part)
        return str(sent["message_id"])  # type: ignore[index]

    async def send(self, target: Target, message: Message) -> Outcome:
        ids: list[str] = []
        try:
            for part in self._parts(message):
                ids.append(await self._post(target, part))
        except TelegramError as exc:
            return outcome_of(exc)
        return Sent(tuple(ids))

    async def edit(self, target: Target, message: Message) -> Outcome:
        parts = self._parts(message)
        change = change_parts(target.message_ids, len(parts))
        shown: list[str] = []
        try:
            for message_id, index in change.edit:
                await self._edit_part(target, message_id, parts[index])
                shown.append(message_id)
            for index in change.send:
                shown.append(await self._post(target, parts[index]))
            for message_id in change.drop:
                await self._remove_part(target, message_id)
        except TelegramError as exc:
            return outcome_of(exc)
        return Sent(tuple(shown))

    async def _edit_part(self, target: Target, message_id: str, part: bytes) -> None:
        try:
            await self._call("editMessageText", self._message(target, message_id) + part)
        except BadRequest as exc:
            if _NOT_MODIFIED not in exc.message.lower():
                raise

    async def _remove_part(self, target: Target, message_id: str) -> None:
        """A part the new version no longer needs: deleted, or emptied where Telegram keeps it."""
        try:
            await self._delete_one(target, message_id)
        except BadRequest as exc:
            if _TOO_OLD not in exc.message.lower():
                raise
            await self._edit_part(target, message_id, urlencode({"text": EMPTIED}).encode())

    async def _delete_one(self, target: Target, message_id: str) -> None:
        try:
            await self._call("deleteMessage", self._message(target, message_id))
        except BadRequest as exc:
            if _ALREADY_GONE not in exc.message.lower():
                raise

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        """Deletes every part; where Telegram keeps them (older than 48 hours),
        the first part is edited into `notice`, without buttons, and the
        others are emptied."""
        kept: list[str] = []
        try:
            for message_id in target.message_ids:
                try:
                    await self._delete_one(target, message_id)
                except BadRequest as exc:
                    if _TOO_OLD not in exc.message.lower() or notice is None:
                        raise
                    kept.append(message_id)
            if kept:
                assert notice is not None  # kept only when there is a notice to show
                shown = outgoing(notice).texts[0]
                for i, message_id in enumerate(kept):
                    fields = {"text": shown, "parse_mode": ParseMode.HTML.value} if i == 0 else {"text": EMPTIED}
                    # No reply_markup: an edit without one takes the buttons off.
                    await self._edit_part(target, message_id, urlencode(fields).encode())
        except TelegramError as exc:
            return outcome_of(exc)
        return Sent(tuple(kept))
