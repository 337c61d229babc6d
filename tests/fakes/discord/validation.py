"""The checks Discord applies to what a bot sends: message content, embeds (field
limits, the 6000-character total), components (legacy action rows and the v2 layout),
allowed_mentions and who a message pings, a thread's fields and a forum post's tags,
and application command definitions (names, descriptions, options, choices, counts
and sizes). Each adds Discord's error
codes to a FormErrors under the offending field's path. Pure functions of the body,
kept apart from the routes that call them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import urlsplit

from .constants import (
    _CHAT_INPUT_NAME,
    AUTO_ARCHIVE_DURATIONS,
    CHANNEL,
    CHAT_INPUT,
    INTEGER,
    IS_COMPONENTS_V2,
    MAX_ACTION_ROWS,
    MAX_APPLIED_TAGS,
    MAX_AUTHOR_NAME,
    MAX_BUTTON_LABEL,
    MAX_CHOICE_NAME,
    MAX_CHOICE_VALUE,
    MAX_CHOICES,
    MAX_COMMAND_SIZE,
    MAX_COMMANDS,
    MAX_CONTENT,
    MAX_CUSTOM_ID,
    MAX_EMBED_DESCRIPTION,
    MAX_EMBED_FIELDS,
    MAX_EMBED_TITLE,
    MAX_EMBED_TOTAL,
    MAX_EMBEDS,
    MAX_FIELD_NAME,
    MAX_FIELD_VALUE,
    MAX_FOOTER_TEXT,
    MAX_OPTIONS,
    MAX_ROW_WIDTH,
    MAX_SAFE_INTEGER,
    MAX_SELECT_OPTIONS,
    MAX_SLOWMODE,
    MAX_THREAD_NAME,
    MAX_V2_COMPONENTS,
    MAX_V2_TEXT,
    NUMBER,
    STRING,
    SUB_COMMAND,
    SUB_COMMAND_GROUP,
)
from .errors import ApiError, FormErrors
from .helpers import _as_int, _short

# ----- message validation ------------------------------------------------------------------------------


def _check_text(
    obj: dict[str, Any], key: str, limit: int, errors: FormErrors, path: tuple[Any, ...], *, required: bool = False
) -> int:
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


def _check_url(
    obj: dict[str, Any],
    key: str,
    errors: FormErrors,
    path: tuple[Any, ...],
    *,
    required: bool = False,
    schemes: tuple[str, ...] = ("http", "https"),
) -> None:
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
    total = sum(
        _check_embed(embed, errors, path + (i,))
        for i, embed in enumerate(_check_list(embeds, errors, path, MAX_EMBEDS))
    )
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
            self.errors.add(
                path,
                "COMPONENT_MAX_TOTAL_COMPONENTS_EXCEEDED",
                f"The total number of components must be {MAX_V2_COMPONENTS} or fewer",
            )
        if self.text > MAX_V2_TEXT:
            self.errors.add(
                path,
                "COMPONENT_MAX_TOTAL_TEXT_EXCEEDED",
                f"The total length of text in components must be {MAX_V2_TEXT} or fewer",
            )

    def _component(self, component: Any, path: tuple[Any, ...], allowed: tuple[int, ...]) -> None:
        if not _check_dict(component, self.errors, path):
            return
        self.count += 1
        kind = component.get("type")
        if kind not in allowed:
            self.errors.add(path + ("type",), "UNION_TYPE_CHOICES", f'Value of field "type" must be one of {allowed}.')
            return
        handlers = {
            1: self._row,
            2: self._button,
            9: self._section,
            10: self._text_display,
            11: self._media,
            12: self._gallery,
            13: self._file,
            14: lambda c, p: None,
            17: self._container,
        }
        handlers.get(kind, self._select)(component, path)

    def _row(self, row: dict[str, Any], path: tuple[Any, ...]) -> None:
        children = _check_list(row.get("components"), self.errors, path + ("components",), MAX_ROW_WIDTH, minimum=1)
        if any(isinstance(c, dict) and c.get("type") in self.SELECTS for c in children) and len(children) > 1:
            self.errors.add(
                path + ("components",),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for j, child in enumerate(children):
            self._component(child, path + ("components", j), (2, *self.SELECTS))

    def _custom_id(self, component: dict[str, Any], path: tuple[Any, ...]) -> None:
        custom_id = component.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
            self.errors.add(
                path + ("custom_id",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_CUSTOM_ID} in length."
            )
        elif custom_id in self.custom_ids:
            self.errors.add(
                path + ("custom_id",), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
            )
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
                self.errors.add(
                    path + ("custom_id",),
                    "BUTTON_COMPONENT_CUSTOM_ID_DISALLOWED",
                    "A link button cannot have a custom id",
                )
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
                    self.errors.add(
                        path + ("options", k, "value"),
                        "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED",
                        "Select option values must be unique",
                    )
                values.add(option.get("value"))
        if isinstance(high, int) and options and high > len(options):
            self.errors.add(
                path + ("max_values",),
                "SELECT_COMPONENT_MAX_VALUES_TOO_HIGH",
                "max_values cannot exceed the number of options",
            )

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
            _check_url(
                media, "url", self.errors, path + ("media",), required=True, schemes=("http", "https", "attachment")
            )

    def _gallery(self, gallery: dict[str, Any], path: tuple[Any, ...]) -> None:
        for j, item in enumerate(_check_list(gallery.get("items"), self.errors, path + ("items",), 10, minimum=1)):
            if _check_dict(item, self.errors, path + ("items", j)):
                self._media(item, path + ("items", j))

    def _file(self, file: dict[str, Any], path: tuple[Any, ...]) -> None:
        media = file.get("file")
        if _check_dict(media, self.errors, path + ("file",)):
            _check_url(media, "url", self.errors, path + ("file",), required=True, schemes=("attachment",))

    def _container(self, container: dict[str, Any], path: tuple[Any, ...]) -> None:
        for j, child in enumerate(
            _check_list(container.get("components"), self.errors, path + ("components",), MAX_V2_COMPONENTS, minimum=1)
        ):
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
            errors.add(
                path,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{kind}"] and {kind}: [ids] are mutually exclusive.',
            )


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
                errors.add(
                    path + (key,),
                    "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                    f"The '{key}' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
                )


def is_empty_message(message: dict[str, Any]) -> bool:
    """Discord refuses a message with nothing to show (whitespace-only content counts as nothing)."""
    return not (
        (message.get("content") or "").strip()
        or message.get("embeds")
        or message.get("components")
        or message.get("attachments")
        or message.get("sticker_items")
        or message.get("poll")
    )


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


# ----- thread validation ---------------------------------------------------------------------------------


def check_thread_fields(body: dict[str, Any], errors: FormErrors, *, creating: bool) -> None:
    """A thread's name, auto_archive_duration and rate_limit_per_user, when creating (the name required)
    or editing one."""
    name = body.get("name")
    if name is None:
        if creating:
            errors.add(("name",), "BASE_TYPE_REQUIRED", "This field is required")
    elif not isinstance(name, str):
        errors.add(("name",), "BASE_TYPE_STRING", f"Could not interpret {_short(name)} as string.")
    elif not 1 <= len(name) <= MAX_THREAD_NAME:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", f"Must be between 1 and {MAX_THREAD_NAME} in length.")
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in AUTO_ARCHIVE_DURATIONS:
        errors.add(
            ("auto_archive_duration",),
            "BASE_TYPE_CHOICES",
            f"Value must be one of {AUTO_ARCHIVE_DURATIONS}.",
        )
    slowmode = body.get("rate_limit_per_user")
    if slowmode is not None and (
        not isinstance(slowmode, int) or isinstance(slowmode, bool) or not 0 <= slowmode <= MAX_SLOWMODE
    ):
        errors.add(("rate_limit_per_user",), "NUMBER_TYPE_MAX", f"int value should be between 0 and {MAX_SLOWMODE}.")


def check_applied_tags(value: Any, available: dict[int, str], errors: FormErrors) -> list[int]:
    """A forum post's applied_tags: at most five, each one of the forum's tags; returns the tag ids."""
    if value is None:
        return []
    tags: list[int] = []
    for i, raw in enumerate(_check_list(value, errors, ("applied_tags",), MAX_APPLIED_TAGS)):
        tag_id = _as_int(raw)
        if tag_id is None:
            errors.add(("applied_tags", i), "NUMBER_TYPE_COERCE", f'Value "{raw}" is not snowflake.')
        elif tag_id not in available:
            # Discord's code for a tag the forum lacks is not documented: this one is the fake's
            errors.add(("applied_tags", i), "FORUM_TAG_UNKNOWN", f"Unknown tag {tag_id} for this channel")
        elif tag_id not in tags:
            tags.append(tag_id)
    return tags


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
        errors.add(
            path + ("choices",),
            "APPLICATION_COMMAND_OPTION_CHOICES_NOT_ALLOWED",
            "Only string, integer and number options can have choices",
        )
        return
    if option.get("autocomplete"):
        errors.add(
            path + ("autocomplete",),
            "APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES",
            "Autocomplete cannot be set on an option with choices",
        )
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
        if (kind == SUB_COMMAND_GROUP and depth > 0) or (kind == SUB_COMMAND and depth > 1):
            errors.add(
                path + ("type",), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID", "Subcommands cannot be nested this deep"
            )
        _check_options(
            option.get("options", []),
            errors,
            path + ("options",),
            depth + 1,
            only=(SUB_COMMAND,) if kind == SUB_COMMAND_GROUP else None,
        )
        return
    _check_choices(option, errors, path)
    if option.get("autocomplete") and kind not in (STRING, INTEGER, NUMBER):
        errors.add(
            path + ("autocomplete",),
            "APPLICATION_COMMAND_AUTOCOMPLETE_INVALID",
            "Only string, integer and number options can autocomplete",
        )
    if option.get("channel_types") is not None and kind != CHANNEL:
        errors.add(
            path + ("channel_types",),
            "APPLICATION_COMMAND_OPTION_CHANNEL_TYPES_INVALID",
            "Only channel options can have channel types",
        )
    for key in ("min_value", "max_value"):
        if option.get(key) is not None and kind not in (INTEGER, NUMBER):
            errors.add(
                path + (key,), "APPLICATION_COMMAND_OPTION_INVALID", f"Only integer and number options can have {key}"
            )
    for key, low in (("min_length", 0), ("max_length", 1)):
        value = option.get(key)
        if value is not None and (kind != STRING or not isinstance(value, int) or not low <= value <= 6000):
            errors.add(
                path + (key,),
                "APPLICATION_COMMAND_OPTION_INVALID",
                f"{key} must be between {low} and 6000, on string options",
            )


def _check_options(
    options: Any, errors: FormErrors, path: tuple[Any, ...], depth: int, *, only: tuple[int, ...] | None = None
) -> None:
    options = _check_list(options, errors, path, MAX_OPTIONS)
    kinds = [o.get("type") for o in options if isinstance(o, dict)]
    nesting = [k in (SUB_COMMAND, SUB_COMMAND_GROUP) for k in kinds]
    if (any(nesting) and not all(nesting)) or (only and any(k not in only for k in kinds)):
        errors.add(
            path,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Subcommands and groups cannot be mixed with other options",
        )
    seen: set[str] = set()
    optional_seen = False
    for i, option in enumerate(options):
        _check_option(option, errors, path + (i,), depth)
        if not isinstance(option, dict):
            continue
        if option.get("name") in seen:
            errors.add(
                path + (i, "name"), "APPLICATION_COMMAND_OPTION_NAME_ALREADY_EXISTS", "Option names must be unique"
            )
        seen.add(option.get("name"))
        if option.get("required") and optional_seen:
            errors.add(
                path + (i, "required"),
                "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                "Required options must be placed before non-required options",
            )
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
    counts = dict.fromkeys(MAX_COMMANDS, 0)
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
            errors.add(
                (i, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_DESCRIPTION",
                "Context menu commands cannot have a description or options",
            )
        permissions = command.get("default_member_permissions")
        if permissions is not None and _as_int(permissions) is None:
            errors.add(
                (i, "default_member_permissions"), "NUMBER_TYPE_COERCE", f'Value "{permissions}" is not snowflake.'
            )
    for kind, count in counts.items():
        if count > MAX_COMMANDS[kind]:
            raise ApiError(400, 30032, f"Maximum number of application commands reached ({MAX_COMMANDS[kind]})")
    errors.raise_if_any()
