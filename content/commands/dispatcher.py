"""What each command answers. Every adapter calls this; none decides it."""
from __future__ import annotations

import re
from collections.abc import Callable

from content.chats.follows import Follows
from content.chats.lifecycle import Chats
from content.commands import browse, follows, glossary, help
from content.commands.caller import Caller
from content.commands.completion import choices
from content.commands.flood import FloodGuard, Verdict
from content.commands.inline import InlineResult, inline_results
from content.commands.spec import MAX_ARGUMENT, Services
from content.keys import clean_input
from content.messages import Reply, Span
from content.replies.text import refusal
from content.stories.catalog import Catalog
from content.stories.search import Search

_COMMAND = re.compile(r"/([A-Za-z0-9_]{1,32})(?:@[A-Za-z0-9_]{1,64})?$")


_HANDLERS = {
    "start": help.start,
    "help": help.help,
    "latest": browse.latest,
    "story": browse.story,
    "explain": glossary.explain,
    "search": browse.search,
    "tags": browse.tags,
    "subscribe": follows.subscribe,
    "unsubscribe": follows.unsubscribe,
    "subscriptions": follows.subscriptions,
}
_BUTTONS = {"story": browse.open_story, "more": browse.more}


class Commands:
    def __init__(
        self,
        catalog: Catalog,
        search: Search,
        chats: Chats,
        follows: Follows,
        flood: FloodGuard | None = None,
        on_command: Callable[[str, str], None] | None = None,
    ) -> None:
        self._services = Services(catalog, search, chats, follows)
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
            return await self.run(caller, "explain", line)
        head, _, args = line.partition(" ")
        match = _COMMAND.fullmatch(head)
        if match is None:
            return refusal("That isn't a command I know. Send ", Span("/help", code=True), " for the list.")
        return await self.run(caller, match.group(1).lower(), args)

    async def command(self, caller: Caller, name: str, args: str = "") -> Reply:
        """A command already parsed by the platform (a slash command with options)."""
        held = await self._admit(caller)
        return held if held is not None else await self.run(caller, name, args)

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
                return refusal(f"Slow down: that's more than {self._flood.limit} commands in {self._flood.window:g} seconds. Try again in {wait} s.")
        await self._chats.reactivate(caller.chat)
        return None

    async def run(self, caller: Caller, name: str, args: str = "") -> Reply:
        handler = _HANDLERS.get(name.lower())
        if self._on_command is not None:
            self._on_command(caller.chat.platform, name.lower() if handler is not None else "unknown")
        if handler is None:
            return refusal(f"There's no /{name[:32]} command. Send ", Span("/help", code=True), " for the list.")
        args = clean_input(args)
        if len(args) > MAX_ARGUMENT:
            return refusal(f"That's too long for me: keep it under {MAX_ARGUMENT} characters.")
        return await handler(self._services, caller, args)

    async def press(self, caller: Caller, action: str, argument: str) -> Reply:
        """A button from an earlier answer; stale or forged ones get a polite answer."""
        held = await self._admit(caller)
        if held is not None:
            return held
        handler = _BUTTONS.get(action)
        reply = await handler(self._services, caller, argument) if handler is not None else None
        if reply is not None:
            return reply
        return refusal("That button has expired. Send ", Span("/latest", code=True), " for fresh stories.")

    async def inline(self, query: str, limit: int = 10) -> list[InlineResult]:
        """Terms and stories for a query typed inline (not metered: it runs per keystroke)."""
        return await inline_results(self._services, query, limit)

    async def complete(self, kind: str, typed: str, limit: int = 25) -> list[tuple[str, str]]:
        """(label, value) choices for a partly typed tag, term or story slug."""
        return await choices(self._services, kind, typed, limit)
