"""Reading the stories: /latest, /story, /search, /tags, and the buttons on their answers."""

from __future__ import annotations

from dataclasses import replace

from content.commands.caller import Caller
from content.commands.matching import no_tag
from content.commands.spec import Request, Services
from content.keys import hashtag, is_slug, key_of
from content.messages import Action, Button, Reply, Span
from content.replies.stories import search_results, story_detail, story_list, withdrawal_notice
from content.replies.tags import tag_list
from content.replies.text import answer, notice, quoted, refusal
from content.stories.views import TagView

LATEST_DEFAULT, LATEST_MAX = 5, 10


async def latest(services: Services, request: Request) -> Reply:
    asked = request.arguments.count("count")
    count, note = LATEST_DEFAULT if asked is None else asked, None
    if not 1 <= count <= LATEST_MAX:
        count = min(max(count, 1), LATEST_MAX)
        note = f"Showing {count}: I send between 1 and {LATEST_MAX} at a time."
    tag = None
    typed = request.arguments.text("tag")
    if typed:
        index = await services.catalog.keys()
        tag = index.tags.get(key_of(typed))
        if tag is None:
            return refusal(*no_tag(index, typed), " ", Span("/tags", code=True), " lists them all.")
    return await _latest_page(services, count, 0, tag, note)


async def _latest_page(services: Services, count: int, offset: int, tag: TagView | None, note: str | None) -> Reply:
    stories = await services.catalog.latest(count + 1, offset, tag.id if tag else None)
    more = None
    if len(stories) > count:
        stories = stories[:count]
        more = Button("More", Action.MORE, f"{offset + count}:{tag.key if tag else ''}")
    where = f" on {hashtag(tag.name)}" if tag else ""
    if not stories:
        text = f"No more stories{where}." if offset else f"No stories{where} yet."
        return answer(notice(text, private=False))
    title = f"Latest{where}" if not offset else f"More{where}"
    return answer(story_list(title, stories, more, note))


async def story(services: Services, request: Request) -> Reply:
    catalog = services.catalog
    wanted = request.arguments.text("slug").strip().rstrip("/").rsplit("/", 1)[-1].lower()  # a pasted link works too
    if not wanted:
        return refusal(
            "Which story? Give its slug, e.g. ",
            Span("/story SLUG", code=True),
            "; ",
            Span("/latest", code=True),
            " shows them.",
        )
    by_slug = await _story_or_withdrawal(services, wanted)
    if by_slug is not None:
        return by_slug
    found = await catalog.stories_by_id(await services.search.story_ids(wanted.replace("-", " "), limit=3))
    if found:
        return answer(search_results(f"No story {quoted(wanted)}. Did you mean one of these?", found))
    return refusal(f"No story {quoted(wanted)}. ", Span("/latest", code=True), " lists the newest with their slugs.")


async def search(services: Services, request: Request) -> Reply:
    args = request.arguments.text("query")
    if not args.strip():
        return refusal("What should I look for? For example ", Span("/search distillation", code=True), ".")
    found = await services.catalog.stories_by_id(await services.search.story_ids(args, limit=5))
    if not found:
        return refusal(f"Nothing found for {quoted(args)}. Try other words, or ", Span("/tags", code=True), ".")
    return answer(search_results(f"Results for {quoted(args)}", found))


async def tags(services: Services, request: Request) -> Reply:
    followed = {t.id for t in await services.catalog.followed(request.chat)}
    shown = [t for t in await services.catalog.tags() if t.story_count or t.id in followed]
    return answer(tag_list(shown, followed))


async def _story_or_withdrawal(services: Services, slug: str) -> Reply | None:
    """The story with this slug, or the newsroom's word that it was withdrawn."""
    if not is_slug(slug):
        return None
    detail = await services.catalog.story(slug)
    if detail is not None:
        return answer(story_detail(detail))
    withdrawal = await services.catalog.withdrawal(slug)
    if withdrawal is not None:
        return answer(withdrawal_notice(withdrawal.reason))
    return None


# ----- buttons: None when the button leads nowhere any more ------------------
async def open_story(services: Services, caller: Caller, argument: str) -> Reply | None:
    return await _story_or_withdrawal(services, argument or "")


async def more(services: Services, caller: Caller, argument: str) -> Reply | None:
    offset, _, tag_key = (argument or "").partition(":")
    if offset.isdigit() and int(offset) <= 1000 and (not tag_key or tag_key.isalnum()):
        tag = (await services.catalog.keys()).tags.get(tag_key) if tag_key else None
        if tag is not None or not tag_key:
            page = await _latest_page(services, LATEST_DEFAULT, int(offset), tag, None)
            return Reply(tuple(replace(m, replaces_pressed=True) for m in page.messages))
    return None
