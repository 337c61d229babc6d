"""The console chat: one private chat in a terminal, or commands from a pipe.

It renders the core's messages as plain text. Buttons become the command
that does the same, so every path the platforms offer can be tried here.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
import textwrap
from typing import TextIO

from content.chats.ref import ChatKind, ChatRef
from content.commands.caller import Caller
from content.commands.dispatcher import Commands
from content.delivery.outcomes import Sent
from content.delivery.port import Target
from content.messages import (
    Action,
    Block,
    BulletList,
    Card,
    CodeBlock,
    Heading,
    Inline,
    Message,
    Paragraph,
)

WIDTH = 78
CONSOLE_CHAT = ChatRef(platform="console", chat_id="local", kind=ChatKind.PRIVATE, title="console")


def _inline(spans: Inline) -> str:
    out = []
    for span in spans:
        value = span.text
        if span.code:
            value = f"`{value}`" if not value.startswith("/") else value
        if span.url and span.url != span.text:
            value = f"{value} <{span.url}>"
        out.append(value)
    return "".join(out)


def _wrap(value: str, indent: str = "", first: str | None = None) -> list[str]:
    lines: list[str] = []
    for i, piece in enumerate(value.split("\n")):
        lead = first if (first is not None and i == 0) else indent
        lines.extend(
            textwrap.wrap(
                piece,
                WIDTH,
                initial_indent=lead,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            )
            or [lead]
        )
    return lines


def _block(block: Block, indent: str = "") -> list[str]:
    if isinstance(block, Heading):
        title = _inline(block.spans)
        return ["", indent + title, indent + "─" * min(len(title), WIDTH - len(indent))]
    if isinstance(block, Paragraph):
        return _wrap(_inline(block.spans), indent)
    if isinstance(block, BulletList):
        lines: list[str] = []
        for item in block.items:
            lines.extend(_wrap(_inline(item), indent + "  ", first=indent + "• "))
        return lines
    if isinstance(block, CodeBlock):
        return [indent + "    " + line for line in block.text.splitlines()]
    if isinstance(block, Card):
        # The card's link is printed by its "Read more" line, not twice.
        lines = ["", indent + block.title]
        if block.meta:
            lines.append(indent + _inline(block.meta))
        for inner in block.blocks:
            lines.extend(_block(inner, indent + "  "))
        if block.footer:
            lines.append(indent + "  " + _inline(block.footer))
        return lines
    return []


def render_plain(message: Message) -> str:
    lines: list[str] = []
    for block in message.blocks:
        lines.extend(_block(block))
    for row in message.buttons:
        for button in row:
            hints: dict[str, str] = {
                Action.STORY: f"/story {button.argument}",
                Action.MORE: f"more {button.argument}",
            }
            if not button.argument.startswith("#"):  # a term's key is what /explain looks up
                hints[Action.DEFINE] = f"/explain {button.argument}"
            hint = hints.get(button.action)
            lines.append(f"  [{button.label}] → {hint}" if hint else f"  [{button.label}]")
    return "\n".join(lines).strip("\n")


async def run_console(commands: Commands, source: TextIO = sys.stdin, sink: TextIO = sys.stdout) -> None:
    """Reads one command a line until end of input; prompts only on a terminal."""
    interactive = source.isatty()
    caller = Caller(chat=CONSOLE_CHAT, user_id="local", is_admin=True, metered=False)
    if interactive:
        sink.write("Explainer bot console. Type /help for the commands, Ctrl-D to leave.\n")
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            sink.write("> ")
            sink.flush()
        line = await loop.run_in_executor(None, source.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if not interactive and line.strip():
            sink.write(f"> {line}\n")
        # "more OFFSET:TAG" presses the More button the previous list offered.
        if line.startswith("more "):
            action, _, argument = line.partition(" ")
            reply = await commands.press(caller, action, argument.strip())
        else:
            reply = await commands.handle_text(caller, line)
        for message in reply.messages:
            sink.write(render_plain(message) + "\n\n")
        sink.flush()


class ConsoleSender:
    """Pushes to the console chat: printed between the prompts, as a chat app would show them.
    A push is numbered, so that a later edit or delete can say which one it changes."""

    platform = "console"

    def __init__(self, sink: TextIO = sys.stdout) -> None:
        self.sink = sink
        self._numbers = itertools.count(1)

    def _show(self, banner: str, body: str = "") -> None:
        self.sink.write(f"\n── {banner} ──\n" + (body + "\n\n" if body else "\n"))
        self.sink.flush()

    async def send(self, target: Target, message: Message) -> Sent:
        number = next(self._numbers)
        self._show(f"New story for you (#{number})", render_plain(message))
        return Sent((str(number),))

    async def edit(self, target: Target, message: Message) -> Sent:
        self._show(f"Corrected: story #{target.message_ids[0]}", render_plain(message))
        return Sent(target.message_ids[:1])

    async def delete(self, target: Target, notice: Message | None = None) -> Sent:
        self._show(f"Withdrawn: story #{target.message_ids[0]}", render_plain(notice) if notice is not None else "")
        return Sent(())
