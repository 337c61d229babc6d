"""Bot commands: setMyCommands, getMyCommands and deleteMyCommands per scope and
language, the checks on a command's name and description, and how Telegram spots a
"/command" (and its @addressee) in a user's text. Everything about commands in one
place, for the server's user actions and privacy mode as much as for the methods."""

from __future__ import annotations

import json
import re
from typing import Any

from ..constants import MAX_COMMANDS
from ..errors import bad_request
from ..html import utf16_len

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class CommandMethodsMixin:
    """FakeTelegram's setMyCommands, getMyCommands and deleteMyCommands."""

    # ----- methods: commands ------------------------------------------------------------------------
    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            _check_command(command)
        self.commands = commands
        self.commands_by_scope[self._scope_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands_by_scope.get(self._scope_key(params), [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands_by_scope.pop(self._scope_key(params), None)
        self.commands = None
        return True


def _command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram marks at the start of a user's "/command"."""
    command = _COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}] if command else []


def _check_command(command: Any) -> None:
    if not isinstance(command, dict) or not isinstance(command.get("command"), str):
        raise bad_request("can't parse BotCommand JSON object")
    if not _BOT_COMMAND_NAME.fullmatch(command["command"]):
        raise bad_request("BOT_COMMAND_INVALID")
    description = command.get("description")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
