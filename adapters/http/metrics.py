"""The bot's Prometheus metrics, in a registry of their own.

One `Metrics` is built by the composition root and handed to the HTTP app
(which serves it on `GET /metrics`) and to whatever counts things: command
handling, the delivery workers. Each instance owns its registry, so several
apps (tests, several bots in one process) never share or clash over series.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import choose_encoder

from content.delivery.breaker import Breaker, BreakerState
from content.delivery.status import JobKind

# Jobs that change a push already out: counted apart, so that the deliveries
# counter stays one of pushes and a retraction's burst of deletes does not read
# as a burst of sends.
CHANGES = frozenset({JobKind.EDIT, JobKind.DELETE})

# Publish to sent: from well under a second (an idle worker woken by the
# publish) to hours (a large fan-out under the platforms' rate limits).
LATENCY_BUCKETS = (0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0, math.inf)


def _snake(name: str) -> str:
    """`RateLimited` -> `rate_limited`: an outcome's class name as a label value."""
    return "".join(f"_{ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.commands = Counter(
            "explainer_commands_total",
            "Commands handled, by platform and command.",
            ["platform", "command"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "explainer_deliveries_total",
            "Push attempts by platform and outcome (sent, rate_limited, refused, moved, failed, ...).",
            ["platform", "outcome"],
            registry=self.registry,
        )
        self.changes = Counter(
            "explainer_delivery_changes_total",
            "Attempts to edit (a correction) or delete (a retraction) a push already out, by platform, kind "
            "and outcome (sent, vanished: the reader had deleted it, refused, rate_limited, failed, ...).",
            ["platform", "kind", "outcome"],
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "explainer_delivery_latency_seconds",
            "Time from a story's publish to its push being sent, by platform (sends only).",
            ["platform"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.breaker_open = Gauge(
            "explainer_platform_breaker_open",
            "1 while the platform is unavailable and pushes wait for it (its breaker is open), else 0.",
            ["platform"],
            registry=self.registry,
        )
        self.last_sent = Gauge(
            "explainer_platform_last_sent_timestamp_seconds",
            "When the platform last took a push (Unix time; NaN before the first).",
            ["platform"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "explainer_delivery_queue_depth",
            "Deliveries waiting to be sent (pending rows), read at scrape time.",
            registry=self.registry,
        )

    # ----- what the rest of the code calls --------------------------------
    def count_command(self, platform: str, command: str) -> None:
        self.commands.labels(platform=platform, command=command).inc()

    def count_delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform=platform, outcome=outcome).inc()

    def count_change(self, platform: str, kind: str, outcome: str) -> None:
        self.changes.labels(platform=platform, kind=kind, outcome=outcome).inc()

    def observe_delivery_latency(self, platform: str, seconds: float) -> None:
        self.delivery_latency.labels(platform=platform).observe(max(seconds, 0.0))

    def watch_platform(self, platform: str, breaker: Breaker) -> None:
        """The platform's breaker gauges, read from it at every scrape."""
        self.breaker_open.labels(platform=platform).set_function(
            lambda: 1.0 if breaker.state is BreakerState.OPEN else 0.0
        )
        self.last_sent.labels(platform=platform).set_function(
            lambda: breaker.last_sent.timestamp() if breaker.last_sent is not None else math.nan
        )

    def set_queue_depth(self, pending: float) -> None:
        self.queue_depth.set(pending)

    def delivery_outcome(
        self, platform: str, outcome: object, queued_at: datetime | None = None, kind: str = JobKind.SEND
    ) -> None:
        """Count one attempt of a job by its outcome's kind (`Sent` -> "sent",
        `RateLimited` -> "rate_limited", ...): a push in the deliveries, an edit
        or a delete in the changes. A push sent also times publish-to-sent from
        `queued_at` (the delivery row's creation, which is the publish); an
        edit's or a delete's row is created at the correction or retraction, so
        it would time something else."""
        label = _snake(type(outcome).__name__)
        if kind in CHANGES:
            self.count_change(platform, str(kind), label)
            return
        self.count_delivery(platform, label)
        if label == "sent" and queued_at is not None and kind == JobKind.SEND:
            self.observe_delivery_latency(platform, (datetime.now(UTC) - queued_at).total_seconds())

    # ----- exposition -----------------------------------------------------
    def exposition(self, accept: str | None = None) -> tuple[bytes, str]:
        """The registry and its content type: Prometheus' text format, or
        OpenMetrics when the scraper's Accept header asks for it."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type
