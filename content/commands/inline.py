"""Answers offered while a user types the bot's name in any chat."""

from __future__ import annotations

from dataclasses import dataclass

from content.commands.matching import closest_term, similar_terms
from content.commands.parsing import MAX_ARGUMENT
from content.commands.spec import Services
from content.keys import clean_input, key_of
from content.messages import Message
from content.replies.glossary import term_entry
from content.replies.stories import story_card
from content.replies.text import shorten


@dataclass(frozen=True, slots=True)
class InlineResult:
    """One answer offered while a user types the bot's name in any chat."""

    id: str  # stable across queries, at most 64 bytes
    title: str
    description: str
    message: Message


async def inline_results(services: Services, query: str, limit: int) -> list[InlineResult]:
    typed = clean_input(query)[:MAX_ARGUMENT]
    key = key_of(typed)
    results: list[InlineResult] = []
    catalog = services.catalog
    if not key:
        stories = await catalog.latest(limit)
    else:
        index = await catalog.keys()
        term_ids: list[int] = []
        exact = index.terms.get(key) or closest_term(index, key)
        if exact is not None:
            term_ids.append(exact[0])
        for term_id, _name in similar_terms(index, key):
            if term_id not in term_ids:
                term_ids.append(term_id)
        for term_id in term_ids[: max(1, limit // 2)]:
            term = await catalog.term(term_id)
            if term is not None:
                results.append(
                    InlineResult(
                        f"t{term.id}", term.name, shorten(term.definition, 120), term_entry(term, buttons=False)
                    )
                )
        stories = await catalog.stories_by_id(await services.search.story_ids(typed, limit=limit - len(results)))
    for story in stories:
        results.append(
            InlineResult(
                f"s{story.id}",
                story.title,
                shorten(story.summary, 120),
                Message((story_card(story),), link_preview=True),
            )
        )
    return results[:limit]
