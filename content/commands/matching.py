"""What users type, matched against the catalog's tags and terms, typos and all."""

from __future__ import annotations

from typing import TypeVar

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Levenshtein

from content.keys import hashtag, key_of
from content.messages import Span
from content.replies.text import quoted, suggestion_spans
from content.stories.catalog import Catalog, KeyIndex
from content.stories.views import TagView

MAX_TAGS_AT_ONCE = 20
_Choice = TypeVar("_Choice")


def rank(key: str, choices: dict[str, _Choice], limit: int) -> list[_Choice]:
    if not key:
        return list(choices.values())[:limit]
    picked = [value for k, value in choices.items() if k.startswith(key)][:limit]
    if len(picked) < limit:
        for match, _score, _ in process.extract(key, list(choices), scorer=fuzz.WRatio, limit=limit, score_cutoff=60):
            if choices[match] not in picked:
                picked.append(choices[match])
    return picked[:limit]


async def resolve_tags(catalog: Catalog, args: str) -> tuple[list[TagView] | None, list[tuple[Span, ...]]]:
    """Known tags and, for each unknown one, a line with suggestions.

    Commas separate tags; without them `Elon Musk` is one tag, and `xai
    openai` is two when the words are not one tag together.
    """
    parts = [p.strip() for p in args.split(",") if key_of(p)]
    if len(parts) > MAX_TAGS_AT_ONCE:
        return None, []
    index = await catalog.keys()
    found: dict[int, TagView] = {}
    unknown: list[tuple[Span, ...]] = []
    for part in parts:
        whole = index.tags.get(key_of(part))
        if whole is not None:
            found.setdefault(whole.id, whole)
            continue
        words = [w for w in part.split() if key_of(w)]
        each = [tag for w in words if (tag := index.tags.get(key_of(w))) is not None]
        if len(words) > 1 and len(each) == len(words):
            for tag in each:
                found.setdefault(tag.id, tag)
            continue
        unknown.append((*no_tag(index, part), Span(" /tags lists them all.")))
    return list(found.values()), unknown


def no_tag(index: KeyIndex, typed: str) -> tuple[Span, ...]:
    key = key_of(typed)
    names = []
    if key:
        for match, _score, _ in process.extract(key, list(index.tags), scorer=fuzz.WRatio, limit=3, score_cutoff=70):
            names.append(hashtag(index.tags[match].name))
    return (Span(f"There's no tag {quoted(typed)}."), *suggestion_spans(" Did you mean ", names))


def closest_term(index: KeyIndex, key: str) -> tuple[int, str] | None:
    # Typos get more room in longer words; short ones must be exact.
    allowed = 0 if len(key) < 4 else 1 if len(key) <= 6 else 2
    if not allowed:
        return None
    match = process.extractOne(key, index.terms.keys(), scorer=Levenshtein.distance, score_cutoff=allowed)
    return index.terms[match[0]] if match else None


def similar_terms(index: KeyIndex, key: str) -> list[tuple[int, str]]:
    # Keys hold no spaces, so a substring test ("typed part of it") plus a
    # plain ratio (near misses) does what WRatio would at a tenth of the cost.
    inside = sorted((k for k in index.terms if key in k), key=len)[:8]
    close = [
        m for m, _score, _ in process.extract(key, index.terms.keys(), scorer=fuzz.ratio, limit=8, score_cutoff=65)
    ]
    names: dict[int, str] = {}
    for match in inside + close:
        term_id, name = index.terms[match]
        names.setdefault(term_id, name)
        if len(names) == 3:
            break
    return list(names.items())


async def resolve_term(catalog: Catalog, typed: str) -> tuple[int, str] | tuple[None, tuple[Span, ...]]:
    """The glossary term a reader means, as /explain finds it (exact, an
    alias, or a typo): (id, name); else (None, why not, with suggestions)."""
    key = key_of(typed)
    index = await catalog.keys()
    hit = index.terms.get(key) or closest_term(index, key)
    if hit is not None:
        return hit
    names = [name for _id, name in similar_terms(index, key)]
    return None, (Span(f"There's no glossary term {quoted(typed)}."), *suggestion_spans(" Did you mean ", names))
