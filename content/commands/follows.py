"""What a chat follows: /subscribe, /unsubscribe, /subscriptions.

They act on `request.chat`: the caller's chat, or another one it named, once
`content.commands.places` has let the caller act there.
"""

from __future__ import annotations

from content.chats.ref import ChatRef, PlaceForm
from content.commands.matching import MAX_TAGS_AT_ONCE, resolve_tags, resolve_term
from content.commands.spec import Request, Services
from content.keys import key_of
from content.messages import Message, Reply, Span
from content.replies.text import answer, notice, paragraph_lines, refusal, tag_names
from content.stories.views import PlaceFollows


def _here(chat: ChatRef) -> str:
    # A topic or thread follows tags apart from its chat: say which one answers.
    return "This thread" if chat.thread_id is not None else "This chat"


async def subscriptions(services: Services, request: Request) -> Reply:
    if request.arguments.switch("all"):
        return _everywhere(await services.catalog.followed_across(request.chat))
    followed = await services.catalog.followed(request.chat)
    terms = await services.catalog.followed_terms(request.chat)
    if terms:
        named = ("the term " if len(terms) == 1 else "the terms ") + ", ".join(terms)
        tags = f"{tag_names(followed)} and {named}" if followed else named
        return answer(notice(f"{_here(request.chat)} follows {tags}.", private=False))
    if not followed:
        return answer(
            notice(
                f"{_here(request.chat)} follows no tags yet. Try ",
                Span("/subscribe xAI", code=True),
                "; ",
                Span("/tags", code=True),
                " lists them all.",
                private=False,
            )
        )
    return answer(notice(f"{_here(request.chat)} follows {tag_names(followed)}.", private=False))


def _everywhere(places: list[PlaceFollows]) -> Reply:
    if not places:
        return answer(notice("Nothing in this chat follows a tag yet.", private=False))
    lines: list[tuple[Span, ...]] = []
    for place in places:
        if place.thread_id is None:
            name = "The chat itself"
        else:
            name = f"Thread “{place.title}”" if place.title else f"Thread {place.thread_id}"
        paused = "" if place.active else " (no longer reachable: nothing is pushed there)"
        lines.append((Span(f"{name}:", bold=True), Span(f" {tag_names(place.tags)}{paused}")))
    return answer(Message(paragraph_lines(*lines)))


_NOT_ANNOUNCEMENTS = (
    "Only an announcement channel can republish its pushes to the servers following it; "
    "subscribe without crosspost here."
)


async def subscribe(services: Services, request: Request) -> Reply:
    args = request.arguments.text("tag")
    if not key_of(args):
        return _which_tag("subscribe")
    republish = request.arguments.switch("crosspost")
    if republish and request.chat.form is not PlaceForm.ANNOUNCEMENTS:
        return refusal(_NOT_ANNOUNCEMENTS)
    found, unknown = await resolve_tags(services.catalog, args)
    if found is None:
        return refusal(f"That's more than {MAX_TAGS_AT_ONCE} tags at once.")
    lines: list[tuple[Span, ...]] = []
    if found:
        change = await services.follows.follow(request.chat, [t.id for t in found], republish)
        by_id = {t.id: t for t in found}
        if change.changed:
            added = tag_names([by_id[i] for i in change.changed])
            where = "as posts of their own" if request.chat.form is PlaceForm.POSTS else "here"
            lines.append((Span(f"Subscribed to {added}. New stories tagged {added} will arrive {where}."),))
        if republish is not None:
            lines.append((Span(_REPUBLISH[republish]),))
        if change.unchanged:
            lines.append(
                (Span(f"Already following {tag_names([by_id[i] for i in change.unchanged])}; nothing to do."),)
            )
    lines.extend(unknown)
    return answer(Message(paragraph_lines(*lines), private=not found))


async def unsubscribe(services: Services, request: Request) -> Reply:
    args = request.arguments.text("tag")
    if not key_of(args):
        return _which_tag("unsubscribe")
    if key_of(args) == "all":
        before = await services.catalog.followed(request.chat)
        await services.follows.unfollow(request.chat, None)
        if not before:
            return answer(notice("This chat didn't follow any tag.", private=False))
        return answer(notice(f"Unsubscribed from everything ({tag_names(before)}).", private=False))
    found, unknown = await resolve_tags(services.catalog, args)
    if found is None:
        return refusal(f"That's more than {MAX_TAGS_AT_ONCE} tags at once.")
    lines: list[tuple[Span, ...]] = []
    if found:
        change = await services.follows.unfollow(request.chat, [t.id for t in found])
        by_id = {t.id: t for t in found}
        if change.changed:
            lines.append((Span(f"Unsubscribed from {tag_names([by_id[i] for i in change.changed])}."),))
        if change.unchanged:
            lines.append((Span(f"This chat wasn't following {tag_names([by_id[i] for i in change.unchanged])}."),))
    lines.extend(unknown)
    return answer(Message(paragraph_lines(*lines), private=not found))


_REPUBLISH = {
    True: "Each push here will also be published to the servers following this channel.",
    False: "Pushes here will no longer be published to the servers following this channel.",
}


async def follow(services: Services, request: Request) -> Reply:
    return await _term_change(services, request, follow=True)


async def unfollow(services: Services, request: Request) -> Reply:
    return await _term_change(services, request, follow=False)


async def _term_change(services: Services, request: Request, *, follow: bool) -> Reply:
    """/follow and /unfollow: the term resolved as /explain resolves it, then followed or not."""
    verb = "follow" if follow else "unfollow"
    typed = request.arguments.text("term").strip()
    if not typed:
        return refusal("Which term? For example ", Span(f"/{verb} distillation", code=True), ".")
    term_id, found = await resolve_term(services.catalog, typed)
    if term_id is None:
        return refusal(*found)
    change = services.follows.follow_terms if follow else services.follows.unfollow_terms
    changed = (await change(request.chat, [term_id])).changed
    if follow:
        said = (
            f"Following “{found}”: new stories that explain it will arrive here."
            if changed
            else f"Already following “{found}”; nothing to do."
        )
    else:
        said = f"No longer following “{found}”." if changed else f"{_here(request.chat)} wasn't following “{found}”."
    return answer(notice(said, private=False))


def _which_tag(verb: str) -> Reply:
    return refusal(
        "Which tag? For example ", Span(f"/{verb} xAI", code=True), "; ", Span("/tags", code=True), " lists them."
    )
