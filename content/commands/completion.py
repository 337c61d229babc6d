"""Choices offered while a user fills in a command's option (Discord's autocomplete)."""

from __future__ import annotations

from content.commands.matching import rank
from content.commands.parsing import MAX_ARGUMENT
from content.commands.spec import Completion, Services
from content.keys import clean_input, hashtag, is_slug, key_of
from content.replies.text import shorten


async def choices(services: Services, kind: Completion, typed: str, limit: int) -> list[tuple[str, str]]:
    """(label, value) choices for a partly typed tag, term or story slug.

    Prefix matches come first, then typo-tolerant ones; labels fit the
    100 characters platforms allow.
    """
    typed = clean_input(typed)[:MAX_ARGUMENT]
    key = key_of(typed)
    catalog = services.catalog
    index = await catalog.keys()
    if kind is Completion.TAG:
        ranked = sorted(index.tags.values(), key=lambda t: (-t.story_count, t.name))
        chosen = rank(key, {t.key: t for t in ranked}, limit)
        return [(shorten(f"{hashtag(t.name)} · {t.name} ({t.story_count})", 100), t.name) for t in chosen]
    if kind is Completion.TERM:
        names = {k: name for k, (_id, name) in sorted(index.terms.items(), key=lambda kv: kv[1][1].casefold())}
        return [(shorten(n, 100), n[:100]) for n in rank(key, names, limit)]
    if kind is Completion.STORY:
        if not typed:
            found = {s.slug: s.title for s in await catalog.latest(limit)}
        else:
            slug_prefix = "-".join(typed.lower().split())
            found = dict(await catalog.titles_by_slug_prefix(slug_prefix, limit)) if is_slug(slug_prefix) else {}
            if len(found) < limit:  # words of the title, stemmed, when the slug does not match
                for story in await catalog.stories_by_id(await services.search.story_ids(typed, limit=limit)):
                    found.setdefault(story.slug, story.title)
        return [(shorten(title, 100), slug) for slug, title in list(found.items())[:limit]]
    return []
