"""Answering interactions: the callback (one acknowledgement, within the deadline, of a
type that fits the interaction: a message, a deferral, an update, autocomplete
choices or a modal) and the interaction webhooks (followups, and reading, editing or
deleting @original and followups while the token lives)."""

from __future__ import annotations

import copy
import time
from typing import Any

from ..constants import (
    APPLICATION_COMMAND,
    AUTOCOMPLETE_RESULT,
    CALLBACKS_FOR,
    CHANNEL_MESSAGE,
    CHAT_INPUT_COMMAND_MESSAGE,
    DEFAULT_MESSAGE,
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    LOADING,
    MAX_CHOICES,
    MAX_CUSTOM_ID,
    MESSAGE_FLAGS_ON_CREATE,
    MODAL,
    STRING,
    UPDATE_MESSAGE,
)
from ..errors import ApiError, FormErrors, invalid_webhook_token, unknown
from ..helpers import _as_int
from ..state import _Interaction, _StoredMessage
from ..validation import _check_choice, _check_dict, _check_list, check_message


class InteractionRoutesMixin:
    """FakeDiscord's interaction callback and interaction webhook routes."""

    # ----- REST: interaction callback --------------------------------------------------------------------------
    async def _callback(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], query: dict[str, str], **_: Any
    ) -> dict[str, Any] | None:
        interaction = self._interactions.get(params["interaction_id"])
        if interaction is None or interaction.token != params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.callback_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.dispatched_at > self.callback_deadline:
            raise ApiError(404, 10062, "Unknown interaction")  # Discord forgets unanswered interactions after 3 s
        errors = FormErrors()
        if not _check_dict(body, errors, ()):
            errors.raise_if_any()
        kind = body.get("type")
        allowed = CALLBACKS_FOR[interaction.type]
        no_message = interaction.source_message_id is None
        if kind not in allowed or (kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and no_message):
            errors.add(
                ("type",),
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Interaction type {interaction.type} accepts callback types {allowed}, not {kind!r}",
            )
            errors.raise_if_any()
        data = body.get("data")
        message = self._answer(interaction, kind, data if isinstance(data, dict) else {}, files)
        interaction.callback_type = kind
        interaction.responses.append({"kind": "callback", "type": kind, "data": copy.deepcopy(data)})
        self._notify()
        if query.get("with_response", "").lower() not in ("1", "true"):
            return None
        return self._callback_json(interaction, kind, message)

    def _answer(
        self, interaction: _Interaction, kind: int, data: dict[str, Any], files: list[dict[str, Any]]
    ) -> _StoredMessage | None:
        """Does what the callback asks; returns the message it created or updated."""
        channel = self._live_channel(interaction.channel_id)
        shown_as = CHAT_INPUT_COMMAND_MESSAGE if interaction.type == APPLICATION_COMMAND else DEFAULT_MESSAGE
        if kind == CHANNEL_MESSAGE:
            errors = FormErrors()
            check_message(data, errors, ("data",))
            errors.raise_if_any()
            flags = (data.get("flags") or 0) & MESSAGE_FLAGS_ON_CREATE
            stored = self._store(channel, data, files, flags=flags, kind=shown_as, interaction=interaction)
            return self._original(interaction, stored)
        if kind == DEFERRED_CHANNEL_MESSAGE:  # a "thinking..." message, ephemeral if asked
            flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
            stored = self._store(channel, {}, [], flags=flags, kind=shown_as, interaction=interaction)
            interaction.loading = True
            return self._original(interaction, stored)
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            source = self._messages[interaction.source_message_id]  # type: ignore[index]
            if kind == UPDATE_MESSAGE:
                self._edit(source, data, files, path=("data",))
            interaction.original_message_id = source.id
            return source
        if kind == AUTOCOMPLETE_RESULT:
            self._check_choices_answer(interaction, data)
        elif kind == MODAL:
            self._check_modal(data)
            interaction.modal = copy.deepcopy(data)
        return None

    @staticmethod
    def _original(interaction: _Interaction, stored: _StoredMessage) -> _StoredMessage:
        interaction.original_message_id = stored.id
        interaction.message_ids.append(stored.id)
        return stored

    @staticmethod
    def _check_choices_answer(interaction: _Interaction, data: dict[str, Any]) -> None:
        errors = FormErrors()
        choices = _check_list(data.get("choices", []), errors, ("data", "choices"), MAX_CHOICES)
        for i, choice in enumerate(choices):
            if _check_dict(choice, errors, ("data", "choices", i)):
                _check_choice(choice, interaction.focused_type or STRING, errors, ("data", "choices", i))
        errors.raise_if_any()

    @staticmethod
    def _check_modal(data: dict[str, Any]) -> None:
        errors = FormErrors()
        path = ("data",)
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
            errors.add(
                path + ("custom_id",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_CUSTOM_ID} in length."
            )
        title = data.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= 45:
            errors.add(path + ("title",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
        components = _check_list(data.get("components"), errors, path + ("components",), 5, minimum=1)
        for i, component in enumerate(components):
            if _check_dict(component, errors, path + ("components", i)) and component.get("type") not in (1, 10, 18):
                errors.add(
                    path + ("components", i, "type"),
                    "UNION_TYPE_CHOICES",
                    'Value of field "type" must be one of (1, 10, 18).',
                )
        errors.raise_if_any()

    def _callback_json(self, interaction: _Interaction, kind: int, message: _StoredMessage | None) -> dict[str, Any]:
        """The with_response=1 answer discord.py parses into an InteractionCallbackResponse."""
        data: dict[str, Any] = {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "activity_instance_id": None,
                "response_message_id": str(message.id) if message else None,
                "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
                "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
            },
            "resource": {"type": kind},
        }
        if message is not None and kind != DEFERRED_UPDATE_MESSAGE:
            data["resource"]["message"] = copy.deepcopy(message.payload)
        return data

    # ----- REST: followups and @original ---------------------------------------------------------------------------
    def _live_interaction(self, params: dict[str, str]) -> _Interaction:
        """The interaction behind a webhook token: answered, and not older than 15 minutes."""
        interaction = self._by_token.get(params["token"])
        if _as_int(params["application_id"]) != self.application_id:
            raise unknown("Webhook", 10015)
        if interaction is None or time.monotonic() - interaction.dispatched_at > self.token_lifetime:
            raise invalid_webhook_token()
        if interaction.callback_type in (None, AUTOCOMPLETE_RESULT, MODAL):
            raise unknown("Webhook", 10015)  # nothing to edit or follow up before the acknowledgement
        return interaction

    def _interaction_message(self, interaction: _Interaction, params: dict[str, str]) -> _StoredMessage:
        raw = params["message_id"]
        message_id = interaction.original_message_id if raw == "@original" else _as_int(raw)
        stored = self._messages.get(message_id or 0)
        owned = message_id in interaction.message_ids or message_id == interaction.original_message_id
        if stored is None or stored.deleted or not owned:
            raise unknown("Message", 10008)
        return stored

    async def _followup(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], query: dict[str, str], **_: Any
    ) -> dict[str, Any] | None:
        interaction = self._live_interaction(params)
        errors = FormErrors()
        check_message(body, errors)
        errors.raise_if_any()
        if interaction.loading:
            # After a deferral the first followup replaces the "thinking" message (and keeps its visibility).
            stored = self._messages[interaction.original_message_id]  # type: ignore[index]
            self._edit(stored, {k: v for k, v in body.items() if k != "flags"}, files, path=())
            interaction.loading = False
        else:
            flags = (body.get("flags") or 0) & MESSAGE_FLAGS_ON_CREATE
            stored = self._store(
                self._live_channel(interaction.channel_id),
                body,
                files,
                flags=flags,
                kind=DEFAULT_MESSAGE,
                interaction=interaction,
            )
            interaction.message_ids.append(stored.id)
        interaction.responses.append({"kind": "followup", "message_id": str(stored.id), "data": copy.deepcopy(body)})
        if query.get("wait", "").lower() not in ("1", "true"):
            return None
        return copy.deepcopy(stored.payload)

    async def _get_webhook_message(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        return copy.deepcopy(self._interaction_message(self._live_interaction(params), params).payload)

    async def _patch_webhook_message(
        self, params: dict[str, str], body: Any, files: list[dict[str, Any]], **_: Any
    ) -> dict[str, Any]:
        interaction = self._live_interaction(params)
        stored = self._interaction_message(interaction, params)
        channel = self._live_channel(stored.channel_id)
        self._check_thread_editable(channel, self._permissions(channel, self.bot_user_id))
        self._edit(stored, body, files, path=())
        if stored.id == interaction.original_message_id:
            interaction.loading = False
        interaction.responses.append({"kind": "edit", "message_id": str(stored.id), "data": copy.deepcopy(body)})
        return copy.deepcopy(stored.payload)

    async def _delete_webhook_message(self, params: dict[str, str], **_: Any) -> None:
        interaction = self._live_interaction(params)
        stored = self._interaction_message(interaction, params)
        self._delete(stored)
        interaction.responses.append({"kind": "delete", "message_id": str(stored.id), "data": None})
