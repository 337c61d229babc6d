"""A fake Telegram Bot API server for end-to-end tests.

It speaks the Bot API's wire protocol on 127.0.0.1, so python-telegram-bot
runs against it unmodified:

    fake = FakeTelegram()
    await fake.start()
    app = ApplicationBuilder().token(fake.token).base_url(f"{fake.url}/bot").build()
    fake.add_chat(42, "private")
    fake.send_text(42, 42, "/latest")
    sent = await fake.wait_for(lambda call: call.method == "sendMessage")

It enforces the rules Telegram enforces (HTML entities, message length,
button data, chat rights, rate limits...) and answers a broken request the
way Telegram does, so a bot that sends a wrong message fails its test
instead of failing in production. The error wordings are Telegram's where
they are known. Where Telegram would quietly accept a sloppy message the fake
is deliberately stricter (a bare `&`, an `<a>` without `href`).
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientError, ClientSession, ClientTimeout, web

log = logging.getLogger(__name__)

MAX_TEXT = 4096  # UTF-16 code units of a message's text after parsing
MAX_CALLBACK_DATA = 64  # bytes
MAX_CALLBACK_ANSWER = 200  # characters
MAX_INLINE_RESULTS = 50
MAX_COMMANDS = 100
CHAT_TYPES = ("private", "group", "supergroup", "channel")
MEMBER_STATUSES = ("creator", "administrator", "member", "restricted", "left", "kicked")
# Update types a bot gets when it never said which it wants (or sent []).
DEFAULT_UPDATE_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# A getUpdates replaced by a newer one lingers this long before it answers 409:
# a client that gave up on it (cancelled polling) has closed it by then.
SUPERSEDED_GRACE = 0.05

# Top-level parameters that are plain strings on the wire; every other string
# value is JSON (PTB JSON-encodes numbers, booleans, lists and objects).
_STRING_PARAMS = frozenset({
    "text", "caption", "parse_mode", "callback_query_id", "inline_query_id", "inline_message_id",
    "url", "secret_token", "ip_address", "action", "next_offset", "language_code", "description",
    "short_description", "name", "title", "custom_title", "emoji", "business_connection_id",
    "message_effect_id", "switch_pm_text", "switch_pm_parameter", "query",
})


# ----- errors ---------------------------------------------------------------

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


# ----- what the tests observe -------------------------------------------------

@dataclass
class Call:
    """One request to the fake and its answer."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]
    status: int
    at: float  # time.monotonic()

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def result(self) -> Any:
        return self.response.get("result")

    @property
    def description(self) -> str | None:
        return self.response.get("description")


@dataclass
class SentMessage:
    """A message the bot sent (or edited), as Telegram accepted it."""

    chat_id: int | None  # None for an inline message edited by inline_message_id
    message_id: int | None
    html: str  # the text as the bot sent it (HTML source when parse_mode was HTML)
    text: str  # the text after parsing, as users see it
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    link_preview_disabled: bool
    edited: bool = False
    inline_message_id: str | None = None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


@dataclass
class WebhookDelivery:
    update_id: int
    url: str
    status: int  # the receiver's HTTP status; 0 when it could not be reached
    at: float
    error: str | None = None


# ----- Telegram's HTML ----------------------------------------------------------

def utf16_len(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_SPACE = " \t\r\n\v\f"
_PLAIN = re.compile(r"[^<&]+")
_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")
_STYLE_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline", "ins": "underline",
    "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "tg-spoiler": "spoiler", "span": "spoiler",
}
_TAGS = frozenset(_STYLE_TAGS) | {"a", "code", "pre", "blockquote", "tg-emoji"}


def _char_ref(match: re.Match[str] | None) -> str | None:
    """The character `&...;` stands for, or None when it is no valid reference."""
    if match is None:
        return None
    named, decimal, hexadecimal = match.groups()
    if named:
        return _NAMED_REFS[named]
    code = int(decimal) if decimal else int(hexadecimal, 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def link_url(href: str) -> str | None:
    """A text_link's URL the way Telegram stores it, or None when Telegram drops the link."""
    href = href.strip()
    parts = urlsplit(href if "://" in href or ":" in href.split("/", 1)[0] else f"http://{href}")
    scheme = parts.scheme.lower()
    if scheme in ("tg", "ton"):
        return href
    if scheme not in ("http", "https") or not parts.hostname or " " in href:
        return None
    return parts.geturl() if parts.path else parts._replace(path="/").geturl()


@dataclass
class _OpenTag:
    tag: str
    attributes: dict[str, str]
    offset: int  # UTF-16 offset in the parsed text where the tag's content starts
    source_pos: int  # index of its `<` in the source, for error messages


class HtmlParser:
    """Telegram's HTML subset: the text users see and its entities.

    Follows the Bot API's parser (tdlib's parse_html): the allowed tags, how
    attributes are read, which mistakes are errors and their wording. Errors
    name a byte offset into the UTF-8 source, as Telegram's do.
    """

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.units = 0
        self.open: list[_OpenTag] = []
        self.entities: list[dict[str, Any]] = []
        self._last_code: tuple[dict[str, Any], str] | None = None  # for <pre><code class=...>

    def parse(self) -> tuple[str, list[dict[str, Any]]]:
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "&":
                self._char_reference()
            elif char != "<":
                chunk = _PLAIN.match(self.src, self.pos)
                assert chunk is not None
                self._emit(chunk.group())
                self.pos = chunk.end()
            elif self.src.startswith("</", self.pos):
                self._end_tag()
            else:
                self._start_tag()
        if self.open:
            raise self._fail(f'Can\'t find end tag corresponding to start tag "{self.open[-1].tag}"')
        return "".join(self.out), sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))

    # -- pieces of text
    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.units += utf16_len(text)

    def _fail(self, reason: str, at: int | None = None) -> ApiError:
        if at is not None:
            reason += f" at byte offset {self._byte_offset(at)}"
        return bad_request(f"can't parse entities: {reason}")

    def _byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def _char_reference(self) -> None:
        match = _CHAR_REF.match(self.src, self.pos)
        char = _char_ref(match)
        if match is None or char is None:
            raise self._fail("Character entity expected", self.pos)
        self._emit(char)
        self.pos = match.end()

    def _scan(self, index: int, stop: str) -> int:
        while index < len(self.src) and self.src[index] not in stop:
            index += 1
        return index

    def _skip_space(self, index: int) -> int:
        while index < len(self.src) and self.src[index] in _SPACE:
            index += 1
        return index

    # -- tags
    def _start_tag(self) -> None:
        start = self.pos
        name_end = self._scan(start + 1, _SPACE + ">")
        if name_end >= len(self.src):
            raise self._fail("Unclosed start tag", start)
        tag = self.src[start + 1:name_end].lower()
        if tag not in _TAGS:
            raise self._fail(f'Unsupported start tag "{tag}"', start)
        self.pos = name_end
        attributes = self._attributes(tag, start)
        self.pos += 1  # the `>`
        self._check_attributes(tag, attributes, start)
        self.open.append(_OpenTag(tag, attributes, self.units, start))

    def _attributes(self, tag: str, start: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        while True:
            self.pos = self._skip_space(self.pos)
            if self.pos >= len(self.src):
                raise self._fail("Unclosed start tag", start)
            if self.src[self.pos] == ">":
                return attributes
            name_start = self.pos
            self.pos = self._scan(self.pos, _SPACE + "=>")
            name = self.src[name_start:self.pos].lower()
            if not name:
                raise self._fail(f'Empty attribute name in the tag "{tag}"', start)
            self.pos = self._skip_space(self.pos)
            if self.pos >= len(self.src):
                raise self._fail("Unclosed start tag", start)
            if self.src[self.pos] == "=":
                self.pos = self._skip_space(self.pos + 1)
                attributes[name] = self._attribute_value(tag, start)
            elif tag == "blockquote" and name == "expandable":
                attributes[name] = ""  # the one attribute Telegram takes without a value
            else:
                raise self._fail(f'Expected equal sign in declaration of an attribute of the tag "{tag}"', start)

    def _attribute_value(self, tag: str, start: int) -> str:
        if self.pos >= len(self.src):
            raise self._fail(f'Unclosed start tag "{tag}"', start)
        quote = self.src[self.pos]
        if quote in "\"'":
            end = self.src.find(quote, self.pos + 1)
            if end < 0:
                raise self._fail("Unclosed start tag", start)
            value = self._decode_attribute(self.pos + 1, end)
            self.pos = end + 1
            return value
        # An unquoted value is an HTML name token, which is case-insensitive.
        token = _NAME_TOKEN.match(self.src, self.pos)
        assert token is not None
        if token.end() >= len(self.src) or self.src[token.end()] not in _SPACE + ">":
            raise self._fail("Unexpected end of name token", self.pos)
        self.pos = token.end()
        return token.group().lower()

    def _decode_attribute(self, begin: int, end: int) -> str:
        value: list[str] = []
        index = begin
        while index < end:
            amp = self.src.find("&", index, end)
            if amp < 0:
                value.append(self.src[index:end])
                break
            value.append(self.src[index:amp])
            match = _CHAR_REF.match(self.src, amp, end)
            char = _char_ref(match)
            if match is None or char is None:
                raise self._fail("Character entity expected", amp)
            value.append(char)
            index = match.end()
        return "".join(value)

    def _check_attributes(self, tag: str, attributes: dict[str, str], start: int) -> None:
        if tag == "span" and attributes.get("class") != "tg-spoiler":
            raise self._fail('Tag "span" must have class "tg-spoiler"', start)
        if tag == "a" and "href" not in attributes:
            # Telegram would fall back to the link's text; a bot doing that is a bug.
            raise self._fail('Tag "a" must have attribute "href"', start)
        if tag == "tg-emoji" and not attributes.get("emoji-id", "").isdigit():
            raise self._fail("Invalid custom emoji identifier specified", start)

    def _end_tag(self) -> None:
        start = self.pos
        if not self.open:
            raise self._fail("Unexpected end tag", start)
        name_end = self._scan(start + 2, _SPACE + ">")
        name = self.src[start + 2:name_end].lower()
        close = self._skip_space(name_end)
        if close >= len(self.src) or self.src[close] != ">":
            raise self._fail("Unclosed end tag", start)
        opened = self.open.pop()
        if name and name != opened.tag:
            raise self._fail(
                f'Unmatched end tag at byte offset {self._byte_offset(start)}, '
                f'expected "</{opened.tag}>", found "</{name}>"'
            )
        self.pos = close + 1
        self._close(opened)

    def _close(self, opened: _OpenTag) -> None:
        length = self.units - opened.offset
        if length == 0:
            return  # Telegram drops empty entities
        entity: dict[str, Any] = {"type": "", "offset": opened.offset, "length": length}
        tag, attributes = opened.tag, opened.attributes
        if tag in _STYLE_TAGS:
            entity["type"] = _STYLE_TAGS[tag]
        elif tag == "a":
            url = link_url(attributes["href"])
            if url is None:
                return  # Telegram keeps the text and drops a link it can't use
            entity.update(type="text_link", url=url)
        elif tag == "code":
            entity["type"] = "code"
            language = attributes.get("class", "")
            self._last_code = (entity, language.removeprefix("language-") if language.startswith("language-") else "")
        elif tag == "pre":
            entity["type"] = "pre"
            self._absorb_code(entity)
        elif tag == "blockquote":
            entity["type"] = "expandable_blockquote" if "expandable" in attributes else "blockquote"
        else:  # tg-emoji
            entity.update(type="custom_emoji", custom_emoji_id=attributes["emoji-id"])
        self.entities.append(entity)

    def _absorb_code(self, pre: dict[str, Any]) -> None:
        """`<pre><code class="language-x">` is one pre entity with a language."""
        if self._last_code is None or not self.entities or self.entities[-1] is not self._last_code[0]:
            return
        code, language = self._last_code
        if (code["offset"], code["length"]) == (pre["offset"], pre["length"]):
            self.entities.pop()
            if language:
                pre["language"] = language


def parse_text(text: Any, parse_mode: Any, entities: Any = None) -> tuple[str, list[dict[str, Any]]]:
    """A message text as Telegram reads it: (plain text, entities), or the 400 it answers."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str) or not text:
        raise bad_request("message text is empty")
    mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else parse_mode
    if mode == "html":
        plain, found = HtmlParser(text).parse()
    elif not mode:
        plain, found = text, list(entities) if isinstance(entities, list) else []
    elif mode in ("markdown", "markdownv2"):
        raise bad_request(f"unsupported parse_mode {parse_mode!r} (this fake Telegram parses HTML only)")
    else:
        raise bad_request("unsupported parse_mode")
    if not plain.strip():
        raise bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT:
        raise bad_request("message is too long")
    return plain, found


# ----- keyboards ------------------------------------------------------------

_BUTTON_ACTIONS = (
    "url", "callback_data", "web_app", "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay",
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
    if "callback_data" in button and not (isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA):
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


# ----- rate limits ------------------------------------------------------------

class _Window:
    """At most `limit` events in any sliding window of `seconds`."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.times: deque[float] = deque()

    def wait(self, now: float) -> float:
        """Seconds until one more event fits (0 when it fits now)."""
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()
        return 0.0 if len(self.times) < self.limit else self.times[0] + self.seconds - now

    def add(self, now: float) -> None:
        self.times.append(now)


def _per_second(rate: float) -> tuple[int, float]:
    """A rate as (events, window): 0.5/s is 1 per 2 s; 30/s is 30 per second."""
    if rate <= 0:
        raise ValueError("a rate limit must be positive")
    seconds = max(1.0, 1.0 / rate)
    return max(1, round(rate * seconds)), seconds


class RateLimits:
    """Telegram's flood limits on sent messages: global, per chat, per group and minute."""

    def __init__(self, per_second_global: float | None, per_second_per_chat: float | None,
                 per_minute_per_group: int | None) -> None:
        self._global = _Window(*_per_second(per_second_global)) if per_second_global else None
        self._chat_rate = _per_second(per_second_per_chat) if per_second_per_chat else None
        if per_minute_per_group is not None and per_minute_per_group <= 0:
            raise ValueError("a rate limit must be positive")
        self._group_limit = per_minute_per_group
        self._chats: dict[int, _Window] = {}
        self._groups: dict[int, _Window] = {}

    def _windows(self, chat_id: int, chat_type: str) -> list[_Window]:
        windows = [self._global] if self._global else []
        if self._chat_rate:
            windows.append(self._chats.setdefault(chat_id, _Window(*self._chat_rate)))
        if self._group_limit and chat_type in ("group", "supergroup"):
            windows.append(self._groups.setdefault(chat_id, _Window(self._group_limit, 60.0)))
        return windows

    def check(self, chat_id: int, chat_type: str, now: float) -> None:
        wait = max((window.wait(now) for window in self._windows(chat_id, chat_type)), default=0.0)
        if wait > 0:
            seconds = max(1, math.ceil(wait))  # Telegram's retry_after is whole seconds
            raise ApiError(429, f"Too Many Requests: retry after {seconds}", retry_after=seconds)

    def record(self, chat_id: int, chat_type: str, now: float) -> None:
        for window in self._windows(chat_id, chat_type):
            window.add(now)


# ----- chats and members ---------------------------------------------------------

_ADMIN_RIGHTS = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True, "can_delete_messages": False,
    "can_manage_video_chats": False, "can_restrict_members": False, "can_promote_members": False,
    "can_change_info": False, "can_invite_users": True, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False,
}
_CHANNEL_ADMIN_RIGHTS = {"can_post_messages": False, "can_edit_messages": False}
_GROUP_ADMIN_RIGHTS = {"can_pin_messages": False, "can_manage_topics": False}
_RESTRICTIONS = {
    "is_member": True, "until_date": 0, "can_send_messages": False, "can_send_audios": False,
    "can_send_documents": False, "can_send_photos": False, "can_send_videos": False,
    "can_send_video_notes": False, "can_send_voice_notes": False, "can_send_polls": False,
    "can_send_other_messages": False, "can_add_web_page_previews": False, "can_change_info": False,
    "can_invite_users": False, "can_pin_messages": False, "can_manage_topics": False, "can_edit_tag": False,
    "can_react_to_messages": False,
}
# The fields each ChatMember kind must carry (python-telegram-bot refuses one without them).
_MEMBER_FIELDS: dict[str, dict[str, Any]] = {
    "creator": {"is_anonymous": False}, "administrator": _ADMIN_RIGHTS, "member": {},
    "restricted": _RESTRICTIONS, "left": {}, "kicked": {"until_date": 0},
}
_ACCEPTED_GIFT_TYPES = {
    "unlimited_gifts": True, "limited_gifts": True, "unique_gifts": True, "premium_subscription": True,
    "gifts_from_channels": True,
}
_GROUP_PERMISSIONS = {
    "can_send_messages": True, "can_send_audios": True, "can_send_documents": True, "can_send_photos": True,
    "can_send_videos": True, "can_send_video_notes": True, "can_send_voice_notes": True, "can_send_polls": True,
    "can_send_other_messages": True, "can_add_web_page_previews": True, "can_change_info": False,
    "can_invite_users": True, "can_pin_messages": False, "can_manage_topics": False,
}
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
    "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_TOKEN_FORMAT = re.compile(r"\d+:[A-Za-z0-9_-]+")


@dataclass
class FakeChat:
    id: int
    type: str
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    members: dict[int, dict[str, Any]] = field(default_factory=dict)  # user id -> {"status": ..., rights}
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)  # message id -> Message as it is now
    by_bot: set[int] = field(default_factory=set)  # ids of the messages the bot sent
    blocked: bool = False
    migrated_to: int | None = None
    last_message_id: int = 0

    def json(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for name in ("title", "username", "first_name"):
            if getattr(self, name) is not None:
                chat[name] = getattr(self, name)
        return chat

    def full_info(self) -> dict[str, Any]:
        """A ChatFullInfo: the chat plus the fields getChat always carries."""
        info = self.json() | {
            "accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": dict(_ACCEPTED_GIFT_TYPES),
        }
        if self.type in ("group", "supergroup"):
            info["permissions"] = dict(_GROUP_PERMISSIONS)
        return info


def _update_kind(update: dict[str, Any]) -> str:
    return next(key for key in update if key != "update_id")


def _decode_param(name: str, value: Any) -> Any:
    if isinstance(value, web.FileField):
        return {"filename": value.filename, "content_type": value.content_type}
    if not isinstance(value, str) or name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value  # e.g. chat_id="@channel"


async def read_params(request: web.Request) -> dict[str, Any]:
    """A request's parameters from its query, form, multipart or JSON body."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        if request.can_read_body:
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
    elif request.method == "POST":
        params.update((await request.post()).items())
    return {name: _decode_param(name, value) for name, value in params.items()}


def _int_param(params: dict[str, Any], name: str, default: int | None = None, *, missing: str | None = None) -> int:
    value = params.get(name, default)
    if value is None or value == "":
        raise bad_request(missing or f"{name} is empty")
    if isinstance(value, bool):
        raise bad_request(f"invalid {name} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


async def _wait(event: asyncio.Event, timeout: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), max(timeout, 0))


# ----- the server -------------------------------------------------------------

class FakeTelegram:
    """The Bot API for one bot, with a world of chats the test sets up.

    add_chat puts the bot in the chat: a member of a private chat or group, an
    administrator allowed to post in a channel. set_member changes that (for
    the bot, user id `bot_id`) or anyone else's place in a chat.

    With privacy_mode=True the bot gets only what Telegram gives a bot in
    privacy mode in groups: commands, messages naming it, and everything when
    it is an administrator there.
    """

    def __init__(self, token: str = "123456:TEST", bot_username: str = "ExplainerTestBot", bot_id: int = 123456,
                 *, privacy_mode: bool = False) -> None:
        self.token = token
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.privacy_mode = privacy_mode
        self.url = ""
        # what tests observe
        self.calls: list[Call] = []
        self.commands: list[dict[str, Any]] | None = None
        self.commands_by_scope: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook: dict[str, Any] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self.deleted: list[tuple[int, int]] = []
        # Telegram forgets an unanswered query after about this long.
        self.query_timeout = 15.0
        # the world
        self._chats: dict[int, FakeChat] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._pending: list[dict[str, Any]] = []  # updates not yet confirmed or delivered
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(4_200_000_001)
        self._open_queries: dict[str, float] = {}  # callback/inline query id -> when it was made
        self._allowed: set[str] | None = None  # None: Telegram's default update types
        self._limits = RateLimits(None, None, None)
        self._failures: dict[str, deque[ApiError]] = {}
        self._stalls: dict[str, deque[float]] = {}
        self._sent: list[SentMessage] = []
        self._webhook_error: tuple[int, str] | None = None
        # request bookkeeping
        self._changed = asyncio.Event()
        self._poll_ticket = 0
        self._poll_conflict = ""
        self._requests_in_flight = 0
        self._polls_in_flight = 0
        self._deliveries_in_flight = 0
        self._last_activity = time.monotonic()
        self._started_at = time.monotonic()
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._methods = self._method_table()

    # ----- lifecycle --------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a long poll whose client hung up ends with it, unrecorded.
        self._runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        self._started_at = time.monotonic()
        self._stopping = False
        self._webhook_task = asyncio.create_task(self._webhook_loop())

    async def stop(self) -> None:
        self._stopping = True
        self._notify()  # open long polls answer now instead of holding the shutdown
        if self._webhook_task is not None:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ----- world setup ----------------------------------------------------------------
    def add_chat(self, chat_id: int, type: str, title: str | None = None, username: str | None = None,
                 first_name: str | None = None) -> None:
        if type not in CHAT_TYPES:
            raise ValueError(f"chat type must be one of {CHAT_TYPES}, not {type!r}")
        if (type == "private") != (chat_id > 0):
            raise ValueError(f"Telegram's private chat ids are positive and other chat ids negative: {chat_id} ({type})")
        chat = FakeChat(chat_id, type, title, username, first_name)
        if type == "private":
            chat.first_name = first_name or self._users.get(chat_id, {}).get("first_name", "Ada")
            self._remember_user(chat_id, chat.first_name, username)
            chat.members[chat_id] = {"status": "member"}
            chat.members[self.bot_id] = {"status": "member"}
        elif type == "channel":
            chat.title = title or f"Channel {chat_id}"
            chat.members[self.bot_id] = {"status": "administrator", "can_post_messages": True, "can_edit_messages": True}
        else:
            chat.title = title or f"Group {chat_id}"
            chat.members[self.bot_id] = {"status": "member"}
        self._chats[chat_id] = chat

    def set_member(self, chat_id: int, user_id: int, status: str, **rights: Any) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"member status must be one of {MEMBER_STATUSES}, not {status!r}")
        self._known_chat(chat_id).members[user_id] = {"status": status, **rights}

    def block(self, chat_id: int) -> None:
        self._known_chat(chat_id).blocked = True

    def unblock(self, chat_id: int) -> None:
        self._known_chat(chat_id).blocked = False

    def migrate(self, chat_id: int, new_chat_id: int) -> None:
        """The group becomes a supergroup (created like the group unless it exists)."""
        old = self._known_chat(chat_id)
        if new_chat_id not in self._chats:
            self.add_chat(new_chat_id, "supergroup", title=old.title)
            self._chats[new_chat_id].members = copy.deepcopy(old.members)
        old.migrated_to = new_chat_id

    def rate_limit(self, per_second_global: float | None = None, per_second_per_chat: float | None = None,
                   per_minute_per_group: int | None = None) -> None:
        """Replaces the limits (none by default); calling it with none lifts them."""
        self._limits = RateLimits(per_second_global, per_second_per_chat, per_minute_per_group)

    def fail_next(self, method: str, error_code: int, description: str, retry_after: int | None = None,
                  times: int = 1) -> None:
        error = ApiError(error_code, description, retry_after=retry_after)
        self._failures.setdefault(method.lower(), deque()).extend([error] * times)

    def stall_next(self, method: str, seconds: float, times: int = 1) -> None:
        """The next calls of `method` are answered only after `seconds` (then as usual): a
        client with a shorter timeout sees a timeout, as with an overloaded Bot API."""
        self._stalls.setdefault(method.lower(), deque()).extend([seconds] * times)

    # ----- user actions ----------------------------------------------------------------
    def send_text(self, chat_id: int, user_id: int, text: str, *, first_name: str = "Ada",
                  username: str | None = None) -> int:
        """A user writes in a chat (a channel post in a channel). Returns the update id,
        or 0 when the bot doesn't get the message (privacy mode, not in the group, allowed_updates)."""
        chat = self._known_chat(chat_id)
        entities = _command_entities(text)
        if chat.type == "channel":
            return self._enqueue("channel_post", self._store(chat, text, entities, sender=None))
        if chat.type == "private" and user_id != chat_id:
            raise ValueError(f"in a private chat the user is the chat: user {user_id} can't write in chat {chat_id}")
        user = self._remember_user(user_id, first_name, username)
        chat.members.setdefault(user_id, {"status": "member"})
        message = self._store(chat, text, entities, sender=user)
        if not self._reaches_bot(chat, text):
            return 0
        return self._enqueue("message", message)

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str, *, stale: bool = False) -> str:
        chat = self._known_chat(chat_id)
        message = chat.messages.get(message_id)
        if message is None or message_id not in chat.by_bot:
            raise ValueError(f"chat {chat_id} has no message {message_id} from the bot")
        offered = callback_data_of(message.get("reply_markup"))
        # `stale` stands for a keyboard an older version of the bot sent, or a
        # client that forges data: the bot must cope with data it never offered.
        if data not in offered and not stale:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}; it has {offered}")
        query_id = self._open_query()
        self._enqueue("callback_query", {
            "id": query_id, "from": self._remember_user(user_id), "chat_instance": f"instance{chat_id}",
            "message": copy.deepcopy(message), "data": data,
        })
        return query_id

    def inline_query(self, user_id: int, query: str, offset: str = "", *, chat_type: str | None = None) -> str:
        query_id = self._open_query()
        update: dict[str, Any] = {"id": query_id, "from": self._remember_user(user_id), "query": query, "offset": offset}
        if chat_type:
            update["chat_type"] = chat_type
        self._enqueue("inline_query", update)
        return query_id

    def bot_added(self, chat_id: int, by_user_id: int) -> int:
        """Someone adds the bot to a chat: a member, or a posting administrator of a channel."""
        chat = self._known_chat(chat_id)
        if chat.type == "channel":
            chat.members[self.bot_id] = {"status": "administrator", "can_post_messages": True, "can_edit_messages": True}
        else:
            chat.members[self.bot_id] = {"status": "member"}
        return self._enqueue("my_chat_member", {
            "chat": chat.json(), "from": self._remember_user(by_user_id), "date": int(time.time()),
            "old_chat_member": {"status": "left", "user": self._bot_user()},
            "new_chat_member": self._member_json(chat, self.bot_id),
        })

    def bot_removed(self, chat_id: int, by_user_id: int, status: str = "kicked") -> int:
        """The bot is blocked (a private chat), kicked or removed: later sends are refused."""
        chat = self._known_chat(chat_id)
        old = self._member_json(chat, self.bot_id)
        if chat.type == "private":
            chat.blocked = True
        chat.members[self.bot_id] = {"status": status}
        new = {"status": status, "user": self._bot_user()}
        if status == "kicked":
            new["until_date"] = 0
        return self._enqueue("my_chat_member", {
            "chat": chat.json(), "from": self._remember_user(by_user_id), "date": int(time.time()),
            "old_chat_member": old, "new_chat_member": new,
        })

    # ----- observation -------------------------------------------------------------------
    @property
    def errors(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        return list(self._pending)

    def sent(self, chat_id: int | None = None) -> list[SentMessage]:
        return [m for m in self._sent if chat_id is None or m.chat_id == chat_id]

    async def wait_for(self, predicate: Callable[[Call], bool], timeout: float = 10.0) -> Call:
        """The first call, past or future, that matches."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            changed = self._changed
            for call in self.calls[seen:]:
                if predicate(call):
                    return call
            seen = len(self.calls)
            if time.monotonic() >= deadline:
                raise AssertionError(self.dump(f"no call matched within {timeout}s"))
            await _wait(changed, deadline - time.monotonic())

    async def wait_idle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Until nothing reached the fake for `quiet` seconds (at least `quiet` from now)."""
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if not self._busy() and now - max(self._last_activity, start) >= quiet:
                return
            if now - start >= timeout:
                raise AssertionError(self.dump(f"still busy after {timeout}s"))
            await asyncio.sleep(min(0.02, quiet / 4))

    def dump(self, headline: str, last: int = 40) -> str:
        """The recent calls and the update queue, for an assertion message."""
        lines = [f"{headline}; {len(self.calls)} calls so far" + (f", the last {last}:" if len(self.calls) > last else ":")]
        for call in self.calls[-last:]:
            params = " ".join(f"{k}={_short(v)}" for k, v in call.params.items())
            outcome = "" if call.ok else f" -> {call.description}"
            lines.append(f"  +{call.at - self._started_at:.3f}s {call.method} {call.status} {params}{outcome}")
        hook = self.webhook["url"] if self.webhook else "none"
        lines.append(f"pending updates: {[_update_kind(u) for u in self._pending]}; webhook: {hook}")
        return "\n".join(lines)

    # ----- the world, inside ---------------------------------------------------------------------
    def _known_chat(self, chat_id: int) -> FakeChat:
        if chat_id not in self._chats:
            raise KeyError(f"chat {chat_id} is unknown: add_chat() it first")
        return self._chats[chat_id]

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": self.bot_username, "username": self.bot_username}

    def _remember_user(self, user_id: int, first_name: str | None = None, username: str | None = None) -> dict[str, Any]:
        user = self._users.setdefault(user_id, {"id": user_id, "is_bot": False, "first_name": first_name or "Ada"})
        if first_name:
            user["first_name"] = first_name
        if username:
            user["username"] = username
        return dict(user)

    def _user_json(self, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            return self._bot_user()
        return dict(self._users.get(user_id, {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}))

    def _member_json(self, chat: FakeChat, user_id: int) -> dict[str, Any]:
        """A ChatMember with every field python-telegram-bot needs for its status."""
        entry = chat.members.get(user_id, {"status": "left"})
        status = entry["status"]
        fields = dict(_MEMBER_FIELDS[status])
        if status == "administrator":
            fields |= _CHANNEL_ADMIN_RIGHTS if chat.type == "channel" else _GROUP_ADMIN_RIGHTS
        rights = {k: v for k, v in entry.items() if k != "status"}
        return {"status": status, "user": self._user_json(user_id), **fields, **rights}

    def _reaches_bot(self, chat: FakeChat, text: str) -> bool:
        """Whether the bot gets the message. In privacy mode, in groups: commands,
        mentions of it, and everything when it is an admin."""
        if chat.members.get(self.bot_id, {}).get("status") in ("left", "kicked"):
            return False  # a bot out of the group gets nothing from it
        if not self.privacy_mode or chat.type not in ("group", "supergroup"):
            return True
        if self._bot_is_admin(chat):
            return True
        command = _COMMAND.match(text)
        if command:
            _, _, addressee = command.group().partition("@")
            return not addressee or addressee.lower() == self.bot_username.lower()
        return f"@{self.bot_username}".lower() in text.lower()

    def _store(self, chat: FakeChat, text: str, entities: list[dict[str, Any]], *, sender: dict[str, Any] | None,
               by_bot: bool = False) -> dict[str, Any]:
        """A new message in the chat, numbered after the chat's last."""
        chat.last_message_id += 1
        message: dict[str, Any] = {"message_id": chat.last_message_id, "date": int(time.time()), "chat": chat.json()}
        if chat.type == "channel":
            message["sender_chat"] = chat.json()  # channel posts have no `from`
        elif sender is not None:
            message["from"] = sender
        message["text"] = text
        if entities:
            message["entities"] = entities
        chat.messages[chat.last_message_id] = message
        if by_bot:
            chat.by_bot.add(chat.last_message_id)
        return message

    def _enqueue(self, kind: str, payload: dict[str, Any]) -> int:
        """An update for the bot (its id), or 0 when the bot's allowed_updates leave its kind out."""
        allowed = self._allowed
        if (kind in DEFAULT_UPDATE_EXCLUDED) if allowed is None else (kind not in allowed):
            return 0
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, kind: copy.deepcopy(payload)})
        self._touch()
        self._notify()
        return update_id

    def _open_query(self) -> str:
        query_id = str(next(self._query_ids))
        self._open_queries[query_id] = time.monotonic()
        return query_id

    def _close_query(self, query_id: Any) -> None:
        """A callback or inline query gets one answer, in time."""
        made = self._open_queries.pop(str(query_id), None)
        if made is None or time.monotonic() - made > self.query_timeout:
            raise bad_request(QUERY_TOO_OLD)

    # ----- request bookkeeping -----------------------------------------------------------------
    def _notify(self) -> None:
        """Wakes every waiter (long polls, wait_for, the webhook loop) to look again."""
        self._changed.set()
        self._changed = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    def _busy(self) -> bool:
        consumer = self._polls_in_flight > 0 or self.webhook is not None
        return bool(self._requests_in_flight or self._deliveries_in_flight or (self._pending and consumer))

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if not (call.method == "getUpdates" and call.ok and not call.result):
            self._touch()  # an empty long poll is no activity
        if not call.ok:
            log.info("fake Telegram: %s answered %s %s", call.method, call.status, call.description)
        self._notify()

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["method"]
        method, handler = self._methods.get(name.lower(), (name, None))
        polling = method == "getUpdates"
        if polling:
            self._polls_in_flight += 1
        else:
            self._requests_in_flight += 1
            self._touch()
        params: dict[str, Any] = {}
        try:
            params = await read_params(request)
            status, body = await self._answer(request.match_info["token"], method, handler, params)
        except ValueError:  # a body that is not JSON, or not a form
            status, body = 400, bad_request("can't parse request body").body()
        finally:
            if polling:
                self._polls_in_flight -= 1
            else:
                self._requests_in_flight -= 1
        self._record(Call(method, params, body, status, time.monotonic()))
        return web.json_response(body, status=status)

    async def _answer(self, token: str, method: str, handler: Callable[..., Any] | None,
                      params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            if token != self.token:
                # Telegram: 401 for a well-formed token it doesn't know, 404 for a malformed one
                raise ApiError(401, "Unauthorized") if _TOKEN_FORMAT.fullmatch(token) else ApiError(404, "Not Found")
            if handler is None:
                raise ApiError(404, "Not Found")
            stalls = self._stalls.get(method.lower())
            if stalls:
                await asyncio.sleep(stalls.popleft())
            failures = self._failures.get(method.lower())
            if failures:
                raise failures.popleft()
            return 200, {"ok": True, "result": await handler(params)}
        except ApiError as error:
            return error.code, error.body()
        except Exception as error:  # a bug in the fake: a visible 500 in `errors`, not a hung test
            log.exception("fake Telegram failed on %s", method)
            return 500, {"ok": False, "error_code": 500, "description": f"Internal Server Error: {error!r}"}

    def _method_table(self) -> dict[str, tuple[str, Callable[[dict[str, Any]], Any]]]:
        """Method name (Telegram ignores its case) -> (canonical name, handler)."""
        handlers = {
            "getMe": self._get_me, "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._get_webhook_info,
            "setMyCommands": self._set_my_commands, "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands, "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text, "deleteMessage": self._delete_message,
            "sendChatAction": self._send_chat_action, "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query, "getChat": self._get_chat,
            "getChatMember": self._get_chat_member, "getChatAdministrators": self._get_chat_administrators,
            "getChatMemberCount": self._get_chat_member_count, "close": self._trivial, "logOut": self._trivial,
        }
        return {name.lower(): (name, handler) for name, handler in handlers.items()}

    # ----- chats, as methods name them ------------------------------------------------------------
    def _chat(self, chat_id: Any) -> FakeChat:
        """The chat a chat_id names: a number, or @username of a channel or supergroup."""
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            chat = next((c for c in self._chats.values() if c.type in ("channel", "supergroup")
                         and c.username and c.username.lower() == name), None)
        elif not isinstance(chat_id, bool):
            with contextlib.suppress(TypeError, ValueError):
                chat = self._chats.get(int(chat_id))
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat", migrate_to_chat_id=chat.migrated_to)
        return chat

    def _check_can_send(self, chat: FakeChat) -> None:
        """Whether the bot may write in the chat at all, with Telegram's refusals."""
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if chat.type == "private":
            return
        me = self._member_json(chat, self.bot_id)
        status = me["status"]
        if chat.type == "channel":
            if status not in ("administrator", "creator"):
                raise forbidden("bot is not a member of the channel chat")
            if status == "administrator" and not me.get("can_post_messages"):
                raise bad_request("need administrator rights in the channel chat")
            return
        if status == "kicked":
            raise forbidden(f"bot was kicked from the {chat.type} chat")
        if status == "left":
            raise forbidden(f"bot is not a member of the {chat.type} chat")
        if status == "restricted" and not me.get("can_send_messages"):
            raise bad_request("not enough rights to send text messages to the chat")

    def _bot_is_admin(self, chat: FakeChat) -> bool:
        return chat.members.get(self.bot_id, {}).get("status") in ("administrator", "creator")

    # ----- methods: the bot and its updates --------------------------------------------------------
    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._bot_user() | {
            "can_join_groups": True, "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True, "can_connect_to_business": False, "has_main_web_app": False,
        }

    async def _trivial(self, params: dict[str, Any]) -> bool:
        return True

    def _set_allowed(self, allowed: Any) -> None:
        """allowed_updates is remembered until changed; [] means Telegram's default."""
        if not isinstance(allowed, list):
            raise bad_request("can't parse allowed updates JSON object")
        self._allowed = set(allowed) or None

    def _confirm(self, offset: int) -> None:
        """An offset forgets the updates before it; a negative one keeps the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        self._confirm(_int_param(params, "offset", 0))
        limit = min(max(_int_param(params, "limit", 100), 1), 100)
        deadline = time.monotonic() + max(_int_param(params, "timeout", 0), 0)
        ticket = self._supersede_polls("Conflict: terminated by other getUpdates request; "
                                       "make sure that only one bot instance is running")
        while True:
            changed = self._changed
            if ticket != self._poll_ticket:
                await asyncio.sleep(SUPERSEDED_GRACE)
                raise ApiError(409, self._poll_conflict)
            if self._pending or self._stopping or time.monotonic() >= deadline:
                return copy.deepcopy(self._pending[:limit])
            await _wait(changed, deadline - time.monotonic())

    def _supersede_polls(self, conflict: str) -> int:
        """Ends any waiting getUpdates with a 409, as Telegram does; returns the new ticket."""
        self._poll_ticket += 1
        self._poll_conflict = conflict
        self._notify()
        return self._poll_ticket

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if url == "":
            return await self._delete_webhook(params)  # Telegram: an empty url removes the webhook
        parts = urlsplit(url) if isinstance(url, str) else None
        # Telegram wants HTTPS on 443/80/88/8443; tests receive on plain HTTP at any port.
        if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not (isinstance(secret, str) and _SECRET_TOKEN.fullmatch(secret)):
            raise bad_request("secret token contains unallowed characters")
        connections = _int_param(params, "max_connections", 40)
        if not 1 <= connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        if "allowed_updates" in params:
            self._set_allowed(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = {k: v for k, v in params.items() if k != "certificate"} | {"max_connections": connections}
        self._webhook_error = None
        self._supersede_polls("Conflict: terminated by setWebhook request")
        return True

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        self._notify()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._pending)}
        if self.webhook is not None:
            info.update(url=self.webhook["url"], max_connections=self.webhook["max_connections"])
            if self._allowed is not None:
                info["allowed_updates"] = sorted(self._allowed)
        if self._webhook_error is not None:
            info.update(last_error_date=self._webhook_error[0], last_error_message=self._webhook_error[1])
        return info

    # ----- webhook delivery ------------------------------------------------------------------------
    async def _webhook_loop(self) -> None:
        """Posts pending updates to the webhook one at a time, in order, retrying failures."""
        failures = 0
        async with ClientSession(timeout=ClientTimeout(total=10)) as session:
            while not self._stopping:
                changed = self._changed
                if self.webhook is None or not self._pending:
                    await changed.wait()
                    continue
                if await self._deliver(session, self.webhook, self._pending[0]):
                    failures = 0
                else:
                    failures += 1
                    await asyncio.sleep(min(2.0, 0.05 * 2 ** failures))

    async def _deliver(self, session: ClientSession, hook: dict[str, Any], update: dict[str, Any]) -> bool:
        headers = {SECRET_HEADER: hook["secret_token"]} if hook.get("secret_token") else {}
        status, error = 0, None
        self._deliveries_in_flight += 1
        self._touch()
        try:
            async with session.post(hook["url"], json=update, headers=headers) as response:
                await response.read()
                status = response.status
                if status >= 300:
                    error = f"Wrong response from the webhook: {status} {response.reason}"
        except (ClientError, TimeoutError) as exc:
            error = str(exc) or type(exc).__name__
        finally:
            self._deliveries_in_flight -= 1
            self._touch()
        self.webhook_deliveries.append(WebhookDelivery(update["update_id"], hook["url"], status, time.monotonic(), error))
        if error is None:
            self._pending = [u for u in self._pending if u is not update]
        else:
            self._webhook_error = (int(time.time()), error)
        self._notify()
        return error is None

    # ----- methods: commands ------------------------------------------------------------------------
    @staticmethod
    def _scope_key(params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        if len(commands) > MAX_COMMANDS:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            _check_command(command)
        self.commands = commands
        self.commands_by_scope[self._scope_key(params)] = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands_by_scope.get(self._scope_key(params), [])

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands_by_scope.pop(self._scope_key(params), None)
        self.commands = None
        return True

    # ----- methods: messages ---------------------------------------------------------------------------
    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        text, entities = parse_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = check_reply_markup(params.get("reply_markup"))
        reply_to = self._reply_target(chat, params)
        now = time.monotonic()
        self._limits.check(chat.id, chat.type, now)
        message = self._store(chat, text, entities, sender=self._bot_user(), by_bot=True)
        self._limits.record(chat.id, chat.type, now)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self._decorate(message, markup, params)
        self._sent.append(self._sent_record(chat.id, message, params, edited=False))
        return copy.deepcopy(message)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        text, entities = parse_text(params.get("text"), params.get("parse_mode"), params.get("entities"))
        markup = check_reply_markup(params.get("reply_markup"), inline_only=True)
        if params.get("inline_message_id"):
            # A message sent through inline mode: Telegram answers True, not the message.
            inline = {"text": text, "entities": entities, "reply_markup": markup}
            self._sent.append(self._sent_record(None, inline, params, edited=True))
            return True
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        message = self._message_to_edit(chat, params)
        unchanged = (message["text"], message.get("entities", []), message.get("reply_markup")) == (text, entities, markup)
        if unchanged:
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message["text"] = text
        message.pop("entities", None)
        if entities:
            message["entities"] = entities
        message["edit_date"] = int(time.time())
        message.pop("reply_markup", None)  # an edit without a keyboard removes it, as on Telegram
        message.pop("link_preview_options", None)
        self._decorate(message, markup, params)
        self._sent.append(self._sent_record(chat.id, message, params, edited=True))
        return copy.deepcopy(message)

    def _message_to_edit(self, chat: FakeChat, params: dict[str, Any]) -> dict[str, Any]:
        message_id = _int_param(params, "message_id", missing="message identifier is not specified")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message_id not in chat.by_bot:
            raise bad_request("message can't be edited")
        return message

    def _reply_target(self, chat: FakeChat, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message replied to, which must exist unless the bot allows sending without it."""
        reply = params.get("reply_parameters")
        if reply is None and "reply_to_message_id" in params:
            reply = {"message_id": params["reply_to_message_id"]}
        if reply is None:
            return None
        if not isinstance(reply, dict) or "message_id" not in reply:
            raise bad_request("can't parse reply parameters JSON object")
        target = chat.messages.get(_int_param(reply, "message_id"))
        if target is None:
            if reply.get("allow_sending_without_reply") or params.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in copy.deepcopy(target).items() if k != "reply_to_message"}

    @staticmethod
    def _decorate(message: dict[str, Any], markup: dict[str, Any] | None, params: dict[str, Any]) -> None:
        """What a sent message echoes of its request: an inline keyboard, link preview options."""
        if markup is not None and "inline_keyboard" in markup:
            message["reply_markup"] = copy.deepcopy(markup)
        if isinstance(params.get("link_preview_options"), dict):
            message["link_preview_options"] = params["link_preview_options"]

    @staticmethod
    def _sent_record(chat_id: int | None, message: dict[str, Any], params: dict[str, Any], *, edited: bool) -> SentMessage:
        preview = params.get("link_preview_options")
        disabled = bool(preview.get("is_disabled")) if isinstance(preview, dict) else False
        disabled = disabled or params.get("disable_web_page_preview") is True  # the pre-7.0 parameter
        return SentMessage(
            chat_id=chat_id, message_id=message.get("message_id"), html=str(params.get("text")), text=message["text"],
            entities=copy.deepcopy(message.get("entities", [])), reply_markup=copy.deepcopy(message.get("reply_markup")),
            link_preview_disabled=disabled, edited=edited, inline_message_id=params.get("inline_message_id"),
        )

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        message_id = _int_param(params, "message_id", missing="message identifier is not specified")
        if message_id not in chat.messages:
            raise bad_request("message to delete not found")
        if message_id not in chat.by_bot and chat.type != "private" and not self._may_delete_others(chat):
            raise bad_request("message can't be deleted")
        del chat.messages[message_id]
        chat.by_bot.discard(message_id)
        self.deleted.append((chat.id, message_id))
        return True

    def _may_delete_others(self, chat: FakeChat) -> bool:
        """Outside private chats only an admin with the right deletes others' messages."""
        return self._bot_is_admin(chat) and self._member_json(chat, self.bot_id).get("can_delete_messages", True)

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params.get("chat_id"))
        self._check_can_send(chat)
        if params.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # ----- methods: queries --------------------------------------------------------------------------
    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        text = params.get("text")
        if isinstance(text, str) and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query_id = str(params.get("callback_query_id", ""))
        self._close_query(query_id)
        self.answered_callbacks[query_id] = params
        return True

    async def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > MAX_INLINE_RESULTS:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            _check_inline_result(result, seen)
        query_id = str(params.get("inline_query_id", ""))
        self._close_query(query_id)
        self.inline_answers[query_id] = params
        return True

    # ----- methods: chats and members -------------------------------------------------------------------
    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._chat(params.get("chat_id")).full_info()

    async def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        user_id = _int_param(params, "user_id", missing="invalid user_id specified")
        if chat.type == "channel" and user_id != self.bot_id and not self._bot_is_admin(chat):
            raise bad_request("member list is inaccessible")  # only a channel's admins see its members
        return self._member_json(chat, user_id)

    async def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._chat(params.get("chat_id"))
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = [uid for uid, entry in chat.members.items() if entry["status"] in ("creator", "administrator")]
        return [self._member_json(chat, uid) for uid in admins if uid != self.bot_id]  # Telegram leaves bots out

    async def _get_chat_member_count(self, params: dict[str, Any]) -> int:
        chat = self._chat(params.get("chat_id"))
        return sum(1 for entry in chat.members.values() if entry["status"] not in ("left", "kicked"))


# ----- validation of nested objects ------------------------------------------------------------------

def _command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram marks at the start of a user's "/command"."""
    command = _COMMAND.match(text)
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}] if command else []


def _check_command(command: Any) -> None:
    if not isinstance(command, dict) or not isinstance(command.get("command"), str):
        raise bad_request("can't parse BotCommand JSON object")
    if not _BOT_COMMAND_NAME.fullmatch(command["command"]):
        raise bad_request("BOT_COMMAND_INVALID")
    description = command.get("description")
    if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
        raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")


def _check_inline_result(result: Any, seen: set[str]) -> None:
    """One answerInlineQuery result: a unique id, and a message Telegram would send."""
    if not isinstance(result, dict) or not isinstance(result.get("type"), str):
        raise bad_request("can't parse inline query result JSON object")
    result_id = result.get("id")
    if not isinstance(result_id, str) or not 1 <= len(result_id.encode("utf-8")) <= 64:
        raise bad_request("RESULT_ID_INVALID")
    if result_id in seen:
        raise bad_request("RESULT_ID_DUPLICATE")
    seen.add(result_id)
    content = result.get("input_message_content")
    if isinstance(content, dict) and "message_text" in content:
        parse_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
    check_reply_markup(result.get("reply_markup"), inline_only=True)
