"""A chat as the platform names it: the core's handle on a place it answers or pushes to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChatKind(StrEnum):
    """What decides who may change what a chat gets, and which limits its pushes keep."""

    PRIVATE = "private"  # one person: the user is the chat
    GROUP = "group"  # many members; only admins change what it follows
    CHANNEL = "channel"  # only admins post


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as the platform names it; with `thread_id`, a topic or thread within it
    (a Telegram forum topic's message_thread_id), a place of its own."""

    platform: str
    chat_id: str
    kind: ChatKind = ChatKind.PRIVATE
    title: str | None = None
    thread_id: str | None = None

    def __post_init__(self) -> None:
        # Callers may spell the kind as text ("group"); the core compares members.
        object.__setattr__(self, "kind", ChatKind(self.kind))
        if self.thread_id == "":
            object.__setattr__(self, "thread_id", None)
