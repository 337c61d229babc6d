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
