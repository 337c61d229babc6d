"""Stories as neutral messages: cards, lists, the full explainer, search
results, the push, and the notice that stands in for a withdrawn story."""

from __future__ import annotations

from content.messages import (
    Action,
    Block,
    BulletList,
    Button,
    Card,
    Message,
    Paragraph,
    Span,
    heading,
    para,
)
from content.replies.text import BUTTON_LABEL, day, hashtags, moment_line, shorten
from content.stories.markdown import parse_body
from content.stories.views import KeyTerm, StoryDetail, StoryLink, StoryView

WITHDRAWN = "This story was withdrawn by the newsroom."
POPUP_MAX = 200  # characters: what a pop-up over the chat holds (Telegram's callback answer)
_BUTTON_DATA = 60  # bytes of a button's action and argument together (see Button)


def at_word(value: str, limit: int) -> str:
    """`value` in at most `limit` characters: cut at the end of a word, with an
    ellipsis, when it is longer (mid-word only when one word fills it all)."""
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if not value[limit - 1].isspace():
        head, space, _partial = cut.rpartition(" ")
        if space and head.strip():
            cut = head
    return cut.rstrip(" ,;:–—-") + "…"


def term_popup(name: str, definition: str) -> str:
    """A term's definition as a pop-up shows it: "TERM: DEFINITION", within POPUP_MAX."""
    return at_word(f"{name}: {definition}", POPUP_MAX)


def define_button(term: KeyTerm) -> Button:
    """The button "What is TERM?", naming the term by its key, or by its id
    where the key will not fit a button (a long or non-ASCII one)."""
    argument = term.key
    if not argument.isascii() or len(Action.DEFINE) + len(argument) > _BUTTON_DATA:
        argument = f"#{term.id}"
    return Button(f"What is {at_word(term.name, BUTTON_LABEL)}?", Action.DEFINE, argument)


def correction_line(story: StoryView, *, updated: bool = False) -> Paragraph | None:
    """The note of a corrected story ("Corrected <time> UTC: ..."); without a
    note, and only on a push edited in place, a plain "Updated <time> UTC",
    so a reader can see that the message changed."""
    if story.corrected_at is None:
        return None
    when = f"{day(story.corrected_at)}, {story.corrected_at:%H:%M} UTC"
    if story.correction:
        return para(Span(f"Corrected {when}: {story.correction}", italic=True))
    if updated:
        return para(Span(f"Updated {when}", italic=True))
    return None


def story_card(story: StoryView, *, updated: bool = False, defines: KeyTerm | None = None) -> Card:
    """A story in a list or a push; `defines`: the term whose one-line
    definition stands under the summary (a push's, never a list's)."""
    blocks: list[Block] = [para(story.summary)]
    if defines is not None:
        blocks.append(para(Span(defines.name, italic=True), Span(f": {defines.definition}")))
    blocks.append(para(Span("Read more", url=story.url)))
    line = correction_line(story, updated=updated)
    if line is not None:
        blocks.append(line)
    return Card(
        title=story.title,
        url=story.url,
        meta=(Span(f"{day(story.published_at)} · {story.category}"),),
        blocks=tuple(blocks),
        footer=hashtags(story.tags),
        accent=story.category,
    )


def story_list(title: str, stories: list[StoryView], more: Button | None = None, note: str | None = None) -> Message:
    blocks: list[Block] = [heading(title)]
    if note:
        blocks.append(para(Span(note, italic=True)))
    blocks.extend(story_card(s) for s in stories)
    rows = [(Button(f"Explain: {shorten(s.title, BUTTON_LABEL)}", Action.STORY, s.slug),) for s in stories]
    if more is not None:
        rows.append((more,))
    return Message(tuple(blocks), buttons=tuple(rows))


def story_detail(detail: StoryDetail) -> Message:
    story = detail.story
    body = parse_body(detail.body)
    blocks: list[Block] = []
    note = correction_line(story)
    if note is not None:  # a correction is the first thing a reader of the story sees
        blocks.append(note)
    blocks += [para(Span(story.summary, italic=True))] if not body.lead else list(body.lead)
    for section in body.sections:
        blocks.append(heading(section.title))
        blocks.extend(section.blocks)
    if detail.glossary:
        blocks.append(heading("Glossary"))
        blocks.append(BulletList(tuple((Span(g.name, bold=True), Span(f": {g.definition}")) for g in detail.glossary)))
    blocks.append(para(Span("Read the full article", url=story.url)))
    card = Card(
        title=story.title,
        url=story.url,
        meta=(Span(f"{moment_line(story.published_at)} · {story.category}"),),
        blocks=tuple(blocks),
        footer=hashtags(story.tags),
        accent=story.category,
    )
    return Message((card,), link_preview=True)


def story_links(links: tuple[StoryLink, ...] | list[StoryLink]) -> BulletList:
    return BulletList(
        tuple(
            (Span(link.title, bold=True), Span(f" ({day(link.published_at)}) "), Span(f"/story {link.slug}", code=True))
            for link in links
        )
    )


def search_results(title: str, stories: list[StoryView], note: str | None = None) -> Message:
    blocks: list[Block] = [heading(title)]
    if note:
        blocks.append(para(Span(note, italic=True)))
    items = []
    for s in stories:
        items.append(
            (
                Span(s.title, bold=True, url=s.url),
                Span(f" ({day(s.published_at)} · {s.category}) "),
                Span(f"/story {s.slug}", code=True),
                Span(f"\n{shorten(s.summary, 160)}"),
            )
        )
    blocks.append(BulletList(tuple(items)))
    buttons = tuple((Button(f"Explain: {shorten(s.title, BUTTON_LABEL)}", Action.STORY, s.slug),) for s in stories)
    return Message(tuple(blocks), buttons=buttons)


def push_message(story: StoryView, *, updated: bool = False) -> Message:
    """A story as pushed to the chats following one of its tags; `updated`:
    as edited into a push already delivered, in the same shape.

    The push explains itself: its first glossary term is defined under the
    summary, and a second button defines it again for whoever presses it."""
    rows: list[tuple[Button, ...]] = [(Button("Explain", Action.STORY, story.slug),)]
    if story.term is not None:
        rows.append((define_button(story.term),))
    return Message(
        (story_card(story, updated=updated, defines=story.term),),
        buttons=tuple(rows),
        link_preview=True,
        title=story.title,
        labels=story.tags,
    )


def withdrawal_notice(reason: str | None) -> Message:
    """What a withdrawn story's push shows where it cannot be deleted, and what
    /story answers for its slug: no buttons, nothing of the story."""
    spans = [Span(WITHDRAWN, italic=True)]
    if reason:
        spans.append(Span(f" {reason}"))
    return Message((para(*spans),))
