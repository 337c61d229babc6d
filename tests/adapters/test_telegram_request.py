"""The aiohttp transport under python-telegram-bot: forms, files, timeouts and network errors
arrive as python-telegram-bot's own errors, so the sender's mapping of them holds."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import EndPointNotFound, NetworkError, TimedOut

from adapters.telegram.request import AiohttpRequest

TOKEN = "123:abc"


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[dict]]]:
    seen: list[dict] = []

    async def method(request: web.Request) -> web.Response:
        name = request.match_info["method"]
        if request.content_type == "multipart/form-data":
            fields = {}
            async for part in await request.multipart():
                fields[part.name] = {
                    "filename": part.filename,
                    "type": part.headers.get("Content-Type"),
                    "data": (await part.read()).decode(),
                }
        else:
            fields = dict(await request.post())
        seen.append({"method": name, "fields": fields, "agent": request.headers.get("User-Agent", "")})
        if name == "getMe":
            return _ok({"id": 123, "is_bot": True, "first_name": "Explainer", "username": "explainer_bot"})
        if name == "slowMethod":
            await asyncio.sleep(2)
            return _ok(True)
        if name == "sendDocument":
            return _ok(
                {
                    "message_id": 8,
                    "date": 0,
                    "chat": {"id": int(fields["chat_id"]["data"]), "type": "private"},
                    "document": {"file_id": "f", "file_unique_id": "u"},
                }
            )
        if name == "sendMessage":
            return _ok(
                {
                    "message_id": 7,
                    "date": 0,
                    "chat": {"id": int(fields["chat_id"]), "type": "private"},
                    "text": fields["text"],
                }
            )
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", method)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/bot", seen
    await runner.cleanup()


async def test_bot_methods_go_over_aiohttp(server: tuple[str, list[dict]]) -> None:
    url, seen = server
    async with Bot(TOKEN, base_url=url, request=AiohttpRequest()) as bot:
        sent = await bot.send_message(42, "<b>hi</b>", parse_mode="HTML")
    assert sent.message_id == 7 and sent.text == "<b>hi</b>"
    assert [s["method"] for s in seen] == ["getMe", "sendMessage"]
    assert seen[1]["fields"]["parse_mode"] == "HTML"
    assert "python-telegram-bot" in seen[1]["agent"]


async def test_files_are_sent_as_multipart(server: tuple[str, list[dict]]) -> None:
    url, seen = server
    async with Bot(TOKEN, base_url=url, request=AiohttpRequest()) as bot:
        sent = await bot.send_document(42, b"a,b\n1,2\n", filename="figures.csv", caption="figures")
    assert sent.message_id == 8
    fields = seen[-1]["fields"]
    assert fields["document"]["filename"] == "figures.csv" and fields["document"]["data"] == "a,b\n1,2\n"
    assert fields["caption"]["data"] == "figures" and fields["chat_id"]["data"] == "42"


async def test_a_slow_answer_is_a_timeout(server: tuple[str, list[dict]]) -> None:
    url, _ = server
    async with Bot(TOKEN, base_url=url, request=AiohttpRequest(read_timeout=0.2)) as bot:
        with pytest.raises(TimedOut):
            await bot.do_api_request("slowMethod")
        # A per-call timeout wins over the transport's default.
        assert await bot.do_api_request("slowMethod", read_timeout=5) is True


async def test_an_unreachable_server_is_a_network_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError):
            await request.post(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()


async def test_telegram_errors_keep_their_type(server: tuple[str, list[dict]]) -> None:
    url, _ = server
    async with Bot(TOKEN, base_url=url, request=AiohttpRequest()) as bot:
        with pytest.raises(EndPointNotFound, match="noSuchMethod"):
            await bot.do_api_request("noSuchMethod")
