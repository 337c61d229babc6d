"""The core's entry points: every adapter calls these, and none decides what a command answers.

`Commands` admits the caller (flood protection; using the bot brings a chat
back), counts the command, looks it up in the registry, parses typed text
into the arguments typed options give, lets `places` decide whether the
caller may run it where it acts, and calls its handler.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from content.chats.access import NoPlace, Place
from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.chats.settings import ChatSettings
from content.commands.caller import Caller
from content.commands.completion import choices
from content.commands.flood import FloodGuard, Verdict
from content.commands.inline import InlineResult, inline_results
from content.commands.parsing import MAX_ARGUMENT, parse
from content.commands.places import named, refusal_for
from content.commands.registry import BUTTONS, BY_NAME, COMMANDS, PLAIN_WORDS
from content.commands.spec import (
    ArgKind,
    Arguments,
    CommandSpec,
    Completion,
    Newsroom,
    Request,
    Services,
)
from content.keys import clean_input
from content.messages import Reply, Span
from content.replies.text import refusal
from content.stories.catalog import Catalog
from content.stories.search import Search

_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?$")


class Commands:
    def __init__(
        self,
        catalog: Catalog,
        search: Search,
        chats: Chats,
        follows: Follows,
        settings: ChatSettings,
        *,
        flood: FloodGuard | None = None,
        on_command: Callable[[str, str], None] | None = None,
        newsroom: Newsroom = Newsroom(),
    ) -> None:
        self._services = Services(catalog, search, chats, follows, settings, menu=COMMANDS, newsroom=newsroom)
        self._chats = chats
        self._flood = flood
        self._on_command = on_command  # (platform, command): for metrics

    # ----- entry points ---------------------------------------------------
    async def handle_text(self, caller: Caller, raw: str) -> Reply:
        """A line as the user typed it: `/command@bot args`, or plain words to explain."""
        line = clean_input(raw)
        if not line:
            return Reply()
        held = await self._admit(caller)
        if held is not None:
            return held
        if not line.startswith("/"):
            name, text = PLAIN_WORDS.name, line
        else:
            head, _, text = line.partition(" ")
            match = _COMMAND.fullmatch(head)
            if match is None:
                return refusal("That isn't a command I know. Send ", Span("/help", code=True), " for the list.")
            name = match.group(1).lower()
        spec = self._look_up(caller, name)
        if spec is None:
            return _no_such(name)
        if len(text) > MAX_ARGUMENT:
            return _too_long()
        return await self._call(spec, caller, await parse(spec, text, caller.places))

    async def command(self, caller: Caller, name: str, args: Mapping[str, object] | None = None) -> Reply:
        """A command the platform parsed already (a slash command with typed options).

        `args` maps argument names to values as `Arguments` holds them, e.g.
        `{"count": 2, "tag": "xAI"}` or `{"tag": "xAI", "channel": Place(...)}`;
        None stands for an option not given.
        """
        held = await self._admit(caller)
        if held is not None:
            return held
        spec = self._look_up(caller, name)
        if spec is None:
            return _no_such(name)
        values: dict[str, object] = {}
        for argument in spec.arguments:
            value = (args or {}).get(argument.name)
            if value is None:
                continue
            if not _fits(argument.kind, value):
                raise TypeError(f"/{spec.name} {argument.name}: {type(value).__name__} is no {argument.kind}")
            if isinstance(value, str):
                value = clean_input(value)
                if len(value) > MAX_ARGUMENT:
                    return _too_long()
            values[argument.name] = value
        return await self._call(spec, caller, Arguments(values))

    async def press(self, caller: Caller, action: str, argument: str) -> Reply:
        """A button from an earlier answer; stale or forged ones get a polite answer."""
        held = await self._admit(caller)
        if held is not None:
            return held
        handler = BUTTONS.get(action)
        reply = await handler(self._services, caller, argument) if handler is not None else None
        if reply is not None:
            return reply
        return refusal("That button has expired. Send ", Span("/latest", code=True), " for fresh stories.")

    async def inline(self, query: str, limit: int = 10) -> list[InlineResult]:
        """Terms and stories for a query typed inline (not metered: it runs per keystroke)."""
        return await inline_results(self._services, query, limit)

    async def complete(self, kind: Completion | str, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for a partly typed tag, term or story slug."""
        try:
            source = Completion(kind)
        except ValueError:
            return []
        return await choices(self._services, source, typed, limit)

    # ----- the steps --------------------------------------------------------
    async def _admit(self, caller: Caller) -> Reply | None:
        """None to go on; otherwise the answer (maybe empty) to a flooding user.

        Using the bot is also what brings back a chat that had blocked it.
        """
        if self._flood is not None and caller.metered:
            who = f"{caller.chat.platform}:{caller.user_id}"
            verdict = self._flood.check(who)
            if verdict is Verdict.DROP:
                return Reply()
            if verdict is Verdict.WARN:
                wait = self._flood.retry_in(who)
                return refusal(
                    f"Slow down: that's more than {self._flood.limit} commands in {self._flood.window:g} seconds. Try again in {wait} s."
                )
        await self._chats.reactivate(caller.chat)
        return None

    def _look_up(self, caller: Caller, name: str) -> CommandSpec | None:
        """The command's spec; every name asked for is counted, unknown ones as "unknown"."""
        spec = BY_NAME.get(name.lower())
        if self._on_command is not None:
            self._on_command(caller.chat.platform, spec.name if spec is not None else "unknown")
        return spec

    async def _call(self, spec: CommandSpec, caller: Caller, arguments: Arguments) -> Reply:
        where = spec.argument_of(ArgKind.PLACE)
        place = arguments.place(where.name) if where is not None else None
        denied = await refusal_for(spec, caller, place)
        if denied is not None:
            return denied
        if isinstance(place, Place):
            return named(place, await spec.handler(self._services, Request(caller, arguments, place.chat)))
        return await spec.handler(self._services, Request(caller, arguments, caller.chat))


def _fits(kind: ArgKind, value: object) -> bool:
    if kind is ArgKind.COUNT:
        return isinstance(value, int) and not isinstance(value, bool)
    if kind is ArgKind.PLACE:
        return isinstance(value, (Place, NoPlace))
    if kind is ArgKind.SWITCH:
        return isinstance(value, bool)
    return kind.is_text and isinstance(value, str)


def _no_such(name: str) -> Reply:
    return refusal(f"There's no /{name[:32]} command. Send ", Span("/help", code=True), " for the list.")


def _too_long() -> Reply:
    return refusal(f"That's too long for me: keep it under {MAX_ARGUMENT} characters.")
