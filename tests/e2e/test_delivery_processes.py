"""Push delivery with the bot as real processes: a worker killed mid fan-out,
two workers sharing one bot, and the console chat getting a push.

The fake Telegram server runs in the test's event loop; the workers are
`python -m bot run --role worker` subprocesses pointed at it. Every wait is on
a condition with a generous deadline, never a fixed sleep, so a loaded machine
makes the tests slower rather than flaky.
"""

from __future__ import annotations

import asyncio
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import func, insert, select

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import Chat, Delivery, Subscription
from content.stories.drafts import StoryDraft
from tests.conftest import empty_core
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]

SCOOP = StoryDraft(
    slug="xai-scoop",
    title="xAI ships a model & a <surprise>",
    summary="What changed, in 30 seconds.",
    category="AI",
    published_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
    tags=("xAI",),
    url=None,
    terms=(),
    body="Lead.",
)
# Settings the test process may carry that would change what a subprocess does.
_OWN_SETTINGS = (
    "DATABASE_",
    "TELEGRAM_",
    "DISCORD_",
    "DELIVERY_",
    "SEED_",
    "API_",
    "LOG_LEVEL",
    "SITE_URL",
    "COMMAND_",
)


def clean_environ() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
    env["PYTHONPATH"] = str(ROOT)
    return env


async def eventually(
    condition: Callable[[], object], what: str, timeout: float, every: float = 0.02, alive: Sequence[WorkerProcess] = ()
) -> None:
    """Polls `condition` (sync or async) until true; fails naming `what`, or a worker that died."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        for worker in alive:
            worker.assert_running()
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(every)


class WorkerProcess:
    """`python -m bot run --role worker`, its output in a file (a pipe nobody reads would fill up)."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        # No shell in between: the pid is the Python process itself.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--role", "worker"],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def assert_running(self) -> None:
        code = self.process.poll()
        assert code is None, f"worker {self.name} exited with {code}:\n{self.log()[-4000:]}"

    async def ready(self, timeout: float = 60.0) -> None:
        """Until it has its Telegram client and (on PostgreSQL) its LISTEN up: it logs the platforms it serves."""
        await eventually(
            lambda: "delivering to telegram" in self.log(),
            f"worker {self.name} starting",
            timeout,
            every=0.05,
            alive=[self],
        )

    async def exited(self, timeout: float = 30.0) -> int:
        await eventually(lambda: self.process.poll() is not None, f"worker {self.name} exiting", timeout)
        return self.process.returncode

    async def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        return await self.exited()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self._log.close()


@dataclass
class Rig:
    core: Core
    fake: FakeTelegram
    url: str
    folder: Path
    workers: list[WorkerProcess] = field(default_factory=list)

    def start_worker(self, name: str, **settings: object) -> WorkerProcess:
        env = (
            clean_environ()
            | {
                "DATABASE_URL": self.url,
                "TELEGRAM_BOT_TOKEN": self.fake.token,
                "TELEGRAM_API_BASE_URL": f"{self.fake.url}/bot",
                "SEED_SAMPLES": "false",
                "SITE_URL": "https://news.test",
                "LOG_LEVEL": "INFO",
                "DELIVERY_POLL_SECONDS": "0.5",
            }
            | {key.upper(): str(value) for key, value in settings.items()}
        )
        worker = WorkerProcess(name, env, self.folder)
        self.workers.append(worker)
        return worker

    async def followers(self, count: int) -> None:
        """`count` private chats 1..count in the fake, each following xAI in the database.

        The first subscribes as a reader would, through the core; the rest are
        bulk-inserted alike (hundreds of commands one by one would only slow the test)."""
        for n in range(1, count + 1):
            self.fake.add_chat(n, "private", first_name=f"Reader {n}")
        first = Caller(ChatRef("telegram", "1", "private"), "1", is_admin=True)
        reply = await self.core.commands.handle_text(first, "/subscribe xAI")
        assert "Subscribed" in reply.messages[0].blocks[0].spans[0].text
        async with self.core.sessions.begin() as session:
            (tag_id,) = (await session.execute(select(Subscription.tag_id))).scalars().all()
            now = datetime.now(UTC)
            await session.execute(
                insert(Chat),
                [
                    {
                        "platform": "telegram",
                        "platform_chat_id": str(n),
                        "kind": "private",
                        "title": None,
                        "active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for n in range(2, count + 1)
                ],
            )
            already = set((await session.execute(select(Subscription.chat_id))).scalars())
            ids = (await session.execute(select(Chat.id).where(Chat.platform == "telegram"))).scalars().all()
            await session.execute(
                insert(Subscription),
                [
                    {"chat_id": chat_id, "tag_id": tag_id, "created_at": now}
                    for chat_id in ids
                    if chat_id not in already
                ],
            )
        async with self.core.sessions() as session:
            followed = (await session.execute(select(func.count()).select_from(Subscription))).scalar_one()
        assert followed == count

    async def statuses(self) -> dict[int, str]:
        """Telegram chat id -> its delivery row's status."""
        async with self.core.sessions() as session:
            rows = await session.execute(
                select(Chat.platform_chat_id, Delivery.status).join(Chat, Chat.id == Delivery.chat_id)
            )
            return {int(chat): status for chat, status in rows.all()}

    async def drained(self) -> bool:
        """No row is waiting to be sent or being sent."""
        async with self.core.sessions() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "sending")))
            return (await session.execute(query)).scalar_one() == 0

    def delivered(self) -> Counter[int]:
        """Chat id -> how many messages the fake accepted for it."""
        return Counter(message.chat_id for message in self.fake.sent())


@pytest.fixture
async def rig(database_url: str, tmp_path: Path) -> AsyncIterator[Rig]:
    core = await empty_core(database_url)
    await (
        core.prepare()
    )  # the sample library: it brings the xAI tag (nobody follows anything yet, so nothing is queued)
    fake = FakeTelegram()
    await fake.start()
    rig = Rig(core, fake, database_url, tmp_path)
    try:
        yield rig
    finally:
        for worker in rig.workers:
            worker.close()
        await fake.stop()
        await core.close()


# ----- a worker killed mid fan-out ------------------------------------------------------------------


async def test_a_killed_worker_loses_nothing_and_repeats_only_what_was_in_flight(rig: Rig) -> None:
    chats = 400
    await rig.followers(chats)
    published = await rig.core.publisher.publish(SCOOP)
    assert published.deliveries_queued == chats

    # 40/s: about 10 s for everyone. The 2 s lease has run out by the time the replacement looks.
    first = rig.start_worker("first", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(lambda: len(rig.fake.sent()) >= 120, "120 messages sent", timeout=60, every=0.005, alive=[first])
    os.kill(first.pid, signal.SIGKILL)
    assert await first.exited() == -signal.SIGKILL
    # S and D as the dead process left them: a request it had already put on the wire may still be
    # read and answered by the fake, a COMMIT it had sent still applied, so both are taken once that
    # has settled. Nothing can change them after that but a new worker.
    await rig.fake.wait_idle(quiet=0.5, timeout=10)
    reached = set(rig.delivered())  # S: chats Telegram got the story in
    recorded = {chat for chat, status in (await rig.statuses()).items() if status == "sent"}  # D: rows marked sent
    in_flight = reached - recorded
    assert 120 <= len(reached) < chats, "the kill came too late to interrupt the fan-out"
    assert recorded <= reached, "a row is marked sent that Telegram never got"
    assert max(rig.delivered().values()) == 1

    second = rig.start_worker("second", telegram_rate_limit=40, delivery_lease_seconds=2)
    await eventually(rig.drained, "every row sent", timeout=60, every=0.1, alive=[second])
    assert await second.stop() == 0

    got = rig.delivered()
    assert set(got) == set(range(1, chats + 1)), f"never got the story: {sorted(set(range(1, chats + 1)) - set(got))}"
    twice = {chat for chat, times in got.items() if times > 1}
    assert max(got.values()) <= 2
    print(f"killed at {len(reached)} sent, {len(recorded)} recorded; sent twice: {len(twice)}")
    assert twice <= in_flight, f"sent twice though recorded or never sent before the kill: {sorted(twice - in_flight)}"
    assert rig.fake.errors == []
    assert set((await rig.statuses()).values()) == {"sent"}
    assert all(SCOOP.title in m.text for m in rig.fake.sent())
    for worker in (first, second):
        assert "Traceback" not in worker.log(), worker.log()[-4000:]


# ----- two workers sharing one bot ----------------------------------------------------------------------


# Several worker processes need PostgreSQL (row locks, LISTEN/NOTIFY): SQLite is one process's database.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_worker_processes_split_the_chats_and_share_the_rate(rig: Rig) -> None:
    chats, overall = 600, 60
    await rig.followers(chats)
    workers = [
        # Polling only once a minute: the publish's NOTIFY must wake them.
        rig.start_worker(
            f"worker{i}",
            telegram_rate_limit=overall,
            delivery_workers=2,
            delivery_worker_index=i,
            delivery_lease_seconds=30,
            delivery_poll_seconds=60,
        )
        for i in (0, 1)
    ]
    for worker in workers:
        await worker.ready()
    published = await rig.core.publisher.publish(SCOOP)  # NOTIFY wakes both at once
    assert published.deliveries_queued == chats
    await rig.fake.wait_for(lambda c: c.method == "sendMessage" and c.ok, timeout=10)
    await eventually(rig.drained, "every row sent", timeout=60, every=0.1, alive=workers)
    assert [await worker.stop() for worker in workers] == [0, 0]

    got = rig.delivered()
    assert set(got) == set(range(1, chats + 1)) and set(got.values()) == {1}, "a chat got no message, or several"
    assert rig.fake.errors == []
    async with rig.core.sessions() as session:
        rows = (
            await session.execute(
                select(Chat.platform_chat_id, Delivery.chat_id, Delivery.status, Delivery.attempts).join(
                    Chat, Chat.id == Delivery.chat_id
                )
            )
        ).all()
    assert len(rows) == chats
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}, "a row was claimed more than once"

    # Process i sends to the chats whose database id is i modulo 2: the fake's calls, split so, are each
    # process's sends. Each keeps half the bot's rate, and they send side by side.
    worker_of = {int(row.platform_chat_id): row.chat_id % 2 for row in rows}
    calls = sorted((c for c in rig.fake.calls if c.method == "sendMessage" and c.ok), key=lambda c: c.at)
    assert len(calls) == chats
    streams = [[c.at for c in calls if worker_of[int(c.params["chat_id"])] == i] for i in (0, 1)]
    assert min(len(stream) for stream in streams) > chats // 4, [len(stream) for stream in streams]
    for i, stream in enumerate(streams):
        assert _rate(stream) <= overall / 2 * 1.1, (
            f"worker {i} sent at {_rate(stream):.1f}/s, over its half of {overall}/s"
        )
    spans = [(_middle(stream)[0], _middle(stream)[-1]) for stream in streams]
    assert max(span[0] for span in spans) < min(span[1] for span in spans), f"the workers took turns: {spans}"

    # Together within the bot's one limit, and above what one process may send.
    combined = _rate([c.at for c in calls])
    assert combined <= overall * 1.1, f"{combined:.1f} messages/s together, over the limit of {overall}/s"
    assert combined >= overall / 2 * 1.2, f"only {combined:.1f} messages/s together: not both processes sending"
    for worker in workers:
        assert "Traceback" not in worker.log(), worker.log()[-4000:]


def _middle(times: list[float]) -> list[float]:
    """The middle 80 % of a run: its ends have a process ramping up or done."""
    return times[len(times) // 10 : len(times) * 9 // 10]


def _rate(times: list[float]) -> float:
    """Messages per second over the middle of a run: the slope of the send times, fitted by least
    squares, so that a stall of a loaded machine at either end of the span does not skew it."""
    middle = _middle(times)
    return 1 / statistics.linear_regression(range(len(middle)), middle).slope


# ----- the console chat gets its push ---------------------------------------------------------------------


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)
    into.put("")  # end of output


def test_the_console_prints_a_push_for_a_story_published_meanwhile(tmp_path: Path) -> None:
    """As a new user would run it: the default SQLite file under ./data, the samples seeded at first start."""
    env = clean_environ() | {"DELIVERY_POLL_SECONDS": "0.5"}
    with (tmp_path / "console.err").open("w") as errors:
        console = subprocess.Popen(
            [sys.executable, "-m", "bot", "console"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
            cwd=tmp_path,
            env=env,
        )
    output: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(console.stdout, output), daemon=True)
    reader.start()
    seen: list[str] = []

    def read_until(*needles: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(needle in "".join(seen) for needle in needles):
            try:
                line = output.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(
                    f"no {needles} within {timeout} s; the console printed:\n{''.join(seen)}"
                ) from None
            assert line, (
                f"the console ended before printing {needles}:\n{''.join(seen)}\n{(tmp_path / 'console.err').read_text()}"
            )
            seen.append(line)

    try:
        assert console.stdin is not None
        console.stdin.write("/subscribe xAI\n")
        console.stdin.flush()
        read_until("Subscribed to #xAI", timeout=60)  # start-up seeded the samples, which bring the xAI tag
        assert (tmp_path / "data" / "explainer.db").exists()

        story = tmp_path / "scoop.md"
        story.write_text(
            "---\ntitle: Grok learns to explain itself\nsummary: The newest xAI model, simply.\ncategory: AI\n"
            "published_at: 2026-11-27T08:00:00Z\ntags: [xAI]\n---\nLead.\n"
        )
        published = subprocess.run(
            [sys.executable, "-m", "bot", "publish", str(story)],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
        )
        assert published.returncode == 0, published.stderr
        assert "created   grok-learns-to-explain-itself: 1 deliveries queued" in published.stdout

        button = "[Explain] → /story grok-learns-to-explain-itself"  # the push's last line
        read_until("New story for you", button, timeout=20)
        push = "".join(seen).split("New story for you", 1)[1]
        assert "Grok learns to explain itself" in push and "The newest xAI model, simply." in push

        console.stdin.close()
        assert console.wait(timeout=30) == 0
        assert "Traceback" not in (tmp_path / "console.err").read_text()
    finally:
        if console.poll() is None:
            console.kill()
            console.wait(timeout=30)
        reader.join(timeout=10)  # it ends at the end of the output
        for stream in (console.stdin, console.stdout):
            if stream is not None and not stream.closed:
                stream.close()
