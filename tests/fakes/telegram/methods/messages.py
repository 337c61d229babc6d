"""Messages: sendMessage, editMessageText, deleteMessage and sendChatAction, with
Telegram's refusals (rights in the chat, threads and forum topics that are missing or
closed, replies to missing messages, an edit that changes nothing, deleting others'
messages, flood limits that sends, edits and deletes share) and the SentMessage
record each accepted send or edit leaves for the test."""

from __future__ import annotations

import copy
import time
from typing import Any

from ..constants import MAX_DELETE_AGE
from ..errors import bad_request
from ..html import parse_text
from ..keyboards import check_reply_markup
from ..observed import SentMessage
from ..plumbing import _int_param
from ..state import FakeChat

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class MessageMethodsMixin:
    """FakeTelegram's sendMessage, editMessageText, deleteMessage and sendChatAction."""

    # ----- methods: messages ---------------------------------------------------------------------------
    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        text, entities = parse_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        thread_id = self._send_thread(chat, params, reply_to)
        self._limits.take(chat.id, chat.type, time.monotonic())  # per chat: a forum's topics share it
        message = self._store(chat, text, entities, sender=self._bot_user(), by_bot=True)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._in_thread(chat, message, thread_id)
        self._decorate(message, markup, params)
        self._sent.append(self._sent_record(chat.id, message, params, edited=False))
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = parse_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if params.get("inline_message_id"):
            # A message sent through inline mode: Telegram answers True, not the message.
            inline = {"text": text, "entities": entities, "reply_markup": markup}
            self._limits.take(None, None, time.monotonic())  # no chat known: the global limit only
            self._sent.append(self._sent_record(None, inline, params, edited=True))
            return True
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        message = self._message_to_edit(chat, params)
        unchanged = (message["text"], message.get("entities", []), message.get("reply_markup")) == (
            text,
            entities,
            markup,
        )
        if unchanged:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        self._limits.take(chat.id, chat.type, time.monotonic())  # an edit counts like a send
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)  # an edit without a keyboard removes it, as on Telegram
        message.pop("link_preview_options", None)
        self._decorate(message, markup, params)
        self._sent.append(self._sent_record(chat.id, message, params, edited=True))
        return copy.deepcopy(message)

    def _message_to_edit(self, chat: FakeChat, params: dict[str, Any]) -> dict[str, Any]:
        message_id = _int_param(params, "message_id", missing="message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message_id not in chat.by_bot:
            raise bad_request("message can't be edited")
        return message

    def _reply_target(self, chat: FakeChat, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message replied to, which must exist unless the bot allows sending without it."""
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        target = chat.messages.get(_int_param(reply, "message_id"))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in copy.deepcopy(target).items() if k != "reply_to_message"}

    @staticmethod
    def _decorate(message: dict[str, Any], markup: dict[str, Any] | None, params: dict[str, Any]) -> None:
        """What a sent message echoes of its request: an inline keyboard, link preview options."""
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        if isinstance(params.get("link_preview_options"), dict):
            message["link_preview_options"] = params["link_preview_options"]

    @staticmethod
    def _sent_record(
        chat_id: int | None, message: dict[str, Any], params: dict[str, Any], *, edited: bool
    ) -> SentMessage:
        preview = params.get("link_preview_options")
        disabled = bool(preview.get("is_disabled")) if isinstance(preview, dict) else False
        disabled = disabled or params.get("disable_web_page_preview") is True  # the pre-7.0 parameter
        return SentMessage(
            chat_id=chat_id,
            message_id=message.get("message_id"),
            html=str(params.get("text")),
            text=message["text"],
            entities=copy.deepcopy(message.get("entities", [])),
            reply_markup=copy.deepcopy(message.get("reply_markup")),
            link_preview_disabled=disabled,
            edited=edited,
            inline_message_id=params.get("inline_message_id"),
            thread_id=message.get("message_thread_id"),
            silent=params.get("disable_notification") in (True, "true", "True"),
        )

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        message_id = _int_param(params, "message_id", missing="message identifier is not specified")
        if message_id not in chat.messages:
            raise bad_request("message to delete not found")
        if message_id not in chat.by_bot and chat.type != "private" and not self._may_delete_others(chat):
            raise bad_request("message can't be deleted")
        if message_id in chat.topics:
            # A topic's first message goes only with the topic (deleteForumTopic), which the fake lacks.
            raise bad_request("message can't be deleted")
        if time.time() - chat.messages[message_id].get("date", 0) >= MAX_DELETE_AGE:
            # Telegram keeps messages older than 48 hours from bots' deletes.
            raise bad_request("message can't be deleted for everyone")
        self._limits.take(chat.id, chat.type, time.monotonic())  # a delete counts like a send
        del chat.messages[message_id]
        chat.by_bot.discard(message_id)
        self.deleted.append((chat.id, message_id))
        return True

    def _may_delete_others(self, chat: FakeChat) -> bool:
        """Outside private chats only an admin with the right deletes others' messages."""
        return self._bot_is_admin(chat) and self._member_json(chat, self.bot_id).get("can_delete_messages", True)

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        self._send_thread(chat, params, None)  # "typing" shows in a thread the bot may write in
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True
