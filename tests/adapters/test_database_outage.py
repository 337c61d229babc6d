"""The database going away and coming back while a fan-out runs and the API serves.

PostgreSQL is reached through a proxy of the test's own, which is cut: the
machine's server itself is never stopped. On SQLite, a second process
publishing beside a running bot, and publishes at once through the API.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from telegram import Bot

from adapters.telegram.request import AiohttpRequest
from adapters.telegram.sender import TelegramSender
from bot.composition import Core, build_http_app, build_workers
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import Chat, Delivery, Subscription
from tests.conftest import empty_core
from tests.fakes.proxy import TcpProxy
from tests.fakes.telegram import FakeTelegram

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "a-token-for-the-outage-test"


def story(slug: str) -> dict:
    return {
        "slug": slug,
        "title": f"Story {slug}",
        "summary": "Short.",
        "category": "AI",
        "published_at": "2026-12-02T09:00:00Z",
        "tags": ["xAI"],
        "body": "Lead.",
    }


async def follow_all(core: Core, fake: FakeTelegram, count: int) -> None:
    for n in range(1, count + 1):
        fake.add_chat(n, "private", first_name=f"Reader {n}")
    await core.commands.handle_text(Caller(ChatRef("telegram", "1"), "1", is_admin=True), "/subscribe xAI")
    now = datetime.now(UTC)
    async with core.sessions.begin() as session:
        (tag_id,) = (await session.execute(select(Subscription.tag_id))).scalars().all()
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
        ids = (await session.execute(select(Chat.id).where(Chat.platform_chat_id != "1"))).scalars().all()
        await session.execute(insert(Subscription), [{"chat_id": i, "tag_id": tag_id, "created_at": now} for i in ids])


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_postgres_away_mid_fan_out_loses_nothing_and_the_api_answers_503(database_url: str) -> None:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    proxied = url.set(port=proxy.port).render_as_string(hide_password=False)
    core = await empty_core(proxied, api_token=SecretStr(TOKEN), telegram_rate_limit=50, delivery_lease_seconds=30)
    fake = FakeTelegram()
    await fake.start()
    bot = Bot(fake.token, base_url=f"{fake.url}/bot")
    pushes = AiohttpRequest()
    await pushes.initialize()
    stop = asyncio.Event()
    try:
        await core.prepare()
        chats = 200
        await follow_all(core, fake, chats)
        (worker,) = build_workers(core, [TelegramSender(bot, pushes)])
        running = asyncio.create_task(worker.run(stop))
        auth = {"Authorization": f"Bearer {TOKEN}"}
        async with TestServer(build_http_app(core), host="127.0.0.1") as server, TestClient(server) as client:
            assert (await client.post("/api/stories", json=story("first"), headers=auth)).status == 201
            async with asyncio.timeout(30):
                while len(fake.sent()) < 50:
                    await asyncio.sleep(0.01)
            await proxy.cut()  # PostgreSQL gone: restarted, failing over, unreachable
            refused = await client.post("/api/stories", json=story("during"), headers=auth)
            assert refused.status == 503 and "database" in (await refused.json())["error"]
            await asyncio.sleep(3)
            assert running.done() is False  # the worker waits, and goes on
            await proxy.restore()
            assert (await client.post("/api/stories", json=story("after"), headers=auth)).status == 201

            async def drained() -> bool:
                async with core.sessions() as session:
                    query = (
                        select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "sending")))
                    )
                    return (await session.execute(query)).scalar_one() == 0

            async with asyncio.timeout(60):
                while not await drained():
                    await asyncio.sleep(0.1)
        stop.set()
        await running
        async with core.sessions() as session:
            rows = (await session.execute(select(Delivery.status, func.count()).group_by(Delivery.status))).all()
        assert dict(rows) == {"sent": 2 * chats}  # "first" and "after"; "during" was never written
        per_story = Counter((m.chat_id, m.text.split("\n")[0]) for m in fake.sent())
        assert len(per_story) == 2 * chats
        # Sends confirmed while the database was away were recorded when it came back: none went twice.
        assert max(per_story.values()) == 1
    finally:
        stop.set()
        await pushes.shutdown()
        await fake.stop()
        await core.close()
        await proxy.stop()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_on_sqlite_a_publish_process_and_api_publishes_at_once_all_land(
    database_url: str, tmp_path: Path
) -> None:
    core = await empty_core(database_url, api_token=SecretStr(TOKEN))
    await core.prepare()
    await core.commands.handle_text(Caller(ChatRef("console", "local"), "local", is_admin=True), "/subscribe xAI")
    files = []
    for n in range(5):
        path = tmp_path / f"file-{n}.md"
        path.write_text(
            f"---\ntitle: From a file {n}\nsummary: Short.\ncategory: AI\n"
            "published_at: 2026-12-02T08:00:00Z\ntags: [xAI]\n---\nLead.\n"
        )
        files.append(str(path))
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "SEED_SAMPLES": "false"}
    try:
        async with TestServer(build_http_app(core), host="127.0.0.1") as server, TestClient(server) as client:
            publish = asyncio.create_task(
                asyncio.to_thread(
                    subprocess.run,
                    [sys.executable, "-m", "bot", "publish", *files],
                    capture_output=True,
                    text=True,
                    timeout=120,
                    env=env,
                    cwd=tmp_path,
                )
            )
            auth = {"Authorization": f"Bearer {TOKEN}"}
            answers = await asyncio.gather(
                *(client.post("/api/stories", json=story(f"api-{n}"), headers=auth) for n in range(10))
            )
            done = await publish
        assert [a.status for a in answers] == [201] * 10
        assert done.returncode == 0, done.stderr
        async with core.sessions() as session:
            queued = (await session.execute(select(func.count()).select_from(Delivery))).scalar_one()
        assert queued == 15  # one push a story for the one chat following xAI: nothing lost to a busy database
    finally:
        await core.close()
