"""An RSS or Atom body read into story drafts, one an item.

Feeds are written by strangers, so nothing in an item is trusted: its HTML is
cleaned with nh3 before anything reads it, its text is cut to what a story may
hold, and each draft goes through `story_from_mapping`, the same gate every
story file passes. An item that cannot become a story is left out with one
line saying why; the rest of the feed is still read.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import cast

import feedparser  # type: ignore[import-untyped]
import nh3

from content.errors import StoryFileError
from content.keys import key_of, slugify
from content.stories.drafts import SUMMARY_MAX_WORDS, StoryDraft, _Story, story_from_mapping


def _max_length(name: str) -> int:
    # The limits are read from the story schema itself, so a feed's drafts are
    # cut to exactly what a story file may hold, even when that changes.
    for rule in _Story.model_fields[name].metadata:
        limit = getattr(rule, "max_length", None)
        if isinstance(limit, int):
            return limit
    raise LookupError(f"the story schema gives {name} no length limit")


TITLE_MAX = _max_length("title")
SUMMARY_MAX_CHARS = _max_length("summary")
BODY_MAX = _max_length("body")
TAGS_MAX = _max_length("tags")
CATEGORY_MAX = _max_length("category")
KEY_MAX = 500
TAG_MAX_CHARS = 40
DEFAULT_CATEGORY = "News"
# A poller waits at least this long between fetches when a feed asks to; a
# feed's own <ttl> must not be able to silence it for longer than a day.
TTL_MAX_SECONDS = 86_400
# How far ahead of the fetch an item's date may be before it is taken for a
# mistake: time zones and clock skew account for hours, not days.
FUTURE_SLACK = timedelta(days=1)

# Raw field sizes read at most; well beyond anything that survives the cut,
# so the cut (and its note) still happens, but a hostile item costs bounded work.
_TITLE_SOURCE_MAX = 20_000
_SUMMARY_SOURCE_MAX = 200_000
_BODY_SOURCE_MAX = 8 * BODY_MAX

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
_DOCTYPE_SUBSET = re.compile(rb"<!DOCTYPE[^>\[]*\[", re.IGNORECASE)
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s|$)")
_BLOCK_START = re.compile(r"<(?=/?(?:p|div|br|li|h[1-6]|tr|td|th|dd|dt|blockquote|section|article|figcaption)\b)", re.I)
_CHARACTER_REFERENCE = re.compile(rb"&#([xX][0-9a-fA-F]{1,8}|[0-9]{1,10});")
_TTL = re.compile(r"\s*(\d{1,9})\s*")


class FeedError(ValueError):
    """The body is no feed at all (not XML, or no RSS/Atom channel): `str()` is a short problem for an editor."""


@dataclass(frozen=True, slots=True)
class FeedEntry:
    key: str
    draft: StoryDraft


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str | None
    ttl_seconds: int | None
    entries: tuple[FeedEntry, ...]
    problems: tuple[str, ...]


# ----- feedparser, typed -----------------------------------------------------
# feedparser has no type information; everything it returns is looked at
# through these helpers, which check the type of each value they hand on.


def _feedparser(body: bytes) -> Mapping[str, object]:
    # A stream, never the bytes: given bytes or a str, feedparser first tries
    # them as a file name (and a str as a URL), which would let a body such as
    # b"/etc/passwd" read a local file.
    # Its own sanitizer is off: nh3 cleans every field, and feedparser's keeps
    # the text of the elements it removes (an iframe's fallback, for one).
    body = _CHARACTER_REFERENCE.sub(_storable_reference, body)
    try:
        result = feedparser.parse(io.BytesIO(body), resolve_relative_uris=False, sanitize_html=False)
    except Exception as exc:
        # Broken markup reaches corners of feedparser that fail with whatever
        # they hit (KeyError, UnicodeEncodeError, ...); to the poller that is
        # one more unreadable body, not a crash.
        raise FeedError(f"the feed could not be read ({type(exc).__name__})") from None
    return _mapping(result)


def _storable_reference(match: re.Match[bytes]) -> bytes:
    # A reference to a NUL, a surrogate or no character at all stands for
    # nothing storable, and feedparser fails on some of them (&#xD800;).
    digits = match.group(1)
    point = int(digits[1:], 16) if digits[:1] in (b"x", b"X") else int(digits)
    return b"" if point == 0 or 0xD800 <= point <= 0xDFFF or point > 0x10FFFF else match.group(0)


def _mapping(value: object) -> Mapping[str, object]:
    # A plain copy: FeedParserDict answers for keys it lacks with others'
    # values (and a DeprecationWarning), which would blur published/updated.
    return dict(cast(Mapping[str, object], value)) if isinstance(value, Mapping) else {}


def _mappings(value: object) -> list[Mapping[str, object]]:
    if not isinstance(value, list):
        return []
    return [_mapping(item) for item in value if isinstance(item, Mapping)]


def _str(value: object) -> str | None:
    return _scrub(value) if isinstance(value, str) else None


def _struct(value: object) -> time.struct_time | None:
    return value if isinstance(value, time.struct_time) else None


# ----- text --------------------------------------------------------------------


def _scrub(text: str) -> str:
    # NULs and lone surrogates cannot be stored (nor handed to nh3); the other
    # control characters XML forbids carry nothing a reader could see.
    return _UNSTORABLE.sub("", text)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _plain(value: str, kind: str) -> str:
    """Text as a reader sees it: markup gone, entities decoded, one line."""
    if "html" in kind:
        # Blocks are words apart even where the markup had no space between them.
        value = _BLOCK_START.sub(" <", value)
        value = html.unescape(nh3.clean(value, tags=set(), clean_content_tags=_DROPPED_WITH_CONTENT))
    return _one_line(_scrub(value))


def _cut_at_word(text: str, limit: int) -> str:
    """`text` within `limit` characters; if it is longer, cut at a word, with "…"."""
    return text if len(text) <= limit else _shorten(text, limit)


def _shorten(text: str, limit: int) -> str:
    head = text[: limit - 1]
    if " " in head.strip() and not text[limit - 1 : limit].isspace():
        head = head.rsplit(" ", 1)[0]
    return head.rstrip(" ,;:-–—") + "…"


def _cut_summary(text: str) -> str:
    """The summary within the story's word and character limits, ending at a
    sentence end when one fits; else at a word, with "…"."""
    words = text.split()
    if len(words) <= SUMMARY_MAX_WORDS and len(text) <= SUMMARY_MAX_CHARS:
        return text
    fits = " ".join(words[:SUMMARY_MAX_WORDS])[:SUMMARY_MAX_CHARS]
    # `text` is one line already, so `fits` is its beginning; an end found at
    # the very end of `fits` is one only if the text goes on with a space
    # ("3.5" cut after "3." is no sentence).
    for found in reversed(list(_SENTENCE_END.finditer(fits))):
        end = found.end()
        if end < len(fits) or end == len(text) or text[end].isspace():
            return fits[:end]
    cut = " ".join(words[:SUMMARY_MAX_WORDS])
    # The "…" joins the last word, so the word count stays within the limit.
    return cut.rstrip(" ,;:-–—") + "…" if len(cut) < SUMMARY_MAX_CHARS else _shorten(cut, SUMMARY_MAX_CHARS)


# ----- HTML to Markdown ----------------------------------------------------------

# Read for what they are (the converter below knows each); any other tag is
# removed by nh3 and its text kept.
_HEADINGS = {"h1": "##", "h2": "##", "h3": "###", "h4": "###", "h5": "###", "h6": "###"}
_INLINE = {"strong": "**", "b": "**", "em": "*", "i": "*"}
_BLOCKS = {
    "p",
    "div",
    "section",
    "article",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "header",
    "footer",
    "table",
    "tr",
    "td",
    "th",
    "dl",
    "dt",
    "dd",
    "hr",
    "br",
}
_KEPT = {"a", "ul", "ol", "li", *_HEADINGS, *_INLINE, *_BLOCKS}
# Whose text is no part of the story: code, styling, embedded players, fallbacks.
_DROPPED_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "noscript",
    "template",
    "object",
    "embed",
    "svg",
    "math",
    "select",
    "textarea",
    "button",
}
# Escaped wherever they appear in text, so no text turns into emphasis, a link,
# code or an autolink; the rest of Markdown's syntax only acts at a line's start.
_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<#])")
_ENTITY_LIKE = re.compile(r"&(?=#?\w+;)")
_LINE_START = re.compile(r"^([>+=~\-])")
_LINE_START_NUMBER = re.compile(r"^(\d+)([.)])")
_URL_UNSAFE = {" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E", "\\": "%5C", '"': "%22"}


def _escape(text: str) -> str:
    return _ENTITY_LIKE.sub(r"\\&", _INLINE_SPECIAL.sub(r"\\\1", text))


def _escape_line_start(text: str) -> str:
    """A block's text, kept from reading as a list, quote, rule or fence."""
    return _LINE_START_NUMBER.sub(r"\1\\\2", _LINE_START.sub(r"\\\1", text))


def _safe_url(href: str | None) -> str | None:
    if not href:
        return None
    href = href.strip()
    if not href.lower().startswith(("http://", "https://")) or len(href) > 2000:
        return None
    return "".join(_URL_UNSAFE.get(ch, ch) for ch in href)


@dataclass
class _Frame:
    """Inline text inside one open element (bold, italic, a link)."""

    tag: str
    href: str | None = None
    pieces: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Block:
    text: str
    in_list: bool = False


class _MarkdownWriter(HTMLParser):
    """Cleaned HTML (only the tags in _KEPT) to Markdown blocks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[_Block] = []
        self._frames: list[_Frame] = [_Frame("")]
        self._prefix = ""
        self._lists: list[list[int | str]] = []  # per open list: marker kind, items so far
        self._indent = ""

    # Inline ------------------------------------------------------------------
    def handle_data(self, data: str) -> None:
        text = re.sub(r"\s+", " ", data)
        if text:
            self._frames[-1].pieces.append(_escape(text))

    def _open(self, frame: _Frame) -> None:
        self._frames.append(frame)

    def _close(self, tag: str) -> None:
        if len(self._frames) < 2 or self._frames[-1].tag != tag:
            return  # no such element open here (nh3's output nests; a block may have closed it)
        frame = self._frames.pop()
        inner = "".join(frame.pieces)
        core = inner.strip()
        lead = " " if inner[:1] == " " else ""
        trail = " " if inner[-1:] == " " else ""
        parent = self._frames[-1].pieces
        if not core:
            if inner:
                parent.append(" ")
            return
        if frame.tag == "a":
            if frame.href is None:
                parent.append(inner)
                return
            if parent and parent[-1].endswith("!") and not parent[-1].endswith("\\!"):
                parent[-1] = parent[-1][:-1] + "\\!"  # "!" before "[" would make the link an image
            parent.append(f"{lead}[{core}]({frame.href}){trail}")
            return
        marker = _INLINE[frame.tag]
        parent.append(f"{lead}{marker}{core}{marker}{trail}")

    # Blocks ------------------------------------------------------------------
    def _flush(self) -> None:
        while len(self._frames) > 1:
            self._close(self._frames[-1].tag)
        text = re.sub(r" {2,}", " ", "".join(self._frames[0].pieces)).strip()
        self._frames[0].pieces.clear()
        if not text:
            return
        if not self._prefix.startswith("#"):
            text = _escape_line_start(text)
        if self._prefix:
            text = f"{self._prefix} {text}"
        in_list = bool(self._lists)
        if in_list:
            text = self._indent + text
            # Text after a list item's first block continues that item.
            self._prefix = " " * len(self._prefix) if not self._prefix.startswith("#") else ""
        else:
            self._prefix = ""
        self.blocks.append(_Block(text, in_list))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INLINE:
            self._open(_Frame(tag))
        elif tag == "a":
            self._open(_Frame(tag, _safe_url(dict(attrs).get("href"))))
        elif tag in _HEADINGS:
            self._flush()
            self._prefix = _HEADINGS[tag]
        elif tag in ("ul", "ol"):
            self._flush()
            if self._lists:
                self._indent += " " * (len(self._marker()) + 1)
            self._lists.append(["-" if tag == "ul" else ".", 0])
        elif tag == "li":
            self._flush()
            if not self._lists:
                self._lists.append(["-", 0])  # a stray item: nh3 keeps it, so read it as a list
            current = self._lists[-1]
            current[1] = int(current[1]) + 1
            self._prefix = self._marker()
        elif tag in _BLOCKS:
            self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        self.handle_endtag(tag)

    def _marker(self) -> str:
        kind, count = self._lists[-1]
        return "-" if kind == "-" else f"{count}."

    def handle_endtag(self, tag: str) -> None:
        if tag in _INLINE or tag == "a":
            self._close(tag)
        elif tag in _HEADINGS or tag in _BLOCKS or tag == "li":
            self._flush()
            if tag in _HEADINGS or tag == "li":
                self._prefix = ""
        elif tag in ("ul", "ol"):
            self._flush()
            if self._lists:
                self._lists.pop()
                self._prefix = ""
                if self._lists:
                    self._indent = self._indent[: -(len(self._marker()) + 1)]
                else:
                    self._indent = ""

    def markdown(self) -> str:
        self._flush()
        out: list[str] = []
        previous: _Block | None = None
        for block in self.blocks:
            if previous is not None:
                out.append("\n" if previous.in_list and block.in_list else "\n\n")
            out.append(block.text)
            previous = block
        return "".join(out)


def _markdown(value: str, kind: str) -> str:
    if "html" not in kind:
        paragraphs = (_escape(_one_line(p)) for p in re.split(r"\n\s*\n", value))
        return "\n\n".join(_escape_line_start(p) for p in paragraphs if p)
    cleaned = nh3.clean(
        value,
        tags=_KEPT,
        clean_content_tags=_DROPPED_WITH_CONTENT,
        attributes={"a": {"href"}},
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
    writer = _MarkdownWriter()
    writer.feed(cleaned)
    writer.close()
    return writer.markdown()


def _cut_body(markdown: str) -> str:
    """The body within the story's limit, ending at a block when one fits."""
    if len(markdown) <= BODY_MAX:
        return markdown
    head = markdown[: BODY_MAX - 2]
    if "\n\n" in head:
        return head.rsplit("\n\n", 1)[0] + "\n\n…"
    cut = _cut_at_word(markdown, BODY_MAX)
    # A cut must not leave a lone escaping backslash before the "…".
    return cut[:-1].rstrip("\\") + "…"


# ----- items -------------------------------------------------------------------


def _refuse_entity_declarations(body: bytes) -> None:
    # feedparser strips <!ENTITY> declarations only where its own pattern finds
    # them (one to a line) and otherwise hands them on to expat, which is safe
    # from entity bombs only from expat 2.4 on. No real feed needs them.
    candidates = [body]
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:2] in (b"<\x00", b"\x00<"):
        candidates.append(body.decode("utf-16", "ignore").encode())
    for candidate in candidates:
        subset = _DOCTYPE_SUBSET.search(candidate)
        if subset and _ENTITY_DECLARATION.search(candidate, subset.end()):
            raise FeedError("the feed declares XML entities, which are refused")


def _detail(entry: Mapping[str, object], name: str) -> tuple[str, str] | None:
    value = _str(entry.get(name))
    if value is None or not value.strip():
        return None
    kind = _str(_mapping(entry.get(f"{name}_detail")).get("type")) or "text/html"
    return value, kind


def _content(entry: Mapping[str, object]) -> tuple[str, str] | None:
    parts = [part for part in _mappings(entry.get("content")) if (_str(part.get("value")) or "").strip()]
    if not parts:
        return None
    chosen = next((p for p in parts if "html" in (_str(p.get("type")) or "")), parts[0])
    return _str(chosen.get("value")) or "", _str(chosen.get("type")) or "text/html"


def _moment(entry: Mapping[str, object]) -> tuple[datetime | None, str]:
    """The item's date in UTC, if it has one that reads, and its raw text."""
    for name in ("published", "updated", "created"):
        raw = _str(entry.get(name)) or ""
        parsed = _struct(entry.get(f"{name}_parsed"))
        if parsed is not None:
            try:
                return datetime.fromtimestamp(calendar.timegm(parsed), UTC), raw
            except (OverflowError, ValueError, OSError):
                try:
                    return datetime(*parsed[:6], tzinfo=UTC), raw
                except ValueError:
                    pass
        if raw:
            moment = _read_date(raw)
            if moment is not None:
                return moment, raw
    return None, _str(entry.get("published")) or _str(entry.get("updated")) or ""


def _read_date(raw: str) -> datetime | None:
    text = raw.strip()[:100]
    moment: datetime | None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return None


def _tags(names: Iterable[str]) -> list[str]:
    """Usable tag names, the first spelling of each key."""
    seen: dict[str, str] = {}
    for raw in names:
        name = _one_line(_scrub(raw)).lstrip("#").strip()
        key = key_of(name)
        # A tag the story schema would refuse is left off, not the whole item.
        if key and len(name) <= TAG_MAX_CHARS and len(key) <= 64:
            seen.setdefault(key, name)
    return list(seen.values())


def _item_tags(categories: Sequence[str], feed_tags: Sequence[str]) -> list[str]:
    # The feed's tags are the newsroom's choice: an item with many categories
    # gives up some of those, never the newsroom's tags.
    newsroom = {key_of(name) for name in _tags(feed_tags)[:TAGS_MAX]}
    room = TAGS_MAX - len(newsroom)
    kept: list[str] = []
    for name in _tags([*categories, *feed_tags]):
        if key_of(name) in newsroom:
            kept.append(name)
        elif room > 0:
            kept.append(name)
            room -= 1
    return kept


def _key(entry: Mapping[str, object], title: str, raw_date: str) -> str:
    for name in ("id", "link"):
        value = _one_line(_str(entry.get(name)) or "")
        if value:
            # A long identity is hashed, not cut, so two long ones never become one key.
            return value if len(value) <= KEY_MAX else "sha256:" + hashlib.sha256(value.encode()).hexdigest()
    digest = hashlib.sha256(f"{title}\n{raw_date.strip()}".encode()).hexdigest()
    return f"sha256:{digest}"


def _label(number: int, title: str) -> str:
    return f"item {number} (“{_cut_at_word(title, 60)}”)" if title else f"item {number}"


def _entry(
    number: int,
    entry: Mapping[str, object],
    *,
    feed_tags: Sequence[str],
    category: str | None,
    fetched_at: datetime,
) -> tuple[FeedEntry | None, str | None]:
    title_source = _detail(entry, "title")
    full_title = _plain(title_source[0][:_TITLE_SOURCE_MAX], title_source[1]) if title_source else ""
    label = _label(number, full_title)
    if not full_title:
        return None, f"{label}: title: missing (an item needs a headline)"
    notes: list[str] = []
    title = _cut_at_word(full_title, TITLE_MAX)
    if title != full_title:
        notes.append(f"title: cut to {TITLE_MAX} characters")

    summary_source = _detail(entry, "summary")
    content = _content(entry)
    text_source = summary_source or content
    summary = _cut_summary(_plain(text_source[0][:_SUMMARY_SOURCE_MAX], text_source[1])) if text_source else ""

    body_source = content or summary_source
    body = ""
    if body_source:
        full_body = _markdown(body_source[0][:_BODY_SOURCE_MAX], body_source[1])
        body = _cut_body(full_body)
        if body != full_body or len(body_source[0]) > _BODY_SOURCE_MAX:
            notes.append(f"body: cut to {BODY_MAX} characters")

    link = _safe_link(_str(entry.get("link")))
    moment, raw_date = _moment(entry)
    if moment is None:
        moment = fetched_at
    elif moment > fetched_at + FUTURE_SLACK:
        notes.append(f"published_at: {moment.date().isoformat()} is in the future; the fetch time was used")
        moment = fetched_at

    categories = [
        _plain(_str(tag.get("term")) or _str(tag.get("label")) or "", "text/plain")
        for tag in _mappings(entry.get("tags"))
    ]
    tags = _item_tags(categories, feed_tags)
    if not tags:
        return None, f"{label}: tags: no tags: give the feed tags"
    first = next((c for c in categories if key_of(c) and len(c) <= CATEGORY_MAX), None)

    data: dict[str, object] = {
        "title": title,
        "summary": summary,
        "category": category or first or DEFAULT_CATEGORY,
        "published_at": moment,
        "tags": tags,
        "url": link,
        "slug": slugify(title),
        "body": body,
    }
    try:
        draft = story_from_mapping(data, label)
    except StoryFileError as exc:
        return None, str(exc)
    key = _key(entry, full_title, raw_date)
    return FeedEntry(key, draft), (f"{label}: {'; '.join(notes)}" if notes else None)


def _safe_link(link: str | None) -> str | None:
    if not link:
        return None
    link = link.strip()
    ok = link.lower().startswith(("http://", "https://")) and len(link) <= 500 and not re.search(r"[\s<>\"]", link)
    return link if ok else None


def _ttl(feed: Mapping[str, object]) -> int | None:
    match = _TTL.fullmatch(_str(feed.get("ttl")) or "")
    if not match or int(match.group(1)) == 0:
        return None
    return min(int(match.group(1)) * 60, TTL_MAX_SECONDS)


def parse_feed(
    body: bytes,
    *,
    feed_tags: tuple[str, ...] = (),
    category: str | None = None,
    fetched_at: datetime,
    max_items: int = 500,
) -> ParsedFeed:
    """The feed's items as story drafts, in feed order; what was refused or cut
    is in `problems`. Raises FeedError when the body is no feed at all."""
    if fetched_at.tzinfo is None:
        fetched_at = fetched_at.replace(tzinfo=UTC)
    fetched_at = fetched_at.astimezone(UTC)
    _refuse_entity_declarations(body)
    parsed = _feedparser(body)
    if not _str(parsed.get("version")):
        problem = parsed.get("bozo_exception")
        if parsed.get("bozo") and problem is not None:
            detail = _one_line(_scrub(str(problem)))[:120]
            raise FeedError(f"not an RSS or Atom feed: the XML does not read ({detail})")
        raise FeedError("not an RSS or Atom feed: no channel or feed element")
    feed = _mapping(parsed.get("feed"))
    items = _mappings(parsed.get("entries"))
    problems: list[str] = []
    if len(items) > max_items:
        problems.append(f"feed has {len(items)} items; the first {max_items} were read")
    entries: list[FeedEntry] = []
    for number, item in enumerate(items[: max(0, max_items)], start=1):
        made, problem = _entry(number, item, feed_tags=feed_tags, category=category, fetched_at=fetched_at)
        if made is not None:
            entries.append(made)
        if problem is not None:
            problems.append(problem)
    title_source = _detail(feed, "title")
    title = (
        _cut_at_word(_plain(title_source[0][:_TITLE_SOURCE_MAX], title_source[1]), TITLE_MAX) if title_source else ""
    )
    return ParsedFeed(title or None, _ttl(feed), tuple(entries), tuple(problems))
