"""python-telegram-bot's HTTP transport on aiohttp.

python-telegram-bot speaks to the Bot API through a `BaseRequest`; its own is
httpx. A fan-out keeps hundreds of sendMessage calls in flight, and httpx's
connection pool does work per open connection on every request: measured with
`bench/delivery_sending.py`, 4 to 7 ms of CPU per message with 200 in flight,
against under 1 ms on aiohttp. Everything above the transport (the Bot's
methods, its errors, its parsing of answers) stays python-telegram-bot's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiohttp
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

_DEFAULT = type(BaseRequest.DEFAULT_NONE)
_FORM = {"Content-Type": "application/x-www-form-urlencoded"}
# What python-telegram-bot calls an answer that is not JSON (its TelegramError's message).
INVALID_ANSWER = "Invalid server response"


@dataclass(frozen=True, slots=True)
class EncodedForm:
    """A request body encoded ahead, for `AiohttpRequest.post` in place of a
    RequestData: a fan-out sends one story to many chats, and only chat_id
    differs, so the rest is encoded once (see TelegramSender)."""

    body: bytes
    contains_files = False


def _given(value: object, default: float | None) -> float | None:
    # python-telegram-bot passes DEFAULT_NONE for "whatever this transport's default is".
    return default if isinstance(value, _DEFAULT) else value  # type: ignore[return-value]


class AiohttpRequest(BaseRequest):
    def __init__(
        self,
        connections: int = 256,
        connect_timeout: float = 5.0,
        read_timeout: float = 5.0,
        write_timeout: float = 5.0,
        media_write_timeout: float = 20.0,
        pool_timeout: float = 1.0,
    ) -> None:
        self._connections = connections
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._media_write_timeout = media_write_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """As python-telegram-bot parses an answer, without its ERROR log line
        (with the whole page) for one that is not JSON: during an outage
        Telegram's front end answers every request with an HTML page, and the
        breaker says so once (content.delivery.breaker)."""
        try:
            parsed = json.loads(payload.decode("utf-8", "replace"))
        except ValueError as exc:
            raise TelegramError(INVALID_ANSWER) from exc
        if not isinstance(parsed, dict):
            raise TelegramError(INVALID_ANSWER)
        return parsed

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                # Each request brings its own timeouts (python-telegram-bot gives them per call).
                timeout=aiohttp.ClientTimeout(total=None),
                # python-telegram-bot parses the answer itself and maps its errors.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | EncodedForm | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        files = (
            request_data.multipart_data
            if isinstance(request_data, RequestData) and request_data.contains_files
            else None
        )
        headers = {"User-Agent": self.USER_AGENT}
        body: aiohttp.FormData | dict[str, str] | bytes | None
        if isinstance(request_data, EncodedForm):
            body = request_data.body
            headers.update(_FORM)
        else:
            body = request_data.json_parameters if request_data is not None else None
        if files:
            form = aiohttp.FormData()
            for name, value in (body or {}).items():  # type: ignore[union-attr]
                form.add_field(name, value)
            for name, part in files.items():
                filename, content = part[0], part[1]
                content_type = part[2] if len(part) > 2 else None  # type: ignore[misc]
                form.add_field(name, content, filename=filename, content_type=content_type)
            body = form
        write = _given(write_timeout, self._media_write_timeout if files else self._write_timeout)
        read = _given(read_timeout, self._read_timeout)
        # aiohttp has no write timeout of its own: the whole exchange gets write + read.
        total = None if read is None or write is None else read + write
        pool = _given(pool_timeout, self._pool_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(
            total=total,
            # aiohttp's `connect` is the wait for a pooled connection and the
            # opening of a new one together; `sock_connect` the opening alone.
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=read,
        )
        try:
            async with self._session.request(method, url, data=body, timeout=timeout, headers=headers) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut(f"Timed out: {exc}" if str(exc) else "Timed out") from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{type(exc).__name__}: {exc}") from exc


class QuietHTTPXRequest(HTTPXRequest):
    """python-telegram-bot's httpx transport, for the long poll, parsing answers
    as AiohttpRequest does: an outage's HTML pages raise, without a log line each."""

    parse_json_payload = staticmethod(AiohttpRequest.parse_json_payload)  # type: ignore[assignment]
