"""Interactions from the user's side: finding the command a user may run in a channel
(or thread), following subcommands, typing and resolving option values as Discord
sends them (channels, threads, forums and announcement channels among them),
finding a message's components, filling in a modal's submission, and creating the
interaction and its INTERACTION_CREATE payload. The server's user actions (slash,
press, select, submit_modal...) are thin wrappers over this."""

from __future__ import annotations

import copy
import math
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from .constants import (
    ATTACHMENT,
    ATTACHMENT_SIZE_LIMIT,
    BOOLEAN,
    CATEGORY_CHANNEL,
    CHANNEL,
    CHAT_INPUT,
    FORUM_CHANNEL,
    INTEGER,
    MENTIONABLE,
    NUMBER,
    ROLE,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
    USER,
)
from .helpers import _as_int
from .permissions import USE_APPLICATION_COMMANDS, VIEW_CHANNEL
from .state import _Channel, _Interaction, _StoredMessage


class UserInteractionsMixin:
    """FakeDiscord's building of interactions, as a user's client would send them."""

    # ----- interactions (user side) ---------------------------------------------------------------------
    def _command_for(self, channel: _Channel, user_id: int, name: str) -> tuple[dict[str, Any], list[str]]:
        """The registered command a user may run in the channel (guild command first, then global)."""
        root, *path = name.split()
        scopes = ([channel.guild_id] if channel.guild_id is not None else []) + [None]
        command = next(
            (
                c
                for scope in scopes
                for c in self.commands.get(scope, [])
                if c["name"] == root and c.get("type", CHAT_INPUT) == CHAT_INPUT
            ),
            None,
        )
        if command is None:
            raise ValueError(f"/{root} is not registered (globally or for this guild): {self._command_names()}")
        self._check_may_use(command, channel, user_id)
        return command, path

    def _command_names(self) -> dict[str, list[str]]:
        return {str(scope): [c["name"] for c in commands] for scope, commands in self.commands.items()}

    def _check_may_use(self, command: dict[str, Any], channel: _Channel, user_id: int) -> None:
        """Discord shows a command only where it may run and to whom default_member_permissions allows."""
        in_guild = channel.guild_id is not None
        if channel.type in (FORUM_CHANNEL, CATEGORY_CHANNEL):
            raise ValueError(f"channel {channel.id} (type {channel.type}) has no chat to run commands in")
        if channel.is_thread and channel.archived:
            raise ValueError(f"thread {channel.id} is archived: Discord takes no application commands there")
        contexts = command.get("contexts")  # 0 guild, 1 DM with the bot; None: dm_permission decides
        if in_guild and contexts is not None and 0 not in contexts:
            raise ValueError(f"/{command['name']} is not available in guilds (contexts {contexts})")
        in_dms = 1 in contexts if contexts is not None else command.get("dm_permission") is not False
        if not in_guild and not in_dms:
            raise ValueError(f"/{command['name']} is not available in DMs with the bot")
        if in_guild and user_id not in self._guilds[channel.guild_id].members:
            raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
        if not in_guild and user_id != channel.recipient_id:
            raise ValueError(f"user {user_id} is not the recipient of DM {channel.id}")
        permissions = self._permissions(channel, user_id)
        if not permissions & VIEW_CHANNEL or not permissions & USE_APPLICATION_COMMANDS:
            raise ValueError(f"user {user_id} cannot use application commands in channel {channel.id}")
        required = command.get("default_member_permissions")
        if in_guild and required is not None and permissions & int(required) != int(required):
            raise ValueError(f"user {user_id} lacks default_member_permissions {required} for /{command['name']}")

    @staticmethod
    def _descend(
        command: dict[str, Any], path: list[str]
    ) -> tuple[list[dict[str, Any]], Callable[[list[Any]], list[Any]]]:
        """Follows "group sub" down the command's options; returns the leaf's options and a function that
        wraps the leaf's option values back into the subcommand nesting."""
        options = command.get("options") or []
        wrappers: list[tuple[str, int]] = []
        for name in path:
            option = next(
                (o for o in options if o["name"] == name and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None
            )
            if option is None:
                raise ValueError(f"/{command['name']} has no subcommand {' '.join(path)!r}")
            wrappers.append((name, option["type"]))
            options = option.get("options") or []
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options):
            raise ValueError(f"/{command['name']} {' '.join(path)} needs a subcommand: {[o['name'] for o in options]}")

        def nest(values: list[Any]) -> list[Any]:
            for name, kind in reversed(wrappers):
                values = [{"name": name, "type": kind, "options": values}]
            return values

        return options, nest

    @staticmethod
    def _option_type(definitions: list[dict[str, Any]], name: str) -> int:
        definition = next((o for o in definitions if o["name"] == name), None)
        if definition is None:
            raise ValueError(f"no option {name!r}; the command has {[o['name'] for o in definitions]}")
        return definition["type"]

    @staticmethod
    def _raw(kind: int, value: Any) -> Any:
        """An option value as typed so far: ids travel as strings, the rest as given."""
        return str(value) if kind in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT) else value

    def _build_options(
        self, channel: _Channel, user_id: int, definitions: list[dict[str, Any]], given: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Option values as Discord sends them, typed by the registered definitions, and the resolved objects."""
        for name in given:
            self._option_type(definitions, name)
        built: list[dict[str, Any]] = []
        resolved: dict[str, dict[str, Any]] = {}
        for definition in definitions:
            name = definition["name"]
            if name not in given:
                if definition.get("required"):
                    raise ValueError(f"option {name!r} is required")
                continue
            value = self._option_value(definition, given[name], channel, user_id, resolved)
            built.append({"name": name, "type": definition["type"], "value": value})
        return built, resolved

    def _option_value(
        self,
        definition: dict[str, Any],
        value: Any,
        channel: _Channel,
        user_id: int,
        resolved: dict[str, dict[str, Any]],
    ) -> Any:
        kind, name = definition["type"], definition["name"]
        if kind in (STRING, INTEGER, NUMBER, BOOLEAN):
            self._check_scalar(definition, value)
            return value
        snowflake = _as_int(value)
        if snowflake is None:
            raise ValueError(f"option {name!r} takes an id, not {value!r}")
        if kind in (USER, MENTIONABLE) and snowflake in self._users:
            self._resolve_user(channel, snowflake, resolved)
        elif kind in (ROLE, MENTIONABLE) and channel.guild_id and snowflake in self._guilds[channel.guild_id].roles:
            resolved.setdefault("roles", {})[str(snowflake)] = self._guilds[channel.guild_id].roles[snowflake].json()
        elif kind == CHANNEL and snowflake in self._channels:
            self._resolve_channel(definition, channel, snowflake, user_id, resolved)
        elif kind == ATTACHMENT:
            raise ValueError("attachment options are not supported by the fake")
        else:
            raise ValueError(f"option {name!r} (type {kind}): {snowflake} is nothing of that type the fake knows")
        return str(snowflake)

    @staticmethod
    def _check_scalar(definition: dict[str, Any], value: Any) -> None:
        kind, name = definition["type"], definition["name"]
        ok = {
            STRING: isinstance(value, str),
            BOOLEAN: isinstance(value, bool),
            INTEGER: isinstance(value, int) and not isinstance(value, bool),
            NUMBER: isinstance(value, (int, float)) and not isinstance(value, bool),
        }[kind]
        if not ok:
            raise ValueError(f"option {name!r} has type {kind}; {value!r} does not fit")
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"option {name!r} must be one of its choices {[c['value'] for c in choices]}")
        if kind == STRING and not definition.get("min_length", 0) <= len(value) <= definition.get("max_length", 6000):
            raise ValueError(f"option {name!r}: {len(value)} characters is outside its min/max length")
        low, high = definition.get("min_value", -math.inf), definition.get("max_value", math.inf)
        if kind in (INTEGER, NUMBER) and not low <= value <= high:
            raise ValueError(f"option {name!r}: {value} is outside its min/max value")

    def _resolve_user(self, channel: _Channel, user_id: int, resolved: dict[str, dict[str, Any]]) -> None:
        resolved.setdefault("users", {})[str(user_id)] = self._users[user_id].json()
        guild = self._guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None and user_id in guild.members:
            member = self._member_json(guild, guild.members[user_id], with_user=False)
            member["permissions"] = str(self._permissions(channel, user_id))
            resolved.setdefault("members", {})[str(user_id)] = member

    def _resolve_channel(
        self,
        definition: dict[str, Any],
        used_in: _Channel,
        channel_id: int,
        user_id: int,
        resolved: dict[str, dict[str, Any]],
    ) -> None:
        """A channel option's value as Discord resolves it: the channel's fields (a thread's parent_id and
        thread_metadata, a forum's flags and tags) with the user's permissions there, and none of its
        overwrites. Discord's client offers only channels of the command's guild that the user sees, of the
        option's channel_types."""
        target = self._channels[channel_id]
        name = definition["name"]
        allowed = definition.get("channel_types")
        if allowed and target.type not in allowed:
            raise ValueError(f"option {name!r} takes channel types {allowed}, not {target.type}")
        if target.guild_id != used_in.guild_id:
            raise ValueError(f"option {name!r}: channel {channel_id} is not in the guild the command runs in")
        permissions = self._permissions(target, user_id)
        if not permissions & VIEW_CHANNEL:
            raise ValueError(f"option {name!r}: user {user_id} cannot see channel {channel_id}")
        data = {k: v for k, v in self._channel_json(target).items() if k not in ("permission_overwrites", "member")}
        resolved.setdefault("channels", {})[str(channel_id)] = data | {"permissions": str(permissions)}

    def _visible_message(self, channel_id: int, user_id: int, message_id: int) -> _StoredMessage:
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted or stored.channel_id != channel_id:
            raise ValueError(f"the bot has no message {message_id} in channel {channel_id}")
        if stored.visible_to is not None and stored.visible_to != user_id:
            raise ValueError(f"message {message_id} is ephemeral: only user {stored.visible_to} sees it")
        return stored

    @classmethod
    def _walk_components(cls, components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for component in components:
            yield component
            yield from cls._walk_components(component.get("components") or [])
            for key in ("accessory", "component"):
                if isinstance(component.get(key), dict):
                    yield from cls._walk_components([component[key]])

    def _find_component(self, components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
        return next((c for c in self._walk_components(components) if c.get("custom_id") == custom_id), None)

    def _custom_ids(self, stored: _StoredMessage) -> list[str]:
        return [c["custom_id"] for c in self._walk_components(stored.payload.get("components", [])) if "custom_id" in c]

    def _submitted(self, component: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """A modal component as the submission carries it: text inputs with the user's values."""
        kind = component.get("type")
        if kind == 1:
            return {"type": 1, "components": [self._submitted(c, values) for c in component.get("components", [])]}
        if kind == 18:
            return {"type": 18, "component": self._submitted(component["component"], values)}
        custom_id = component.get("custom_id")
        if kind == 4:
            value = values.get(custom_id, "")
            if component.get("required", True) and not value:
                raise ValueError(f"text input {custom_id!r} is required")
            if not component.get("min_length", 0) <= len(value) <= component.get("max_length", 4000):
                raise ValueError(f"text input {custom_id!r}: {len(value)} characters is outside its min/max length")
            return {"type": 4, "custom_id": custom_id, "value": value}
        if custom_id is not None:  # selects inside labels
            return {"type": kind, "custom_id": custom_id, "values": list(values.get(custom_id, []))}
        return {"type": kind}

    def _interact(
        self,
        kind: int,
        channel: _Channel,
        user_id: int,
        data: dict[str, Any],
        *,
        message: _StoredMessage | None = None,
        name: str | None = None,
        command_type: int | None = None,
        focused_type: int | None = None,
    ) -> str:
        """Creates the interaction and dispatches INTERACTION_CREATE to the shard owning the guild."""
        if channel.guild_id is not None and user_id not in self._guilds[channel.guild_id].members:
            raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
        session = self._session_for(channel.guild_id)
        if session is None:
            raise AssertionError(self.dump("no gateway session would receive the interaction: is the bot connected?"))
        interaction = _Interaction(
            self._ids.next(),
            "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            kind,
            channel.id,
            channel.guild_id,
            user_id,
            time.monotonic(),
            name=name,
            command_type=command_type,
            source_message_id=message.id if message else None,
            focused_type=focused_type,
        )
        self._interactions[str(interaction.id)] = interaction
        self._by_token[interaction.token] = interaction
        session.dispatch("INTERACTION_CREATE", self._interaction_json(interaction, data, message))
        self._notify()
        return str(interaction.id)

    def _interaction_json(
        self, interaction: _Interaction, data: dict[str, Any], message: _StoredMessage | None
    ) -> dict[str, Any]:
        channel = self._channels[interaction.channel_id]
        user_permissions = self._permissions(channel, interaction.user_id)
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": interaction.type,
            "data": data,
            "token": interaction.token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": self._channel_json(channel) | {"permissions": str(user_permissions)},
            "app_permissions": str(self._permissions(channel, self.bot_user_id)),
            "locale": "en-US",
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "authorizing_integration_owners": {"0": str(channel.guild_id or 0)},
            "context": 0 if channel.guild_id is not None else 1,
        }
        if channel.guild_id is not None:
            guild = self._guilds[channel.guild_id]
            member = self._member_json(guild, guild.members[interaction.user_id])
            payload |= {
                "guild_id": str(guild.id),
                "guild_locale": "en-US",
                "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                "member": member | {"permissions": str(user_permissions)},
            }
        else:
            payload["user"] = self._users[interaction.user_id].json()
        if message is not None:
            payload["message"] = copy.deepcopy(message.payload)
        return payload
