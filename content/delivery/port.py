"""The port the adapters implement: how a platform's sender sends, edits and deletes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from content.chats.ref import ChatRef
from content.delivery.outcomes import Outcome
from content.messages import Message


@dataclass(frozen=True, slots=True)
class Target:
    """Where a job acts: the chat (and its thread, when it names one) and, for
    an edit or a delete, the platform's ids of the messages an earlier send
    put there, in order. `republish`: the place asked for each push to be
    published onward to the places following it. `silent`: it is the
    place's quiet hours, so the push goes without a notification sound."""

    chat: ChatRef
    message_ids: tuple[str, ...] = ()
    republish: bool = False
    silent: bool = False


class Sender(Protocol):
    """A platform's way of acting on one chat. Each method answers with an
    outcome and never raises for what the platform said."""

    platform: str

    async def send(self, target: Target, message: Message) -> Outcome:
        """Post `message`; Sent carries the ids of the messages it became."""
        ...

    async def edit(self, target: Target, message: Message) -> Outcome:
        """Make `target.message_ids` show `message` instead. When it needs more
        or fewer parts than before, parts are sent or deleted so that the chat
        shows exactly `message`; Sent carries the ids it shows now."""
        ...

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        """Take `target.message_ids` down; a message already gone counts as
        deleted. Where the platform will not delete a message (Telegram's,
        after 48 hours), it is edited to show `notice` instead, when given."""
        ...


@dataclass(frozen=True, slots=True)
class PartsChange:
    """How a push that went out in parts becomes a version with another number
    of parts: the parts both have are edited in place (message id, part index),
    the new version's extra parts are sent as new messages, and the messages
    it no longer needs are dropped (deleted, or emptied where the platform
    keeps them)."""

    edit: tuple[tuple[str, int], ...]
    send: tuple[int, ...]
    drop: tuple[str, ...]


def change_parts(message_ids: tuple[str, ...], parts: int) -> PartsChange:
    kept = min(len(message_ids), parts)
    return PartsChange(
        edit=tuple(zip(message_ids[:kept], range(kept))),
        send=tuple(range(kept, parts)),
        drop=message_ids[kept:],
    )
