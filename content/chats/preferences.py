"""How a chat wants its pushes: at once or in a digest, loud or quiet at
night, in its own time zone. Plain values and the rules on them (reading
what a reader typed, when the next digest is due, whether a moment is
quiet); the rows are `content.chats.settings`'.

Times are the chat's wall-clock times in its IANA zone, so a digest at 08:00
Europe/Berlin stays at 08:00 across daylight-saving changes (06:00 or 07:00
UTC).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from rapidfuzz import process

DEFAULT_ZONE = "UTC"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")


class DigestEvery(StrEnum):
    OFF = "off"  # a push per story
    DAILY = "daily"
    WEEKLY = "weekly"


@dataclass(frozen=True, slots=True)
class Digest:
    every: DigestEvery
    at: time
    day: int | None = None  # 0 (Monday) .. 6, for a weekly one

    def describe(self) -> str:
        if self.every is DigestEvery.WEEKLY and self.day is not None:
            return f"weekly on {DAYS[self.day].capitalize()} at {clock(self.at)}"
        return f"daily at {clock(self.at)}"


@dataclass(frozen=True, slots=True)
class Quiet:
    """From `start` to `end`, wall-clock; a window past midnight (22:00-07:00) wraps."""

    start: time
    end: time

    def covers(self, moment: time) -> bool:
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def describe(self) -> str:
        return f"{clock(self.start)}-{clock(self.end)}"


@dataclass(frozen=True, slots=True)
class Preferences:
    time_zone: str = DEFAULT_ZONE
    digest: Digest | None = None  # None: a push per story
    quiet: Quiet | None = None

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class PreferenceError(ValueError):
    """What the reader typed cannot be a setting; `str()` says how to write it."""


def clock(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def parse_clock(word: str) -> time:
    match = _CLOCK.fullmatch(word)
    if match is None:
        raise PreferenceError(f"“{word[:20]}” is no time of day: write it as HH:MM, from 00:00 to 23:59.")
    return time(int(match.group(1)), int(match.group(2)))


@cache
def _zones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def parse_zone(word: str) -> str:
    """An IANA zone name, in its own spelling (`europe/berlin` → `Europe/Berlin`)."""
    name = _zones().get(word.lower())
    if name is not None:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    best = process.extractOne(word.lower(), list(_zones()), score_cutoff=60) if len(word) < 64 else None
    hint = f" Did you mean {_zones()[best[0]]}?" if best else ""
    raise PreferenceError(f"I don't know the time zone “{word[:40]}”.{hint} Use an IANA name such as Europe/Berlin.")


def parse_digest(words: list[str]) -> tuple[Digest | None, str | None]:
    """`off`, `daily HH:MM [ZONE]` or `weekly DAY HH:MM [ZONE]`: the digest (None: off) and the zone if given."""
    if not words:
        raise PreferenceError(_DIGEST_USAGE)
    every = words[0].lower()
    if every == DigestEvery.OFF and len(words) == 1:
        return None, None
    if every == DigestEvery.DAILY and len(words) in (2, 3):
        return Digest(DigestEvery.DAILY, parse_clock(words[1])), _zone_of(words[2:])
    if every == DigestEvery.WEEKLY and len(words) in (3, 4):
        day = words[1].lower()[:3]
        if day not in DAYS:
            raise PreferenceError(f"“{words[1][:20]}” is no day: use mon, tue, wed, thu, fri, sat or sun.")
        return Digest(DigestEvery.WEEKLY, parse_clock(words[2]), DAYS.index(day)), _zone_of(words[3:])
    raise PreferenceError(_DIGEST_USAGE)


def parse_quiet(words: list[str]) -> tuple[Quiet | None, str | None]:
    """`off` or `HH:MM-HH:MM [ZONE]`: the window (None: off) and the zone if given."""
    if len(words) == 1 and words[0].lower() == "off":
        return None, None
    if len(words) not in (1, 2) or words[0].count("-") != 1:
        raise PreferenceError(_QUIET_USAGE)
    start, end = (parse_clock(part) for part in words[0].split("-"))
    if start == end:
        raise PreferenceError("Quiet hours need a start and an end that differ, e.g. 22:00-07:00.")
    return Quiet(start, end), _zone_of(words[1:])


def _zone_of(words: list[str]) -> str | None:
    return parse_zone(words[0]) if words else None


_DIGEST_USAGE = (
    "Write /digest daily HH:MM [TIMEZONE], /digest weekly DAY HH:MM [TIMEZONE] or /digest off, "
    "e.g. /digest daily 08:00 Europe/Berlin."
)
_QUIET_USAGE = "Write /quiet HH:MM-HH:MM [TIMEZONE] or /quiet off, e.g. /quiet 22:00-07:00 Europe/Berlin."


def next_digest_after(digest: Digest, zone: ZoneInfo, after: datetime) -> datetime:
    """The first moment after `after` (aware) when the digest is due, in UTC.

    Computed on the local calendar: the local date and time are built first
    and only then given the zone, so that daylight-saving changes move the
    UTC moment and keep the local one. A local time that a change skips
    (02:30 on the spring night) is taken as the zone library resolves it.
    """
    local = after.astimezone(zone)
    day = local.date()
    for _ in range(9):
        if digest.every is DigestEvery.DAILY or day.weekday() == digest.day:
            due = datetime.combine(day, digest.at, tzinfo=zone)
            if due > after:
                return due.astimezone(ZoneInfo("UTC"))
        day += timedelta(days=1)
    raise AssertionError("a digest is due within a week")  # pragma: no cover


def is_quiet(quiet: Quiet | None, zone: ZoneInfo, at: datetime) -> bool:
    return quiet is not None and quiet.covers(at.astimezone(zone).time())
