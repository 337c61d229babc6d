"""Reply markup as Telegram checks it: inline keyboards must be arrays of arrays of
buttons, each with a text and exactly one action, callback_data of 1-64 bytes and
URLs Telegram opens; other markups pass as they are. Also which callback data a sent
keyboard offers, so a simulated button press can be checked against it."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from .constants import MAX_CALLBACK_DATA
from .errors import bad_request

_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_reply_markup(markup: Any, *, inline_only: bool = False) -> dict[str, Any] | None:
    """The markup when Telegram would take it; otherwise its 400."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad_request("inline keyboard expected")
        return markup  # reply keyboards, keyboard removal and force_reply are taken as they are
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('can\'t parse inline keyboard button: Field "inline_keyboard" must be an Array of Arrays')
    for row in rows:
        for button in row:
            _check_button(button)
    return markup


def _check_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str):
        raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
    if not button["text"].strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [name for name in _BUTTON_ACTIONS if name in button]
    if not actions:
        raise bad_request("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
    if len(actions) > 1:
        raise bad_request(f"can't parse inline keyboard button: exactly one of {', '.join(actions)} must be used")
    data = button.get("callback_data")
    if "callback_data" in button and not (
        isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
    ):
        raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not _button_url_ok(button["url"]):
        raise bad_request("BUTTON_URL_INVALID")


def _button_url_ok(url: Any) -> bool:
    if not isinstance(url, str) or " " in url.strip():
        return False
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname)
    return parts.scheme.lower() == "tg" and bool(parts.netloc or parts.path)


def callback_data_of(markup: dict[str, Any] | None) -> list[str]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [button["callback_data"] for row in rows for button in row if "callback_data" in button]
