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
from content.stories.views import StoryDetail, StoryLink, StoryView

WITHDRAWN = "This story was withdrawn by the newsroom."


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


def story_card(story: StoryView, *, updated: bool = False) -> Card:
    blocks: list[Block] = [para(story.summary), para(Span("Read more", url=story.url))]
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
    as edited into a push already delivered."""
    return Message(
        (story_card(story, updated=updated),),
        buttons=((Button("Explain", Action.STORY, story.slug),),),
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
