#!/usr/bin/env python
"""How long publishing a story takes when its tags fan out to a big audience.

    python bench/delivery_planning.py [--database sqlite|postgres|both] [--chats 500000]
        [--subscriptions 1000000] [--tags 6] [--story-tags 3] [--claims 3] [--claim-size 200]
        [--postgres-url URL] [--seed N] [--keep]

For each database this builds a throw-away database, migrates it the way the
app does, loads `--chats` active Telegram chats, `--tags` tags and
`--subscriptions` subscription rows (each chat follows the same number of tags,
drawn at random, so the story's tags overlap: with 2 of 6 tags per chat, 80 %
of the chats follow at least one of the story's 3 and a quarter of those
follow two), then times one `Publisher.publish(draft)`: the whole transaction
that saves the story and queues one delivery per distinct active follower
(one INSERT ... SELECT DISTINCT). Around that call it measures the process's
memory three ways:

* tracemalloc's peak (Python allocations only; started just before the call),
* RSS sampled every 2 ms in a thread from /proc/self/status (VmRSS), which also
  counts what SQLite itself allocates in this process, and the kernel's own
  high-water mark (VmHWM, reset just before the call through /proc/self/clear_refs),
* getrusage(RUSAGE_SELF).ru_maxrss after the call minus the RSS before it.
  ru_maxrss is the same kernel high-water mark as VmHWM, so with the reset it
  is the peak of the publish itself; where the reset is refused it is the
  process's lifetime peak (the load's, likely), and the delta a lower bound.

On PostgreSQL it then asks the server for its side of the work: EXPLAIN
(ANALYZE, BUFFERS) of exactly the INSERT ... SELECT the Publisher builds, for a
second story with the same tags, in a transaction that is rolled back. On
SQLite it shows EXPLAIN QUERY PLAN of the same statement.

Then the first claims of the delivery queue on the fan-out (`--claims` of
`--claim-size` rows, as DeliveryWorker makes them): timed, with the plan of
their pick of pending rows, on the statistics from before the publish and
again after ANALYZE of the deliveries (as autovacuum would do).

It prints a table and writes `bench/results-planning-<database>.json`. The
budget (PostgreSQL): the publish under 10 s and under 300 MB.

Nothing outside the scratch database is touched: SQLite lives in a temporary
folder, and the PostgreSQL database is dropped at the end, even on error.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import platform
import random
import resource
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

# Run as a plain script from anywhere: the project is not installed as a package.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch import (
    DEFAULT_POSTGRES_URL,
    cancel_on_sigterm,
    scratch_for,
    server_version,
    settle,
)
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ClauseElement, Executable

from content import db
from content.delivery.queue import DeliveryQueue
from content.keys import key_of
from content.models import Chat, Delivery, Subscription, Tag, utcnow
from content.publishing.fanout import queue_fanout
from content.publishing.publisher import Publisher
from content.stories.drafts import StoryDraft
from content.stories.writer import StoryWriter

RESULTS_DIR = Path(__file__).resolve().parent
TARGET_SECONDS = 10.0
TARGET_MB = 300.0
BATCH_ROWS = 20_000
TAG_NAMES = ("xAI", "OpenAI", "Anthropic", "Google", "Nvidia", "Meta", "Microsoft", "Elon Musk", "Chips", "Policy")
MB = 1024 * 1024


# ----- the audience ------------------------------------------------------------


@dataclass
class Audience:
    chats: int
    subscriptions: int
    tag_ids: list[int]
    story_tag_names: tuple[str, ...]
    followers: int  # distinct chats following at least one of the story's tags
    story_tag_subscriptions: int  # subscription rows on the story's tags (before DISTINCT)


def follows(rng: random.Random, chats: int, subscriptions: int, tags: int) -> Iterator[tuple[int, list[int]]]:
    """(chat id, the tag ids it follows): the rows spread evenly, the tags drawn at random."""
    each, extra = divmod(subscriptions, chats)
    for chat_id in range(1, chats + 1):
        count = each + (1 if chat_id <= extra else 0)
        yield chat_id, rng.sample(range(1, tags + 1), count)


async def load(engine: AsyncEngine, args: argparse.Namespace) -> Audience:
    """Chats, tags and subscriptions, in one transaction, batch by batch (bounded memory)."""
    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(microsecond=0)
    story_tags = set(range(1, args.story_tags + 1))
    followers = story_subscriptions = 0
    postgres = engine.dialect.name == "postgresql"
    async with engine.begin() as connection:
        await connection.execute(
            insert(Tag.__table__),
            [
                {"id": i, "key": key_of(name), "name": name, "story_count": 0}
                for i, name in enumerate(TAG_NAMES[: args.tags], 1)
            ],
        )
        copy = None
        if postgres:
            # COPY is the PostgreSQL bulk path: 1.5 million rows in seconds rather than a minute.
            raw = await connection.get_raw_connection()
            copy = raw.driver_connection.copy_records_to_table

        async def put(table, columns: list[str], rows: list[tuple]) -> None:
            if copy is not None:
                await copy(table.name, records=rows, columns=columns)
            else:
                await connection.execute(insert(table), [dict(zip(columns, row)) for row in rows])

        chat_columns = ["id", "platform", "platform_chat_id", "kind", "title", "active", "created_at", "updated_at"]
        for start in range(1, args.chats + 1, BATCH_ROWS):
            stop = min(args.chats + 1, start + BATCH_ROWS)
            await put(
                Chat.__table__,
                chat_columns,
                [(i, "telegram", str(i), "private", None, True, now, now) for i in range(start, stop)],
            )

        batch: list[tuple] = []
        for chat_id, tag_ids in follows(rng, args.chats, args.subscriptions, args.tags):
            hits = story_tags.intersection(tag_ids)
            followers += bool(hits)
            story_subscriptions += len(hits)
            batch.extend((chat_id, tag_id, now) for tag_id in tag_ids)
            if len(batch) >= BATCH_ROWS:
                await put(Subscription.__table__, ["chat_id", "tag_id", "created_at"], batch)
                batch = []
        if batch:
            await put(Subscription.__table__, ["chat_id", "tag_id", "created_at"], batch)
        if postgres:
            for table in ("chats", "tags"):
                await connection.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
    await settle(engine)
    return Audience(
        args.chats,
        args.subscriptions,
        list(range(1, args.tags + 1)),
        TAG_NAMES[: args.story_tags],
        followers,
        story_subscriptions,
    )


def draft_for(audience: Audience, slug: str) -> StoryDraft:
    return StoryDraft(
        slug=slug,
        title="Musk says xAI partly used distillation of OpenAI models",
        summary="A story every follower of its tags gets pushed, once.",
        category="AI",
        published_at=datetime.now(UTC).replace(microsecond=0),
        tags=audience.story_tag_names,
        url=None,
        terms=(),
        body="Lead.\n\n## What happened\n\nA section.",
    )


# ----- memory ------------------------------------------------------------------


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


class RssSampler:
    """VmRSS every `interval` seconds in a thread; the GIL is released while the
    event loop waits on the server (PostgreSQL) or SQLite works in aiosqlite's thread."""

    def __init__(self, interval: float = 0.002) -> None:
        self.interval = interval
        self.peak_kb = 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _status_kb("VmRSS"))
            self.samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kb = max(self.peak_kb, _status_kb("VmRSS"))


def reset_hwm() -> bool:
    """Resets VmHWM (the kernel's peak RSS) to the current RSS, Linux 4.0+."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


# ----- what the server says ------------------------------------------------------


class Explain(Executable, ClauseElement):
    """`EXPLAIN ... <statement>`, with the statement's parameters bound as usual."""

    inherit_cache = False

    def __init__(self, statement, prefix: str) -> None:
        self.statement = statement
        self.prefix = prefix


@compiles(Explain)
def _compile_explain(element: Explain, compiler, **kw) -> str:
    inner = compiler.process(element.statement, **kw)
    # The INSERT inside marked the whole statement as one; EXPLAIN returns rows, and no row counts.
    compiler.isinsert = compiler.isupdate = compiler.isdelete = False
    return f"{element.prefix} {inner}"


class ExplainingSession:
    """Handed to `queue_fanout` in place of its session: the INSERT the
    publisher builds is explained instead of executed, so the plan is the app's
    own (anything else it runs, runs as it is)."""

    def __init__(self, session, prefix: str) -> None:
        self._session = session
        self._prefix = prefix
        self.lines: list[str] = []

    def get_bind(self):
        return self._session.get_bind()

    async def execute(self, statement):
        if not statement.is_dml:
            return await self._session.execute(statement)
        result = await self._session.execute(Explain(statement, self._prefix))
        self.lines = [str(row[-1]) for row in result.all()]
        return SimpleNamespace(rowcount=0)


async def explain_queueing(
    sessions: db.SessionFactory, writer: StoryWriter, draft: StoryDraft, postgres: bool
) -> list[str]:
    """The plan of the fan-out for another story with the same tags; nothing is kept."""
    prefix = "EXPLAIN (ANALYZE, BUFFERS, VERBOSE OFF)" if postgres else "EXPLAIN QUERY PLAN"
    async with sessions() as session:
        transaction = await session.begin()
        try:
            saved = await writer.save_in(session, draft)
            explaining = ExplainingSession(session, prefix)
            await queue_fanout(explaining, saved.story_id, saved.tag_ids)  # type: ignore[arg-type] - the app's statement, explained
            return explaining.lines
        finally:
            await transaction.rollback()


async def claims(engine: AsyncEngine, sessions: db.SessionFactory, postgres: bool, count: int, size: int) -> dict:
    """`count` claims of `size` rows, as DeliveryWorker makes them (they commit: these rows
    become 'sending', as a worker would leave them), and the plan of their pick of pending rows."""
    queue = DeliveryQueue(sessions)
    pick = queue.picks("telegram", utcnow(), postgres=postgres)[1].limit(size)
    prefix = "EXPLAIN (ANALYZE, BUFFERS)" if postgres else "EXPLAIN QUERY PLAN"
    async with engine.connect() as connection:
        plan = [str(row[-1]) for row in (await connection.execute(Explain(pick, prefix))).all()]
        await connection.rollback()
    timings = []
    for _ in range(count):
        began = time.perf_counter()
        claimed = await queue.claim("telegram", size)
        timings.append(round((time.perf_counter() - began) * 1000, 1))
        if len(claimed) != size:
            raise RuntimeError(f"claimed {len(claimed)} rows, expected {size}")
    return {
        "claim_ms": timings,
        "plan": plan,
        "pick_execution_ms": server_ms(plan, "Execution Time") if postgres else None,
    }


def server_ms(plan: list[str], label: str) -> float | None:
    for line in plan:
        if line.strip().startswith(label):
            return float(line.split(":", 1)[1].split()[0])
    return None


# ----- one database, end to end ------------------------------------------------


async def run_on(database: str, args: argparse.Namespace) -> dict:
    async with scratch_for(database, args.postgres_url, args.keep) as url:
        engine = db.create_engine(url)
        try:
            started = time.perf_counter()
            await db.migrate(engine)
            migrated = time.perf_counter()
            audience = await load(engine, args)
            loaded = time.perf_counter()
            print(
                f"[{database}] migrated in {migrated - started:.1f} s, loaded in {loaded - migrated:.1f} s: "
                f"{audience.chats:,} chats, {len(audience.tag_ids)} tags, {audience.subscriptions:,} subscriptions; "
                f"the story's {len(audience.story_tag_names)} tags: {audience.story_tag_subscriptions:,} subscriptions, "
                f"{audience.followers:,} distinct chats",
                flush=True,
            )

            sessions = db.session_factory(engine)
            writer = StoryWriter(sessions)
            publisher = Publisher(sessions, writer)
            draft = draft_for(audience, "fan-out-story")

            gc.collect()
            rusage_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            rss_before = _status_kb("VmRSS")
            hwm_reset = reset_hwm()
            tracemalloc.start()
            with RssSampler() as sampler:
                began = time.perf_counter()
                published = await publisher.publish(draft)
                seconds = time.perf_counter() - began
            _, traced_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            hwm_after = _status_kb("VmHWM")
            rusage_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

            async with sessions() as session:
                rows = (
                    await session.execute(
                        select(func.count(), func.count(func.distinct(Delivery.chat_id))).where(
                            Delivery.story_id == published.story_id
                        )
                    )
                ).one()
            print(
                f"[{database}] publish: {seconds:.2f} s, {published.deliveries_queued:,} deliveries queued "
                f"({rows[0]:,} rows, {rows[1]:,} distinct chats; expected {audience.followers:,}); "
                f"peak RSS +{(sampler.peak_kb - rss_before) / 1024:.1f} MB over {rss_before / 1024:.0f} MB, "
                f"tracemalloc peak {traced_peak / MB:.2f} MB",
                flush=True,
            )
            if rows[1] != audience.followers or published.deliveries_queued != audience.followers:
                raise RuntimeError(
                    f"queued {published.deliveries_queued} / {rows[1]} chats, expected {audience.followers}"
                )

            # Workers start on the fan-out at once: the claims of the first batches, with the
            # statistics as they were before the publish, then as autovacuum would refresh them.
            postgres = database == "postgres"
            claiming = {"stale_statistics": await claims(engine, sessions, postgres, args.claims, args.claim_size)}
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text("ANALYZE deliveries"))
            claiming["after_analyze"] = await claims(engine, sessions, postgres, args.claims, args.claim_size)
            for when, figures in claiming.items():
                pick = (
                    f", the pick {figures['pick_execution_ms']:.1f} ms in the server"
                    if figures["pick_execution_ms"] is not None
                    else ""
                )
                what = "claims"
                print(
                    f"[{database}] {what} of {args.claim_size} from {audience.followers:,} pending rows, {when.replace('_', ' ')}: "
                    f"{figures['claim_ms']} ms{pick}; plan of the pick:"
                )
                for line in figures["plan"]:
                    print(f"    {line}")

            plan = await explain_queueing(sessions, writer, draft_for(audience, "second-story"), database == "postgres")
            print(
                f"[{database}] {'EXPLAIN ANALYZE' if database == 'postgres' else 'EXPLAIN QUERY PLAN'} of the fan-out:"
            )
            for line in plan:
                print(f"    {line}")
            version = await server_version(engine)
        finally:
            await engine.dispose()

    server = None
    if database == "postgres":
        execution, planning = server_ms(plan, "Execution Time"), server_ms(plan, "Planning Time")
        server = {
            "execution_ms": execution,
            "planning_ms": planning,
            "jit": [line.strip() for line in plan if "JIT" in line or "Timing:" in line],
        }
    return {
        "database": database,
        "server_version": version,
        "python": platform.python_version(),
        "sizes": {
            "chats": args.chats,
            "subscriptions": args.subscriptions,
            "tags": args.tags,
            "story_tags": args.story_tags,
        },
        "seed": args.seed,
        "migrate_seconds": round(migrated - started, 2),
        "load_seconds": round(loaded - migrated, 2),
        "story_tag_subscriptions": audience.story_tag_subscriptions,
        "expected_chats": audience.followers,
        "deliveries_queued": published.deliveries_queued,
        "publish_seconds": round(seconds, 3),
        "memory": {
            "tracemalloc_peak_mb": round(traced_peak / MB, 2),
            "rss_before_mb": round(rss_before / 1024, 1),
            "rss_sampled_peak_mb": round(sampler.peak_kb / 1024, 1),
            "rss_sampled_peak_delta_mb": round((sampler.peak_kb - rss_before) / 1024, 1),
            "rss_samples": sampler.samples,
            "vmhwm_after_reset_mb": round(hwm_after / 1024, 1) if hwm_reset else None,
            "vmhwm_delta_mb": round((hwm_after - rss_before) / 1024, 1) if hwm_reset else None,
            "ru_maxrss_before_mb": round(rusage_before / 1024, 1),
            "ru_maxrss_after_mb": round(rusage_after / 1024, 1),
            # After the reset ru_maxrss is the peak since the reset; without it, the lifetime peak.
            "ru_maxrss_delta_mb": round((rusage_after - (rss_before if hwm_reset else rusage_before)) / 1024, 1),
            "hwm_reset": hwm_reset,
        },
        "server": server,
        "plan": plan,
        "claims": claiming,
        "targets": {"seconds": TARGET_SECONDS, "mb": TARGET_MB},
        "claim_size": args.claim_size,
    }


def print_table(results: list[dict]) -> None:
    print()
    print(
        f"{'database':<10}{'chats queued':>14}{'publish s':>11}{'server ms':>11}{'RSS before':>12}"
        f"{'sampled Δ MB':>14}{'VmHWM Δ MB':>12}{'maxrss Δ MB':>13}{'tracemalloc MB':>16}  target"
    )
    for r in results:
        memory = r["memory"]
        server = r["server"]["execution_ms"] if r["server"] else None
        worst = max(memory["rss_sampled_peak_delta_mb"], memory["vmhwm_delta_mb"] or 0.0)
        ok = r["publish_seconds"] < TARGET_SECONDS and worst < TARGET_MB
        hwm = memory["vmhwm_delta_mb"]
        print(
            f"{r['database']:<10}{r['deliveries_queued']:>14,}{r['publish_seconds']:>11.2f}"
            f"{(f'{server:.0f}' if server is not None else '-'):>11}{memory['rss_before_mb']:>12.1f}"
            f"{memory['rss_sampled_peak_delta_mb']:>14.1f}{(f'{hwm:.1f}' if hwm is not None else '-'):>12}"
            f"{memory['ru_maxrss_delta_mb']:>13.1f}{memory['tracemalloc_peak_mb']:>16.2f}"
            f"  {'ok' if ok else 'OVER'} (< {TARGET_SECONDS:g} s, < {TARGET_MB:g} MB)"
        )
    for r in results:
        print(f"loading {r['database']}: {r['load_seconds']:.1f} s (migration {r['migrate_seconds']:.1f} s)")
    for r in results:
        for when, figures in r["claims"].items():
            what = "ms per claim"
            print(
                f"claiming {r['database']} ({when.replace('_', ' ')}): {figures['claim_ms']} {what} of {r['claim_size']} rows"
            )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--chats", type=int, default=500_000)
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--tags", type=int, default=6, help=f"tags chats follow (at most {len(TAG_NAMES)})")
    parser.add_argument("--story-tags", type=int, default=3, help="how many of them the story carries")
    parser.add_argument("--claims", type=int, default=3, help="delivery-queue claims timed after the publish")
    parser.add_argument("--claim-size", type=int, default=200, help="rows per claim (DeliveryWorker's batch)")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server to create the scratch database on")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database behind, to inspect it")
    parser.add_argument("--seed", type=int, default=20261127, help="same seed, same data")
    args = parser.parse_args(argv)
    if args.chats < 1 or not 1 <= args.tags <= len(TAG_NAMES) or not 1 <= args.story_tags <= args.tags:
        parser.error(f"--chats must be positive, --tags 1..{len(TAG_NAMES)}, --story-tags 1..--tags")
    if not args.chats <= args.subscriptions <= args.chats * args.tags:
        parser.error("--subscriptions must be between --chats and --chats x --tags (each chat follows 1..--tags tags)")
    return args


async def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    cancel_on_sigterm()  # a `kill` still drops the scratch database
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = []
    for database in databases:
        result = await run_on(database, args)
        (RESULTS_DIR / f"results-planning-{database}.json").write_text(json.dumps(result, indent=2) + "\n")
        results.append(result)
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
