"""Reading replies in tests: the plain-text rendering the console uses."""

from __future__ import annotations

from adapters.console import render_plain
from content.messages import Card, Message, Reply


def plain(reply: Reply) -> str:
    return "\n\n".join(render_plain(m) for m in reply.messages)


def cards(reply: Reply) -> list[Card]:
    return [b for m in reply.messages for b in m.blocks if isinstance(b, Card)]


def only(reply: Reply) -> Message:
    assert len(reply.messages) == 1, reply
    return reply.messages[0]
