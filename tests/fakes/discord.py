"""A fake Discord (REST API v10 and gateway) for end-to-end tests through discord.py.

discord.py runs against it unmodified once it is pointed at it:

    fake = FakeDiscord()
    await fake.start()
    fake.patch_discord_py()      # Route.BASE and DiscordWebSocket.DEFAULT_GATEWAY
    fake.add_guild(GUILD, "Newsroom", owner_id=OWNER)
    fake.add_channel(GUILD, CHANNEL, "general")
    fake.add_member(GUILD, USER, "ada")
    ... client.login(fake.token); client.connect() ...
    await fake.wait_ready()
    interaction_id = fake.slash(CHANNEL, USER, "latest", {"topic": "ai"})
    await fake.wait_for(lambda: fake.responses(interaction_id))

It enforces the rules Discord enforces (message and embed limits, components,
channel permissions, the 3-second interaction deadline, one acknowledgement
per interaction, command definitions...) and answers a broken request the way
Discord does (status, JSON error code, `errors` naming the offending field),
so a bot that sends a wrong message fails its test instead of failing in
production. Where Discord's exact error wording is unknown the fake uses a
plausible one; the status and JSON error code are what discord.py reacts to.

Pointing an app at it by hand: discord.http.Route.BASE = f"{fake.url}/api/v10"
and discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.ws_url)
(with or without a trailing slash). Both are class attributes: restore them
afterwards. Interaction callbacks and webhook routes need no Authorization
header (discord.py sends none there); every other route needs "Bot <token>".
Only zlib-stream (or no) transport compression is spoken: discord.py asks for
zstd-stream only when zstandard or compression.zstd can be imported.
"""
from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime as dt
import hashlib
import json
import logging
import math
import re
import secrets
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSMsgType, web

log = logging.getLogger(__name__)

API_VERSIONS = ("9", "10")
DISCORD_EPOCH_MS = 1_420_070_400_000

# ----- permissions (bit values as Discord defines them) --------------------------------------
CREATE_INSTANT_INVITE = 1 << 0
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
ADD_REACTIONS = 1 << 6
STREAM = 1 << 9
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
SEND_TTS_MESSAGES = 1 << 12
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CONNECT = 1 << 20
SPEAK = 1 << 21
USE_VOICE_ACTIVATION = 1 << 25
CHANGE_NICKNAME = 1 << 26
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
USE_EXTERNAL_STICKERS = 1 << 37
SEND_MESSAGES_IN_THREADS = 1 << 38
ALL_PERMISSIONS = (1 << 53) - 1
# What @everyone may do in a new guild (Discord's classic default plus the newer chat rights).
DEFAULT_EVERYONE_PERMISSIONS = (
    CREATE_INSTANT_INVITE | ADD_REACTIONS | STREAM | VIEW_CHANNEL | SEND_MESSAGES | SEND_TTS_MESSAGES | EMBED_LINKS
    | ATTACH_FILES | READ_MESSAGE_HISTORY | MENTION_EVERYONE | USE_EXTERNAL_EMOJIS | CONNECT | SPEAK
    | USE_VOICE_ACTIVATION | CHANGE_NICKNAME | USE_APPLICATION_COMMANDS | CREATE_PUBLIC_THREADS
    | CREATE_PRIVATE_THREADS | USE_EXTERNAL_STICKERS | SEND_MESSAGES_IN_THREADS
)
# What anyone may do in a DM with the bot.
DM_PERMISSIONS = (
    ADD_REACTIONS | VIEW_CHANNEL | SEND_MESSAGES | SEND_TTS_MESSAGES | EMBED_LINKS | ATTACH_FILES
    | READ_MESSAGE_HISTORY | MENTION_EVERYONE | USE_EXTERNAL_EMOJIS | USE_APPLICATION_COMMANDS
)
# Discord takes these away from whoever may not send messages in the channel.
NEEDS_SEND_MESSAGES = MENTION_EVERYONE | SEND_TTS_MESSAGES | ATTACH_FILES | EMBED_LINKS

# ----- gateway intents ---------------------------------------------------------------------------
GUILDS_INTENT = 1 << 0
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_PRESENCES_INTENT = 1 << 8
GUILD_MESSAGES_INTENT = 1 << 9
DIRECT_MESSAGES_INTENT = 1 << 12
MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS_INTENT | GUILD_PRESENCES_INTENT | MESSAGE_CONTENT_INTENT
ALL_INTENTS = (1 << 26) - 1
# The application flags by which discord.py (AppInfo.flags) learns which privileged intents are on.
_APP_FLAG_OF_INTENT = {GUILD_PRESENCES_INTENT: 1 << 13, GUILD_MEMBERS_INTENT: 1 << 15, MESSAGE_CONTENT_INTENT: 1 << 19}

# ----- messages ------------------------------------------------------------------------------------
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS_ON_CREATE = SUPPRESS_EMBEDS | EPHEMERAL | SUPPRESS_NOTIFICATIONS | IS_COMPONENTS_V2
MESSAGE_FLAGS_ON_EDIT = SUPPRESS_EMBEDS | IS_COMPONENTS_V2

MAX_CONTENT = 2000
MAX_EMBEDS = 10
MAX_EMBED_TOTAL = 6000
MAX_EMBED_TITLE = 256
MAX_EMBED_DESCRIPTION = 4096
MAX_EMBED_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER_TEXT = 2048
MAX_AUTHOR_NAME = 256
MAX_ACTION_ROWS = 5
MAX_ROW_WIDTH = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MAX_SELECT_OPTIONS = 25
MAX_V2_COMPONENTS = 40
MAX_V2_TEXT = 4000
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024

# message types
DEFAULT_MESSAGE = 0
REPLY_MESSAGE = 19
CHAT_INPUT_COMMAND_MESSAGE = 20

# ----- channels ------------------------------------------------------------------------------------
TEXT_CHANNEL, DM_CHANNEL, VOICE_CHANNEL, CATEGORY_CHANNEL = 0, 1, 2, 4
NEWS_CHANNEL, STAGE_CHANNEL, FORUM_CHANNEL = 5, 13, 15
GUILD_CHANNEL_TYPES = {TEXT_CHANNEL, VOICE_CHANNEL, CATEGORY_CHANNEL, NEWS_CHANNEL, STAGE_CHANNEL, FORUM_CHANNEL}
MESSAGEABLE_CHANNEL_TYPES = {TEXT_CHANNEL, DM_CHANNEL, VOICE_CHANNEL, NEWS_CHANNEL, STAGE_CHANNEL}

# ----- interactions ----------------------------------------------------------------------------------
APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5
PONG, CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE = 1, 4, 5, 6, 7
AUTOCOMPLETE_RESULT, MODAL = 8, 9
# Which callback types answer which interaction type (PONG is for HTTP interactions only).
CALLBACKS_FOR = {
    APPLICATION_COMMAND: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, MODAL),
    MESSAGE_COMPONENT: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL),
    AUTOCOMPLETE: (AUTOCOMPLETE_RESULT,),
    MODAL_SUBMIT: (CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE),
}
MAX_CHOICES = 25
MAX_CHOICE_NAME = 100
MAX_CHOICE_VALUE = 100

# ----- application commands --------------------------------------------------------------------------
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
MAX_COMMANDS = {CHAT_INPUT: 100, USER_COMMAND: 15, MESSAGE_COMMAND: 15}
MAX_OPTIONS = 25
MAX_COMMAND_SIZE = 4000  # characters of names, descriptions and choices together
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
STRING, INTEGER, BOOLEAN, USER, CHANNEL, ROLE, MENTIONABLE, NUMBER, ATTACHMENT = 3, 4, 5, 6, 7, 8, 9, 10, 11
_CHAT_INPUT_NAME = re.compile(r"[-_\w]{1,32}")
MAX_SAFE_INTEGER = 2**53

# ----- gateway --------------------------------------------------------------------------------------
HEARTBEAT_INTERVAL_MS = 41_250
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION, OP_HELLO, OP_HEARTBEAT_ACK = 6, 7, 8, 9, 10, 11
CLOSE_SESSION_TAKEN_OVER = 4000  # Discord's "unknown error, reconnect": the bot resumes or identifies again
CLOSE_UNKNOWN_OPCODE, CLOSE_DECODE_ERROR, CLOSE_NOT_AUTHENTICATED = 4001, 4002, 4003
CLOSE_AUTHENTICATION_FAILED, CLOSE_ALREADY_AUTHENTICATED, CLOSE_INVALID_SHARD = 4004, 4005, 4010
CLOSE_INVALID_INTENTS, CLOSE_DISALLOWED_INTENTS = 4013, 4014


# ----- errors ---------------------------------------------------------------------------------------

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


# ----- what the tests observe -------------------------------------------------------------------------

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


# ----- small helpers ----------------------------------------------------------------------------------

class _Snowflakes:
    """Discord ids: milliseconds since Discord's epoch << 22, unique and increasing."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        stamp = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22
        self._last = max(stamp, self._last + 1)
        return self._last


def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat()


def _as_int(value: Any) -> int | None:
    """A snowflake from JSON or a path (Discord accepts both strings and numbers)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _short(value: Any, limit: int = 100) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[:limit - 3] + "..."


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> web.Response:
    """discord.py parses a body as JSON only if Content-Type is exactly application/json (no charset)."""
    headers = dict(headers or {})
    if body is None:
        return web.Response(status=status, headers=headers)
    headers["Content-Type"] = "application/json"
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


# ----- message validation ------------------------------------------------------------------------------

def _check_text(obj: dict[str, Any], key: str, limit: int, errors: FormErrors, path: tuple[Any, ...],
                *, required: bool = False) -> int:
    """Checks a string field; returns its length (what counts towards the embed total)."""
    value = obj.get(key)
    if value is None or (required and isinstance(value, str) and not value.strip()):
        if required:
            errors.add(path + (key,), "BASE_TYPE_REQUIRED", "This field is required")
        return 0
    if not isinstance(value, str):
        errors.add(path + (key,), "BASE_TYPE_STRING", f"Could not interpret {_short(value)} as string.")
        return 0
    if len(value) > limit:
        errors.add(path + (key,), "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(value)


def _check_url(obj: dict[str, Any], key: str, errors: FormErrors, path: tuple[Any, ...], *,
               required: bool = False, schemes: tuple[str, ...] = ("http", "https")) -> None:
    value = obj.get(key)
    if value is None:
        if required:
            errors.add(path + (key,), "BASE_TYPE_REQUIRED", "This field is required")
        return
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in schemes or not parts.netloc or len(value) > 2048:
        errors.add(path + (key,), "URL_TYPE_INVALID_URL", "Not a well formed URL.")


def _check_list(value: Any, errors: FormErrors, path: tuple[Any, ...], limit: int, *, minimum: int = 0) -> list[Any]:
    if not isinstance(value, list):
        errors.add(path, "BASE_TYPE_ARRAY", "Must be an array.")  # wording approximated
        return []
    if len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    elif len(value) < minimum:
        errors.add(path, "BASE_TYPE_MIN_LENGTH", f"Must be {minimum} or more in length.")
    return value


def _check_dict(value: Any, errors: FormErrors, path: tuple[Any, ...]) -> bool:
    if not isinstance(value, dict):
        errors.add(path, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")
        return False
    return True


def _check_embed(embed: Any, errors: FormErrors, path: tuple[Any, ...]) -> int:
    """Checks one embed; returns its size as Discord counts it for the 6000-character total."""
    if not _check_dict(embed, errors, path):
        return 0
    size = _check_text(embed, "title", MAX_EMBED_TITLE, errors, path)
    size += _check_text(embed, "description", MAX_EMBED_DESCRIPTION, errors, path)
    _check_url(embed, "url", errors, path)
    color = embed.get("color")
    if color is not None and (not isinstance(color, int) or isinstance(color, bool) or not 0 <= color <= 0xFFFFFF):
        errors.add(path + ("color",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.")
    if embed.get("timestamp") is not None:
        try:
            dt.datetime.fromisoformat(str(embed["timestamp"]).replace("Z", "+00:00"))
        except ValueError:
            errors.add(path + ("timestamp",), "DATE_TIME_TYPE_PARSE", "Could not parse timestamp. Should be ISO8601.")
    for j, item in enumerate(_check_list(embed.get("fields", []), errors, path + ("fields",), MAX_EMBED_FIELDS)):
        if _check_dict(item, errors, path + ("fields", j)):
            size += _check_text(item, "name", MAX_FIELD_NAME, errors, path + ("fields", j), required=True)
            size += _check_text(item, "value", MAX_FIELD_VALUE, errors, path + ("fields", j), required=True)
    footer = embed.get("footer")
    if footer is not None and _check_dict(footer, errors, path + ("footer",)):
        size += _check_text(footer, "text", MAX_FOOTER_TEXT, errors, path + ("footer",), required=True)
        _check_url(footer, "icon_url", errors, path + ("footer",), schemes=("http", "https", "attachment"))
    author = embed.get("author")
    if author is not None and _check_dict(author, errors, path + ("author",)):
        size += _check_text(author, "name", MAX_AUTHOR_NAME, errors, path + ("author",), required=True)
        _check_url(author, "url", errors, path + ("author",))
        _check_url(author, "icon_url", errors, path + ("author",), schemes=("http", "https", "attachment"))
    for key in ("image", "thumbnail"):
        media = embed.get(key)
        if media is not None and _check_dict(media, errors, path + (key,)):
            _check_url(media, "url", errors, path + (key,), required=True, schemes=("http", "https", "attachment"))
    return size


def check_embeds(embeds: Any, errors: FormErrors, path: tuple[Any, ...]) -> None:
    total = sum(_check_embed(embed, errors, path + (i,))
                for i, embed in enumerate(_check_list(embeds, errors, path, MAX_EMBEDS)))
    if total > MAX_EMBED_TOTAL:
        errors.add(path, "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {MAX_EMBED_TOTAL}")


class _ComponentChecker:
    """Checks a message's components: legacy action rows, or the v2 layout (flag IS_COMPONENTS_V2)."""

    V2_TOP_LEVEL = (1, 9, 10, 12, 13, 14, 17)
    IN_CONTAINER = (1, 9, 10, 12, 13, 14)
    SELECTS = (3, 5, 6, 7, 8)

    def __init__(self, errors: FormErrors, *, v2: bool) -> None:
        self.errors = errors
        self.v2 = v2
        self.custom_ids: set[str] = set()
        self.count = 0
        self.text = 0

    def check(self, components: Any, path: tuple[Any, ...]) -> None:
        limit = MAX_V2_COMPONENTS if self.v2 else MAX_ACTION_ROWS
        allowed = self.V2_TOP_LEVEL if self.v2 else (1,)
        for i, component in enumerate(_check_list(components, self.errors, path, limit)):
            self._component(component, path + (i,), allowed)
        if self.v2 and self.count > MAX_V2_COMPONENTS:
            self.errors.add(path, "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                            f"The total number of components must be {MAX_V2_COMPONENTS} or fewer")
        if self.text > MAX_V2_TEXT:
            self.errors.add(path, "COMPONENT_MAX_TOTAL_TEXT_EXCEEDED",
                            f"The total length of text in components must be {MAX_V2_TEXT} or fewer")

    def _component(self, component: Any, path: tuple[Any, ...], allowed: tuple[int, ...]) -> None:
        if not _check_dict(component, self.errors, path):
            return
        self.count += 1
        kind = component.get("type")
        if kind not in allowed:
            self.errors.add(path + ("type",), "UNION_TYPE_CHOICES",
                            f'Value of field "type" must be one of {allowed}.')
            return
        handlers = {1: self._row, 2: self._button, 9: self._section, 10: self._text_display, 11: self._media,
                    12: self._gallery, 13: self._file, 14: lambda c, p: None, 17: self._container}
        handlers.get(kind, self._select)(component, path)

    def _row(self, row: dict[str, Any], path: tuple[Any, ...]) -> None:
        children = _check_list(row.get("components"), self.errors, path + ("components",), MAX_ROW_WIDTH, minimum=1)
        if any(isinstance(c, dict) and c.get("type") in self.SELECTS for c in children) and len(children) > 1:
            self.errors.add(path + ("components",), "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                            "The specified component exceeds the maximum width")
        for j, child in enumerate(children):
            self._component(child, path + ("components", j), (2, *self.SELECTS))

    def _custom_id(self, component: dict[str, Any], path: tuple[Any, ...]) -> None:
        custom_id = component.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
            self.errors.add(path + ("custom_id",), "BASE_TYPE_BAD_LENGTH",
                            f"Must be between 1 and {MAX_CUSTOM_ID} in length.")
        elif custom_id in self.custom_ids:
            self.errors.add(path + ("custom_id",), "COMPONENT_CUSTOM_ID_DUPLICATED",
                            "Component custom id cannot be duplicated")
        else:
            self.custom_ids.add(custom_id)

    def _button(self, button: dict[str, Any], path: tuple[Any, ...]) -> None:
        style = button.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            self.errors.add(path + ("style",), "ENUM_TYPE_COERCE", f'Value "{style}" is not a valid enum value.')
            return
        _check_text(button, "label", MAX_BUTTON_LABEL, self.errors, path)
        if style == 5:
            _check_url(button, "url", self.errors, path, required=True, schemes=("http", "https", "discord"))
            if "custom_id" in button:
                self.errors.add(path + ("custom_id",), "BUTTON_COMPONENT_CUSTOM_ID_DISALLOWED",
                                "A link button cannot have a custom id")
        elif style == 6:
            if button.get("sku_id") is None:
                self.errors.add(path + ("sku_id",), "BASE_TYPE_REQUIRED", "This field is required")
        else:
            self._custom_id(button, path)
            if "url" in button:
                self.errors.add(path + ("url",), "BUTTON_COMPONENT_URL_DISALLOWED", "Only link buttons can have a url")
        if style != 6 and not button.get("label") and not button.get("emoji"):
            self.errors.add(path, "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji")

    def _select(self, select: dict[str, Any], path: tuple[Any, ...]) -> None:
        self._custom_id(select, path)
        _check_text(select, "placeholder", 150, self.errors, path)
        low, high = select.get("min_values", 1), select.get("max_values", 1)
        if not isinstance(low, int) or not 0 <= low <= 25:
            self.errors.add(path + ("min_values",), "NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
        if not isinstance(high, int) or not 1 <= high <= 25:
            self.errors.add(path + ("max_values",), "NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
        if select.get("type") != 3:
            return
        options = _check_list(select.get("options"), self.errors, path + ("options",), MAX_SELECT_OPTIONS, minimum=1)
        values: set[Any] = set()
        for k, option in enumerate(options):
            if _check_dict(option, self.errors, path + ("options", k)):
                _check_text(option, "label", 100, self.errors, path + ("options", k), required=True)
                _check_text(option, "value", 100, self.errors, path + ("options", k), required=True)
                _check_text(option, "description", 100, self.errors, path + ("options", k))
                if option.get("value") in values:
                    self.errors.add(path + ("options", k, "value"), "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                                    "Select option values must be unique")
                values.add(option.get("value"))
        if isinstance(high, int) and options and high > len(options):
            self.errors.add(path + ("max_values",), "SELECT_COMPONENT_MAX_VALUES_TOO_HIGH",
                            "max_values cannot exceed the number of options")

    def _section(self, section: dict[str, Any], path: tuple[Any, ...]) -> None:
        texts = _check_list(section.get("components"), self.errors, path + ("components",), 3, minimum=1)
        for j, child in enumerate(texts):
            self._component(child, path + ("components", j), (10,))
        accessory = section.get("accessory")
        if accessory is None:
            self.errors.add(path + ("accessory",), "BASE_TYPE_REQUIRED", "This field is required")
        else:
            self._component(accessory, path + ("accessory",), (2, 11))

    def _text_display(self, display: dict[str, Any], path: tuple[Any, ...]) -> None:
        self.text += _check_text(display, "content", MAX_V2_TEXT, self.errors, path, required=True)

    def _media(self, thumbnail: dict[str, Any], path: tuple[Any, ...]) -> None:
        media = thumbnail.get("media")
        if _check_dict(media, self.errors, path + ("media",)):
            _check_url(media, "url", self.errors, path + ("media",), required=True,
                       schemes=("http", "https", "attachment"))

    def _gallery(self, gallery: dict[str, Any], path: tuple[Any, ...]) -> None:
        for j, item in enumerate(_check_list(gallery.get("items"), self.errors, path + ("items",), 10, minimum=1)):
            if _check_dict(item, self.errors, path + ("items", j)):
                self._media(item, path + ("items", j))

    def _file(self, file: dict[str, Any], path: tuple[Any, ...]) -> None:
        media = file.get("file")
        if _check_dict(media, self.errors, path + ("file",)):
            _check_url(media, "url", self.errors, path + ("file",), required=True, schemes=("attachment",))

    def _container(self, container: dict[str, Any], path: tuple[Any, ...]) -> None:
        for j, child in enumerate(_check_list(container.get("components"), self.errors, path + ("components",),
                                              MAX_V2_COMPONENTS, minimum=1)):
            self._component(child, path + ("components", j), self.IN_CONTAINER)


def check_allowed_mentions(value: Any, errors: FormErrors, path: tuple[Any, ...]) -> None:
    if value is None or not _check_dict(value, errors, path):
        return
    parse = _check_list(value.get("parse", []), errors, path + ("parse",), 3)
    for i, kind in enumerate(parse):
        if kind not in ("roles", "users", "everyone"):
            errors.add(path + ("parse", i), "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
    for kind in ("users", "roles"):
        ids = _check_list(value.get(kind, []), errors, path + (kind,), 100)
        if ids and kind in parse:
            errors.add(path, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                       f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.')


def check_message(data: Any, errors: FormErrors, path: tuple[Any, ...] = (), *, flags: int | None = None) -> None:
    """The fields of a message being sent or edited. `flags`: the message's flags after the change."""
    if not _check_dict(data, errors, path):
        return
    if flags is None:
        flags = data.get("flags") or 0
    content = data.get("content")
    if content is not None:
        if not isinstance(content, str):
            errors.add(path + ("content",), "BASE_TYPE_STRING", f"Could not interpret {_short(content)} as string.")
        elif len(content) > MAX_CONTENT:
            errors.add(path + ("content",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CONTENT} or fewer in length.")
    if data.get("embeds") is not None:
        check_embeds(data["embeds"], errors, path + ("embeds",))
    if data.get("components") is not None:
        _ComponentChecker(errors, v2=bool(flags & IS_COMPONENTS_V2)).check(data["components"], path + ("components",))
    check_allowed_mentions(data.get("allowed_mentions"), errors, path + ("allowed_mentions",))
    if data.get("flags") is not None and (not isinstance(data["flags"], int) or isinstance(data["flags"], bool)):
        errors.add(path + ("flags",), "NUMBER_TYPE_COERCE", f'Value "{data["flags"]}" is not int.')
    if flags & IS_COMPONENTS_V2:
        for key in ("content", "embeds"):
            if data.get(key):
                errors.add(path + (key,), "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                           f"The '{key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2")


def is_empty_message(message: dict[str, Any]) -> bool:
    """Discord refuses a message with nothing to show (whitespace-only content counts as nothing)."""
    return not ((message.get("content") or "").strip() or message.get("embeds") or message.get("components")
                or message.get("attachments") or message.get("sticker_items") or message.get("poll"))


def pings(content: str, allowed_mentions: dict[str, Any] | None) -> tuple[list[int], list[int], bool]:
    """Who the message notifies: (user ids, role ids, @everyone/@here), after allowed_mentions."""
    users = [int(u) for u in re.findall(r"<@!?(\d+)>", content)]
    roles = [int(r) for r in re.findall(r"<@&(\d+)>", content)]
    everyone = "@everyone" in content or "@here" in content
    if allowed_mentions is None:  # Discord's default: parse everything
        return users, roles, everyone
    parse = set(allowed_mentions.get("parse") or [])
    allowed_users = {int(u) for u in allowed_mentions.get("users") or []}
    allowed_roles = {int(r) for r in allowed_mentions.get("roles") or []}
    users = [u for u in users if "users" in parse or u in allowed_users]
    roles = [r for r in roles if "roles" in parse or r in allowed_roles]
    return users, roles, everyone and "everyone" in parse


# ----- application command validation ---------------------------------------------------------------------

def _check_name(item: dict[str, Any], errors: FormErrors, path: tuple[Any, ...], *, chat_input: bool) -> None:
    name = item.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        errors.add(path + ("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    elif chat_input and (not _CHAT_INPUT_NAME.fullmatch(name) or name != name.lower()):
        errors.add(path + ("name",), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")


def _check_description(item: dict[str, Any], errors: FormErrors, path: tuple[Any, ...]) -> None:
    description = item.get("description")
    if not isinstance(description, str) or not 1 <= len(description) <= 100:
        errors.add(path + ("description",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")


def _check_choices(option: dict[str, Any], errors: FormErrors, path: tuple[Any, ...]) -> None:
    kind = option.get("type")
    choices = option.get("choices")
    if choices is None:
        return
    if kind not in (STRING, INTEGER, NUMBER):
        errors.add(path + ("choices",), "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED",
                   "Only string, integer and number options can have choices")
        return
    if option.get("autocomplete"):
        errors.add(path + ("autocomplete",), "APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES",
                   "Autocomplete cannot be set on an option with choices")
    for k, choice in enumerate(_check_list(choices, errors, path + ("choices",), MAX_CHOICES)):
        if _check_dict(choice, errors, path + ("choices", k)):
            _check_choice(choice, kind, errors, path + ("choices", k))


def _check_choice(choice: dict[str, Any], kind: int, errors: FormErrors, path: tuple[Any, ...]) -> None:
    """One choice of a command option or of an autocomplete answer."""
    name = choice.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MAX_CHOICE_NAME:
        errors.add(path + ("name",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_CHOICE_NAME} in length.")
    value = choice.get("value")
    if kind == STRING:
        if not isinstance(value, str):
            errors.add(path + ("value",), "BASE_TYPE_STRING", f"Could not interpret {_short(value)} as string.")
        elif len(value) > MAX_CHOICE_VALUE:
            errors.add(path + ("value",), "BASE_TYPE_MAX_LENGTH", f"Must be {MAX_CHOICE_VALUE} or fewer in length.")
    elif kind == INTEGER and (not isinstance(value, int) or isinstance(value, bool) or abs(value) > MAX_SAFE_INTEGER):
        errors.add(path + ("value",), "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    elif kind == NUMBER and (not isinstance(value, (int, float)) or isinstance(value, bool)):
        errors.add(path + ("value",), "NUMBER_TYPE_COERCE", f'Value "{value}" is not a valid number.')


def _check_option(option: Any, errors: FormErrors, path: tuple[Any, ...], depth: int) -> None:
    if not _check_dict(option, errors, path):
        return
    kind = option.get("type")
    if kind not in range(1, 12):
        errors.add(path + ("type",), "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
        return
    _check_name(option, errors, path, chat_input=True)
    _check_description(option, errors, path)
    if kind in (SUB_COMMAND, SUB_COMMAND_GROUP):
        if kind == SUB_COMMAND_GROUP and depth > 0 or kind == SUB_COMMAND and depth > 1:
            errors.add(path + ("type",), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                       "Subcommands cannot be nested this deep")
        _check_options(option.get("options", []), errors, path + ("options",), depth + 1,
                       only=(SUB_COMMAND,) if kind == SUB_COMMAND_GROUP else None)
        return
    _check_choices(option, errors, path)
    if option.get("autocomplete") and kind not in (STRING, INTEGER, NUMBER):
        errors.add(path + ("autocomplete",), "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
                   "Only string, integer and number options can autocomplete")
    if option.get("channel_types") is not None and kind != CHANNEL:
        errors.add(path + ("channel_types",), "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID",
                   "Only channel options can have channel types")
    for key in ("min_value", "max_value"):
        if option.get(key) is not None and kind not in (INTEGER, NUMBER):
            errors.add(path + (key,), "APPLICATION_COMMAND_OPTION_INVALID",
                       f"Only integer and number options can have {key}")
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = option.get(key)
        if value is not None and (kind != STRING or not isinstance(value, int) or not low <= value <= 6000):
            errors.add(path + (key,), "APPLICATION_COMMAND_OPTION_INVALID",
                       f"{key} must be between {low} and 6000, on string options")


def _check_options(options: Any, errors: FormErrors, path: tuple[Any, ...], depth: int, *,
                   only: tuple[int, ...] | None = None) -> None:
    options = _check_list(options, errors, path, MAX_OPTIONS)
    kinds = [o.get("type") for o in options if isinstance(o, dict)]
    nesting = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if any(nesting) and not all(nesting) or only and any(k not in only for k in kinds):
        errors.add(path, "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                   "Subcommands and groups cannot be mixed with other options")
    seen: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        _check_option(option, errors, path + (i,), depth)
        if not isinstance(option, dict):
            continue
        if option.get("name") in seen:
            errors.add(path + (i, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS",
                       "Option names must be unique")
        seen.add(option.get("name"))
        if option.get("required") and optional_seen:
            errors.add(path + (i, "required"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                       "Required options must be placed before non-required options")
        optional_seen = optional_seen or not option.get("required")


def _command_size(item: dict[str, Any]) -> int:
    size = len(str(item.get("name", ""))) + len(str(item.get("description", "")))
    for choice in item.get("choices") or []:
        if isinstance(choice, dict):
            size += len(str(choice.get("name", ""))) + len(str(choice.get("value", "")))
    return size + sum(_command_size(o) for o in item.get("options") or [] if isinstance(o, dict))


def check_commands(commands: Any) -> None:
    """The body of PUT .../commands: every definition, the counts and unique names."""
    errors = FormErrors()
    if not isinstance(commands, list):
        errors.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        errors.raise_if_any()
    counts = {kind: 0 for kind in MAX_COMMANDS}
    names: set[tuple[int, str]] = set()
    for i, command in enumerate(commands):
        if not _check_dict(command, errors, (i,)):
            continue
        kind = command.get("type", CHAT_INPUT)
        if kind not in MAX_COMMANDS:
            errors.add((i, "type"), "ENUM_TYPE_COERCE", f'Value "{kind}" is not a valid enum value.')
            continue
        counts[kind] += 1
        _check_name(command, errors, (i,), chat_input=kind == CHAT_INPUT)
        if (kind, command.get("name")) in names:
            errors.add((i, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        names.add((kind, command.get("name")))
        if kind == CHAT_INPUT:
            _check_description(command, errors, (i,))
            _check_options(command.get("options") or [], errors, (i, "options"), 0)
            if _command_size(command) > MAX_COMMAND_SIZE:
                errors.add((i,), "APPLICATION_COMMAND_TOO_LARGE", f"Command exceeds maximum size ({MAX_COMMAND_SIZE})")
        elif command.get("description") or command.get("options"):
            errors.add((i, "description"), "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                       "Context menu commands cannot have a description or options")
        permissions = command.get("default_member_permissions")
        if permissions is not None and _as_int(permissions) is None:
            errors.add((i, "default_member_permissions"), "NUMBER_TYPE_COERCE",
                       f'Value "{permissions}" is not snowflake.')
    for kind, count in counts.items():
        if count > MAX_COMMANDS[kind]:
            raise ApiError(400, 30032, f"Maximum number of application commands reached ({MAX_COMMANDS[kind]})")
    errors.raise_if_any()


# ----- the world ----------------------------------------------------------------------------------------

@dataclass
class _User:
    id: int
    name: str
    bot: bool = False
    accepts_dms: bool = True

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "username": self.name, "global_name": None if self.bot else self.name,
            "discriminator": "0", "avatar": None, "bot": self.bot, "system": False, "public_flags": 0, "flags": 0,
            "banner": None, "accent_color": None, "avatar_decoration_data": None,
        }


@dataclass
class _Role:
    id: int
    name: str
    permissions: int
    position: int

    def json(self) -> dict[str, Any]:
        return {
            "id": str(self.id), "name": self.name, "permissions": str(self.permissions), "position": self.position,
            "color": 0, "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False, "managed": False, "mentionable": False, "icon": None, "unicode_emoji": None,
            "flags": 0, "description": None,
        }


@dataclass
class _Member:
    user_id: int
    roles: list[int]
    joined_at: str = field(default_factory=_now_iso)


@dataclass
class _Overwrite:
    id: int
    type: int  # 0 role, 1 member
    allow: int
    deny: int

    def json(self) -> dict[str, Any]:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class _Channel:
    id: int
    guild_id: int | None
    name: str
    type: int
    position: int = 0
    overwrites: dict[tuple[int, int], _Overwrite] = field(default_factory=dict)  # (type, id) -> overwrite
    recipient_id: int | None = None  # DMs


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    roles: dict[int, _Role] = field(default_factory=dict)
    members: dict[int, _Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    joined_at: str = field(default_factory=_now_iso)


@dataclass
class _StoredMessage:
    payload: dict[str, Any]  # the message object as Discord returns it
    allowed_mentions: dict[str, Any] | None
    interaction_id: str | None = None
    visible_to: int | None = None  # the one user who sees an ephemeral message
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def flags(self) -> int:
        return self.payload.get("flags", 0)


@dataclass
class _Interaction:
    id: int
    token: str
    type: int
    channel_id: int
    guild_id: int | None
    user_id: int
    dispatched_at: float
    name: str | None = None  # the command's name, for interaction_metadata
    command_type: int | None = None
    source_message_id: int | None = None  # the message a component or modal came from
    focused_type: int | None = None  # the option type being autocompleted
    callback_type: int | None = None
    original_message_id: int | None = None
    loading: bool = False  # deferred with a "thinking" message not yet replaced
    message_ids: list[int] = field(default_factory=list)  # original and followups
    responses: list[dict[str, Any]] = field(default_factory=list)
    modal: dict[str, Any] | None = None


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


# ----- the server -------------------------------------------------------------------------------------------

class FakeDiscord:
    """Discord for one bot (one application), with a world of guilds the test sets up.

    Attributes a test may change before the bot connects: `privileged_intents`
    (which privileged intents the application may use; others close the
    gateway with 4014), `recommended_shards` (what GET /gateway/bot says),
    `callback_deadline` and `token_lifetime` (the 3 s and 15 min interaction
    windows), `heartbeat_interval_ms`.
    """

    def __init__(self, token: str = "FAKE.TOKEN.x", application_id: int = 900000000000000001,
                 bot_user_id: int = 900000000000000001, bot_name: str = "ExplainerBot") -> None:
        self.token = token
        self.application_id = application_id
        self.bot_user_id = bot_user_id
        self.bot_name = bot_name
        self.app_owner_id = 900000000000000999
        self.privileged_intents = 0
        self.recommended_shards = 1
        self.callback_deadline = 3.0
        self.token_lifetime = 15 * 60.0
        self.heartbeat_interval_ms = HEARTBEAT_INTERVAL_MS
        self.url = ""
        self.ws_url = ""
        # what tests observe
        self.calls: list[Call] = []
        self.commands: dict[int | None, list[dict[str, Any]]] = {}
        self.gateway_frames: list[GatewayFrame] = []
        self.identified_shards: list[tuple[int, int]] = []
        self.intents: int | None = None
        # the world
        self._ids = _Snowflakes()
        self._users: dict[int, _User] = {bot_user_id: _User(bot_user_id, bot_name, bot=True)}
        self._guilds: dict[int, _Guild] = {}
        self._channels: dict[int, _Channel] = {}
        self._dms: dict[int, int] = {}  # user id -> DM channel id
        self._messages: dict[int, _StoredMessage] = {}
        self._interactions: dict[str, _Interaction] = {}
        self._by_token: dict[str, _Interaction] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}  # (guild, type, name) -> stable id
        self._rate_limits: list[tuple[str, float, bool]] = []
        # gateway
        self._sessions: dict[str, _Session] = {}
        self._shards: dict[int, _Session] = {}  # shard id -> the newest session for it
        self._shard_count = 0
        self._connections: set[_Connection] = set()
        self._session_starts = 1000
        # bookkeeping
        self._changed = asyncio.Event()
        self._started_at = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._patched: tuple[Any, Any] | None = None
        self._routes = self._route_table()

    # ----- lifecycle ---------------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/api/v{version}/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/gateway/", self._handle_gateway)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/gateway"
        self._started_at = time.monotonic()

    async def stop(self) -> None:
        for connection in list(self._connections):
            connection.close(1001, "The fake is shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.unpatch_discord_py()

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def patch_discord_py(self) -> None:
        """Points discord.py at the fake (undone by stop() or unpatch_discord_py())."""
        import discord.gateway
        import discord.http
        import yarl

        if self._patched is None:
            self._patched = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
        discord.http.Route.BASE = f"{self.url}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"{self.ws_url}/")

    def unpatch_discord_py(self) -> None:
        if self._patched is None:
            return
        import discord.gateway
        import discord.http

        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = self._patched
        self._patched = None

    # ----- world setup ---------------------------------------------------------------------------------
    def add_guild(self, guild_id: int, name: str, owner_id: int) -> None:
        """A guild with its @everyone role (id == guild id), the bot and the owner as members."""
        guild = _Guild(guild_id, name, owner_id)
        guild.roles[guild_id] = _Role(guild_id, "@everyone", DEFAULT_EVERYONE_PERMISSIONS, 0)
        self._guilds[guild_id] = guild
        self._users.setdefault(owner_id, _User(owner_id, f"owner{owner_id}"))
        guild.members[self.bot_user_id] = _Member(self.bot_user_id, [])
        guild.members.setdefault(owner_id, _Member(owner_id, []))
        session = self._session_for(guild_id)
        if session is not None and session.ready and session.intents & GUILDS_INTENT:
            # the bot joins it: without `unavailable` (that marks an outage ending), discord.py fires on_guild_join
            joined = self._guild_create(guild, session)
            del joined["unavailable"]
            session.dispatch("GUILD_CREATE", joined)

    def add_channel(self, guild_id: int | None, channel_id: int, name: str, type: int = TEXT_CHANNEL) -> None:
        if guild_id is None:
            raise ValueError("DM channels come from open_dm(user_id, channel_id)")
        if type not in GUILD_CHANNEL_TYPES:
            raise ValueError(f"channel type {type} is not one the fake supports: {sorted(GUILD_CHANNEL_TYPES)}")
        guild = self._guild(guild_id)
        channel = _Channel(channel_id, guild_id, name, type, position=len(guild.channel_ids))
        self._channels[channel_id] = channel
        guild.channel_ids.append(channel_id)
        self._dispatch_to_guild(guild_id, "CHANNEL_CREATE", self._channel_json(channel), GUILDS_INTENT)

    def add_role(self, guild_id: int, role_id: int, name: str, permissions: int) -> None:
        """A role (or, with role_id == guild_id, @everyone's permissions)."""
        guild = self._guild(guild_id)
        event = "GUILD_ROLE_UPDATE" if role_id in guild.roles else "GUILD_ROLE_CREATE"
        position = guild.roles[role_id].position if role_id in guild.roles else len(guild.roles)
        guild.roles[role_id] = role = _Role(role_id, name, permissions, position)
        self._dispatch_to_guild(guild_id, event, {"guild_id": str(guild_id), "role": role.json()}, GUILDS_INTENT)

    def add_member(self, guild_id: int, user_id: int, name: str, roles: list[int] | tuple[int, ...] = (), *,
                   bot: bool = False) -> None:
        """Adds a member, or replaces one's roles (use bot_user_id to give the bot roles)."""
        guild = self._guild(guild_id)
        unknown_roles = [r for r in roles if r not in guild.roles]
        if unknown_roles:
            raise ValueError(f"roles {unknown_roles} are not in guild {guild_id}: add_role() them first")
        if user_id == self.bot_user_id:
            bot = True
            name = self.bot_name
        previous = self._users.get(user_id)
        self._users[user_id] = _User(user_id, name, bot=bot, accepts_dms=previous.accepts_dms if previous else True)
        existed = user_id in guild.members
        guild.members[user_id] = member = _Member(user_id, [r for r in roles if r != guild_id])
        data = self._member_json(guild, member) | {"guild_id": str(guild_id)}
        if existed:
            needed = 0 if user_id == self.bot_user_id else GUILD_MEMBERS_INTENT  # the bot hears about itself
            self._dispatch_to_guild(guild_id, "GUILD_MEMBER_UPDATE", data, needed)
        else:
            self._dispatch_to_guild(guild_id, "GUILD_MEMBER_ADD", data, GUILD_MEMBERS_INTENT)

    def set_overwrite(self, channel_id: int, target_id: int, allow: int, deny: int, type: int = 0) -> None:
        """A channel's permission overwrite for a role (type 0) or a member (type 1)."""
        channel = self._channel(channel_id)
        if channel.guild_id is None:
            raise ValueError("DM channels have no permission overwrites")
        if type not in (0, 1):
            raise ValueError("type is 0 (role) or 1 (member)")
        channel.overwrites[(type, target_id)] = _Overwrite(target_id, type, allow, deny)
        self._dispatch_to_guild(channel.guild_id, "CHANNEL_UPDATE", self._channel_json(channel), GUILDS_INTENT)

    def open_dm(self, user_id: int, channel_id: int) -> None:
        """The DM channel between the bot and a user."""
        self._users.setdefault(user_id, _User(user_id, f"user{user_id}"))
        self._channels[channel_id] = _Channel(channel_id, None, "", DM_CHANNEL, recipient_id=user_id)
        self._dms[user_id] = channel_id

    def block_dms(self, user_id: int) -> None:
        """The user does not accept DMs from the bot: sending there answers 403 (50007)."""
        self._users.setdefault(user_id, _User(user_id, f"user{user_id}")).accepts_dms = False

    def rate_limit_next(self, route_substring: str, retry_after: float, *, is_global: bool = False) -> None:
        """The next request whose "METHOD /path" contains the substring is answered 429."""
        self._rate_limits.append((route_substring, retry_after, is_global))

    def disconnect(self, shard_id: int | None = None, *, code: int = 4000, resumable: bool = True) -> None:
        """Closes the gateway connection(s) (of one shard); without `resumable` RESUME is refused (op 9)."""
        for session in list(self._sessions.values()):
            if shard_id is not None and session.shard_id != shard_id:
                continue
            if session.connection is not None:
                session.connection.close(code, "Closed by the test")
            if not resumable:
                del self._sessions[session.id]

    # ----- user actions ---------------------------------------------------------------------------------
    def slash(self, channel_id: int, user_id: int, name: str, options: dict[str, Any] | None = None) -> str:
        """A user runs a slash command ("cmd", "cmd sub" or "cmd group sub"); returns the interaction id."""
        channel = self._channel(channel_id)
        command, path = self._command_for(channel, user_id, name)
        leaf_options, nest = self._descend(command, path)
        built, resolved = self._build_options(channel, user_id, leaf_options, options or {})
        data = {"id": command["id"], "name": command["name"], "type": CHAT_INPUT, "options": nest(built)}
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._interact(APPLICATION_COMMAND, channel, user_id, data, name=command["name"],
                              command_type=CHAT_INPUT)

    def autocomplete(self, channel_id: int, user_id: int, name: str, focused: str, value: str,
                     options: dict[str, Any] | None = None) -> str:
        """A user types `value` into option `focused` of a command; returns the interaction id."""
        channel = self._channel(channel_id)
        command, path = self._command_for(channel, user_id, name)
        leaf_options, nest = self._descend(command, path)
        definition = next((o for o in leaf_options if o["name"] == focused), None)
        if definition is None or not definition.get("autocomplete"):
            raise ValueError(f"/{name} has no option {focused!r} with autocomplete")
        # Discord sends what has been typed so far, unvalidated and without resolved objects.
        built = [{"name": key, "type": (kind := self._option_type(leaf_options, key)), "value": self._raw(kind, val)}
                 for key, val in (options or {}).items() if key != focused]
        built.append({"name": focused, "type": definition["type"], "value": value, "focused": True})
        data = {"id": command["id"], "name": command["name"], "type": CHAT_INPUT, "options": nest(built)}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return self._interact(AUTOCOMPLETE, channel, user_id, data, name=command["name"], command_type=CHAT_INPUT,
                              focused_type=definition["type"])

    def press(self, channel_id: int, user_id: int, message_id: int, custom_id: str, *, stale: bool = False) -> str:
        """A user presses a button on a message the bot sent; `stale` allows a button no longer on it."""
        stored = self._visible_message(channel_id, user_id, message_id)
        component = self._find_component(stored.payload.get("components", []), custom_id)
        if not stale:
            if component is None or component.get("type") != 2:
                raise ValueError(f"message {message_id} has no button {custom_id!r}: {self._custom_ids(stored)}")
            if component.get("disabled"):
                raise ValueError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": 2}
        return self._interact(MESSAGE_COMPONENT, self._channel(channel_id), user_id, data, message=stored)

    def select(self, channel_id: int, user_id: int, message_id: int, custom_id: str, values: list[str]) -> str:
        """A user picks `values` in a string select menu on a message the bot sent."""
        stored = self._visible_message(channel_id, user_id, message_id)
        component = self._find_component(stored.payload.get("components", []), custom_id)
        if component is None or component.get("type") != 3:
            raise ValueError(f"message {message_id} has no string select {custom_id!r}")
        offered = [o["value"] for o in component.get("options", [])]
        if any(v not in offered for v in values):
            raise ValueError(f"{values} are not all among the options {offered}")
        if not component.get("min_values", 1) <= len(values) <= component.get("max_values", 1):
            raise ValueError(f"{len(values)} values is outside min_values..max_values")
        data = {"custom_id": custom_id, "component_type": 3, "values": list(values)}
        return self._interact(MESSAGE_COMPONENT, self._channel(channel_id), user_id, data, message=stored)

    def submit_modal(self, interaction_id: str, values: dict[str, Any]) -> str:
        """The user submits the modal the bot answered `interaction_id` with: custom_id -> text (list for selects)."""
        opened = self._interactions[str(interaction_id)]
        if opened.modal is None:
            raise ValueError(f"interaction {interaction_id} was not answered with a modal")
        components = [self._submitted(c, values) for c in opened.modal["components"]]
        data = {"custom_id": opened.modal["custom_id"], "components": components}
        source = self._messages.get(opened.source_message_id) if opened.source_message_id else None
        return self._interact(MODAL_SUBMIT, self._channel(opened.channel_id), opened.user_id, data, message=source)

    # ----- observation ---------------------------------------------------------------------------------
    @property
    def errors(self) -> list[Call]:
        return [call for call in self.calls if not call.ok]

    def responses(self, interaction_id: str) -> list[dict[str, Any]]:
        """What the bot sent for the interaction, in order: the callback ({"kind": "callback", "type", "data"}),
        then {"kind": "edit" | "followup" | "delete", "message_id", "data"} entries."""
        interaction = self._interactions.get(str(interaction_id))
        return copy.deepcopy(interaction.responses) if interaction else []

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """The bot's messages in the channel, as they are now (ephemeral ones included, flag 64), each with
        the `allowed_mentions` it was sent with (None when it sent none: Discord then pings everyone named)."""
        return [copy.deepcopy(m.payload) | {"allowed_mentions": copy.deepcopy(m.allowed_mentions)}
                for m in self._messages.values() if m.channel_id == channel_id and not m.deleted]

    def message(self, message_id: int) -> dict[str, Any]:
        stored = self._messages[int(message_id)]
        return copy.deepcopy(stored.payload) | {"allowed_mentions": copy.deepcopy(stored.allowed_mentions)}

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() >= deadline:
                raise AssertionError(self.dump(f"condition not met within {timeout}s"))
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), min(0.05, max(deadline - time.monotonic(), 0)))

    async def wait_ready(self, timeout: float = 15.0, *, shard_ids: Iterable[int] | None = None) -> None:
        """Until every shard (of the latest IDENTIFYs' shard count, or just `shard_ids` for a bot running
        some of them) is connected and got READY and its GUILD_CREATEs."""
        wanted = None if shard_ids is None else list(shard_ids)
        await self.wait_for(lambda: self._shards_ready(wanted), timeout)

    def dump(self, headline: str, last: int = 30) -> str:
        """Recent requests and gateway sessions, for assertion messages."""
        shown = f", the last {last}:" if len(self.calls) > last else ":"
        lines = [f"{headline}; {len(self.calls)} requests so far{shown}"]
        for call in self.calls[-last:]:
            outcome = "" if call.ok else f" -> {_short(call.response, 300)}"
            lines.append(f"  +{call.at - self._started_at:.3f}s {call.route} {call.status}{outcome}")
        for session in self._sessions.values():
            state = ("connected" if session.connection else "disconnected") + (", ready" if session.ready else "")
            lines.append(f"  session {session.id[:8]} shard [{session.shard_id}, {session.shard_count}]"
                         f" seq {session.seq} {state}")
        return "\n".join(lines)

    # ----- the world, inside ---------------------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _guild(self, guild_id: int) -> _Guild:
        if guild_id not in self._guilds:
            raise KeyError(f"guild {guild_id} is unknown: add_guild() it first")
        return self._guilds[guild_id]

    def _channel(self, channel_id: int) -> _Channel:
        if channel_id not in self._channels:
            raise KeyError(f"channel {channel_id} is unknown: add_channel() or open_dm() it first")
        return self._channels[channel_id]

    def _permissions(self, channel: _Channel, user_id: int) -> int:
        """A user's permissions in a channel: Discord's algorithm (owner, @everyone, roles, administrator,
        then the channel's overwrites for @everyone, the roles and the member)."""
        if channel.guild_id is None:
            return DM_PERMISSIONS if user_id in (self.bot_user_id, channel.recipient_id) else 0
        guild = self._guilds[channel.guild_id]
        member = guild.members.get(user_id)
        if member is None:
            return 0
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        permissions = guild.roles[guild.id].permissions
        for role_id in member.roles:
            permissions |= guild.roles[role_id].permissions if role_id in guild.roles else 0
        if permissions & ADMINISTRATOR:
            return ALL_PERMISSIONS
        permissions = self._apply(permissions, channel.overwrites.get((0, guild.id)))
        role_overwrites = [channel.overwrites[(0, r)] for r in member.roles if (0, r) in channel.overwrites]
        allow = deny = 0
        for overwrite in role_overwrites:
            allow |= overwrite.allow
            deny |= overwrite.deny
        permissions = (permissions & ~deny) | allow
        permissions = self._apply(permissions, channel.overwrites.get((1, user_id)))
        if not permissions & VIEW_CHANNEL:
            return 0
        if not permissions & SEND_MESSAGES:
            permissions &= ~NEEDS_SEND_MESSAGES
        return permissions

    @staticmethod
    def _apply(permissions: int, overwrite: _Overwrite | None) -> int:
        return permissions if overwrite is None else (permissions & ~overwrite.deny) | overwrite.allow

    # ----- JSON of the world ---------------------------------------------------------------------------
    def _bot_json(self) -> dict[str, Any]:
        return self._users[self.bot_user_id].json()

    def _member_json(self, guild: _Guild, member: _Member, *, with_user: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in member.roles], "nick": None, "avatar": None, "banner": None,
            "joined_at": member.joined_at, "premium_since": None, "deaf": False, "mute": False, "flags": 0,
            "pending": False, "communication_disabled_until": None, "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self._users[member.user_id].json()
        return data

    def _channel_json(self, channel: _Channel, *, with_guild_id: bool = True) -> dict[str, Any]:
        if channel.guild_id is None:
            recipient = self._users[channel.recipient_id].json() if channel.recipient_id in self._users else None
            return {"id": str(channel.id), "type": DM_CHANNEL, "last_message_id": None, "flags": 0,
                    "recipients": [recipient] if recipient else []}
        data: dict[str, Any] = {
            "id": str(channel.id), "type": channel.type, "name": channel.name, "position": channel.position,
            "permission_overwrites": [o.json() for o in channel.overwrites.values()], "parent_id": None,
            "nsfw": False, "flags": 0,
        }
        if with_guild_id:
            data["guild_id"] = str(channel.guild_id)
        if channel.type in (TEXT_CHANNEL, NEWS_CHANNEL, VOICE_CHANNEL, STAGE_CHANNEL):
            data |= {"topic": None, "last_message_id": None, "rate_limit_per_user": 0}
        if channel.type in (VOICE_CHANNEL, STAGE_CHANNEL):
            data |= {"bitrate": 64000, "user_limit": 0, "rtc_region": None}
        if channel.type == FORUM_CHANNEL:
            data |= {"available_tags": [], "default_reaction_emoji": None, "default_sort_order": None,
                     "default_forum_layout": 0, "topic": None, "rate_limit_per_user": 0}
        return data

    def _guild_json(self, guild: _Guild) -> dict[str, Any]:
        """A guild as GET /guilds/{id} returns it (GUILD_CREATE adds channels, members...)."""
        return {
            "id": str(guild.id), "name": guild.name, "owner_id": str(guild.owner_id), "icon": None, "splash": None,
            "discovery_splash": None, "banner": None, "description": None, "features": [], "emojis": [],
            "stickers": [], "roles": [r.json() for r in guild.roles.values()], "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "premium_subscription_count": 0, "premium_progress_bar_enabled": False, "preferred_locale": "en-US",
            "system_channel_id": None, "system_channel_flags": 0, "rules_channel_id": None,
            "public_updates_channel_id": None, "safety_alerts_channel_id": None, "vanity_url_code": None,
            "application_id": None, "max_members": 500000, "max_video_channel_users": 25, "incidents_data": None,
        }

    def _guild_create(self, guild: _Guild, session: _Session) -> dict[str, Any]:
        # Without the presences intent Discord lists only the bot itself among the members.
        everyone_listed = bool(session.intents & GUILD_PRESENCES_INTENT)
        members = [m for m in guild.members.values() if everyone_listed or m.user_id == self.bot_user_id]
        return self._guild_json(guild) | {
            "joined_at": guild.joined_at, "large": False, "unavailable": False, "member_count": len(guild.members),
            "channels": [self._channel_json(self._channels[c], with_guild_id=False) for c in guild.channel_ids],
            "members": [self._member_json(guild, m) for m in members], "threads": [], "presences": [],
            "voice_states": [], "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "embedded_activities": [], "lazy": True,
        }

    # ----- gateway -------------------------------------------------------------------------------------
    def _log_frame(self, direction: str, shard_id: int | None, payload: dict[str, Any]) -> None:
        self.gateway_frames.append(GatewayFrame(direction, shard_id, payload, time.monotonic()))
        self._notify()

    def _shards_ready(self, shard_ids: list[int] | None) -> bool:
        if not self._shard_count:
            return False
        return all((s := self._shards.get(i)) is not None and s.ready and s.connection is not None
                   for i in (range(self._shard_count) if shard_ids is None else shard_ids))

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
            "v": 10, "user": self._bot_json() | {"verified": True, "mfa_enabled": False, "email": None},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in self._guilds_of(session)],
            "session_id": session.id, "session_type": "normal", "resume_gateway_url": self.ws_url,
            "application": {"id": str(self.application_id), "flags": self._application_flags()},
            "private_channels": [], "presences": [], "relationships": [], "guild_join_requests": [],
            "user_settings": {}, "geo_ordered_rtc_regions": ["fake"], "auth": {}, "_trace": ["fake-discord"],
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
        members = [m for m in guild.members.values()
                   if (m.user_id in wanted if wanted else self._users[m.user_id].name.lower().startswith(query))]
        limit = data.get("limit") or 0
        if limit and not wanted:
            members = members[:limit]
        session.dispatch("GUILD_MEMBERS_CHUNK", {
            "guild_id": str(guild.id), "members": [self._member_json(guild, m) for m in members],
            "chunk_index": 0, "chunk_count": 1, "not_found": [str(u) for u in wanted if u not in guild.members],
            "presences": [], "nonce": data.get("nonce"),
        })

    def _application_flags(self) -> int:
        return sum(flag for intent, flag in _APP_FLAG_OF_INTENT.items() if self.privileged_intents & intent)

    # ----- interactions (user side) ---------------------------------------------------------------------
    def _command_for(self, channel: _Channel, user_id: int, name: str) -> tuple[dict[str, Any], list[str]]:
        """The registered command a user may run in the channel (guild command first, then global)."""
        root, *path = name.split()
        scopes = ([channel.guild_id] if channel.guild_id is not None else []) + [None]
        command = next((c for scope in scopes for c in self.commands.get(scope, [])
                        if c["name"] == root and c.get("type", CHAT_INPUT) == CHAT_INPUT), None)
        if command is None:
            raise ValueError(f"/{root} is not registered (globally or for this guild): {self._command_names()}")
        self._check_may_use(command, channel, user_id)
        return command, path

    def _command_names(self) -> dict[str, list[str]]:
        return {str(scope): [c["name"] for c in commands] for scope, commands in self.commands.items()}

    def _check_may_use(self, command: dict[str, Any], channel: _Channel, user_id: int) -> None:
        """Discord shows a command only where it may run and to whom default_member_permissions allows."""
        in_guild = channel.guild_id is not None
        contexts = command.get("contexts")  # 0 guild, 1 DM with the bot; None: dm_permission decides
        if in_guild and contexts is not None and 0 not in contexts:
            raise ValueError(f"/{command['name']} is not available in guilds (contexts {contexts})")
        in_dms = 1 in contexts if contexts is not None else command.get("dm_permission") is not False
        if not in_guild and not in_dms:
            raise ValueError(f"/{command['name']} is not available in DMs with the bot")
        if in_guild and user_id not in self._guilds[channel.guild_id].members:
            raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
        if not in_guild and user_id != channel.recipient_id:
            raise ValueError(f"user {user_id} is not the recipient of DM {channel.id}")
        permissions = self._permissions(channel, user_id)
        if not permissions & VIEW_CHANNEL or not permissions & USE_APPLICATION_COMMANDS:
            raise ValueError(f"user {user_id} cannot use application commands in channel {channel.id}")
        required = command.get("default_member_permissions")
        if in_guild and required is not None and permissions & int(required) != int(required):
            raise ValueError(f"user {user_id} lacks default_member_permissions {required} for /{command['name']}")

    @staticmethod
    def _descend(command: dict[str, Any],
                 path: list[str]) -> tuple[list[dict[str, Any]], Callable[[list[Any]], list[Any]]]:
        """Follows "group sub" down the command's options; returns the leaf's options and a function that
        wraps the leaf's option values back into the subcommand nesting."""
        options = command.get("options") or []
        wrappers: list[tuple[str, int]] = []
        for name in path:
            option = next((o for o in options
                           if o["name"] == name and o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP)), None)
            if option is None:
                raise ValueError(f"/{command['name']} has no subcommand {' '.join(path)!r}")
            wrappers.append((name, option["type"]))
            options = option.get("options") or []
        if any(o["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options):
            raise ValueError(f"/{command['name']} {' '.join(path)} needs a subcommand: {[o['name'] for o in options]}")

        def nest(values: list[Any]) -> list[Any]:
            for name, kind in reversed(wrappers):
                values = [{"name": name, "type": kind, "options": values}]
            return values

        return options, nest

    @staticmethod
    def _option_type(definitions: list[dict[str, Any]], name: str) -> int:
        definition = next((o for o in definitions if o["name"] == name), None)
        if definition is None:
            raise ValueError(f"no option {name!r}; the command has {[o['name'] for o in definitions]}")
        return definition["type"]

    @staticmethod
    def _raw(kind: int, value: Any) -> Any:
        """An option value as typed so far: ids travel as strings, the rest as given."""
        return str(value) if kind in (USER, CHANNEL, ROLE, MENTIONABLE, ATTACHMENT) else value

    def _build_options(self, channel: _Channel, user_id: int, definitions: list[dict[str, Any]],
                       given: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Option values as Discord sends them, typed by the registered definitions, and the resolved objects."""
        for name in given:
            self._option_type(definitions, name)
        built: list[dict[str, Any]] = []
        resolved: dict[str, dict[str, Any]] = {}
        for definition in definitions:
            name = definition["name"]
            if name not in given:
                if definition.get("required"):
                    raise ValueError(f"option {name!r} is required")
                continue
            value = self._option_value(definition, given[name], channel, user_id, resolved)
            built.append({"name": name, "type": definition["type"], "value": value})
        return built, resolved

    def _option_value(self, definition: dict[str, Any], value: Any, channel: _Channel, user_id: int,
                      resolved: dict[str, dict[str, Any]]) -> Any:
        kind, name = definition["type"], definition["name"]
        if kind in (STRING, INTEGER, NUMBER, BOOLEAN):
            self._check_scalar(definition, value)
            return value
        snowflake = _as_int(value)
        if snowflake is None:
            raise ValueError(f"option {name!r} takes an id, not {value!r}")
        if kind in (USER, MENTIONABLE) and snowflake in self._users:
            self._resolve_user(channel, snowflake, resolved)
        elif kind in (ROLE, MENTIONABLE) and channel.guild_id and snowflake in self._guilds[channel.guild_id].roles:
            resolved.setdefault("roles", {})[str(snowflake)] = self._guilds[channel.guild_id].roles[snowflake].json()
        elif kind == CHANNEL and snowflake in self._channels:
            self._resolve_channel(definition, snowflake, user_id, resolved)
        elif kind == ATTACHMENT:
            raise ValueError("attachment options are not supported by the fake")
        else:
            raise ValueError(f"option {name!r} (type {kind}): {snowflake} is nothing of that type the fake knows")
        return str(snowflake)

    @staticmethod
    def _check_scalar(definition: dict[str, Any], value: Any) -> None:
        kind, name = definition["type"], definition["name"]
        ok = {STRING: isinstance(value, str), BOOLEAN: isinstance(value, bool),
              INTEGER: isinstance(value, int) and not isinstance(value, bool),
              NUMBER: isinstance(value, (int, float)) and not isinstance(value, bool)}[kind]
        if not ok:
            raise ValueError(f"option {name!r} has type {kind}; {value!r} does not fit")
        choices = definition.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"option {name!r} must be one of its choices {[c['value'] for c in choices]}")
        if kind == STRING and not definition.get("min_length", 0) <= len(value) <= definition.get("max_length", 6000):
            raise ValueError(f"option {name!r}: {len(value)} characters is outside its min/max length")
        low, high = definition.get("min_value", -math.inf), definition.get("max_value", math.inf)
        if kind in (INTEGER, NUMBER) and not low <= value <= high:
            raise ValueError(f"option {name!r}: {value} is outside its min/max value")

    def _resolve_user(self, channel: _Channel, user_id: int, resolved: dict[str, dict[str, Any]]) -> None:
        resolved.setdefault("users", {})[str(user_id)] = self._users[user_id].json()
        guild = self._guilds.get(channel.guild_id) if channel.guild_id else None
        if guild is not None and user_id in guild.members:
            member = self._member_json(guild, guild.members[user_id], with_user=False)
            member["permissions"] = str(self._permissions(channel, user_id))
            resolved.setdefault("members", {})[str(user_id)] = member

    def _resolve_channel(self, definition: dict[str, Any], channel_id: int, user_id: int,
                         resolved: dict[str, dict[str, Any]]) -> None:
        target = self._channels[channel_id]
        allowed = definition.get("channel_types")
        if allowed and target.type not in allowed:
            raise ValueError(f"option {definition['name']!r} takes channel types {allowed}, not {target.type}")
        resolved.setdefault("channels", {})[str(channel_id)] = {
            "id": str(target.id), "name": target.name, "type": target.type, "parent_id": None,
            "permissions": str(self._permissions(target, user_id)),
        }

    def _visible_message(self, channel_id: int, user_id: int, message_id: int) -> _StoredMessage:
        stored = self._messages.get(message_id)
        if stored is None or stored.deleted or stored.channel_id != channel_id:
            raise ValueError(f"the bot has no message {message_id} in channel {channel_id}")
        if stored.visible_to is not None and stored.visible_to != user_id:
            raise ValueError(f"message {message_id} is ephemeral: only user {stored.visible_to} sees it")
        return stored

    @classmethod
    def _walk_components(cls, components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for component in components:
            yield component
            yield from cls._walk_components(component.get("components") or [])
            for key in ("accessory", "component"):
                if isinstance(component.get(key), dict):
                    yield from cls._walk_components([component[key]])

    def _find_component(self, components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
        return next((c for c in self._walk_components(components) if c.get("custom_id") == custom_id), None)

    def _custom_ids(self, stored: _StoredMessage) -> list[str]:
        return [c["custom_id"] for c in self._walk_components(stored.payload.get("components", [])) if "custom_id" in c]

    def _submitted(self, component: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """A modal component as the submission carries it: text inputs with the user's values."""
        kind = component.get("type")
        if kind == 1:
            return {"type": 1, "components": [self._submitted(c, values) for c in component.get("components", [])]}
        if kind == 18:
            return {"type": 18, "component": self._submitted(component["component"], values)}
        custom_id = component.get("custom_id")
        if kind == 4:
            value = values.get(custom_id, "")
            if component.get("required", True) and not value:
                raise ValueError(f"text input {custom_id!r} is required")
            if not component.get("min_length", 0) <= len(value) <= component.get("max_length", 4000):
                raise ValueError(f"text input {custom_id!r}: {len(value)} characters is outside its min/max length")
            return {"type": 4, "custom_id": custom_id, "value": value}
        if custom_id is not None:  # selects inside labels
            return {"type": kind, "custom_id": custom_id, "values": list(values.get(custom_id, []))}
        return {"type": kind}

    def _interact(self, kind: int, channel: _Channel, user_id: int, data: dict[str, Any], *,
                  message: _StoredMessage | None = None, name: str | None = None, command_type: int | None = None,
                  focused_type: int | None = None) -> str:
        """Creates the interaction and dispatches INTERACTION_CREATE to the shard owning the guild."""
        if channel.guild_id is not None and user_id not in self._guilds[channel.guild_id].members:
            raise ValueError(f"user {user_id} is not a member of guild {channel.guild_id}")
        session = self._session_for(channel.guild_id)
        if session is None:
            raise AssertionError(self.dump("no gateway session would receive the interaction: is the bot connected?"))
        interaction = _Interaction(
            self._ids.next(), "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48), kind, channel.id, channel.guild_id,
            user_id, time.monotonic(), name=name, command_type=command_type,
            source_message_id=message.id if message else None, focused_type=focused_type)
        self._interactions[str(interaction.id)] = interaction
        self._by_token[interaction.token] = interaction
        session.dispatch("INTERACTION_CREATE", self._interaction_json(interaction, data, message))
        self._notify()
        return str(interaction.id)

    def _interaction_json(self, interaction: _Interaction, data: dict[str, Any],
                          message: _StoredMessage | None) -> dict[str, Any]:
        channel = self._channels[interaction.channel_id]
        user_permissions = self._permissions(channel, interaction.user_id)
        payload: dict[str, Any] = {
            "id": str(interaction.id), "application_id": str(self.application_id), "type": interaction.type,
            "data": data, "token": interaction.token, "version": 1, "channel_id": str(channel.id),
            "channel": self._channel_json(channel) | {"permissions": str(user_permissions)},
            "app_permissions": str(self._permissions(channel, self.bot_user_id)), "locale": "en-US",
            "entitlements": [], "entitlement_sku_ids": [], "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
            "authorizing_integration_owners": {"0": str(channel.guild_id or 0)},
            "context": 0 if channel.guild_id is not None else 1,
        }
        if channel.guild_id is not None:
            guild = self._guilds[channel.guild_id]
            member = self._member_json(guild, guild.members[interaction.user_id])
            payload |= {"guild_id": str(guild.id), "guild_locale": "en-US",
                        "guild": {"id": str(guild.id), "locale": "en-US", "features": []},
                        "member": member | {"permissions": str(user_permissions)}}
        else:
            payload["user"] = self._users[interaction.user_id].json()
        if message is not None:
            payload["message"] = copy.deepcopy(message.payload)
        return payload

    # ----- REST plumbing ---------------------------------------------------------------------------------
    def _route_table(self) -> list[tuple[str, re.Pattern[str], Callable[..., Any], bool]]:
        """(method, path pattern, handler, needs the bot token). Webhook and callback routes use the
        interaction token instead, as on Discord."""
        table = [
            ("GET", "/users/@me", self._get_me, True),
            ("POST", "/users/@me/channels", self._open_dm, True),
            ("GET", "/users/{user_id}", self._get_user, True),
            ("GET", "/oauth2/applications/@me", self._get_application, True),
            ("GET", "/applications/@me", self._get_application, True),
            ("GET", "/gateway", self._get_gateway, False),
            ("GET", "/gateway/bot", self._get_gateway_bot, True),
            ("GET", "/applications/{application_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{application_id}/commands", self._put_commands, True),
            ("GET", "/applications/{application_id}/guilds/{guild_id}/commands", self._get_commands, True),
            ("PUT", "/applications/{application_id}/guilds/{guild_id}/commands", self._put_commands, True),
            ("GET", "/channels/{channel_id}", self._get_channel, True),
            ("POST", "/channels/{channel_id}/messages", self._post_message, True),
            ("GET", "/channels/{channel_id}/messages/{message_id}", self._get_message, True),
            ("PATCH", "/channels/{channel_id}/messages/{message_id}", self._patch_message, True),
            ("DELETE", "/channels/{channel_id}/messages/{message_id}", self._delete_message, True),
            ("POST", "/channels/{channel_id}/typing", self._typing, True),
            ("GET", "/guilds/{guild_id}", self._get_guild, True),
            ("GET", "/guilds/{guild_id}/channels", self._get_guild_channels, True),
            ("GET", "/guilds/{guild_id}/roles", self._get_guild_roles, True),
            ("GET", "/guilds/{guild_id}/members/{user_id}", self._get_member, True),
            ("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, False),
            ("POST", "/webhooks/{application_id}/{token}", self._followup, False),
            ("GET", "/webhooks/{application_id}/{token}/messages/{message_id}", self._get_webhook_message, False),
            ("PATCH", "/webhooks/{application_id}/{token}/messages/{message_id}", self._patch_webhook_message, False),
            ("DELETE", "/webhooks/{application_id}/{token}/messages/{message_id}", self._delete_webhook_message, False),
        ]
        return [(method, re.compile(re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template) + "/?"), handler, auth)
                for method, template, handler, auth in table]

    def _match(self, method: str, path: str) -> tuple[Callable[..., Any], dict[str, str], bool]:
        allowed = False
        for route_method, pattern, handler, auth in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            if route_method == method:
                return handler, match.groupdict(), auth
            allowed = True
        raise ApiError(405, 0, "405: Method Not Allowed") if allowed else not_found()

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        """The JSON body, or a multipart body's payload_json and its files."""
        if request.content_type.startswith("multipart/"):
            body, files = None, []
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":
                    body = json.loads(await part.text())
                else:
                    content = await part.read()
                    files.append({"name": part.name, "filename": part.filename, "size": len(content),
                                  "content_type": part.headers.get("Content-Type")})
            return body, files
        text = await request.text() if request.can_read_body else ""
        return (json.loads(text) if text.strip() else None), []

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        body: Any = None
        files: list[dict[str, Any]] = []
        headers: dict[str, str] = {}
        try:
            if request.match_info["version"] not in API_VERSIONS:
                raise not_found()
            handler, params, needs_token = self._match(request.method, path)
            try:
                body, files = await self._read_body(request)
            except ValueError:
                raise ApiError(400, 50109, "The request body contains invalid JSON.") from None
            if needs_token and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            self._take_rate_limit(request.method, path)
            result = await handler(params=params, body=body, files=files, query=dict(request.query))
            status, answer = (204, None) if result is None else (200, result)
            headers = self._rate_limit_headers(request.method, path, remaining=4, reset_after=1.0)
        except _RateLimited as limited:
            status, answer = 429, {"message": "You are being rate limited.", "retry_after": limited.retry_after,
                                   "global": limited.is_global, "code": 0}
            headers = self._rate_limit_headers(request.method, path, remaining=0, reset_after=limited.retry_after)
            # discord.py takes a 429 without Via for a Cloudflare ban and gives up
            headers |= {"Via": "1.1 google", "Retry-After": str(math.ceil(limited.retry_after)),
                        "X-RateLimit-Scope": "global" if limited.is_global else "user"}
            if limited.is_global:
                headers["X-RateLimit-Global"] = "true"
        except ApiError as error:
            status, answer = error.status, error.body()
        except Exception as error:  # a bug in the fake: a visible 500 in `errors`, not a hung test
            log.exception("fake Discord failed on %s %s", request.method, path)
            status, answer = 500, {"message": f"500: Internal Server Error ({error!r})", "code": 0}
        self._record(Call(request.method, path, body, status, answer, time.monotonic(), dict(request.query), files))
        return json_response(status, answer, headers)

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        if not call.ok:
            log.info("fake Discord: %s answered %s %s", call.route, call.status, _short(call.response, 300))
        self._notify()

    def _take_rate_limit(self, method: str, path: str) -> None:
        for index, (substring, retry_after, is_global) in enumerate(self._rate_limits):
            if substring in f"{method} {path}":
                del self._rate_limits[index]
                raise _RateLimited(retry_after, is_global)

    @staticmethod
    def _rate_limit_headers(method: str, path: str, *, remaining: int, reset_after: float) -> dict[str, str]:
        # one bucket per route shape: ids replaced, so /channels/1/messages and /channels/2/messages share it
        shape = re.sub(r"/\d+", "/:id", f"{method} {path}")
        return {
            "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}", "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.sha1(shape.encode()).hexdigest()[:16],
        }

    @staticmethod
    def _snowflake(params: dict[str, str], key: str) -> int:
        value = _as_int(params[key])
        if value is None:
            errors = FormErrors()
            errors.add((key,), "NUMBER_TYPE_COERCE", f'Value "{params[key]}" is not snowflake.')
            errors.raise_if_any()
        return value  # type: ignore[return-value]

    # ----- REST: users, application, gateway ---------------------------------------------------------------
    async def _get_me(self, **_: Any) -> dict[str, Any]:
        return self._bot_json() | {"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US"}

    async def _get_user(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        user = self._users.get(self._snowflake(params, "user_id"))
        if user is None:
            raise unknown("User", 10013)
        return user.json()

    async def _open_dm(self, body: Any, **_: Any) -> dict[str, Any]:
        user_id = _as_int((body or {}).get("recipient_id")) if isinstance(body, dict) else None
        if user_id is None or user_id not in self._users or user_id == self.bot_user_id:
            raise ApiError(400, 50033, "Invalid Recipient(s)")
        if user_id not in self._dms:
            self.open_dm(user_id, self._ids.next())
        return self._channel_json(self._channels[self._dms[user_id]])

    async def _get_application(self, **_: Any) -> dict[str, Any]:
        owner = _User(self.app_owner_id, "app-owner").json()
        return {
            "id": str(self.application_id), "name": self.bot_name, "icon": None, "description": "",
            "summary": "", "type": None, "bot_public": True, "bot_require_code_grant": False,
            "verify_key": "0" * 64, "owner": owner, "team": None, "flags": self._application_flags(),
            "bot": self._bot_json(), "interactions_endpoint_url": None,  # else discord.py warns no events arrive
            "redirect_uris": [], "tags": [], "approximate_guild_count": len(self._guilds),
            "integration_types_config": {"0": {}},
        }

    async def _get_gateway(self, **_: Any) -> dict[str, Any]:
        return {"url": self.ws_url}

    async def _get_gateway_bot(self, **_: Any) -> dict[str, Any]:
        return {"url": self.ws_url, "shards": self.recommended_shards,
                "session_start_limit": {"total": 1000, "remaining": self._session_starts,
                                        "reset_after": 86_400_000, "max_concurrency": 1}}

    # ----- REST: application commands ----------------------------------------------------------------------
    def _command_scope(self, params: dict[str, str]) -> int | None:
        if self._snowflake(params, "application_id") != self.application_id:
            raise missing_access()
        if "guild_id" not in params:
            return None
        guild_id = self._snowflake(params, "guild_id")
        if guild_id not in self._guilds:
            raise missing_access()  # what Discord answers for a guild the app is not in
        return guild_id

    async def _get_commands(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        return copy.deepcopy(self.commands.get(self._command_scope(params), []))

    async def _put_commands(self, params: dict[str, str], body: Any, **_: Any) -> list[dict[str, Any]]:
        scope = self._command_scope(params)
        check_commands(body)
        self.commands[scope] = [self._registered(scope, command) for command in body]
        return copy.deepcopy(self.commands[scope])

    def _registered(self, scope: int | None, command: dict[str, Any]) -> dict[str, Any]:
        """A command as Discord stores it: ids kept across syncs, permissions as a string."""
        kind = command.get("type", CHAT_INPUT)
        key = (scope, kind, command["name"])
        command_id = self._command_ids.setdefault(key, self._ids.next())
        permissions = command.get("default_member_permissions")
        stored = {
            "id": str(command_id), "application_id": str(self.application_id), "version": str(self._ids.next()),
            "type": kind, "name": command["name"], "name_localizations": command.get("name_localizations"),
            "description": command.get("description", ""),
            "description_localizations": command.get("description_localizations"),
            "default_member_permissions": None if permissions is None else str(permissions),
            "nsfw": bool(command.get("nsfw", False)),
            "contexts": command.get("contexts"), "integration_types": command.get("integration_types") or [0],
        }
        if command.get("options"):
            stored["options"] = copy.deepcopy(command["options"])
        if scope is None:
            stored["dm_permission"] = command.get("dm_permission", True)
        else:
            stored["guild_id"] = str(scope)
        return stored

    # ----- REST: channels, guilds ---------------------------------------------------------------------------
    def _channel_for_bot(self, params: dict[str, str]) -> _Channel:
        """The channel, if the bot can see it (404 Unknown Channel, 403 Missing Access)."""
        channel = self._channels.get(self._snowflake(params, "channel_id"))
        if channel is None:
            raise unknown("Channel", 10003)
        if channel.guild_id is not None and not self._permissions(channel, self.bot_user_id) & VIEW_CHANNEL:
            raise missing_access()
        return channel

    def _guild_for_bot(self, params: dict[str, str]) -> _Guild:
        guild = self._guilds.get(self._snowflake(params, "guild_id"))
        if guild is None:
            raise unknown("Guild", 10004)
        return guild

    async def _get_channel(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        return self._channel_json(self._channel_for_bot(params))

    async def _get_guild(self, params: dict[str, str], query: dict[str, str], **_: Any) -> dict[str, Any]:
        guild = self._guild_for_bot(params)
        data = self._guild_json(guild)
        if query.get("with_counts", "").lower() in ("1", "true"):
            data |= {"approximate_member_count": len(guild.members), "approximate_presence_count": 0}
        return data

    async def _get_guild_channels(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        guild = self._guild_for_bot(params)
        return [self._channel_json(self._channels[c]) for c in guild.channel_ids]

    async def _get_guild_roles(self, params: dict[str, str], **_: Any) -> list[dict[str, Any]]:
        return [r.json() for r in self._guild_for_bot(params).roles.values()]

    async def _get_member(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        guild = self._guild_for_bot(params)
        member = guild.members.get(self._snowflake(params, "user_id"))
        if member is None:
            raise unknown("Member", 10007)
        return self._member_json(guild, member)

    async def _typing(self, params: dict[str, str], **_: Any) -> None:
        channel = self._channel_for_bot(params)
        if not self._permissions(channel, self.bot_user_id) & SEND_MESSAGES:
            raise missing_permissions()

    # ----- REST: channel messages ---------------------------------------------------------------------------
    def _check_can_post(self, channel: _Channel, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        if channel.type not in MESSAGEABLE_CHANNEL_TYPES:
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        if channel.guild_id is None:
            if not self._users[channel.recipient_id].accepts_dms:  # type: ignore[index]
                raise ApiError(403, 50007, "Cannot send messages to this user")
            return
        permissions = self._permissions(channel, self.bot_user_id)
        needed = SEND_MESSAGES
        if body.get("embeds"):
            needed |= EMBED_LINKS
        if files:
            needed |= ATTACH_FILES
        if body.get("message_reference"):
            needed |= READ_MESSAGE_HISTORY
        if permissions & needed != needed:
            raise missing_permissions()

    async def _post_message(self, params: dict[str, str], body: Any, files: list[dict[str, Any]],
                            **_: Any) -> dict[str, Any]:
        channel = self._channel_for_bot(params)
        body = body if isinstance(body, dict) else {}
        self._check_can_post(channel, body, files)
        errors = FormErrors()
        check_message(body, errors)
        reference = self._reference(channel, body.get("message_reference"), errors)
        errors.raise_if_any()
        flags = (body.get("flags") or 0) & (MESSAGE_FLAGS_ON_CREATE & ~EPHEMERAL)  # no ephemeral outside interactions
        stored = self._store(channel, body, files, flags=flags, kind=REPLY_MESSAGE if reference else DEFAULT_MESSAGE)
        if reference:
            stored.payload["message_reference"] = reference
        return copy.deepcopy(stored.payload)

    def _reference(self, channel: _Channel, reference: Any, errors: FormErrors) -> dict[str, Any] | None:
        if not isinstance(reference, dict):
            return None
        message_id = _as_int(reference.get("message_id"))
        known = self._messages.get(message_id or 0)
        if (known is None or known.channel_id != channel.id) and reference.get("fail_if_not_exists", True):
            errors.add(("message_reference",), "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")
            return None
        data = {"type": 0, "message_id": str(message_id), "channel_id": str(channel.id)}
        if channel.guild_id is not None:
            data["guild_id"] = str(channel.guild_id)
        return data

    def _channel_message(self, params: dict[str, str]) -> tuple[_Channel, _StoredMessage]:
        channel = self._channel_for_bot(params)
        stored = self._messages.get(self._snowflake(params, "message_id"))
        if stored is None or stored.deleted or stored.channel_id != channel.id or stored.flags & EPHEMERAL:
            raise unknown("Message", 10008)  # ephemeral messages are not reachable through the channel
        return channel, stored

    async def _get_message(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        channel, stored = self._channel_message(params)
        if channel.guild_id is not None and not self._permissions(channel, self.bot_user_id) & READ_MESSAGE_HISTORY:
            raise missing_permissions()
        return copy.deepcopy(stored.payload)

    async def _patch_message(self, params: dict[str, str], body: Any, files: list[dict[str, Any]],
                             **_: Any) -> dict[str, Any]:
        _, stored = self._channel_message(params)
        self._edit(stored, body, files, path=())
        return copy.deepcopy(stored.payload)

    async def _delete_message(self, params: dict[str, str], **_: Any) -> None:
        _, stored = self._channel_message(params)
        self._delete(stored)

    # ----- messages, inside ----------------------------------------------------------------------------------
    def _store(self, channel: _Channel, body: dict[str, Any], files: list[dict[str, Any]], *, flags: int, kind: int,
               interaction: _Interaction | None = None) -> _StoredMessage:
        """A new message from the bot in the channel (the body already checked)."""
        message_id = self._ids.next()
        payload: dict[str, Any] = {
            "id": str(message_id), "channel_id": str(channel.id), "type": kind, "author": self._bot_json(),
            "content": "", "embeds": [], "components": [], "attachments": [], "mentions": [], "mention_roles": [],
            "mention_everyone": False, "pinned": False, "tts": bool(body.get("tts", False)),
            "timestamp": _now_iso(), "edited_timestamp": None, "flags": flags,
        }
        if interaction is not None:
            payload |= {"webhook_id": str(self.application_id), "application_id": str(self.application_id),
                        "interaction_metadata": self._interaction_metadata(interaction)}
        stored = _StoredMessage(payload, body.get("allowed_mentions"),
                                interaction_id=str(interaction.id) if interaction else None,
                                visible_to=interaction.user_id if interaction and flags & EPHEMERAL else None)
        self._apply_body(stored, body, files)
        if not flags & LOADING and is_empty_message(payload):
            raise empty_message()
        self._messages[message_id] = stored
        self._message_event("MESSAGE_CREATE", stored)
        return stored

    def _apply_body(self, stored: _StoredMessage, body: dict[str, Any], files: list[dict[str, Any]]) -> None:
        payload = stored.payload
        if "content" in body:
            payload["content"] = body["content"] or ""
        if "embeds" in body:
            payload["embeds"] = [embed | {"type": embed.get("type", "rich")} for embed in body["embeds"] or []]
        if "components" in body:
            payload["components"] = copy.deepcopy(body["components"] or [])
        if "attachments" in body or files:
            payload["attachments"] = self._attachments(body.get("attachments"), files, payload["attachments"])
        if "allowed_mentions" in body:
            stored.allowed_mentions = body["allowed_mentions"]
        users, roles, everyone = pings(payload["content"], stored.allowed_mentions)
        payload["mentions"] = [self._users[u].json() for u in users if u in self._users]
        payload["mention_roles"] = [str(r) for r in roles]
        payload["mention_everyone"] = everyone

    def _attachments(self, listed: Any, files: list[dict[str, Any]],
                     current: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Kept attachments (by id) and the uploaded files (attachments listed by their upload index)."""
        for file in files:
            if file["size"] > ATTACHMENT_SIZE_LIMIT:
                raise ApiError(413, 40005, "Request entity too large")
        kept = {a["id"]: a for a in current}
        result = []
        entries = listed if isinstance(listed, list) else [{"id": i} for i in range(len(files))]
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            if str(entry.get("id")) in kept:
                result.append(kept[str(entry["id"])])
                continue
            index = _as_int(entry.get("id"))
            if index is not None and 0 <= index < len(files):
                attachment_id = self._ids.next()
                file = files[index]
                url = f"{self.url}/attachments/{attachment_id}/{file['filename']}"
                result.append({"id": str(attachment_id), "filename": file["filename"], "size": file["size"],
                               "url": url, "proxy_url": url, "content_type": file["content_type"]})
        return result

    def _edit(self, stored: _StoredMessage, body: Any, files: list[dict[str, Any]], *, path: tuple[Any, ...]) -> None:
        """Applies a PATCH (or an UPDATE_MESSAGE callback) to a message: checked, then no longer loading."""
        errors = FormErrors()
        if not isinstance(body, dict):
            _check_dict(body, errors, path)
            errors.raise_if_any()
        requested = body.get("flags")
        flags = stored.flags & ~LOADING & ~MESSAGE_FLAGS_ON_EDIT
        flags |= (requested if isinstance(requested, int) else stored.flags) & MESSAGE_FLAGS_ON_EDIT
        if stored.flags & IS_COMPONENTS_V2:
            flags |= IS_COMPONENTS_V2  # a v2 message cannot go back
        check_message(body, errors, path, flags=flags)
        errors.raise_if_any()
        candidate = copy.deepcopy(stored)
        candidate.payload["flags"] = flags
        self._apply_body(candidate, body, files)
        if is_empty_message(candidate.payload):
            raise empty_message()
        stored.payload, stored.allowed_mentions = candidate.payload, candidate.allowed_mentions
        stored.payload["edited_timestamp"] = _now_iso()
        self._message_event("MESSAGE_UPDATE", stored)

    def _delete(self, stored: _StoredMessage) -> None:
        stored.deleted = True
        data = {"id": str(stored.id), "channel_id": str(stored.channel_id)}
        guild_id = self._channels[stored.channel_id].guild_id
        if guild_id is not None:
            data["guild_id"] = str(guild_id)
        self._message_event("MESSAGE_DELETE", stored, data)

    def _message_event(self, event: str, stored: _StoredMessage, data: dict[str, Any] | None = None) -> None:
        """MESSAGE_CREATE/UPDATE/DELETE for the bot's own messages, as Discord sends them (not for ephemeral ones)."""
        if stored.flags & EPHEMERAL:
            return
        channel = self._channels[stored.channel_id]
        if data is None:
            data = copy.deepcopy(stored.payload)
            if channel.guild_id is not None:
                guild = self._guilds[channel.guild_id]
                data |= {"guild_id": str(guild.id),
                         "member": self._member_json(guild, guild.members[self.bot_user_id], with_user=False)}
        intent = GUILD_MESSAGES_INTENT if channel.guild_id is not None else DIRECT_MESSAGES_INTENT
        self._dispatch_to_guild(channel.guild_id, event, data, intent)

    def _interaction_metadata(self, interaction: _Interaction) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(interaction.id), "type": interaction.type, "user": self._users[interaction.user_id].json(),
            "authorizing_integration_owners": {"0": str(interaction.guild_id or 0)},
        }
        if interaction.name:
            data |= {"name": interaction.name, "command_type": interaction.command_type}
        if interaction.original_message_id is not None:
            data["original_response_message_id"] = str(interaction.original_message_id)
        if interaction.source_message_id is not None:
            data["interacted_message_id"] = str(interaction.source_message_id)
        return data

    # ----- REST: interaction callback --------------------------------------------------------------------------
    async def _callback(self, params: dict[str, str], body: Any, files: list[dict[str, Any]],
                        query: dict[str, str], **_: Any) -> dict[str, Any] | None:
        interaction = self._interactions.get(params["interaction_id"])
        if interaction is None or interaction.token != params["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        if interaction.callback_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.monotonic() - interaction.dispatched_at > self.callback_deadline:
            raise ApiError(404, 10062, "Unknown interaction")  # Discord forgets unanswered interactions after 3 s
        errors = FormErrors()
        if not _check_dict(body, errors, ()):
            errors.raise_if_any()
        kind = body.get("type")
        allowed = CALLBACKS_FOR[interaction.type]
        no_message = interaction.source_message_id is None
        if kind not in allowed or (kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and no_message):
            errors.add(("type",), "INTERACTION_RESPONSE_TYPE_INVALID",
                       f"Interaction type {interaction.type} accepts callback types {allowed}, not {kind!r}")
            errors.raise_if_any()
        data = body.get("data")
        message = self._answer(interaction, kind, data if isinstance(data, dict) else {}, files)
        interaction.callback_type = kind
        interaction.responses.append({"kind": "callback", "type": kind, "data": copy.deepcopy(data)})
        self._notify()
        if query.get("with_response", "").lower() not in ("1", "true"):
            return None
        return self._callback_json(interaction, kind, message)

    def _answer(self, interaction: _Interaction, kind: int, data: dict[str, Any],
                files: list[dict[str, Any]]) -> _StoredMessage | None:
        """Does what the callback asks; returns the message it created or updated."""
        channel = self._channels[interaction.channel_id]
        shown_as = CHAT_INPUT_COMMAND_MESSAGE if interaction.type == APPLICATION_COMMAND else DEFAULT_MESSAGE
        if kind == CHANNEL_MESSAGE:
            errors = FormErrors()
            check_message(data, errors, ("data",))
            errors.raise_if_any()
            flags = (data.get("flags") or 0) & MESSAGE_FLAGS_ON_CREATE
            stored = self._store(channel, data, files, flags=flags, kind=shown_as, interaction=interaction)
            return self._original(interaction, stored)
        if kind == DEFERRED_CHANNEL_MESSAGE:  # a "thinking..." message, ephemeral if asked
            flags = LOADING | ((data.get("flags") or 0) & EPHEMERAL)
            stored = self._store(channel, {}, [], flags=flags, kind=shown_as, interaction=interaction)
            interaction.loading = True
            return self._original(interaction, stored)
        if kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE):
            source = self._messages[interaction.source_message_id]  # type: ignore[index]
            if kind == UPDATE_MESSAGE:
                self._edit(source, data, files, path=("data",))
            interaction.original_message_id = source.id
            return source
        if kind == AUTOCOMPLETE_RESULT:
            self._check_choices_answer(interaction, data)
        elif kind == MODAL:
            self._check_modal(data)
            interaction.modal = copy.deepcopy(data)
        return None

    @staticmethod
    def _original(interaction: _Interaction, stored: _StoredMessage) -> _StoredMessage:
        interaction.original_message_id = stored.id
        interaction.message_ids.append(stored.id)
        return stored

    @staticmethod
    def _check_choices_answer(interaction: _Interaction, data: dict[str, Any]) -> None:
        errors = FormErrors()
        choices = _check_list(data.get("choices", []), errors, ("data", "choices"), MAX_CHOICES)
        for i, choice in enumerate(choices):
            if _check_dict(choice, errors, ("data", "choices", i)):
                _check_choice(choice, interaction.focused_type or STRING, errors, ("data", "choices", i))
        errors.raise_if_any()

    @staticmethod
    def _check_modal(data: dict[str, Any]) -> None:
        errors = FormErrors()
        path = ("data",)
        custom_id = data.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
            errors.add(path + ("custom_id",), "BASE_TYPE_BAD_LENGTH",
                       f"Must be between 1 and {MAX_CUSTOM_ID} in length.")
        title = data.get("title")
        if not isinstance(title, str) or not 1 <= len(title) <= 45:
            errors.add(path + ("title",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
        components = _check_list(data.get("components"), errors, path + ("components",), 5, minimum=1)
        for i, component in enumerate(components):
            if _check_dict(component, errors, path + ("components", i)) and component.get("type") not in (1, 10, 18):
                errors.add(path + ("components", i, "type"), "UNION_TYPE_CHOICES",
                           'Value of field "type" must be one of (1, 10, 18).')
        errors.raise_if_any()

    def _callback_json(self, interaction: _Interaction, kind: int, message: _StoredMessage | None) -> dict[str, Any]:
        """The with_response=1 answer discord.py parses into an InteractionCallbackResponse."""
        data: dict[str, Any] = {"interaction": {
            "id": str(interaction.id), "type": interaction.type, "activity_instance_id": None,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE,
            "response_message_ephemeral": bool(message and message.flags & EPHEMERAL),
        }, "resource": {"type": kind}}
        if message is not None and kind != DEFERRED_UPDATE_MESSAGE:
            data["resource"]["message"] = copy.deepcopy(message.payload)
        return data

    # ----- REST: followups and @original ---------------------------------------------------------------------------
    def _live_interaction(self, params: dict[str, str]) -> _Interaction:
        """The interaction behind a webhook token: answered, and not older than 15 minutes."""
        interaction = self._by_token.get(params["token"])
        if _as_int(params["application_id"]) != self.application_id:
            raise unknown("Webhook", 10015)
        if interaction is None or time.monotonic() - interaction.dispatched_at > self.token_lifetime:
            raise invalid_webhook_token()
        if interaction.callback_type in (None, AUTOCOMPLETE_RESULT, MODAL):
            raise unknown("Webhook", 10015)  # nothing to edit or follow up before the acknowledgement
        return interaction

    def _interaction_message(self, interaction: _Interaction, params: dict[str, str]) -> _StoredMessage:
        raw = params["message_id"]
        message_id = interaction.original_message_id if raw == "@original" else _as_int(raw)
        stored = self._messages.get(message_id or 0)
        owned = message_id in interaction.message_ids or message_id == interaction.original_message_id
        if stored is None or stored.deleted or not owned:
            raise unknown("Message", 10008)
        return stored

    async def _followup(self, params: dict[str, str], body: Any, files: list[dict[str, Any]],
                        query: dict[str, str], **_: Any) -> dict[str, Any] | None:
        interaction = self._live_interaction(params)
        errors = FormErrors()
        check_message(body, errors)
        errors.raise_if_any()
        if interaction.loading:
            # After a deferral the first followup replaces the "thinking" message (and keeps its visibility).
            stored = self._messages[interaction.original_message_id]  # type: ignore[index]
            self._edit(stored, {k: v for k, v in body.items() if k != "flags"}, files, path=())
            interaction.loading = False
        else:
            flags = (body.get("flags") or 0) & MESSAGE_FLAGS_ON_CREATE
            stored = self._store(self._channels[interaction.channel_id], body, files, flags=flags,
                                 kind=DEFAULT_MESSAGE, interaction=interaction)
            interaction.message_ids.append(stored.id)
        interaction.responses.append({"kind": "followup", "message_id": str(stored.id), "data": copy.deepcopy(body)})
        if query.get("wait", "").lower() not in ("1", "true"):
            return None
        return copy.deepcopy(stored.payload)

    async def _get_webhook_message(self, params: dict[str, str], **_: Any) -> dict[str, Any]:
        return copy.deepcopy(self._interaction_message(self._live_interaction(params), params).payload)

    async def _patch_webhook_message(self, params: dict[str, str], body: Any, files: list[dict[str, Any]],
                                     **_: Any) -> dict[str, Any]:
        interaction = self._live_interaction(params)
        stored = self._interaction_message(interaction, params)
        self._edit(stored, body, files, path=())
        if stored.id == interaction.original_message_id:
            interaction.loading = False
        interaction.responses.append({"kind": "edit", "message_id": str(stored.id), "data": copy.deepcopy(body)})
        return copy.deepcopy(stored.payload)

    async def _delete_webhook_message(self, params: dict[str, str], **_: Any) -> None:
        interaction = self._live_interaction(params)
        stored = self._interaction_message(interaction, params)
        self._delete(stored)
        interaction.responses.append({"kind": "delete", "message_id": str(stored.id), "data": None})


__all__ = [
    "ApiError", "Call", "FakeDiscord", "FormErrors", "GatewayFrame", "check_commands", "check_embeds", "check_message",
    "pings",
]
