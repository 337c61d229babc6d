"""What a platform answered to one job (a send, an edit, a delete): the
outcomes the adapters' senders translate their platform's answers and errors into."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Sent:
    """Done. `message_ids`: the platform's ids of the messages the chat now
    shows for it, in order (a long story goes in parts; a delete leaves none).
    `note`: what went otherwise than asked without failing (a push the
    platform would not republish within its hourly limit), kept on the row."""

    message_ids: tuple[str, ...] = ()
    note: str | None = None

    @property
    def message_id(self) -> str | None:
        return self.message_ids[0] if self.message_ids else None


@dataclass(frozen=True, slots=True)
class RateLimited:
    retry_after: float


@dataclass(frozen=True, slots=True)
class Refused:
    """The chat will not take messages (blocked, kicked, missing access), or,
    with `thread_only`, its topic or thread will not (deleted or closed) while
    the chat and its other threads still do."""

    reason: str
    thread_only: bool = False


@dataclass(frozen=True, slots=True)
class Moved:
    """The chat lives under another id now (Telegram's supergroup upgrade)."""

    new_chat_id: str


@dataclass(frozen=True, slots=True)
class Unavailable:
    """The platform did not answer (5xx, an answer that is not the API's, a
    timeout, a refused or reset connection): nothing is known about the chat,
    so the job waits for the platform and spends no attempt."""

    error: str


@dataclass(frozen=True, slots=True)
class Vanished:
    """What an edit or a delete acts on is no longer there (the reader deleted
    the message, or it can no longer be changed): nothing is left to do, and
    it is noted, not failed."""

    reason: str


@dataclass(frozen=True, slots=True)
class Failed:
    error: str
    # Worth another try (an error of this job the platform may not repeat), or not (a rejected message).
    transient: bool = True


Outcome = Sent | RateLimited | Refused | Moved | Unavailable | Vanished | Failed
