"""A chat as the platform names it: the core's handle on a place it answers or pushes to."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ChatKind(StrEnum):
    """What decides who may change what a chat gets, and which limits its pushes keep."""

    PRIVATE = "private"  # one person: the user is the chat
    GROUP = "group"  # many members; only admins change what it follows
    CHANNEL = "channel"  # only admins post


class PlaceForm(StrEnum):
    """How a push lands in the place: the adapters map each onto their platform's."""

    MESSAGES = "messages"  # a message in the chat, topic or thread
    POSTS = "posts"  # a post of its own, titled, starting its own thread (a Discord forum)
    ANNOUNCEMENTS = "announcements"  # a message that can be republished to the places following this one


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as the platform names it; with `thread_id`, a topic or thread within it
    (a Telegram forum topic's message_thread_id, a Discord thread), a place of
    its own. `form` says how pushes land there."""

    platform: str
    chat_id: str
    kind: ChatKind = ChatKind.PRIVATE
    title: str | None = None
    thread_id: str | None = None
    form: PlaceForm = PlaceForm.MESSAGES

    def __post_init__(self) -> None:
        # Callers may spell the kind as text ("group"); the core compares members.
        object.__setattr__(self, "kind", ChatKind(self.kind))
        object.__setattr__(self, "form", PlaceForm(self.form))
        if self.thread_id == "":
            object.__setattr__(self, "thread_id", None)
