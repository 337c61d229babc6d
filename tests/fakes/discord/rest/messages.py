"""Channel messages: posting (with the permissions a message needs, replies, flags; in
a thread what its archived or locked state allows), reading (others' messages
without their content unless the bot may read it), editing and deleting messages,
and the internals every message path shares, interaction responses and forum posts'
starter messages included: composing and storing a message, applying a body
(content, embeds, components, attachments, mentions), edits, deletions, a thread's
counts and the MESSAGE_* gateway events they cause."""

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
    MESSAGE_CONTENT_INTENT,
    MESSAGE_FLAGS_ON_CREATE,
    MESSAGE_FLAGS_ON_EDIT,
    MESSAGEABLE_CHANNEL_TYPES,
    REPLY_MESSAGE,
)
from ..errors import ApiError, FormErrors, empty_message, missing_permissions, unknown
from ..helpers import _as_int, _now_iso
from ..permissions import ATTACH_FILES, EMBED_LINKS, MANAGE_MESSAGES, MANAGE_THREADS, READ_MESSAGE_HISTORY
from ..state import _Channel, _Interaction, _StoredMessage
from ..validation import _check_dict, check_message, is_empty_message, pings


class MessageRoutesMixin:
    """FakeDiscord's /channels/{id}/messages routes and its stored-message internals."""

    # ----- REST: channel messages ---------------------------------------------------------------------------
    def _check_can_post(
        self, channel: _Channel, body: dict[str, Any], files: list[dict[str, Any]], user_id: int | None = None
    ) -> None:
        """May the bot (or a member) post this here. A forum takes posts (POST .../threads), not messages."""
        if channel.type not in MESSAGEABLE_CHANNEL_TYPES:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.guild_id is None:
            if user_id is None and not self._users[channel.recipient_id].accepts_dms:  # type: ignore[index]
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        permissions = self._permissions(channel, self.bot_user_id if user_id is None else user_id)
        needed = self._talk_permission(channel)
        if body.get("embeds"):
            needed |= EMBED_LINKS
        if files:
            needed |= ATTACH_FILES
        if body.get("message_reference"):
            needed |= READ_MESSAGE_HISTORY
        if permissions & needed != needed:
            raise missing_permissions()
        self._check_thread_open(channel, permissions)

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
        self._after_post(channel, self.bot_user_id)
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
        return self._readable(stored, self._rest_intents())

    async def _patch_message(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        channel, stored = self._channel_message(params)
        if stored.author_id != self.bot_user_id:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        self._check_thread_editable(channel, self._permissions(channel, self.bot_user_id))
        self._edit(stored, body, files, path=())
        return copy.deepcopy(stored.payload)

    async def _delete_message(self, params: dict[str, str], **_: Any) -> None:
        channel, stored = self._channel_message(params)
        if stored.author_id != self.bot_user_id:
            if channel.guild_id is None:
                raise ApiError(403, 50003, "Cannot execute action on a DM channel")
            if not self._permissions(channel, self.bot_user_id) & MANAGE_MESSAGES:
                raise missing_permissions()
        # a locked thread lets non-moderators delete only while it is active
        moderator = self._permissions(channel, self.bot_user_id) & MANAGE_THREADS
        if channel.is_thread and channel.locked and channel.archived and not moderator:
            raise ApiError(400, 50083, "Thread is archived")
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
        author_id: int | None = None,
    ) -> _StoredMessage:
        """A new message from the bot (or `author_id`) in the channel (the body already checked)."""
        stored = self._compose(
            channel, body, files, flags=flags, kind=kind, interaction=interaction, author_id=author_id
        )
        return self._keep(stored)

    def _compose(
        self,
        channel: _Channel,
        body: dict[str, Any],
        files: list[dict[str, Any]],
        *,
        flags: int,
        kind: int,
        interaction: _Interaction | None = None,
        author_id: int | None = None,
        message_id: int | None = None,
    ) -> _StoredMessage:
        """A new message, not yet in the channel: refused (50006) if it would show nothing."""
        message_id = self._ids.next() if message_id is None else message_id
        author = self._users[self.bot_user_id if author_id is None else author_id]
        payload: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel.id),
            "type": kind,
            "author": author.json(),
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
        return stored

    def _keep(self, stored: _StoredMessage) -> _StoredMessage:
        """Puts a composed message into its channel: counted, and MESSAGE_CREATE sent."""
        self._messages[stored.id] = stored
        channel = self._channels[stored.channel_id]
        if not stored.flags & EPHEMERAL:
            channel.last_message_id = stored.id
            if channel.is_thread and stored.id != channel.id:  # a post's starter message is not counted
                channel.message_count += 1
                channel.total_message_sent += 1
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
        channel = self._channels[stored.channel_id]
        if channel.is_thread and stored.id != channel.id and not stored.flags & EPHEMERAL:
            channel.message_count = max(channel.message_count - 1, 0)
        data = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        self._message_event("MESSAGE_DELETE", stored, data)

    def _message_event(self, event: str, stored: _StoredMessage, data: dict[str, Any] | None = None) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE as Discord sends them (not for ephemeral messages), with the author's
        member in a guild and, for others' messages, their content only if the session may read it."""
        if stored.flags & EPHEMERAL:
            return
        channel = self._channels[stored.channel_id]
        if data is None:
            session = self._session_for(channel.guild_id)
            data = self._readable(stored, session.intents if session else 0)
            if channel.guild_id is not None:
                guild = self._guilds[channel.guild_id]
                data["guild_id"] = str(guild.id)
                if stored.author_id in guild.members:
                    data["member"] = self._member_json(guild, guild.members[stored.author_id], with_user=False)
        intent = GUILD_MESSAGES_INTENT if channel.guild_id is not None else DIRECT_MESSAGES_INTENT
        self._dispatch_to_guild(channel.guild_id, event, data, intent)

    def _readable(self, stored: _StoredMessage, intents: int) -> dict[str, Any]:
        """The message as the bot gets it: Discord empties the content, embeds, attachments and components of
        others' guild messages unless the bot has the message content intent or is mentioned."""
        payload = copy.deepcopy(stored.payload)
        if stored.author_id == self.bot_user_id or intents & MESSAGE_CONTENT_INTENT:
            return payload
        if self._channels[stored.channel_id].guild_id is None:
            return payload
        if any(int(user["id"]) == self.bot_user_id for user in payload["mentions"]):
            return payload
        return payload | {"content": "", "embeds": [], "attachments": [], "components": []}

    def _rest_intents(self) -> int:
        """Over REST what counts is whether the application may use the privileged intents, not a session's."""
        return self.privileged_intents

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
