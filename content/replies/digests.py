"""A digest as one neutral message: a heading with the chat's local date,
then a line per story (headline with its link, a line of summary, its
hashtags) and an Explain button for each. No definitions: a digest is a
list, the push of one story is where a term is explained."""

from __future__ import annotations

from datetime import date

from content.keys import hashtag
from content.messages import Action, Block, BulletList, Button, Message, Span, heading, para
from content.replies.text import BUTTON_LABEL, shorten
from content.stories.views import StoryView

DIGEST_MAX = 10  # stories shown; past these, a count and a hint
SUMMARY_LINE = 140  # characters of summary per story


def digest_message(local_day: date, stories: list[StoryView], total: int) -> Message:
    """`stories` newest first, at most DIGEST_MAX; `total` all that were due."""
    items = []
    for story in stories:
        tags = " ".join(hashtag(t) for t in story.tags)
        items.append(
            (
                Span(story.title, bold=True, url=story.url),
                Span(f"\n{shorten(story.summary, SUMMARY_LINE)}"),
                *((Span(f"\n{tags}"),) if tags else ()),
            )
        )
    blocks: list[Block] = [
        heading(f"Your digest · {local_day:%a} {local_day.day} {local_day:%b %Y}"),
        BulletList(tuple(items)),
    ]
    if total > len(stories):
        blocks.append(para(Span(f"…and {total - len(stories)} more: "), Span("/latest", code=True), " lists them."))
    buttons = tuple((Button(f"Explain: {shorten(s.title, BUTTON_LABEL)}", Action.STORY, s.slug),) for s in stories)
    return Message(tuple(blocks), buttons=buttons)
