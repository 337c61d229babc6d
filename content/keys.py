"""Normalised keys: how tags, terms and slugs are matched.

`xAI`, `xai`, `#XAI` and `x-AI` are one tag; `Elon Musk` and `#ElonMusk` are
one tag; `Large language model` and `large-language-model` are one term. A key
keeps only letters and digits, case-folded, so that spacing, punctuation and a
leading `#` never matter.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_SLUG_JUNK = re.compile(r"[^a-z0-9]+")

SLUG_MAX = 56
# What a slug may be: lowercase letters and digits in runs joined by single hyphens.
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
_SLUG = re.compile(SLUG_PATTERN)


def is_slug(text: str) -> bool:
    """Could `text` be a story's slug? (Anything else cannot be stored, so names no story.)"""
    return len(text) <= SLUG_MAX and _SLUG.fullmatch(text) is not None


def key_of(value: str) -> str:
    folded = unicodedata.normalize("NFKC", value).casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def hashtag(name: str) -> str:
    """`Elon Musk` -> `#ElonMusk`: hashtags cannot hold spaces or punctuation."""
    return "#" + "".join(ch for ch in unicodedata.normalize("NFKC", name) if ch.isalnum() or ch == "_")


def clean_input(value: str) -> str:
    """What a user typed, with control and invisible characters made spaces."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFKC", value)).split())


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = _SLUG_JUNK.sub("-", ascii_title.lower()).strip("-")
    if len(slug) > SLUG_MAX:
        cut = slug[:SLUG_MAX]
        slug = cut.rsplit("-", 1)[0] if "-" in cut else cut
    return slug or "story"
