"""How a platform is doing, as /healthz shows it: the adapter's connection and
its delivery worker's breaker, in one word and the facts behind it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from content.delivery.breaker import BreakerState, BreakerView


class PlatformState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # the platform stopped answering: pushes wait for it
    CONNECTING = "connecting"  # the adapter is not connected (yet, or again)


@dataclass(frozen=True, slots=True)
class PlatformHealth:
    state: PlatformState
    since: datetime | None = None  # when it became degraded
    last_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.state is PlatformState.OK


def platform_health(connected: bool, breaker: BreakerView | None = None) -> PlatformHealth:
    """An open breaker says more than a connection: pushes are waiting."""
    if breaker is not None and breaker.state is BreakerState.OPEN:
        return PlatformHealth(PlatformState.DEGRADED, breaker.since, breaker.last_error)
    return PlatformHealth(PlatformState.OK if connected else PlatformState.CONNECTING)
