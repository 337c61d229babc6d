"""Story files (Markdown with YAML front matter) and story payloads, validated.

Everything a newsroom hands in passes through `story_from_mapping`, whether it
comes from a file or (later) from the HTTP API, so both refuse the same things
with the same words: the source, the field and the problem.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar

import frontmatter
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from content.errors import StoryFileError
from content.keys import SLUG_MAX, SLUG_PATTERN, key_of, slugify

SUMMARY_MAX_WORDS = 120
# A push is the summary and, under it, its first term's definition; both
# together must still read in about 30 seconds.
PUSH_MAX_WORDS = 150
CORRECTION_MAX = 280
RETRACTION_REASON_MAX = 500
FIELDS = ("slug", "title", "summary", "category", "published_at", "tags", "url", "terms", "correction")


@dataclass(frozen=True, slots=True)
class TermDraft:
    term: str
    definition: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StoryDraft:
    slug: str
    title: str
    summary: str
    category: str
    published_at: datetime
    tags: tuple[str, ...]
    url: str | None
    terms: tuple[TermDraft, ...]
    body: str
    # The newsroom's note to readers on a correction ("Corrected: ...").
    correction: str | None = None

    def content_hash(self) -> str:
        data = asdict(self)
        data["published_at"] = self.published_at.isoformat()
        if self.correction is None:
            del data["correction"]  # stories saved before corrections existed keep their hash
        encoded = json.dumps(data, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(encoded).hexdigest()


Text = str

_Entry = TypeVar("_Entry")


def key_term(terms: Iterable[TermDraft]) -> TermDraft | None:
    """The term a push of this draft defines: the first the newsroom listed.
    Of two entries with one key the later is the wording that is saved, so
    it is the one counted."""
    entries = list(terms)
    if not entries:
        return None
    first = key_of(entries[0].term)
    return [t for t in entries if key_of(t.term) == first][-1]


def push_words(summary: str, term: str | None = None, definition: str | None = None) -> int:
    """How long a push reads, in words: the summary's, plus those of the line
    under it that defines the story's first term ("TERM: DEFINITION", the
    term's name and its definition as the push shows them).

    A word is a run of characters between whitespace, as the summary's own
    limit counts them; the colon after the term is no word of its own. The
    headline, date, tags and links are not counted: a reader takes them in at
    a glance, not by reading.
    """
    words = len(summary.split())
    if term is not None and definition is not None:
        words += len(term.split()) + len(definition.split())
    return words


class _Term(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    term: str = Field(min_length=1, max_length=80)
    definition: str = Field(min_length=1, max_length=400)
    aliases: list[str] = Field(default_factory=list, max_length=10)

    @field_validator("term")
    @classmethod
    def _term_has_letters(cls, value: str) -> str:
        if not key_of(value):
            raise ValueError("needs at least one letter or digit")
        if len(key_of(value)) > 80:
            raise ValueError("is too long once normalised (at most 80 letters and digits)")
        return value

    @field_validator("aliases")
    @classmethod
    def _aliases_fit(cls, value: list[str]) -> list[str]:
        for alias in value:
            if not key_of(alias) or len(alias) > 80 or len(key_of(alias)) > 80:
                raise ValueError(f"alias {alias[:40]!r} must have letters or digits and at most 80 characters")
        return [alias.strip() for alias in value]


class _Story(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    slug: str | None = Field(default=None, min_length=1, max_length=SLUG_MAX, pattern=SLUG_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=1000)
    category: str = Field(min_length=1, max_length=40)
    published_at: datetime
    tags: list[str] = Field(min_length=1, max_length=10)
    url: str | None = Field(default=None, max_length=500, pattern=r"^https?://[^\s<>\"]+$")
    terms: list[_Term] = Field(default_factory=list, max_length=20)
    body: str = Field(default="", max_length=50_000)
    correction: str | None = Field(default=None, min_length=1, max_length=CORRECTION_MAX)

    @field_validator("published_at", mode="before")
    @classmethod
    def _moment(cls, value: Any) -> datetime:
        # YAML already turns unquoted ISO dates into date/datetime objects;
        # strings are parsed here so the error can say what is expected.
        if isinstance(value, datetime):
            moment = value
        elif isinstance(value, date):
            moment = datetime.combine(value, time(0, 0))
        elif isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                raise ValueError(
                    f"{value[:40]!r} is not an ISO 8601 date and time (e.g. 2026-04-30T17:30:00Z)"
                ) from None
        else:
            raise ValueError("must be an ISO 8601 date and time (e.g. 2026-04-30T17:30:00Z)")
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # no offset given: taken as UTC
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValueError("is out of range") from None

    @field_validator("summary")
    @classmethod
    def _readable_in_30_seconds(cls, value: str) -> str:
        words = len(value.split())
        if words > SUMMARY_MAX_WORDS:
            raise ValueError(f"has {words} words; at most {SUMMARY_MAX_WORDS} (it must read in about 30 seconds)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        seen: dict[str, str] = {}
        for name in value:
            name = " ".join(name.lstrip("#").split())
            if not key_of(name):
                raise ValueError(f"tag {name[:40]!r} needs at least one letter or digit")
            if len(name) > 40 or len(key_of(name)) > 64:
                raise ValueError(f"tag {name[:40]!r}... is longer than 40 characters")
            seen.setdefault(key_of(name), name)
        return list(seen.values())

    @field_validator("category", "title", "correction")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        return None if value is None else " ".join(value.split())


def _describe(error: ErrorDetails) -> tuple[str, str]:
    loc = error.get("loc", ())
    field = ""
    for part in loc:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        allowed = tuple(_Term.model_fields) if "terms" in loc[:-1] else FIELDS
        return field, f"unknown key (allowed: {', '.join(allowed)})"
    if kind == "missing":
        return field, "missing (required)"
    if kind == "list_type":
        return field, "must be a list (e.g. [xAI, OpenAI])"
    if kind == "string_type":
        return field, "must be text"
    if kind == "string_too_long":
        return field, f"too long: at most {error['ctx']['max_length']} characters"
    if kind == "too_long":
        return field, f"too many entries: at most {error['ctx']['max_length']}"
    if kind in ("string_too_short", "too_short"):
        return field, "must not be empty"
    if kind == "string_pattern_mismatch":
        if field == "slug":
            return field, "must be lowercase letters, digits and single hyphens"
        return field, "must be an http:// or https:// address"
    message = str(error.get("msg", "invalid"))
    return field, message.removeprefix("Value error, ")


_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")


def _unstorable(value: Any, path: str) -> str | None:
    """The field holding a NUL or a lone surrogate (no database stores them), if any."""
    if isinstance(value, str):
        return path if _UNSTORABLE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _unstorable(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    if isinstance(value, list):
        for i, item in enumerate(value):
            found = _unstorable(item, f"{path}[{i}]")
            if found:
                return found
    return None


def retraction_reason(value: Any, source: str) -> str | None:
    """The reason a newsroom gives for withdrawing a story, as readers will see
    it (one line), or None for no reason; refused as story fields are."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise StoryFileError(source, "reason", "must be text")
    if _unstorable(value, "reason"):
        raise StoryFileError(source, "reason", "contains a NUL or an invalid (surrogate) character")
    reason = " ".join(value.split())
    if len(reason) > RETRACTION_REASON_MAX:
        raise StoryFileError(source, "reason", f"is longer than {RETRACTION_REASON_MAX} characters")
    return reason or None


def story_from_mapping(data: Any, source: str) -> StoryDraft:
    if not isinstance(data, dict):
        raise StoryFileError(source, "front matter", "must be a mapping of keys to values")
    bad = _unstorable(data, "")
    if bad:
        raise StoryFileError(source, bad, "contains a NUL or an invalid (surrogate) character")
    try:
        parsed = _Story.model_validate(data)
    except ValidationError as exc:
        field, problem = _describe(exc.errors()[0])
        raise StoryFileError(source, field or "story", problem) from None
    draft = StoryDraft(
        slug=parsed.slug or slugify(parsed.title),
        title=parsed.title,
        summary=" ".join(parsed.summary.split()),
        category=parsed.category,
        published_at=parsed.published_at,
        tags=tuple(parsed.tags),
        url=parsed.url,
        terms=tuple(TermDraft(t.term, " ".join(t.definition.split()), tuple(t.aliases)) for t in parsed.terms),
        body=parsed.body.strip(),
        correction=parsed.correction,
    )
    _check_push_length(draft, source)
    return draft


def _check_push_length(draft: StoryDraft, source: str) -> None:
    term = key_term(draft.terms)
    if term is None:
        return  # the summary alone is held to SUMMARY_MAX_WORDS already
    words = push_words(draft.summary, term.term, term.definition)
    if words > PUSH_MAX_WORDS:
        raise StoryFileError(
            source,
            "summary",
            f"summary and its first term's definition are {words} words; at most {PUSH_MAX_WORDS} "
            f"(a push defines “{term.term}” under the summary, and must read in about 30 seconds)",
        )


def parse_story_text(text: str, source: str) -> StoryDraft:
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        problem = " ".join(str(exc).split())[:200]
        raise StoryFileError(source, "front matter", f"not valid YAML: {problem}") from None
    if not post.metadata:
        raise StoryFileError(
            source, "front matter", "missing: a story file starts with a '---' block holding title, summary, ..."
        )
    if "body" in post.metadata:
        raise StoryFileError(source, "body", "unknown key (the body is the Markdown after the front matter)")
    return story_from_mapping({**post.metadata, "body": post.content}, source)


def load_story_file(path: Path) -> StoryDraft:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise StoryFileError(str(path), "file", "is not UTF-8 text") from None
    except OSError as exc:
        raise StoryFileError(str(path), "file", exc.strerror or "cannot be read") from None
    return parse_story_text(text, str(path))


def story_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and every *.md below each folder, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*.md") if p.is_file()))
        else:
            found.append(path)
    return found
