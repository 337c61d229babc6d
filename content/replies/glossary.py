"""A glossary term as a neutral message."""

from __future__ import annotations

from content.messages import Action, Block, Button, Card, Message, Span, heading, para
from content.replies.stories import story_links
from content.replies.text import BUTTON_LABEL, shorten
from content.stories.views import TermView


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
    rows = (
        tuple((Button(f"Read: {shorten(s.title, BUTTON_LABEL)}", Action.STORY, s.slug),) for s in term.stories[:3])
        if buttons
        else ()
    )
    return Message((Card(title=term.name, blocks=tuple(blocks), accent="glossary"),), buttons=rows)
