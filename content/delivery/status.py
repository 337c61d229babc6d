"""The states a delivery row goes through, and the kinds of work the queue carries."""

from __future__ import annotations

from enum import StrEnum


class DeliveryStatus(StrEnum):
    """pending -> sending (leased) -> sent | failed | skipped | cancelled."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # given up after retries, or refused as a message
    SKIPPED = "skipped"  # not tried: the chat refused the bot, or there was nothing to act on
    CANCELLED = "cancelled"  # no longer wanted: the story was withdrawn before it went out


# Rows that will not be sent.
UNDELIVERED = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED, DeliveryStatus.CANCELLED)
# Rows that will not be sent although the story stands: what a report lists as failures.
NOT_SENT = (DeliveryStatus.FAILED, DeliveryStatus.SKIPPED)
# Sends that reached, or may still reach, their chat: what a correction or a retraction follows.
REACHING = (DeliveryStatus.SENDING, DeliveryStatus.SENT)
# Rows a worker still has to do something with.
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class JobKind(StrEnum):
    """What a delivery row asks of the platform. Every kind is claimed, leased,
    rate-limited and recorded alike."""

    SEND = "send"  # push a story to a chat: one per (story, chat)
    EDIT = "edit"  # change what an earlier send put in the chat
    DELETE = "delete"  # take an earlier send's messages down
    DIGEST = "digest"  # one message made of several stories
