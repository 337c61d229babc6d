"""/explain: a term in one sentence, and the stories that explain it."""

from __future__ import annotations

from content.commands.matching import closest_term, similar_terms
from content.commands.spec import Request, Services
from content.keys import key_of
from content.messages import Reply, Span
from content.replies.glossary import term_entry
from content.replies.stories import search_results
from content.replies.text import answer, quoted, refusal, suggestion_spans


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
