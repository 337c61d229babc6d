"""REST routes for application commands: reading and bulk-overwriting the global or a
guild's commands, checked by validation.check_commands and stored the way Discord
keeps them (ids stable across syncs)."""

from __future__ import annotations

import copy
from typing import Any

from ..constants import CHAT_INPUT
from ..errors import missing_access
from ..validation import check_commands


class CommandRoutesMixin:
    """FakeDiscord's /applications/{id}/commands routes, global and per guild."""

    # ----- REST: application commands ----------------------------------------------------------------------
    def _command_scope(self, params: dict[str, str]) -> int | None:
        if self._snowflake(params, "application_id") != self.application_id:
            raise missing_access()
        if "guild_id" not in params:
            return None
        guild_id = self._snowflake(params, "guild_id")
        if guild_id not in self._guilds:
            raise missing_access()  # what Discord answers for a guild the app is not in
        return guild_id

    async def _get_commands(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._command_scope(params), []))

    async def _put_commands(self, params: dict[str, str], body: Any, **_: Any) -> list[dict[str, Any]]:
        scope = self._command_scope(params)
        check_commands(body)
        self.commands[scope] = [self._registered(scope, command) for command in body]
        return copy.deepcopy(self.commands[scope])

    def _registered(self, scope: int | None, command: dict[str, Any]) -> dict[str, Any]:
        """A command as Discord stores it: ids kept across syncs, permissions as a string."""
        kind = command.get("type", CHAT_INPUT)
        key = (scope, kind, command["name"])
        command_id = self._command_ids.setdefault(key, self._ids.next())
        permissions = command.get("default_member_permissions")
        stored = {
            "id": str(command_id),
            "application_id": str(self.application_id),
            "version": str(self._ids.next()),
            "type": kind,
            "name": command["name"],
            "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "default_member_permissions": None if permissions is None else str(permissions),
            "nsfw": bool(command.get("nsfw", False)),
            "contexts": command.get("contexts"),
            "integration_types": command.get("integration_types") or [0],
        }
        if command.get("options"):
            stored["options"] = copy.deepcopy(command["options"])
        if scope is None:
            stored["dm_permission"] = command.get("dm_permission", True)
        else:
            stored["guild_id"] = str(scope)
        return stored
