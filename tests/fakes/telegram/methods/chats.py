"""Chats as the methods name them: a chat_id (a number or a public @username) to
the chat, with the migration error of an upgraded group, whether the bot may write in
it at all, and the getChat, getChatMember, getChatAdministrators and
getChatMemberCount methods. Every method that takes a chat_id goes through here."""

from __future__ import annotations

import contextlib
from typing import Any

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
