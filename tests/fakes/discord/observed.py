"""What a test reads back from the fake: each REST request with its body, files and
answer (Call), and each gateway payload in either direction (GatewayFrame). Plain
records, apart from the server, so assertions do not depend on how the fake keeps its
world."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Call:
    """One REST request to the fake and its answer."""

    method: str
    path: str  # below /api/v10, e.g. "/channels/10/messages"
    json: Any  # the JSON body (a multipart body's payload_json); None without one
    status: int
    response: Any  # the JSON answer; None for 204 No Content
    at: float  # time.monotonic()
    query: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)  # uploaded files: name, filename, size

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def code(self) -> int | None:
        """Discord's JSON error code of an error answer."""
        return self.response.get("code") if isinstance(self.response, dict) and not self.ok else None

    @property
    def route(self) -> str:
        return f"{self.method} {self.path}"


@dataclass
class GatewayFrame:
    """A payload sent over the gateway: "in" from the bot, "out" to it."""

    direction: str
    shard_id: int | None
    payload: dict[str, Any]
    at: float

    @property
    def op(self) -> int | None:
        return self.payload.get("op")

    @property
    def event(self) -> str | None:
        return self.payload.get("t")
