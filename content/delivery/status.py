"""The states a delivery row goes through, and the kinds of work the queue carries."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """pending -> sending (leased) -> sent | failed | skipped."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # given up after retries, or refused as a message
    SKIPPED = "skipped"  # not tried: the chat refused the bot, or there was nothing to act on


# Rows that will not be sent.
UNDELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
# Rows a worker still has to do something with.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class JobKind(StrEnum):
    """What a delivery row asks of the platform. Every kind is claimed, leased,
    rate-limited and recorded alike."""

    SEND = "send"  # push a story to a chat: one per (story, chat)
    EDIT = "edit"  # change what an earlier send put in the chat
    DELETE = "delete"  # take an earlier send's messages down
    DIGEST = "digest"  # one message made of several stories
