"""Telegram's text rules: lengths in UTF-16 code units, the HTML subset a bot may
send (HtmlParser, after tdlib's parser, with its error wordings and byte offsets),
how a text_link's URL is stored, and parse_text, which turns a message text and its
parse_mode into what users see plus its entities. It is the strictest part of the
fake, so it lives on its own and can be tested directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .constants import MAX_TEXT
from .errors import ApiError, bad_request


def utf16_len(text: str) -> int:
    """Telegram measures texts and entity offsets in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


_SPACE = " \t\r\n\v\f"
_PLAIN = re.compile(r"[^<&]+")
_CHAR_REF = re.compile(r"&(?:(lt|gt|amp|quot)|#([0-9]{1,7})|#x([0-9a-fA-F]{1,6}));")
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NAME_TOKEN = re.compile(r"[A-Za-z0-9.-]*")
_STYLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
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
        tag = self.src[start + 1 : name_end].lower()
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
            name = self.src[name_start : self.pos].lower()
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
        name = self.src[start + 2 : name_end].lower()
        close = self._skip_space(name_end)
        if close >= len(self.src) or self.src[close] != ">":
            raise self._fail("Unclosed end tag", start)
        opened = self.open.pop()
        if name and name != opened.tag:
            raise self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset(start)}, "
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
