"""Views turned into neutral messages: how every answer looks, on every platform."""
from __future__ import annotations

from datetime import datetime

from content.keys import hashtag
from content.markdown import parse_body
from content.messages import (
    Block,
    BulletList,
    Button,
    Card,
    Heading,
    Message,
    Paragraph,
    Span,
    heading,
    para,
)
from content.views import StoryDetail, StoryLink, StoryView, TagView, TermView

BUTTON_LABEL = 28


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def moment_line(moment: datetime) -> str:
    return f"{day(moment)}, {moment:%H:%M} UTC"


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def hashtags(names: tuple[str, ...] | list[str]) -> tuple[Span, ...]:
    return (Span(" ".join(hashtag(n) for n in names)),) if names else ()


def notice(*spans: Span | str, private: bool = True) -> Message:
    return Message((para(*spans),), private=private)


def story_card(story: StoryView) -> Card:
    return Card(
        title=story.title,
        url=story.url,
        meta=(Span(f"{day(story.published_at)} · {story.category}"),),
        blocks=(para(story.summary), para(Span("Read more", url=story.url))),
        footer=hashtags(story.tags),
        accent=story.category,
    )


def story_list(title: str, stories: list[StoryView], more: Button | None = None, note: str | None = None) -> Message:
    blocks: list[Block] = [heading(title)]
    if note:
        blocks.append(para(Span(note, italic=True)))
    blocks.extend(story_card(s) for s in stories)
    rows = [(Button(f"Explain: {shorten(s.title, BUTTON_LABEL)}", "story", s.slug),) for s in stories]
    if more is not None:
        rows.append((more,))
    return Message(tuple(blocks), buttons=tuple(rows))


def story_detail(detail: StoryDetail) -> Message:
    story = detail.story
    body = parse_body(detail.body)
    blocks: list[Block] = [para(Span(story.summary, italic=True))] if not body.lead else list(body.lead)
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
        tuple((Span(link.title, bold=True), Span(f" ({day(link.published_at)}) "), Span(f"/story {link.slug}", code=True)) for link in links)
    )


def term_entry(term: TermView, corrected_from: str | None = None, *, buttons: bool = True) -> Message:
    blocks: list[Block] = []
    if corrected_from is not None:
        blocks.append(para(Span(f"Showing “{term.name}” for “{corrected_from}”.", italic=True)))
    blocks.append(para(term.definition))
    if term.aliases:
        blocks.append(para(Span("Also called: ", italic=True), Span(", ".join(term.aliases), italic=True)))
    if term.stories:
        blocks.append(heading("Explained in"))
        blocks.append(story_links(term.stories))
    rows = tuple((Button(f"Read: {shorten(s.title, BUTTON_LABEL)}", "story", s.slug),) for s in term.stories[:3]) if buttons else ()
    return Message((Card(title=term.name, blocks=tuple(blocks), accent="glossary"),), buttons=rows)


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
    buttons = tuple((Button(f"Explain: {shorten(s.title, BUTTON_LABEL)}", "story", s.slug),) for s in stories)
    return Message(tuple(blocks), buttons=buttons)


def tag_list(tags: list[TagView], followed: set[int]) -> Message:
    if not tags:
        return notice("There are no tags yet: no story has been published.", private=False)
    items = []
    for tag in tags:
        line: list[Span] = [Span(hashtag(tag.name), bold=tag.id in followed), Span(f" {tag.name} · {tag.story_count} {'story' if tag.story_count == 1 else 'stories'}")]
        if tag.id in followed:
            line.append(Span(" ✓ following", italic=True))
        items.append(tuple(line))
    blocks: list[Block] = [heading("Tags"), BulletList(tuple(items))]
    blocks.append(para("Follow one with ", Span("/subscribe TAG", code=True), "; see its stories with ", Span("/latest TAG", code=True), "."))
    return Message(tuple(blocks))


def suggestion_spans(prefix: str, names: list[str]) -> tuple[Span, ...]:
    if not names:
        return ()
    spans: list[Span] = [Span(prefix)]
    for i, name in enumerate(names):
        if i:
            spans.append(Span(", " if i < len(names) - 1 else " or "))
        spans.append(Span(name, bold=True))
    spans.append(Span("?"))
    return tuple(spans)


def help_message(intro: bool) -> Message:
    commands = [
        ("/latest [N] [TAG]", "the newest stories, optionally on one tag"),
        ("/story SLUG", "one story's full explainer"),
        ("/explain TERM", "a term in one sentence, and the stories that explain it"),
        ("/search WORDS", "find stories"),
        ("/tags", "the tags, and which ones this chat follows"),
        ("/subscribe TAG[, TAG...]", "get new stories on these tags here"),
        ("/unsubscribe TAG[, TAG...] | all", "stop them"),
        ("/subscriptions", "what this chat follows"),
        ("/help", "this list"),
    ]
    blocks: list[Block] = []
    if intro:
        blocks.append(Heading((Span("Explainer bot", bold=True),)))
        blocks.append(para("The latest AI and tech stories, simplified for humans: each one reads in about 30 seconds. Follow a tag and new stories on it arrive here as they are published."))
    else:
        blocks.append(heading("Commands"))
    blocks.append(BulletList(tuple((Span(c, code=True), Span(f": {d}")) for c, d in commands)))
    blocks.append(para("Try ", Span("/latest", code=True), " or ", Span("/explain distillation", code=True), "."))
    return Message(tuple(blocks))


def paragraph_lines(*lines: tuple[Span, ...]) -> tuple[Paragraph, ...]:
    return tuple(Paragraph(line) for line in lines if line)


def push_message(story: StoryView) -> Message:
    """A new story, as pushed to the chats following one of its tags."""
    return Message(
        (story_card(story),),
        buttons=((Button("Explain", "story", story.slug),),),
        link_preview=True,
    )
