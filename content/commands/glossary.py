"""/explain: a term in one sentence, and the stories that explain it; and a
push's "What is TERM?" button, which gives the same answer to its presser."""

from __future__ import annotations

from dataclasses import replace

from content.commands.caller import Caller
from content.commands.matching import closest_term, similar_terms
from content.commands.spec import Request, Services
from content.keys import key_of
from content.messages import Reply, Span
from content.replies.glossary import term_entry
from content.replies.stories import search_results, term_popup
from content.replies.text import answer, quoted, refusal, suggestion_spans
from content.stories.views import TermView

_ID_DIGITS = 18  # a term id named by a button ("#42") fits a BIGINT


async def explain(services: Services, request: Request) -> Reply:
    catalog = services.catalog
    typed = request.arguments.text("term").strip()
    key = key_of(typed)
    if not key:
        return refusal("Which term? For example ", Span("/explain distillation", code=True), ".")
    index = await catalog.keys()
    hit = index.terms.get(key)
    corrected = None
    if hit is None:
        hit = closest_term(index, key)
        corrected = typed if hit is not None else None
    if hit is not None:
        term = await catalog.term(hit[0])
        if term is not None:
            return answer(term_entry(term, corrected))
    found = await catalog.stories_by_id(await services.search.story_ids(typed, limit=5))
    if found:
        return answer(search_results(f"No glossary entry for {quoted(typed)} yet, but these stories mention it", found))
    suggestions = [name for _id, name in similar_terms(index, key)]
    return refusal(f"No explainer for {quoted(typed)} yet.", *suggestion_spans(" Did you mean ", suggestions))


async def define(services: Services, caller: Caller, argument: str) -> Reply:
    """A push's "What is TERM?" button: /explain's answer, for the presser
    alone (it answers a reader where they are, without posting into a shared
    chat), with the few words a pop-up shows in its place."""
    term = await _named_term(services, argument or "")
    if term is None:
        return refusal(
            "That term is no longer in the glossary. Try ", Span("/explain", code=True), " with the word you want."
        )
    message = term_entry(term)  # what /explain answers for it
    return answer(replace(message, private=True, popup=term_popup(term.name, term.definition)))


async def _named_term(services: Services, argument: str) -> TermView | None:
    """The term a button names: by its key, or by "#ID" where the key did not fit."""
    digits = argument.removeprefix("#")
    if argument.startswith("#"):
        if not (digits.isascii() and digits.isdigit() and len(digits) <= _ID_DIGITS):
            return None
        return await services.catalog.term(int(digits))
    hit = (await services.catalog.keys()).terms.get(argument) if argument == key_of(argument) else None
    return await services.catalog.term(hit[0]) if hit is not None else None
