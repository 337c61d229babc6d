"""The Bot API's error answers: an ApiError carries the HTTP status and description
Telegram would send (ok=false, error_code, parameters), and bad_request/forbidden
build the common ones. Every check in the fake raises these, so a refusal reaches
the bot exactly as Telegram words it."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer with ok=false; its HTTP status is the error code, as Telegram's is."""

    def __init__(self, code: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = {k: v for k, v in parameters.items() if v is not None}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str, **parameters: Any) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}", **parameters)


def forbidden(reason: str) -> ApiError:
    return ApiError(403, f"Forbidden: {reason}")
