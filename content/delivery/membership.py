"""Which worker sends to which chats: the live workers of a platform divide them.

Every delivery worker keeps a heartbeat row. The workers whose heartbeat is
younger than the lease are the live ones; sorted by id, the k-th of n takes
the chats whose id is k modulo n, and sends at the platform's rate divided by
n, so that together they keep its limits and one worker at a time keeps each
chat's own. A worker that stops beating drops out after a lease and the
others take its chats; one that starts joins at their next beats. Nothing is
configured per process.

A change of the live set is a handover: a worker keeps finishing what it holds
but claims nothing for a beat and a margin, so that by the time it claims under
the new division every other worker has seen it too and slowed to its new rate.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update

from content.db import SessionFactory
from content.dialect import insert_for
from content.models import DeliveryWorkerBeat, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Share:
    index: int  # this worker's place among the live ones
    count: int  # how many are live


class Membership:
    def __init__(self, sessions: SessionFactory, platform: str, lease_seconds: float) -> None:
        self._sessions = sessions
        self.platform = platform
        self.lease = timedelta(seconds=lease_seconds)
        self.worker_id = uuid.uuid4().hex
        self.share = Share(0, 1)

    async def beat(self) -> Share:
        """Renews this worker's heartbeat and reads the live set; returns this worker's share."""
        now = utcnow()
        async with self._sessions.begin() as session:
            found = await session.execute(
                update(DeliveryWorkerBeat)
                .where(DeliveryWorkerBeat.id == self.worker_id)
                .values(beat_at=now)
                .returning(DeliveryWorkerBeat.id)
            )
            if found.first() is None:
                await session.execute(
                    insert_for(session, DeliveryWorkerBeat)
                    .values(id=self.worker_id, platform=self.platform, started_at=now, beat_at=now)
                    .on_conflict_do_nothing()
                )
            # Workers gone for ten leases are forgotten; those gone for one no longer count.
            await session.execute(delete(DeliveryWorkerBeat).where(DeliveryWorkerBeat.beat_at < now - 10 * self.lease))
            live = list(
                (
                    await session.execute(
                        select(DeliveryWorkerBeat.id)
                        .where(
                            DeliveryWorkerBeat.platform == self.platform, DeliveryWorkerBeat.beat_at >= now - self.lease
                        )
                        .order_by(DeliveryWorkerBeat.id)
                    )
                ).scalars()
            )
        share = Share(live.index(self.worker_id), len(live))
        if share != self.share:
            log.info(
                "%s delivery: %d worker(s) live, this one takes chats %d modulo %d",
                self.platform,
                share.count,
                share.index,
                share.count,
            )
        self.share = share
        return share

    async def leave(self) -> None:
        """Gone on purpose: the others take over at their next beat, not after a lease."""
        async with self._sessions.begin() as session:
            await session.execute(delete(DeliveryWorkerBeat).where(DeliveryWorkerBeat.id == self.worker_id))
