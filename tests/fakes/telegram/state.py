"""The world the fake keeps: a chat (FakeChat) with its members, its messages as they
are now and which of them the bot sent, a forum's topics (FakeTopic), plus the fields
each kind of ChatMember and a getChat answer must carry for python-telegram-bot to
accept them. Users and updates are kept by the server itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": False,
    "can_manage_video_chats": False,
    "can_restrict_members": False,
    "can_promote_members": False,
    "can_change_info": False,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
}
_CHANNEL_ADMIN_RIGHTS = {"can_post_messages": False, "can_edit_messages": False}
_GROUP_ADMIN_RIGHTS = {"can_pin_messages": False, "can_manage_topics": False}
_RESTRICTIONS = {
    "is_member": True,
    "until_date": 0,
    "can_send_messages": False,
    "can_send_audios": False,
    "can_send_documents": False,
    "can_send_photos": False,
    "can_send_videos": False,
    "can_send_video_notes": False,
    "can_send_voice_notes": False,
    "can_send_polls": False,
    "can_send_other_messages": False,
    "can_add_web_page_previews": False,
    "can_change_info": False,
    "can_invite_users": False,
    "can_pin_messages": False,
    "can_manage_topics": False,
    "can_edit_tag": False,
    "can_react_to_messages": False,
}
# The fields each ChatMember kind must carry (python-telegram-bot refuses one without them).
_MEMBER_FIELDS: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False},
    "administrator": _ADMIN_RIGHTS,
    "member": {},
    "restricted": _RESTRICTIONS,
    "left": {},
    "kicked": {"until_date": 0},
}
_ACCEPTED_GIFT_TYPES = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}
_GROUP_PERMISSIONS = {
    "can_send_messages": True,
    "can_send_audios": True,
    "can_send_documents": True,
    "can_send_photos": True,
    "can_send_videos": True,
    "can_send_video_notes": True,
    "can_send_voice_notes": True,
    "can_send_polls": True,
    "can_send_other_messages": True,
    "can_add_web_page_previews": True,
    "can_change_info": False,
    "can_invite_users": True,
    "can_pin_messages": False,
    "can_manage_topics": False,
}


@dataclass
class FakeTopic:
    """A forum topic; its thread id is the key it is kept under in FakeChat.topics."""

    name: str
    icon_color: int
    closed: bool = False


@dataclass
class FakeChat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    members: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> {"status": ..., rights}
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # message id -> Message as it is now
    by_bot: set[int] = field(default_factory=set)  # ids of the messages the bot sent
    blocked: bool = False
    migrated_to: int | None = None
    last_message_id: int = 0
    is_forum: bool = False
    # thread id -> topic, the General topic left out; a deleted topic is gone from here
    topics: dict[int, FakeTopic] = field(default_factory=dict)

    def json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name"):
            if getattr(self, name) is not None:
                chat[name] = getattr(self, name)
        if self.is_forum:
            chat["is_forum"] = True  # Telegram leaves the field out for chats that are not forums
        return chat

    def full_info(self) -> dict[str, Any]:
        """A ChatFullInfo: the chat plus the fields getChat always carries."""
        info = self.json() | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict(_ACCEPTED_GIFT_TYPES),
        }
        if self.type in ("group", "supergroup"):
            info["permissions"] = dict(_GROUP_PERMISSIONS)
        return info
