"""A chat as the platform names it: the core's handle on a place it answers or pushes to."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat as the platform names it."""

    platform: str
    chat_id: str
    kind: str = "private"  # private | group | channel
    title: str | None = None
