"""Channel messages: posting (with the permissions a message needs, replies, flags),
reading, editing and deleting the bot's messages, and the internals every message
path shares, interaction responses included: storing a message, applying a body
(content, embeds, components, attachments, mentions), edits, deletions and the
MESSAGE_* gateway events they cause."""

from __future__ import annotations

import copy
from typing import Any

from ..constants import (
    ATTACHMENT_SIZE_LIMIT,
    DEFAULT_MESSAGE,
    DIRECT_MESSAGES_INTENT,
    EPHEMERAL,
    GUILD_MESSAGES_INTENT,
    IS_COMPONENTS_V2,
    LOADING,
    MESSAGE_FLAGS_ON_CREATE,
    MESSAGE_FLAGS_ON_EDIT,
    MESSAGEABLE_CHANNEL_TYPES,
    REPLY_MESSAGE,
)
from ..errors import ApiError, FormErrors, empty_message, missing_permissions, unknown
from ..helpers import _as_int, _now_iso
from ..permissions import ATTACH_FILES, EMBED_LINKS, READ_MESSAGE_HISTORY, SEND_MESSAGES
from ..state import _Channel, _Interaction, _StoredMessage
from ..validation import _check_dict, check_message, is_empty_message, pings


class MessageRoutesMixin:
    """FakeDiscord's /channels/{id}/messages routes and its stored-message internals."""

    # ----- REST: channel messages ---------------------------------------------------------------------------
    def _check_can_post(self, channel: _Channel, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        if channel.type not in MESSAGEABLE_CHANNEL_TYPES:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.guild_id is None:
            if not self._users[channel.recipient_id].accepts_dms:  # type: ignore[index]
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        permissions = self._permissions(channel, self.bot_user_id)
        needed = SEND_MESSAGES
        if body.get("embeds"):
            needed |= EMBED_LINKS
        if files:
            needed |= ATTACH_FILES
        if body.get("message_reference"):
            needed |= READ_MESSAGE_HISTORY
        if permissions & needed != needed:
            raise missing_permissions()

    async def _post_message(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        channel = self._channel_for_bot(params)
        body = body if isinstance(body, dict) else {}
        self._check_can_post(channel, body, files)
        errors = FormErrors()
        check_message(body, errors)
        reference = self._reference(channel, body.get("message_reference"), errors)
        errors.raise_if_any()
        flags = (body.get("flags") or 0) & (MESSAGE_FLAGS_ON_CREATE & ~EPHEMERAL)  # no ephemeral outside interactions
        stored = self._store(channel, body, files, flags=flags, kind=REPLY_MESSAGE if reference else DEFAULT_MESSAGE)
        if reference:
            stored.payload["message_reference"] = reference
        return copy.deepcopy(stored.payload)

    def _reference(self, channel: _Channel, reference: Any, errors: FormErrors) -> dict[str, Any] | None:
        if not isinstance(reference, dict):
            return None
        message_id = _as_int(reference.get("message_id"))
        known = self._messages.get(message_id or 0)
        if (known is None or known.channel_id != channel.id) and reference.get("fail_if_not_exists", True):
            errors.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            return None
        data = {"type": 0, "message_id": str(message_id), "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        return data

    def _channel_message(self, params: dict[str, str]) -> tuple[_Channel, _StoredMessage]:
        channel = self._channel_for_bot(params)
        stored = self._messages.get(self._snowflake(params, "message_id"))
        if stored is None or stored.deleted or stored.channel_id != channel.id or stored.flags & EPHEMERAL:
            raise unknown("Message", 10008)  # ephemeral messages are not reachable through the channel
        return channel, stored

    async def _get_message(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        channel, stored = self._channel_message(params)
        if channel.guild_id is not None and not self._permissions(channel, self.bot_user_id) & READ_MESSAGE_HISTORY:
            raise missing_permissions()
        return copy.deepcopy(stored.payload)

    async def _patch_message(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        _, stored = self._channel_message(params)
        self._edit(stored, body, files, path=())
        return copy.deepcopy(stored.payload)

    async def _delete_message(self, params: dict[str, str], **_: Any) -> None:
        _, stored = self._channel_message(params)
        self._delete(stored)

    # ----- messages, inside ----------------------------------------------------------------------------------
    def _store(
        self,
        channel: _Channel,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        flags: int,
        kind: int,
        interaction: _Interaction | None = None,
    ) -> _StoredMessage:
        """A new message from the bot in the channel (the body already checked)."""
        message_id = self._ids.next()
        payload: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "type": kind,
            "author": self._bot_json(),
            "content": "",
            "embeds": [],
            "components": [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(body.get("tts", False)),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if interaction is not None:
            payload |= {
                "webhook_id": str(self.application_id),
                "application_id": str(self.application_id),
                "interaction_metadata": self._interaction_metadata(interaction),
            }
        stored = _StoredMessage(
            payload,
            body.get("allowed_mentions"),
            interaction_id=str(interaction.id) if interaction else None,
            visible_to=interaction.user_id if interaction and flags & EPHEMERAL else None,
        )
        self._apply_body(stored, body, files)
        if not flags & LOADING and is_empty_message(payload):
            raise empty_message()
        self._messages[message_id] = stored
        self._message_event("MESSAGE_CREATE", stored)
        return stored

    def _apply_body(self, stored: _StoredMessage, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        payload = stored.payload
        if "content" in body:
            payload["content"] = body["content"] or ""
        if "embeds" in body:
            payload["embeds"] = [embed | {"type": embed.get("type", "rich")} for embed in body["embeds"] or []]
        if "components" in body:
            payload["components"] = copy.deepcopy(body["components"] or [])
        if "attachments" in body or files:
            payload["attachments"] = self._attachments(body.get("attachments"), files, payload["attachments"])
        if "allowed_mentions" in body:
            stored.allowed_mentions = body["allowed_mentions"]
        users, roles, everyone = pings(payload["content"], stored.allowed_mentions)
        payload["mentions"] = [self._users[u].json() for u in users if u in self._users]
        payload["mention_roles"] = [str(r) for r in roles]
        payload["mention_everyone"] = everyone

    def _attachments(
        self, listed: Any, files: list[dict[str, Any]], current: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """Kept attachments (by id) and the uploaded files (attachments listed by their upload index)."""
        for file in files:
            if file["size"] > ATTACHMENT_SIZE_LIMIT:
                raise ApiError(413, 40005, "Request entity too large")
        kept = {a["id"]: a for a in current}
        result = []
        entries = listed if isinstance(listed, list) else [{"id": i} for i in range(len(files))]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if str(entry.get("id")) in kept:
                result.append(kept[str(entry["id"])])
                continue
            index = _as_int(entry.get("id"))
            if index is not None and 0 <= index < len(files):
                attachment_id = self._ids.next()
                file = files[index]
                url = f"{self.url}/attachments/{attachment_id}/{file['filename']}"
                result.append(
                    {
                        "id": str(attachment_id),
                        "filename": file["filename"],
                        "size": file["size"],
                        "url": url,
                        "proxy_url": url,
                        "content_type": file["content_type"],
                    }
                )
        return result

    def _edit(self, stored: _StoredMessage, body: Any, files: list[dict[str, Any]], *, path: tuple[Any, ...]) -> None:
        """Applies a PATCH (or an UPDATE_MESSAGE callback) to a message: checked, then no longer loading."""
        errors = FormErrors()
        if not isinstance(body, dict):
            _check_dict(body, errors, path)
            errors.raise_if_any()
        requested = body.get("flags")
        flags = stored.flags & ~LOADING & ~MESSAGE_FLAGS_ON_EDIT
        flags |= (requested if isinstance(requested, int) else stored.flags) & MESSAGE_FLAGS_ON_EDIT
        if stored.flags & IS_COMPONENTS_V2:
            flags |= IS_COMPONENTS_V2  # a v2 message cannot go back
        check_message(body, errors, path, flags=flags)
        errors.raise_if_any()
        candidate = copy.deepcopy(stored)
        candidate.payload["flags"] = flags
        self._apply_body(candidate, body, files)
        if is_empty_message(candidate.payload):
            raise empty_message()
        stored.payload, stored.allowed_mentions = candidate.payload, candidate.allowed_mentions
        stored.payload["edited_timestamp"] = _now_iso()
        self._message_event("MESSAGE_UPDATE", stored)

    def _delete(self, stored: _StoredMessage) -> None:
        stored.deleted = True
        data = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
        guild_id = self._channels[stored.channel_id].guild_id
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        self._message_event("MESSAGE_DELETE", stored, data)

    def _message_event(self, event: str, stored: _StoredMessage, data: dict[str, Any] | None = None) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages, as Discord sends them (not for ephemeral ones)."""
        if stored.flags & EPHEMERAL:
            return
        channel = self._channels[stored.channel_id]
        if data is None:
            data = copy.deepcopy(stored.payload)
            if channel.guild_id is not None:
                guild = self._guilds[channel.guild_id]
                data |= {
                    "guild_id": str(guild.id),
                    "member": self._member_json(guild, guild.members[self.bot_user_id], with_user=False),
                }
        intent = GUILD_MESSAGES_INTENT if channel.guild_id is not None else DIRECT_MESSAGES_INTENT
        self._dispatch_to_guild(channel.guild_id, event, data, intent)

    def _interaction_metadata(self, interaction: _Interaction) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(interaction.id),
            "type": interaction.type,
            "user": self._users[interaction.user_id].json(),
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        if interaction.name:
            data |= {"name": interaction.name, "command_type": interaction.command_type}
        if interaction.original_message_id is not None:
            data["original_response_message_id"] = str(interaction.original_message_id)
        if interaction.source_message_id is not None:
            data["interacted_message_id"] = str(interaction.source_message_id)
        return data
