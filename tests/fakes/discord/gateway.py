"""The gateway: one _Connection per websocket (an ordered send queue, zlib-stream
compression), one _Session per shard (numbered dispatches kept for RESUME), and the
mixin that accepts connections, answers heartbeats, IDENTIFY (token, intents,
shards), RESUME and member requests, and routes a dispatch to the shard that owns a
guild. Everything about the websocket side lives here."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from .constants import (
    _APP_FLAG_OF_INTENT,
    ALL_INTENTS,
    API_VERSIONS,
    CLOSE_ALREADY_AUTHENTICATED,
    CLOSE_AUTHENTICATION_FAILED,
    CLOSE_DECODE_ERROR,
    CLOSE_DISALLOWED_INTENTS,
    CLOSE_INVALID_INTENTS,
    CLOSE_INVALID_SHARD,
    CLOSE_NOT_AUTHENTICATED,
    CLOSE_SESSION_TAKEN_OVER,
    CLOSE_UNKNOWN_OPCODE,
    GUILDS_INTENT,
    OP_DISPATCH,
    OP_HEARTBEAT,
    OP_HEARTBEAT_ACK,
    OP_HELLO,
    OP_IDENTIFY,
    OP_INVALID_SESSION,
    OP_PRESENCE,
    OP_REQUEST_MEMBERS,
    OP_RESUME,
    OP_VOICE_STATE,
    PRIVILEGED_INTENTS,
)
from .helpers import _as_int, json_response
from .observed import GatewayFrame
from .state import _Guild

if TYPE_CHECKING:  # for annotations only: the server imports this module
    from .server import FakeDiscord

log = logging.getLogger(__name__)


class _Connection:
    """One gateway websocket. Payloads go through a queue so synchronous code can send in order."""

    _CLOSE = object()

    def __init__(self, fake: FakeDiscord, ws: web.WebSocketResponse, compress: bool) -> None:
        self.fake = fake
        self.ws = ws
        # zlib-stream: one compressor for the connection's life, each payload flushed with Z_SYNC_FLUSH
        self.compressor = zlib.compressobj() if compress else None
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.session: _Session | None = None
        self.closing = False
        self.writer = asyncio.create_task(self._write())

    @property
    def shard_id(self) -> int | None:
        return self.session.shard_id if self.session else None

    def send(self, payload: dict[str, Any]) -> None:
        if not self.closing:
            self.queue.put_nowait(payload)

    def close(self, code: int, reason: str = "") -> None:
        """Closes after what is queued has been written."""
        if not self.closing:
            self.closing = True
            self.queue.put_nowait((self._CLOSE, code, reason))

    async def _write(self) -> None:
        try:
            while True:
                item = await self.queue.get()
                if isinstance(item, tuple) and item[0] is self._CLOSE:
                    await self.ws.close(code=item[1], message=item[2].encode())
                    return
                self.fake._log_frame("out", self.shard_id, item)
                text = json.dumps(item)
                if self.compressor is not None:
                    data = self.compressor.compress(text.encode()) + self.compressor.flush(zlib.Z_SYNC_FLUSH)
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            pass  # the bot hung up; the reading side notices and detaches the session


@dataclass
class _Session:
    """A gateway session (one shard): numbered dispatches, kept for RESUME."""

    id: str
    shard_id: int
    shard_count: int
    intents: int
    sharded: bool  # whether IDENTIFY named a shard (READY then carries `shard`)
    seq: int = 0
    backlog: list[dict[str, Any]] = field(default_factory=list)
    connection: _Connection | None = None
    ready: bool = False  # READY and every GUILD_CREATE sent

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        self.seq += 1
        payload = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.backlog.append(payload)
        if self.connection is not None:
            self.connection.send(payload)


class GatewayMixin:
    """FakeDiscord's gateway: connections, sessions, identify, resume and dispatch."""

    # ----- gateway -------------------------------------------------------------------------------------
    def _log_frame(self, direction: str, shard_id: int | None, payload: dict[str, Any]) -> None:
        self.gateway_frames.append(GatewayFrame(direction, shard_id, payload, time.monotonic()))
        self._notify()

    def _shards_ready(self, shard_ids: list[int] | None) -> bool:
        if not self._shard_count:
            return False
        return all(
            (s := self._shards.get(i)) is not None and s.ready and s.connection is not None
            for i in (range(self._shard_count) if shard_ids is None else shard_ids)
        )

    def _session_for(self, guild_id: int | None) -> _Session | None:
        """The session of the shard a guild belongs to ((id >> 22) % shard count); DMs go to shard 0."""
        if not self._shard_count:
            return None
        shard_id = 0 if guild_id is None else (guild_id >> 22) % self._shard_count
        return self._shards.get(shard_id)

    def _dispatch_to_guild(self, guild_id: int | None, event: str, data: dict[str, Any], intent: int = 0) -> bool:
        session = self._session_for(guild_id)
        if session is None or (intent and not session.intents & intent):
            return False
        session.dispatch(event, data)
        return True

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        version, encoding = request.query.get("v", "10"), request.query.get("encoding", "json")
        compress = request.query.get("compress")
        if version not in API_VERSIONS or encoding != "json" or compress not in (None, "zlib-stream"):
            # zstd-stream: discord.py asks for it only when zstandard (or Python 3.14's compression.zstd) is importable
            log.warning("fake Discord: refusing gateway %s", request.query_string)
            reason = f"unsupported gateway parameters {request.query_string!r}"
            return json_response(400, {"message": reason, "code": 0})
        ws = web.WebSocketResponse(autoping=True, max_msg_size=0)
        await ws.prepare(request)
        connection = _Connection(self, ws, compress == "zlib-stream")
        self._connections.add(connection)
        connection.send({"op": OP_HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}, "s": None, "t": None})
        try:
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    self._on_gateway_payload(connection, message.data)
                elif message.type is WSMsgType.BINARY:  # ETF or compressed payloads: not what discord.py sends
                    connection.close(CLOSE_DECODE_ERROR, "Decode error.")
        finally:
            self._connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            connection.writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await connection.writer
            self._notify()
        return ws

    def _on_gateway_payload(self, connection: _Connection, text: str) -> None:
        try:
            payload = json.loads(text)
            op, data = payload["op"], payload.get("d")
        except (ValueError, KeyError, TypeError):
            connection.close(CLOSE_DECODE_ERROR, "Decode error.")
            return
        self._log_frame("in", connection.shard_id, payload)
        if op == OP_HEARTBEAT:
            connection.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            self._identify(connection, data or {})
        elif op == OP_RESUME:
            self._resume(connection, data or {})
        elif op in (OP_PRESENCE, OP_VOICE_STATE, OP_REQUEST_MEMBERS):
            if connection.session is None:
                connection.close(CLOSE_NOT_AUTHENTICATED, "Not authenticated.")
            elif op == OP_REQUEST_MEMBERS:
                self._members_chunk(connection.session, data or {})
        else:
            connection.close(CLOSE_UNKNOWN_OPCODE, "Unknown opcode.")

    def _identify(self, connection: _Connection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            connection.close(CLOSE_ALREADY_AUTHENTICATED, "Already authenticated.")
            return
        if data.get("token") != self.token:
            connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int) or isinstance(intents, bool) or intents < 0 or intents & ~ALL_INTENTS:
            connection.close(CLOSE_INVALID_INTENTS, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS & ~self.privileged_intents:
            connection.close(CLOSE_DISALLOWED_INTENTS, "Disallowed intent(s).")
            return
        shard = data.get("shard")  # a plain discord.Client sends none: it is shard [0, 1]
        well_formed = isinstance(shard, list) and len(shard) == 2 and all(type(n) is int for n in shard)
        if shard is not None and not (well_formed and 0 <= shard[0] < shard[1]):
            connection.close(CLOSE_INVALID_SHARD, "Invalid shard.")
            return
        shard_id, shard_count = shard if shard is not None else (0, 1)
        self.identified_shards.append((shard_id, shard_count))
        self.intents = intents
        self._session_starts -= 1
        session = _Session(secrets.token_hex(16), shard_id, shard_count, intents, sharded=shard is not None)
        self._sessions[session.id] = session
        self._shards[shard_id] = session
        if shard_count != self._shard_count:  # resharded: sessions of the old layout no longer route anything
            self._shards = {shard_id: session}
            self._shard_count = shard_count
        self._attach(connection, session)
        session.dispatch("READY", self._ready(session))
        if intents & GUILDS_INTENT:
            for guild in self._guilds_of(session):
                session.dispatch("GUILD_CREATE", self._guild_create(guild, session))
        session.ready = True
        self._notify()

    def _attach(self, connection: _Connection, session: _Session) -> None:
        if session.connection is not None and session.connection is not connection:
            session.connection.close(CLOSE_SESSION_TAKEN_OVER, "Session taken over")
        connection.session = session
        session.connection = connection

    def _guilds_of(self, session: _Session) -> list[_Guild]:
        return [g for g in self._guilds.values() if (g.id >> 22) % session.shard_count == session.shard_id]

    def _ready(self, session: _Session) -> dict[str, Any]:
        data: dict[str, Any] = {
            "v": 10,
            "user": self._bot_json() | {"verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._guilds_of(session)],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.ws_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "user_settings": {},
            "geo_ordered_rtc_regions": ["fake"],
            "auth": {},
            "_trace": ["fake-discord"],
        }
        if session.sharded:
            data["shard"] = [session.shard_id, session.shard_count]
        return data

    def _resume(self, connection: _Connection, data: dict[str, Any]) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if data.get("token") != self.token:
            connection.close(CLOSE_AUTHENTICATION_FAILED, "Authentication failed.")
            return
        if session is None or connection.session is not None:
            connection.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        self._attach(connection, session)
        last_seen = data.get("seq") or 0
        for payload in session.backlog:
            if payload["s"] > last_seen:
                connection.send(payload)
        session.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        self._notify()

    def _members_chunk(self, session: _Session, data: dict[str, Any]) -> None:
        guild = self._guilds.get(_as_int(data.get("guild_id")) or 0)
        if guild is None:
            return
        query = str(data.get("query") or "").lower()
        wanted = [_as_int(u) for u in data.get("user_ids") or []]
        members = [
            m
            for m in guild.members.values()
            if (m.user_id in wanted if wanted else self._users[m.user_id].name.lower().startswith(query))
        ]
        limit = data.get("limit") or 0
        if limit and not wanted:
            members = members[:limit]
        session.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild.id),
                "members": [self._member_json(guild, m) for m in members],
                "chunk_index": 0,
                "chunk_count": 1,
                "not_found": [str(u) for u in wanted if u not in guild.members],
                "presences": [],
                "nonce": data.get("nonce"),
            },
        )

    def _application_flags(self) -> int:
        return sum(flag for intent, flag in _APP_FLAG_OF_INTENT.items() if self.privileged_intents & intent)
