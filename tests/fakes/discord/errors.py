"""Discord's error answers: ApiError with the HTTP status, JSON error code and message
discord.py reacts to, the common ones (unknown this or that, missing access or
permissions, an empty message, a bad webhook token), FormErrors, which collects what
is wrong with a body by field path as Discord's 50035 answer reports it, and the
internal signal for an answer of 429."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status, Discord's JSON error code and message, and the form errors (50035)."""

    def __init__(self, status: int, code: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(f"{status} (code {code}) {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def unknown(what: str, code: int) -> ApiError:
    return ApiError(404, code, f"Unknown {what}")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def invalid_webhook_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


class FormErrors:
    """Collects what is wrong with a body, keyed by the path of the field, as Discord reports it (50035)."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[Any, ...], code: str, message: str) -> None:
        node = self.tree
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self) -> bool:
        return bool(self.tree)

    def raise_if_any(self) -> None:
        if self.tree:
            raise ApiError(400, 50035, "Invalid Form Body", self.tree)


class _RateLimited(Exception):
    def __init__(self, retry_after: float, is_global: bool) -> None:
        super().__init__(f"rate limited for {retry_after}s")
        self.retry_after = retry_after
        self.is_global = is_global
