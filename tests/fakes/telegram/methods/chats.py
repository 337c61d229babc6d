"""Chats as the methods name them: a chat_id (a number or a public @username) to
the chat, with the migration error of an upgraded group, whether the bot may write in
it at all and in which thread (a forum topic, open or closed), and the getChat,
getChatMember, getChatAdministrators and getChatMemberCount methods. Every method that
takes a chat_id goes through here."""

from __future__ import annotations

import contextlib
from typing import Any

from ..constants import THREAD_NOT_FOUND, TOPIC_CLOSED
from ..errors import bad_request, forbidden
from ..plumbing import _int_param
from ..state import FakeChat


class ChatMethodsMixin:
    """FakeTelegram's chat lookup and rights checks, and its chat and member methods."""

    # ----- chats, as methods name them ------------------------------------------------------------
    def _chat(self, chat_id: Any) -> FakeChat:
        """The chat a chat_id names: a number, or @username of a channel or supergroup."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next(
                (
                    c
                    for c in self._chats.values()
                    if c.type in ("channel", "supergroup") and c.username and c.username.lower() == name
                ),
                None,
            )
        elif not isinstance(chat_id, bool):
            with contextlib.suppress(TypeError, ValueError):
                chat = self._chats.get(int(chat_id))
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to)
        return chat

    def _check_can_send(self, chat: FakeChat) -> None:
        """Whether the bot may write in the chat at all, with Telegram's refusals."""
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if chat.type == "private":
            return
        me = self._member_json(chat, self.bot_id)
        status = me["status"]
        if chat.type == "channel":
            if status not in ("administrator", "creator"):
                raise forbidden("bot is not a member of the channel chat")
            if status == "administrator" and not me.get("can_post_messages"):
                raise bad_request("need administrator rights in the channel chat")
            return
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if status == "restricted" and not me.get("can_send_messages"):
            raise bad_request("not enough rights to send text messages to the chat")

    def _send_thread(self, chat: FakeChat, params: dict[str, Any], reply_to: dict[str, Any] | None) -> int | None:
        """The thread a send goes to (None: no thread, a forum's General topic). Without
        message_thread_id a reply goes to the thread of the message it answers, as
        Telegram files it there."""
        given = params.get("message_thread_id")
        # The Bot API reads an integer it did not get as 0, so 0 asks for no thread.
        requested = _int_param(params, "message_thread_id") if given not in (None, "") else 0
        thread_id: int | None = None
        if requested:
            # In a forum only a topic is a thread, and the General topic's 1 is refused
            # too; elsewhere any message of the chat roots one (a reply thread).
            if requested not in (chat.topics if chat.is_forum else chat.messages):
                raise bad_request(THREAD_NOT_FOUND)
            thread_id = requested
        elif reply_to is not None:
            thread_id = reply_to.get("message_thread_id")
        topic = chat.topics.get(thread_id) if chat.is_forum and thread_id is not None else None
        if topic is not None and topic.closed and not self._may_manage_topics(chat, self.bot_id):
            raise bad_request(TOPIC_CLOSED)
        return thread_id

    def _may_manage_topics(self, chat: FakeChat, user_id: int) -> bool:
        """Topic managers (the creator, admins with can_manage_topics) still write in closed topics."""
        member = self._member_json(chat, user_id)
        if member["status"] == "creator":
            return True
        return member["status"] == "administrator" and bool(member.get("can_manage_topics"))

    def _bot_is_admin(self, chat: FakeChat) -> bool:
        return chat.members.get(self.bot_id, {}).get("status") in ("administrator", "creator")

    # ----- methods: chats and members -------------------------------------------------------------------
    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._chat(params.get("chat_id")).full_info()

    async def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        user_id = _int_param(params, "user_id", missing="invalid user_id specified")
        if chat.type == "channel" and user_id != self.bot_id and not self._bot_is_admin(chat):
            raise bad_request("member list is inaccessible")  # only a channel's admins see its members
        return self._member_json(chat, user_id)

    async def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [uid for uid, entry in chat.members.items() if entry["status"] in ("creator", "administrator")]
        return [self._member_json(chat, uid) for uid in admins if uid != self.bot_id]  # Telegram leaves bots out

    async def _get_chat_member_count(self, params: dict[str, Any]) -> int:
        chat = self._chat(params.get("chat_id"))
        return sum(1 for entry in chat.members.values() if entry["status"] not in ("left", "kicked"))
