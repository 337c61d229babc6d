"""`explainer-bot run` as a supervisor sees it: up through a platform's outage,
non-zero only for a configuration error, and a deploy's SIGTERM losing nothing."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections import Counter
from typing import Any

import pytest

from tests.e2e.processes import SCOOP, Rig, eventually
from tests.fakes.discord import FakeDiscord
from tests.fakes.telegram import FakeTelegram


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as answer:
            body = answer.read().decode()
            return answer.status, json.loads(body) if path == "/healthz" else body
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        return error.code, json.loads(body) if path == "/healthz" else body
    except OSError:
        return 0, None


async def health(port: int) -> tuple[int, Any]:
    return await asyncio.to_thread(get, port, "/healthz")


async def test_run_started_during_an_outage_stays_up_and_joins_when_telegram_answers(rig: Rig) -> None:
    await rig.followers(20)
    rig.fake.outage()
    port = free_port()
    bot = rig.start_worker(
        "bot",
        roles=("api", "telegram", "worker"),
        api_port=port,
        delivery_outage_probe_max=1,
        telegram_rate_limit=100,
    )

    async def api_up() -> bool:
        return (await health(port))[0] == 503

    await eventually(api_up, "the API serving while Telegram is down", timeout=60, alive=[bot])
    _, body = await health(port)
    assert body["adapters"] == {"telegram": "connecting"}, body
    await asyncio.sleep(2)
    bot.assert_running()
    rig.fake.outage(False)

    async def joined() -> bool:
        return (await health(port))[0] == 200

    await eventually(joined, "Telegram joining once it answers", timeout=60, alive=[bot])
    before = len(rig.fake.sent(1))
    rig.fake.send_text(1, 1, "/help")
    await eventually(lambda: len(rig.fake.sent(1)) > before, "the answer to /help", timeout=30, alive=[bot])

    # Down again while a story goes out: degraded, none failed, every chat once when it is back.
    rig.fake.outage()
    await rig.core.publisher.publish(SCOOP)

    async def degraded() -> bool:
        code, body = await health(port)
        return code == 503 and body["adapters"] == {"telegram": "degraded"}

    await eventually(degraded, "/healthz saying Telegram is degraded", timeout=60, alive=[bot])
    _, body = await health(port)
    assert body["degraded"]["telegram"]["since"] and "Telegram" in body["degraded"]["telegram"]["last_error"]
    metrics = (await asyncio.to_thread(get, port, "/metrics"))[1]
    assert 'explainer_platform_breaker_open{platform="telegram"} 1.0' in metrics
    await asyncio.sleep(2)
    rig.fake.outage(False)
    await eventually(rig.drained, "every chat served after the outage", timeout=60, alive=[bot])
    await eventually(joined, "/healthz back to 200", timeout=30, alive=[bot])
    pushes = Counter(m.chat_id for m in rig.fake.sent() if SCOOP.title in m.text)  # not the answer to /help
    assert set(pushes) == set(range(1, 21)) and max(pushes.values()) == 1
    assert set((await rig.statuses()).values()) == {"sent"}
    metrics = (await asyncio.to_thread(get, port, "/metrics"))[1]
    assert 'explainer_platform_breaker_open{platform="telegram"} 0.0' in metrics
    sent_at = re.search(r'explainer_platform_last_sent_timestamp_seconds\{platform="telegram"\} (\S+)', metrics)
    assert sent_at is not None and float(sent_at.group(1)) > time.time() - 60
    assert await bot.stop() == 0
    log = bot.log()
    assert "Traceback" not in log, log[-4000:]
    warnings = [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]
    assert len([w for w in warnings if "content.delivery.breaker" in w]) == 1, warnings
    assert not [w for w in warnings if " ERROR " in w], warnings
    assert "is back after" in log and "pushes waited" in log


@pytest.mark.parametrize(
    ("settings", "setting"),
    [({"telegram_bot_token": "999:WRONG"}, "TELEGRAM_BOT_TOKEN"), ({}, None)],
    ids=["telegram", "fine"],
)
async def test_a_token_the_platform_refuses_stops_run_with_one_line(
    rig: Rig, settings: dict, setting: str | None
) -> None:
    if setting is None:  # the control: the right token, and the bot stays up until told to stop
        bot = rig.start_worker("bot", roles=("telegram", "worker"))
        await bot.ready()
        assert await bot.stop() == 0
        return
    bot = rig.start_worker("bot", roles=("telegram", "worker"), **settings)
    assert await bot.exited(timeout=60) == 2
    last = bot.log().strip().splitlines()[-1]
    assert last.startswith(f"explainer-bot: {setting}: ") and "refused the token" in last, bot.log()[-2000:]


async def test_sigterm_mid_fan_out_loses_nothing_and_repeats_nothing(rig: Rig) -> None:
    chats = 200
    await rig.followers(chats)
    first = rig.start_worker("first", telegram_rate_limit=40)
    await first.ready()
    await rig.core.publisher.publish(SCOOP)
    await eventually(lambda: len(rig.fake.sent()) >= 60, "60 sent", timeout=60, every=0.01, alive=[first])
    began = asyncio.get_running_loop().time()
    assert await first.stop() == 0  # as Docker stops a container: SIGTERM, then 10 s
    assert asyncio.get_running_loop().time() - began < 10
    assert len(rig.fake.sent()) < chats, "the fan-out was over before the SIGTERM"
    second = rig.start_worker("second", telegram_rate_limit=40)
    await eventually(rig.drained, "every row sent", timeout=60, alive=[second])
    assert await second.stop() == 0
    got = rig.delivered()
    assert set(got) == set(range(1, chats + 1)) and set(got.values()) == {1}, "lost or repeated"
    assert "Traceback" not in first.log() + second.log()


async def test_the_fakes_outage_is_telegrams_html_page(rig: Rig) -> None:
    # What the bot meets: a 502 whose body is nginx's page, not the Bot API's JSON.
    rig.fake.outage()
    fake: FakeTelegram = rig.fake
    code, body = await asyncio.to_thread(_raw, f"{fake.url}/bot{fake.token}/getMe")
    assert code == 502 and body.startswith("<html>") and "502 Bad Gateway" in body


def _raw(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_a_discord_token_discord_refuses_stops_run_with_one_line(rig: Rig) -> None:
    fake = FakeDiscord()
    await fake.start()
    try:
        bot = rig.start_worker(
            "bot",
            roles=("discord", "worker"),
            telegram_bot_token="",
            discord_bot_token="wrong.token.x",
            discord_api_base_url=f"{fake.url}/api/v10",
            discord_gateway_url=fake.ws_url,
        )
        assert await bot.exited(timeout=60) == 2
        last = bot.log().strip().splitlines()[-1]
        assert last.startswith("explainer-bot: DISCORD_BOT_TOKEN: ") and "refused the token" in last, bot.log()[-2000:]
    finally:
        await fake.stop()
