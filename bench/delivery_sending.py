#!/usr/bin/env python
"""How fast one delivery worker pushes a story, against the fake Telegram Bot API server.

    python bench/delivery_sending.py [--database sqlite|postgres|both] [--chats 3000] [--rate 30]
        [--worker-rate R] [--no-recovery] [--lifted-chats 5000] [--repeat 3] [--in-flight 8]
        [--no-variants] [--fake-process separate|same] [--only limited|lifted]
        [--profile none|py-spy|cprofile] [--py-spy PATH] [--label NAME] [--postgres-url URL] [--keep]

The worker is built the way a worker-only process builds it (`build_platforms`,
`build_workers`: one DeliveryWorker, a TelegramSender over a real
`telegram.Bot` on `AiohttpRequest`, a RateLimiter with
`Limits(TELEGRAM_RATE_LIMIT, TELEGRAM_CHAT_INTERVAL=1.0, ...)`), over a scratch
database (a temporary SQLite file, or a PostgreSQL database it creates and
drops), and every chat is a private chat of the fake server
(tests/fakes/telegram/). For each database:

1. At the limit. The fake answers 429 beyond `--rate` sendMessage per second
   (`fake.rate_limit(per_second_global=30)`), the worker is configured for the
   same rate, `--chats` chats follow a tag and one story is published. When all
   rows are sent: the rate achieved, from the first to the last successful
   sendMessage the fake saw, as a share of the limit (target >= 95 %), and how
   many 429s the fake answered (target 0). The fake runs in this process; at
   30 messages a second it is idle. About `--chats / --rate` seconds.
   Then 300 chats with one 429 injected after the 60th send: the 429s that
   follow (target 0: the messages that waited through the pause must not go
   out in a burst after it), and the time lost beyond the pause.

2. Limit lifted. `fake.rate_limit()` and `TELEGRAM_RATE_LIMIT=100000`,
   `--lifted-chats` chats, one story per run: messages per second of the
   worker (from the first to the last successful sendMessage at the fake, and
   end to end from the publish to the last `sent_at`), next to a bare aiohttp
   loop posting the very requests python-telegram-bot sends (the form body
   captured from a real `TelegramSender.send`, only chat_id changed) with the
   same concurrency as the worker (its claim batch, all sent at once), and no
   database: the ceiling of this fake on this machine (target for the worker:
   >= 1,000/s). With `--fake-process separate` (the default) the fake runs in a
   process of its own, so that its work does not come out of the worker's
   CPU; the worker and the ceiling run against that same fake. To see where
   the worker's time goes: TelegramSender.send alone (no database) with the
   batch's concurrency and with `--in-flight`, the worker with a sender that
   answers at once (its database side alone), and variants that replace only
   the worker's sender with `Bot.send_message` per chat, over
   python-telegram-bot's default httpx transport (what the app did before
   this benchmark) and over the app's aiohttp transport.
   Each measurement runs `--repeat` times, interleaved, with a fresh Bot (a
   new worker process's state), and the median is reported, with the CPU
   each process spent per message (this machine's other load varies).

With `--profile py-spy` (or `cprofile`) the lifted worker runs once more
under the profiler, and a breakdown of where its time goes is printed and
stored. py-spy samples this very process (`--idle`, so the share of time
the event loop waits is visible too); it is not installed with the project:
`pip install --target /tmp/pyspy py-spy`, then `--py-spy /tmp/pyspy/bin/py-spy`.

It prints tables and writes `bench/results-sending-<database>[-<label>].json`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import importlib.util
import inspect
import io
import json
import os
import platform
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qsl, urlencode

# Run as a plain script from anywhere: the project is not installed as a package.
ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))

import aiohttp
import asyncpg
from aiohttp import web
from scratch import (
    DEFAULT_POSTGRES_URL,
    cancel_on_sigterm,
    scratch_for,
    server_version,
    settle,
)
from sqlalchemy import func, insert, select
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import TelegramError

from adapters.telegram.render import outgoing
from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from bot.composition import Core, build_core, build_platforms, build_workers
from bot.roles import Role
from bot.settings import Settings
from content import db
from content.chats.ref import ChatRef
from content.delivery.outcomes import Failed, Sent
from content.delivery.payloads import Payloads
from content.delivery.port import Target
from content.delivery.status import JobKind
from content.delivery.worker import DeliveryWorker
from content.keys import key_of
from content.messages import Message
from content.models import Chat, Delivery, Subscription, Tag
from content.stories.drafts import StoryDraft
from tests.fakes.telegram import Call, FakeTelegram

RESULTS_DIR = BENCH
TARGET_SHARE = 0.95
TARGET_LIFTED = 1000.0
LIFTED_RATE = 100_000.0
LIMITED_TAG, LIFTED_TAG, RECOVERY_TAG = "Limited", "Lifted", "Recovery"
RECOVERY_CHATS = 300
VACUUM_BETWEEN_RUNS = True  # --no-vacuum turns it off


# ----- what the fake saw ---------------------------------------------------------


def send_stats(calls: list[Call], limit: float | None = None, window: float = 1.0) -> dict[str, Any]:
    """sendMessage calls: successes, their first and last moment, 429s, other errors.

    With `limit` (messages per `window`) also: the per-second timeline of
    successes and 429s, and the shortest time any `limit` + 1 consecutive
    successes took (at least `window`, or the fake would have refused the last one).
    """
    sends = [c for c in calls if c.method == "sendMessage"]
    ok = sorted(c.at for c in sends if c.ok)
    refused = sorted(c.at for c in sends if c.status == 429)
    busiest, start = 0, 0
    for end, moment in enumerate(ok):  # the most successes in any `window` seconds
        while ok[start] <= moment - window:
            start += 1
        busiest = max(busiest, end - start + 1)
    stats: dict[str, Any] = {
        "ok": len(ok),
        "first": ok[0] if ok else None,
        "last": ok[-1] if ok else None,
        "too_many_requests": len(refused),
        "other_errors": dict(Counter(c.description for c in sends if not c.ok and c.status != 429)),
        "busiest_second": busiest,
        "longest_pause": round(max((b - a for a, b in zip(ok, ok[1:])), default=0.0), 3),
        "calls": len(calls),
    }
    if limit and ok:
        n = int(limit)  # n + 1 successes within `window` means the fake let one too many through
        spans = [ok[i + n] - ok[i] for i in range(len(ok) - n)]
        stats["shortest_span_of_limit_plus_one_sends"] = round(min(spans), 4) if spans else None
        seconds = int(max(ok + refused) - ok[0]) + 1
        timeline = [[0, 0] for _ in range(seconds)]
        for moment in ok:
            timeline[int(moment - ok[0])][0] += 1
        for moment in refused:
            timeline[max(0, int(moment - ok[0]))][1] += 1
        stats["timeline_ok_429_per_second"] = timeline
        stats["429_at_seconds"] = [round(moment - ok[0], 3) for moment in refused]
    return stats


def rate_of(stats: dict[str, Any]) -> float | None:
    """Successes per second from the first to the last success."""
    if stats["ok"] < 2 or stats["last"] <= stats["first"]:
        return None
    return (stats["ok"] - 1) / (stats["last"] - stats["first"])


class LocalFake:
    """The fake Bot API server in this process and event loop."""

    def __init__(self) -> None:
        self.fake = FakeTelegram()
        self.where = "same process"

    async def start(self) -> None:
        await self.fake.start()
        self.url, self.token = self.fake.url, self.fake.token

    async def add_chats(self, count: int) -> None:
        for chat_id in range(1, count + 1):
            self.fake.add_chat(chat_id, "private", first_name=f"Reader {chat_id}")

    async def limit(self, per_second: float | None) -> None:
        # With no argument the fake lifts its limits.
        self.fake.rate_limit(per_second_global=per_second) if per_second else self.fake.rate_limit()

    async def reset(self) -> None:
        self.fake.calls.clear()

    async def stats(self, limit: float | None = None) -> dict[str, Any]:
        return send_stats(self.fake.calls, limit)

    async def close(self) -> None:
        await self.fake.stop()


class ProcessFake:
    """The same fake in a child process (this script with --serve-fake), driven by
    one JSON line per command on its stdin. CLOCK_MONOTONIC is shared between
    processes, so its call times compare with this process's."""

    where = "separate process"

    async def start(self) -> None:
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--serve-fake",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        hello = await self._read()
        self.url, self.token, self.pid = hello["url"], hello["token"], hello["pid"]

    async def _read(self) -> dict[str, Any]:
        line = await self._process.stdout.readline()
        if not line:
            raise RuntimeError("the fake Telegram process ended")
        return json.loads(line)

    async def _ask(self, command: str, **params: Any) -> Any:
        self._process.stdin.write((json.dumps({"command": command, **params}) + "\n").encode())
        await self._process.stdin.drain()
        return (await self._read())["result"]

    async def add_chats(self, count: int) -> None:
        await self._ask("add_chats", count=count)

    async def limit(self, per_second: float | None) -> None:
        await self._ask("limit", per_second=per_second)

    async def reset(self) -> None:
        await self._ask("reset")

    async def stats(self, limit: float | None = None) -> dict[str, Any]:
        return await self._ask("stats", limit=limit)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self._ask("stop")
        with contextlib.suppress(ProcessLookupError):
            self._process.terminate()
        await self._process.wait()


async def serve_fake() -> None:
    """The child's side of ProcessFake."""
    local = LocalFake()
    await local.start()
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    def answer(payload: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(payload) + "\n")
        sys.stdout.flush()

    answer({"url": local.url, "token": local.token, "pid": os.getpid()})
    try:
        while line := await reader.readline():
            request = json.loads(line)
            command = request.pop("command")
            if command == "stop":
                answer({"result": None})
                break
            answer({"result": await getattr(local, command)(**request)})
    finally:
        await local.close()


# ----- the scratch database --------------------------------------------------------


def settings_for(url: str, fake: LocalFake | ProcessFake, rate: float) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=url,
        seed_samples=False,
        telegram_bot_token=fake.token,
        telegram_api_base_url=f"{fake.url}/bot",
        telegram_rate_limit=rate,
        telegram_chat_interval=1.0,  # production's per-chat interval
    )


async def fill(core: Core, limited_chats: int, lifted_chats: int, recovery_chats: int) -> None:
    """Private chats 1..n; the first `limited_chats` follow one tag, the first `lifted_chats`
    another, the first `recovery_chats` a third."""
    now = datetime.now(UTC)
    chats = max(limited_chats, lifted_chats, recovery_chats)
    async with core.engine.begin() as connection:
        await connection.execute(
            insert(Tag.__table__),
            [
                {"id": i, "key": key_of(name), "name": name, "story_count": 0}
                for i, name in enumerate((LIMITED_TAG, LIFTED_TAG, RECOVERY_TAG), 1)
            ],
        )
        await connection.execute(
            insert(Chat.__table__),
            [
                {
                    "id": i,
                    "platform": "telegram",
                    "platform_chat_id": str(i),
                    "kind": "private",
                    "title": None,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
                for i in range(1, chats + 1)
            ],
        )
        rows = [{"chat_id": i, "tag_id": 1, "created_at": now} for i in range(1, limited_chats + 1)]
        rows += [{"chat_id": i, "tag_id": 2, "created_at": now} for i in range(1, lifted_chats + 1)]
        rows += [{"chat_id": i, "tag_id": 3, "created_at": now} for i in range(1, recovery_chats + 1)]
        await connection.execute(insert(Subscription.__table__), rows)
        if connection.dialect.name == "postgresql":
            for table in ("chats", "tags"):
                await connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                )


def draft(slug: str, tag: str) -> StoryDraft:
    return StoryDraft(
        slug=slug,
        title=f"Musk says xAI partly used distillation of OpenAI models ({slug})",
        summary="xAI's chief told a court that Grok was partly trained by querying OpenAI's models, "
        "a practice called distillation. What that means, and why it matters.",
        category="AI",
        published_at=datetime.now(UTC).replace(microsecond=0),
        tags=(tag, "xAI"),
        url=None,
        terms=(),
        body="Lead.\n\n## What happened\n\nA section.",
    )


async def statuses(core: Core, story_id: int) -> dict[str, int]:
    async with core.sessions() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).where(Delivery.story_id == story_id).group_by(Delivery.status)
        )
        return dict(rows.all())  # type: ignore[arg-type]


async def last_sent_at(core: Core, story_id: int) -> datetime | None:
    async with core.sessions() as session:
        return (
            await session.execute(select(func.max(Delivery.sent_at)).where(Delivery.story_id == story_id))
        ).scalar_one()


async def retried(core: Core, story_id: int) -> int:
    async with core.sessions() as session:
        query = select(func.count()).where(Delivery.story_id == story_id, Delivery.last_error.is_not(None))
        return (await session.execute(query)).scalar_one()


# ----- one publish, worked off by one worker --------------------------------------------


async def push(core: Core, worker: DeliveryWorker, slug: str, tag: str, timeout: float, poll: float) -> dict[str, Any]:
    """Publish, let the worker run until no row of the story is pending or being sent."""
    stop = asyncio.Event()
    running = asyncio.create_task(worker.run(stop))
    try:
        await asyncio.sleep(0.2)  # the worker's first (empty) claim is behind it, as in a running bot
        wall = time.time()
        began = time.monotonic()
        published = await core.publisher.publish(draft(slug, tag))
        queued_in = time.monotonic() - began
        counts: dict[str, int] = {}
        while time.monotonic() - began < timeout:
            await asyncio.sleep(poll)
            counts = await statuses(core, published.story_id)
            if not counts.get("pending") and not counts.get("sending"):
                break
        finished = counts and not counts.get("pending") and not counts.get("sending")
    finally:
        stop.set()
        worker.wake.set()
        await running
    last = await last_sent_at(core, published.story_id)
    return {
        "story_id": published.story_id,
        "queued": published.deliveries_queued,
        "publish_seconds": round(queued_in, 3),
        "began": began,
        "statuses": counts,
        "finished": bool(finished),
        "rows_with_an_error": await retried(core, published.story_id),
        "end_to_end_seconds": round(last.timestamp() - wall, 3) if last else None,
    }


async def start_worker(core: Core) -> tuple[DeliveryWorker, list]:
    """Exactly what a worker-only process builds: a Bot of its own, its sender, one worker."""
    runners = build_platforms(core, (Role.WORKER,))
    for runner in runners:
        await runner.start()
    (worker,) = build_workers(core, [await runner.sender() for runner in runners])
    return worker, runners


async def stop_all(to_stop: list) -> None:
    for closer in to_stop:
        await closer.stop()


# ----- the ceiling: the same requests, a bare aiohttp loop -----------------------------------


async def ptb_request(message: Message) -> tuple[bytes, dict[str, str]]:
    """The sendMessage request TelegramSender makes for this push (chat 1), as bytes on the wire."""
    seen: dict[str, Any] = {}

    async def send_message(request: web.Request) -> web.Response:
        seen["body"] = await request.read()
        seen["headers"] = {"Content-Type": request.headers["Content-Type"], "User-Agent": request.headers["User-Agent"]}
        chat = {"id": 1, "type": "private", "first_name": "Reader 1"}
        return web.json_response({"ok": True, "result": {"message_id": 1, "date": 0, "chat": chat, "text": "x"}})

    async def get_me(_request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "B", "username": "b_bot"}}
        )

    app = web.Application()
    app.router.add_post("/bot{token}/sendMessage", send_message)
    app.router.add_post("/bot{token}/getMe", get_me)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        bot = Bot("1:CAPTURE", base_url=f"http://127.0.0.1:{runner.addresses[0][1]}/bot")
        request = AiohttpRequest()
        await request.initialize()
        try:
            outcome = await TelegramSender(bot, request).send(Target(ChatRef("telegram", "1", "private")), message)
        finally:
            await request.shutdown()
    finally:
        await runner.cleanup()
    if not isinstance(outcome, Sent):
        raise RuntimeError(f"capturing the push request failed: {outcome}")
    return seen["body"], seen["headers"]


def bodies_for(body: bytes, chats: int) -> list[bytes]:
    """The app's form body for chats 1..n: only chat_id changes."""
    fields = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
    if urlencode(fields).encode() != body:
        raise RuntimeError("the body does not round-trip through urlencode; the ceiling would send other bytes")
    return [
        urlencode([(k, str(chat) if k == "chat_id" else v) for k, v in fields]).encode() for chat in range(1, chats + 1)
    ]


async def bare_loop(
    url: str, token: str, bodies: list[bytes], headers: dict[str, str], concurrency: int
) -> dict[str, Any]:
    endpoint = f"{url}/bot{token}/sendMessage"
    pending = iter(bodies)
    answers: Counter = Counter()

    async def sender(session: aiohttp.ClientSession) -> None:
        for body in pending:  # one shared iterator: `concurrency` requests in flight
            async with session.post(endpoint, data=body, headers=headers) as response:
                answers[bool(json.loads(await response.read())["ok"])] += 1

    # AiohttpRequest's pool: 256 connections.
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256)) as session:
        began = time.monotonic()
        await asyncio.gather(*(sender(session) for _ in range(concurrency)))
        seconds = time.monotonic() - began
    return {"ok": answers[True], "refused": answers[False], "client_seconds": round(seconds, 3)}


# ----- profiling ----------------------------------------------------------------------------

# Libraries, looked for from the leaf of a sampled stack up: the first one found is charged
# (stdlib frames such as asyncio's socket writes count for the library that called them).
LIBRARIES = (
    ("python-telegram-bot", ("telegram/",)),
    ("httpx / httpcore / h11 / anyio", ("httpx/", "httpcore/", "h11/", "anyio/")),
    ("SQLAlchemy", ("sqlalchemy/",)),
    ("database driver (asyncpg / aiosqlite)", ("asyncpg/", "aiosqlite/")),
    ("app code (content/, adapters/)", ("content/", "adapters/")),
)
# The app's operations, looked for from the root down.
OPERATIONS = (
    ("claim a batch", ("DeliveryQueue.claim",)),
    (
        "record outcomes (DeliveryQueue.sent_many/_set, DeliveryWorker._flush)",
        ("DeliveryQueue._set", "DeliveryQueue.sent_many", "DeliveryWorker._flush"),
    ),
    ("send (TelegramSender.send)", ("TelegramSender.send",)),
    ("rate limiter", ("RateLimiter.acquire",)),
    ("story message", ("DeliveryWorker._message",)),
)


def _idle(leaf: str) -> bool:
    return leaf.startswith(
        ("EpollSelector.select", "select (", "poll (", "Condition.wait", "Queue.get", "_wait_for_tstate_lock")
    )


def summarize_pyspy(raw: Path) -> dict[str, Any]:
    """py-spy's collapsed stacks ("thread (tid): name;frame;... count") as shares of the main
    thread's samples: idle (the event loop in epoll) or busy, by library and by operation.

    SQLAlchemy's greenlets start stacks of their own, so a sample inside one is
    charged to its library, and to "other" among the operations.
    """
    libraries: Counter = Counter()
    operations: Counter = Counter()
    leaves: Counter = Counter()
    threads: Counter = Counter()
    main = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        head, _, rest = stack.partition(";")
        frames = rest.split(";") if rest else []
        leaf = frames[-1] if frames else ""
        if not head.endswith("MainThread"):
            if leaf.startswith("_connection_worker_thread (aiosqlite/"):
                # Line 59 is `tx.get()`, waiting for work; the others are calls into SQLite
                # (its own work, and its busy handler sleeping while another connection writes).
                waiting = leaf.endswith(":59)")
                threads[
                    "aiosqlite threads waiting for work" if waiting else "aiosqlite threads inside a SQLite call"
                ] += n
            continue
        main += n
        if _idle(leaf):
            libraries["idle: the event loop waiting in epoll"] += n
            operations["idle: the event loop waiting in epoll"] += n
            continue
        library = next(
            (name for frame in reversed(frames) for name, parts in LIBRARIES if any(p in frame for p in parts)),
            "event loop and stdlib",
        )
        libraries[library] += n
        operation = next(
            (name for frame in frames for name, parts in OPERATIONS if frame.startswith(parts)),
            "other (loop, greenlet-rooted SQLAlchemy, bench)",
        )
        operations[operation] += n
        leaves[leaf] += n

    def shares(counter: Counter) -> dict[str, float]:
        return {k: round(100 * v / main, 1) for k, v in counter.most_common()} if main else {}

    return {
        "main_thread_samples": main,
        "by_library": shares(libraries),
        "by_operation": shares(operations),
        "other_threads_as_share_of_main": shares(threads),
        "hottest_frames": [(k, round(100 * v / main, 1)) for k, v in leaves.most_common(25)] if main else [],
    }


def print_profile(summary: dict[str, Any]) -> None:
    for title, key in (
        ("by library", "by_library"),
        ("by operation", "by_operation"),
        ("other threads", "other_threads_as_share_of_main"),
    ):
        print(
            f"    main-thread samples {title}:"
            if key != "other_threads_as_share_of_main"
            else "    aiosqlite's threads (samples as % of main-thread samples: 100 % = one thread all the time):"
        )
        for name, share in summary[key].items():
            print(f"      {share:5.1f} %  {name}")
    print("    hottest frames (self):")
    for frame, share in summary["hottest_frames"][:15]:
        print(f"      {share:5.1f} %  {frame}")


class Profiler:
    def __init__(self, kind: str, py_spy: str | None) -> None:
        self.kind = kind
        self.py_spy = py_spy
        self._folder = Path(tempfile.mkdtemp(prefix="explainer_bench_profile_"))
        self.path: Path | None = None

    @contextlib.asynccontextmanager
    async def around(self, label: str):
        if self.kind == "cprofile":
            profile = cProfile.Profile()
            profile.enable()
            try:
                yield
            finally:
                profile.disable()
                self.path = self._folder / f"{label}.pstats"
                profile.dump_stats(self.path)
            return
        self.path = self._folder / f"{label}.txt"
        spy = await asyncio.create_subprocess_exec(
            self.py_spy,
            "record",
            "--pid",
            str(os.getpid()),
            "--format",
            "raw",
            "--output",
            str(self.path),
            "--rate",
            "250",
            "--nonblocking",
            "--idle",
            "--threads",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await asyncio.sleep(1.0)  # py-spy attaching
        try:
            yield
        finally:
            spy.send_signal(signal.SIGINT)  # py-spy writes its file on Ctrl-C
            await spy.wait()

    def summary(self) -> dict[str, Any]:
        assert self.path is not None
        if self.kind == "cprofile":
            text = io.StringIO()
            stats = pstats.Stats(str(self.path), stream=text)
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(r"content/|adapters/|telegram/_bot|sqlalchemy/ext/asyncio", 25)
            return {"file": str(self.path), "report": text.getvalue()}
        return {"file": str(self.path), **summarize_pyspy(self.path)}


# ----- CPU, per process ---------------------------------------------------------------------

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process (all its threads)."""
    with contextlib.suppress(OSError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    return 0.0


def machine_cpu() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def postgres_cpu_seconds() -> float:
    """All PostgreSQL server processes of this machine (the scratch database's backends among them)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == "postgres":
                    total += cpu_seconds(int(entry.name))
    return total


async def sessions_opened(url: str) -> int | None:
    """PostgreSQL: connections ever opened to the scratch database (pg_stat_database.sessions, PG 14+)."""
    if not url.startswith("postgresql"):
        return None
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("SELECT pg_stat_force_next_flush()")
        return await connection.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
    finally:
        await connection.close()


async def autovacuum(url: str) -> None:
    """PostgreSQL: what autovacuum would have done since the last run (this server may run
    without it): VACUUM ANALYZE of the deliveries, so that claims are planned on live figures."""
    if not url.startswith("postgresql"):
        return
    connection = await asyncpg.connect(url)
    try:
        await connection.execute("VACUUM ANALYZE deliveries")
    finally:
        await connection.close()


async def measured(fake: LocalFake | ProcessFake, messages: int, run, url: str = "") -> dict[str, Any]:
    """Runs `run()` against a fresh call log: the fake's figures, CPU per message per process, and
    (PostgreSQL) how many connections the run opened. Before it, on PostgreSQL, VACUUM ANALYZE
    of the deliveries (unless --no-vacuum): what autovacuum would have done between two publishes."""
    if VACUUM_BETWEEN_RUNS:
        await autovacuum(url)
    await fake.reset()
    child = getattr(fake, "pid", None)
    opened = await sessions_opened(url)
    before = (cpu_seconds(os.getpid()), cpu_seconds(child) if child else 0.0, postgres_cpu_seconds())
    machine = machine_cpu()
    began = time.monotonic()
    outcome = await run()
    wall = time.monotonic() - began
    after = (cpu_seconds(os.getpid()), cpu_seconds(child) if child else 0.0, postgres_cpu_seconds())
    machine = tuple(b - a for a, b in zip(machine, machine_cpu()))
    seen = await fake.stats()
    rate = rate_of(seen)
    used = [b - a for a, b in zip(before, after)]
    if opened is not None:
        await asyncio.sleep(0.5)  # closed connections report their session at exit
        opened = await sessions_opened(url) - opened - 1  # less the one that asked
    return {
        **(outcome or {}),
        "fake": seen,
        "rate": round(rate, 1) if rate else None,
        "wall_seconds": round(wall, 3),
        "postgres_connections_opened": opened,
        "machine_cpu_busy": round(machine[0] / machine[1], 3) if machine[1] else None,
        "cpu_ms_per_message": {
            "this process" + (" (with the fake)" if not child else ""): round(1000 * used[0] / messages, 3),
            "fake process": round(1000 * used[1] / messages, 3) if child else None,
            "postgres": round(1000 * used[2] / messages, 3),
        },
        "cpu_busy_share": {  # of one CPU, over the run's wall time
            "this process": round(used[0] / wall, 2),
            "fake process": round(used[1] / wall, 2) if child else None,
            "postgres": round(used[2] / wall, 2),
        },
    }


async def ptb_loop(sender: TelegramSender, message: Message, chats: int, concurrency: int) -> dict[str, Any]:
    """TelegramSender.send to chats 1..n, `concurrency` at a time: the transport alone, no database."""
    pending = iter(range(1, chats + 1))
    outcomes: Counter = Counter()

    async def one() -> None:
        for chat in pending:
            outcome = await sender.send(Target(ChatRef("telegram", str(chat), "private")), message)
            outcomes[type(outcome).__name__] += 1

    await asyncio.gather(*(one() for _ in range(concurrency)))
    return {"outcomes": dict(outcomes), "concurrency": concurrency}


# ----- variants of the worker's sender, for comparison (bench-only) --------------------------------


class InstantSender:
    """A sender that answers Sent at once, sending nothing: what is left of a worker's cost is
    its database work (claim, record) and the limiter."""

    platform = "telegram"

    async def send(self, target: Target, message: Message) -> Sent:
        return Sent(("1",))


class BotMethodSender:
    """Pushes the way the app sent them before TelegramSender encoded a fan-out once:
    `Bot.send_message` per chat (parameters encoded anew, a telegram.Message parsed from
    each answer). For comparison only: outcomes other than Sent are not told apart."""

    platform = "telegram"

    def __init__(self, bot: Bot) -> None:
        self._bot = bot
        self._rendered: tuple[Message, Any] | None = None

    async def send(self, target: Target, message: Message):
        if self._rendered is None or self._rendered[0] is not message:
            self._rendered = (message, outgoing(message))
        out = self._rendered[1]
        first = None
        try:
            for i, text in enumerate(out.texts):
                sent = await self._bot.send_message(
                    int(target.chat.chat_id),
                    text,
                    parse_mode=ParseMode.HTML,
                    reply_markup=out.markup if i == len(out.texts) - 1 else None,
                    link_preview_options=LinkPreviewOptions(is_disabled=not out.preview),
                )
                first = first or str(sent.message_id)
        except TelegramError as exc:
            return Failed(f"Telegram: {exc}")
        return Sent((first,) if first else ())


VARIANTS = (
    # (key, label, transport); each replaces only the worker's sender
    ("bot_method_httpx", "before: Bot.send_message over httpx", "httpx"),
    ("bot_method_aiohttp", "Bot.send_message over aiohttp", "aiohttp"),
)


# ----- one database, end to end -----------------------------------------------------------------


async def at_the_limit(
    url: str,
    args: argparse.Namespace,
    chats: int,
    worker_rate: float,
    slug: str,
    tag: str,
    timeout: float,
    poll: float,
    meanwhile=None,
):
    """One publish to `chats` chats of the fake in this process, limited to `--rate`, worked off
    by a worker at `worker_rate`, with `meanwhile(fake)` running beside it. Returns the push's
    figures, what the fake saw, and the worker."""
    fake = LocalFake()
    await fake.start()
    core = build_core(settings_for(url, fake, worker_rate))
    try:
        await fake.add_chats(chats)
        await fake.limit(args.rate)
        worker, to_stop = await start_worker(core)
        try:
            await fake.reset()
            beside = asyncio.create_task(meanwhile(fake)) if meanwhile else None
            run = await push(core, worker, slug, tag, timeout=timeout, poll=poll)
            if beside is not None:
                beside.cancel()
        finally:
            await stop_all(to_stop)
        seen = await fake.stats(args.rate)
    finally:
        await core.close()
        await fake.close()
    return run, seen, worker


async def recovery_run(url: str, args: argparse.Namespace, slug: str) -> dict[str, Any]:
    """RECOVERY_CHATS chats at the limit; after the 60th success the fake answers one 429
    (retry after 1 s) out of turn: does the worker run into more 429s after its pause (messages
    that waited through it must not go out in a burst), and how much time is lost beyond it."""

    async def inject(fake: LocalFake) -> None:
        while sum(1 for c in fake.fake.calls if c.method == "sendMessage" and c.ok) < 60:
            await asyncio.sleep(0.005)
        fake.fake.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    run, seen, _ = await at_the_limit(
        url,
        args,
        RECOVERY_CHATS,
        args.rate,
        slug,
        RECOVERY_TAG,
        timeout=RECOVERY_CHATS / args.rate * 3 + 30,
        poll=0.5,
        meanwhile=inject,
    )
    ideal = (RECOVERY_CHATS - 1) / args.rate + 1.0  # the one pause asked for is no loss
    return {
        "sent": seen["ok"],
        "too_many_requests_incl_injected": seen["too_many_requests"],
        "429_at_seconds": seen.get("429_at_seconds"),
        "seconds_first_to_last": round(seen["last"] - seen["first"], 3),
        "seconds_lost": round(seen["last"] - seen["first"] - ideal, 3),
        "statuses": run["statuses"],
        "busiest_second": seen["busiest_second"],
    }


async def limited_phase(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    worker_rate = args.worker_rate or args.rate
    run, seen, worker = await at_the_limit(
        url,
        args,
        args.chats,
        worker_rate,
        "at-the-limit",
        LIMITED_TAG,
        timeout=args.chats / args.rate * 3 + 60,
        poll=1.0,
    )
    rate = rate_of(seen)
    result = {
        **run,
        "fake": seen,
        "limit": args.rate,
        "worker_rate": worker_rate,
        "rate": round(rate, 3) if rate else None,
        "share": round(rate / args.rate, 4) if rate else None,
        "limits": str(worker.limiter.limits),
        "seconds_first_to_last": round(seen["last"] - seen["first"], 3) if seen["ok"] > 1 else None,
        "first_send_after_publish": round(seen["first"] - run["began"], 3) if seen["first"] else None,
    }
    if args.recovery:
        figures = result["recovery"] = await recovery_run(url, args, "recovery")
        print(
            f"[{database}] {RECOVERY_CHATS} chats, one 429 injected after the 60th send: "
            f"{figures['too_many_requests_incl_injected'] - 1} more 429s (429s at {(figures['429_at_seconds'] or [])[:10]} s), "
            f"{figures['seconds_lost']} s lost beyond the 1 s pause; rows {figures['statuses']}",
            flush=True,
        )
    print(
        f"[{database}] fake at {args.rate:g}/s, worker at {worker_rate:g}/s: {seen['ok']:,} of {run['queued']:,} sent in "
        f"{result['seconds_first_to_last']} s: {result['rate']}/s = {100 * (result['share'] or 0):.1f} % of the limit; "
        f"{seen['too_many_requests']} x 429 (at {seen.get('429_at_seconds', [])[:12]} s); busiest second {seen['busiest_second']}; "
        f"{int(args.rate) + 1} consecutive successes took at least {seen.get('shortest_span_of_limit_plus_one_sends')} s; rows {run['statuses']}",
        flush=True,
    )
    return result


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median rate, with every run's rate beside it (this VM's speed varies)."""
    ordered = sorted(runs, key=lambda run: run["rate"] or 0.0)
    return {
        **ordered[(len(ordered) - 1) // 2],
        "rates": [run["rate"] for run in runs],
        "cpu_ms_per_message_runs": [run["cpu_ms_per_message"] for run in runs],
    }


async def lifted_phase(database: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    fake: LocalFake | ProcessFake = ProcessFake() if args.fake_process == "separate" else LocalFake()
    await fake.start()
    core = build_core(settings_for(url, fake, LIFTED_RATE))
    n = args.lifted_chats
    result: dict[str, Any] = {"fake_runs_in": fake.where, "chats": n, "repeat": args.repeat}

    def show(name: str, figures: dict[str, Any], note: str = "") -> None:
        cpu = ", ".join(f"{k} {v}" for k, v in figures["cpu_ms_per_message"].items() if v is not None)
        opened = figures["postgres_connections_opened"]
        print(
            f"[{database}] lifted, {name}: {figures['fake']['ok']:,} sent, {figures['rate']}/s at the fake{note}; "
            f"longest pause between sends {figures['fake']['longest_pause']} s; CPU ms/message: {cpu}; "
            f"both CPUs busy {100 * figures['machine_cpu_busy']:.0f} %"
            + (f"; {opened} PostgreSQL connections opened" if opened is not None else "")
            + (f"; errors {figures['fake']['other_errors']}" if figures["fake"]["other_errors"] else ""),
            flush=True,
        )

    async def worker_run(key: str, slug: str, label: str, *, transport: str = "app") -> dict[str, Any]:
        """One publish worked off by a fresh worker, built as a worker-only process builds it;
        the variants replace only its sender (should the app change under them, their failure
        is reported and the bench goes on)."""
        if transport == "app":
            return await worker_figures(key, slug, label, transport=transport)
        try:
            return await worker_figures(key, slug, label, transport=transport)
        except Exception as exc:
            print(f"[{database}] {label} failed: {exc!r}", flush=True)
            return {"error": repr(exc), "rate": None, "cpu_ms_per_message": {}}

    async def worker_figures(key: str, slug: str, label: str, *, transport: str) -> dict[str, Any]:
        worker, closers = await start_worker(core)
        try:
            if transport == "none":  # the database side alone
                worker.sender = InstantSender()  # type: ignore[assignment]
            elif transport != "app":
                bot = Bot(
                    fake.token, base_url=f"{fake.url}/bot", request=AiohttpRequest() if transport == "aiohttp" else None
                )
                await bot.initialize()
                closers.append(SimpleNamespace(stop=bot.shutdown))
                worker.sender = BotMethodSender(bot)  # type: ignore[assignment]
            figures = await measured(fake, n, lambda: push(core, worker, slug, LIFTED_TAG, timeout=600, poll=0.1), url)
        finally:
            await stop_all(closers)
        figures["end_to_end_rate"] = (
            round(figures["queued"] / figures["end_to_end_seconds"], 1) if figures["end_to_end_seconds"] else None
        )
        if transport == "none":  # nothing reaches the fake: rows recorded per second, publish to last sent_at
            figures["rate"] = figures["end_to_end_rate"]
        figures.update(label=label, in_flight=worker.batch, transport=transport, limits=str(worker.limiter.limits))
        show(label, figures, f" ({figures['end_to_end_rate']}/s publish to last sent_at; rows {figures['statuses']})")
        return figures

    try:
        await fake.add_chats(n)
        await fake.limit(None)
        # The push every measurement sends (the workers' own stories differ only in slug).
        example = (await core.publisher.publish(draft("ceiling-example", "xAI"))).story_id
        message = await Payloads(core.catalog).message(JobKind.SEND, example)
        body, headers = await ptb_request(message)
        bodies = bodies_for(body, n)
        # The ceiling and the sender alone get the worker's concurrency: its claim batch, all sent at once.
        concurrency = inspect.signature(DeliveryWorker).parameters["batch"].default

        async def ceiling(_repeat: int) -> dict[str, Any]:
            figures = await measured(
                fake, n, lambda: bare_loop(fake.url, fake.token, bodies, headers, concurrency), url
            )
            figures.update(concurrency=concurrency, body_bytes=len(body), content_type=headers["Content-Type"])
            show(
                f"bare aiohttp loop, {concurrency} in flight",
                figures,
                f" ({len(body)}-byte {headers['Content-Type']} bodies)",
            )
            return figures

        async def ptb_alone(in_flight: int):
            async def run(_repeat: int) -> dict[str, Any]:
                # A Bot of its own, as a fresh worker process would have: httpx's pool keeps the
                # connections of the run before for 5 s, and scanning them would cost this one.
                fresh, closers = await start_worker(core)
                try:
                    figures = await measured(fake, n, lambda: ptb_loop(fresh.sender, message, n, in_flight), url)
                finally:
                    await stop_all(closers)
                show(f"TelegramSender.send alone, {in_flight} in flight", figures)
                return figures

            return run

        measurements: dict[str, Any] = {
            "worker": lambda r: worker_run("worker", f"lifted-{r}", "worker (as is)"),
            "ceiling": ceiling,
            f"ptb_alone_{concurrency}": await ptb_alone(concurrency),
            f"ptb_alone_{args.in_flight}": await ptb_alone(args.in_flight),
        }
        measurements["db_only"] = lambda r: worker_run(
            "db_only", f"db-only-{r}", "database side alone", transport="none"
        )
        if args.variants:
            for key, label, transport in VARIANTS:
                measurements[key] = (
                    lambda key, label, transport: (
                        lambda r: worker_run(key, f"{key.replace('_', '-')}-{r}", label, transport=transport)
                    )
                )(key, label, transport)

        runs: dict[str, list[dict[str, Any]]] = {key: [] for key in measurements}
        for repeat in range(args.repeat):  # interleaved, so that a slow spell of the VM hits all alike
            for key, measurement in measurements.items():
                runs[key].append(await measurement(repeat))
        for key, collected in runs.items():
            result[key] = median_run(collected)

        if args.profile != "none":
            profiler = Profiler(args.profile, args.py_spy)
            fresh, closers = await start_worker(core)
            try:
                async with profiler.around(f"worker-{database}"):
                    figures = await measured(
                        fake, n, lambda: push(core, fresh, "lifted-profiled", LIFTED_TAG, timeout=600, poll=0.1), url
                    )
            finally:
                await stop_all(closers)
            summary = profiler.summary()
            result["profile"] = {"kind": args.profile, "rate_while_profiled": figures["rate"], **summary}
            print(
                f"[{database}] profiled worker run ({args.profile}): {figures['rate']}/s; {summary['file']}", flush=True
            )
            if args.profile == "cprofile":
                print(summary["report"])
            else:
                print_profile(summary)
    finally:
        await core.close()
        await fake.close()
    worker_rate, ceiling_rate = result["worker"]["rate"], result["ceiling"]["rate"]
    result["worker_share_of_ceiling"] = round(worker_rate / ceiling_rate, 3) if worker_rate and ceiling_rate else None
    return result


async def run_on(database: str, args: argparse.Namespace) -> dict[str, Any]:
    scratch = scratch_for(database, args.postgres_url, args.keep)
    async with scratch as url:
        engine = db.create_engine(url)
        try:
            await db.migrate(engine)
            version = await server_version(engine)
        finally:
            await engine.dispose()
        core = build_core(Settings(_env_file=None, database_url=url, seed_samples=False))  # type: ignore[call-arg]
        try:
            await fill(
                core,
                args.chats if args.only != "lifted" else 0,
                args.lifted_chats if args.only != "limited" else 0,
                RECOVERY_CHATS if args.only != "lifted" and args.recovery else 0,
            )
            await settle(core.engine)  # statistics of the fresh tables, as a running server would have them
        finally:
            await core.close()
        result: dict[str, Any] = {
            "database": database,
            "server_version": version,
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "sniffio_installed": importlib.util.find_spec("sniffio") is not None,
        }
        if args.only != "lifted":
            result["limited"] = await limited_phase(database, url, args)
        if args.only != "limited":
            result["lifted"] = await lifted_phase(database, url, args)
    return result


def print_table(results: list[dict[str, Any]]) -> None:
    print()
    limited = [r for r in results if "limited" in r]
    if limited:
        print(
            f"{'database':<10}{'sent':>7}{'429s':>6}{'rate/s':>9}{'share':>8}{'busiest 1 s':>13}  worker at  target >= {100 * TARGET_SHARE:.0f} %, 0 x 429"
        )
        for r in limited:
            p = r["limited"]
            ok = (p["share"] or 0) >= TARGET_SHARE and p["fake"]["too_many_requests"] == 0
            print(
                f"{r['database']:<10}{p['fake']['ok']:>7,}{p['fake']['too_many_requests']:>6}{p['rate'] or 0:>9.2f}"
                f"{100 * (p['share'] or 0):>7.1f}%{p['fake']['busiest_second']:>13}  {p['worker_rate']:>6g}/s  {'ok' if ok else 'MISSED'}"
            )
    for r in limited:
        figures = r["limited"].get("recovery")
        if figures:
            print(
                f"{r['database']:<10}one 429 injected: {figures['too_many_requests_incl_injected'] - 1} more 429s, "
                f"{figures['seconds_lost']:.1f} s lost sending {figures['sent']} messages"
            )
    lifted = [r for r in results if "lifted" in r]
    if lifted:
        first = lifted[0]["lifted"]
        print()
        print(
            f"limit lifted, {first['chats']:,} chats, the fake in a {first['fake_runs_in']}: messages/s at the fake, "
            f"median of {first['repeat']} (min-max), and CPU ms per message of this process (target for the worker >= {TARGET_LIFTED:,.0f}/s)"
        )
        names = [
            ("worker", "worker (as is)"),
            ("ceiling", f"bare aiohttp loop (ceiling), {first['ceiling']['concurrency']} in flight"),
        ]
        names += [
            (k, f"TelegramSender.send alone, {k.rsplit('_', 1)[1]} in flight")
            for k in first
            if k.startswith("ptb_alone_")
        ]
        names += [("db_only", "database side alone (rows/s, InstantSender)")] if "db_only" in first else []
        names += [(key, label) for key, label, _ in VARIANTS if key in first]
        print(f"{'':<48}" + "".join(f"{r['database'] + ' msg/s':>22}{'CPU ms':>8}" for r in lifted))
        for key, label in names:
            cells = ""
            for r in lifted:
                figures = r["lifted"].get(key) or {}
                rates = [x for x in figures.get("rates", []) if x]
                spread = f"({min(rates):.0f}-{max(rates):.0f})" if rates else ""
                cpu = next(iter(figures.get("cpu_ms_per_message", {}).values()), None)
                cells += (
                    f"{figures.get('rate') or 0:>10.0f} {spread:>11}{cpu if cpu is not None else float('nan'):>8.2f}"
                )
            print(f"{label:<48}{cells}")
        shares = "".join(f"{100 * (r['lifted']['worker_share_of_ceiling'] or 0):>21.0f}%{'':>8}" for r in lifted)
        print(f"{'worker / ceiling':<48}{shares}")
        print(
            "httpcore finds sniffio: "
            + (
                "yes"
                if lifted[0]["sniffio_installed"]
                else "no (so it runs a failing `import sniffio` for every lock and event it makes)"
            )
        )


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--chats", type=int, default=3_000, help="chats for the run at the limit")
    parser.add_argument("--rate", type=float, default=30.0, help="the fake's and the worker's messages per second")
    parser.add_argument("--lifted-chats", type=int, default=5_000, help="chats for the run with the limit lifted")
    parser.add_argument(
        "--worker-rate", type=float, help="the worker's TELEGRAM_RATE_LIMIT in the run at the limit (default: --rate)"
    )
    parser.add_argument(
        "--no-recovery", dest="recovery", action="store_false", help="skip the run at the limit with one 429 injected"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each lifted measurement (the median is reported)"
    )
    parser.add_argument(
        "--in-flight", type=int, default=8, help="the bounded concurrency tried besides the worker's batch"
    )
    parser.add_argument(
        "--no-variants", dest="variants", action="store_false", help="skip the variants of the worker's sender"
    )
    parser.add_argument(
        "--fake-process",
        choices=("separate", "same"),
        default="separate",
        help="where the fake runs for the lifted run (the run at the limit always has it in-process)",
    )
    parser.add_argument("--only", choices=("limited", "lifted"), help="run one of the two measurements")
    parser.add_argument(
        "--profile", choices=("none", "py-spy", "cprofile"), default="none", help="profile one more lifted worker run"
    )
    parser.add_argument("--py-spy", default=shutil.which("py-spy"), help="path of the py-spy binary")
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL, help="server to create the scratch database on")
    parser.add_argument("--keep", action="store_true", help="leave the PostgreSQL database behind, to inspect it")
    parser.add_argument(
        "--no-vacuum",
        dest="vacuum",
        action="store_false",
        help="PostgreSQL: no VACUUM ANALYZE of the deliveries between runs (as with autovacuum off)",
    )
    parser.add_argument("--label", help="results go to bench/results-sending-<database>-<label>.json")
    parser.add_argument("--serve-fake", action="store_true", help=argparse.SUPPRESS)  # the child of ProcessFake
    args = parser.parse_args(argv)
    if args.chats < 2 or args.lifted_chats < 2 or args.rate <= 0 or args.repeat < 1:
        parser.error("--chats and --lifted-chats must be at least 2, --rate and --repeat positive")
    if args.profile == "py-spy" and not args.py_spy:
        parser.error("py-spy not found: pip install --target /tmp/pyspy py-spy, then --py-spy /tmp/pyspy/bin/py-spy")
    return args


async def main(argv: list[str] | None = None) -> None:
    global VACUUM_BETWEEN_RUNS
    args = parse_arguments(argv)
    if args.serve_fake:
        await serve_fake()
        return
    cancel_on_sigterm()  # a `kill` still drops the scratch database
    VACUUM_BETWEEN_RUNS = args.vacuum
    databases = ("sqlite", "postgres") if args.database == "both" else (args.database,)
    results = []
    for database in databases:
        result = await run_on(database, args)
        result["arguments"] = {k: v for k, v in vars(args).items() if k not in ("serve_fake", "postgres_url", "keep")}
        name = f"results-sending-{database}{'-' + args.label if args.label else ''}.json"
        (RESULTS_DIR / name).write_text(json.dumps(result, indent=2, default=str) + "\n")
        results.append(result)
    print_table(results)


if __name__ == "__main__":
    asyncio.run(main())
