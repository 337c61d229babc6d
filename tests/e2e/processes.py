"""Bot processes for end-to-end tests: started as a supervisor starts them, on a
real database, against the fake Telegram, with helpers to watch what they do."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
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
    """`python -m bot run --role worker` (or other roles), its output in a file (a pipe nobody reads would fill up)."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path, roles: Sequence[str] = ("worker",)) -> None:
        self.name = name
        self.log_path = cwd / f"{name}.log"
        self._log: IO[str] = self.log_path.open("w")
        # No shell in between: the pid is the Python process itself.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *(arg for role in roles for arg in ("--role", role))],
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

    def start_worker(self, name: str, roles: Sequence[str] = ("worker",), **settings: object) -> WorkerProcess:
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
        worker = WorkerProcess(name, env, self.folder, roles)
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

    async def statuses(self, kind: str = "send") -> dict[int, str]:
        """Telegram chat id -> the status of its delivery row of `kind` (send, edit, delete)."""
        async with self.core.sessions() as session:
            rows = await session.execute(
                select(Chat.platform_chat_id, Delivery.status)
                .join(Chat, Chat.id == Delivery.chat_id)
                .where(Delivery.kind == kind)
            )
            return {int(chat): status for chat, status in rows.all()}

    async def drained(self) -> bool:
        """No row is waiting to be sent or being sent."""
        async with self.core.sessions() as session:
            query = select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "sending")))
            return (await session.execute(query)).scalar_one() == 0

    def delivered(self) -> Counter[int]:
        """Chat id -> how many messages the fake accepted for it (edits not counted)."""
        return Counter(message.chat_id for message in self.fake.sent() if not message.edited)

    def edited(self) -> Counter[int]:
        """Chat id -> how many edits of its messages the fake accepted."""
        return Counter(message.chat_id for message in self.fake.sent() if message.edited)


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
