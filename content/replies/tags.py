"""The tag list as a neutral message."""

from __future__ import annotations

from content.keys import hashtag
from content.messages import Block, BulletList, Message, Span, heading, para
from content.replies.text import notice
from content.stories.views import TagView


def tag_list(tags: list[TagView], followed: set[int]) -> Message:
    if not tags:
        return notice("There are no tags yet: no story has been published.", private=False)
    items = []
    for tag in tags:
        line: list[Span] = [
            Span(hashtag(tag.name), bold=tag.id in followed),
            Span(f" {tag.name} · {tag.story_count} {'story' if tag.story_count == 1 else 'stories'}"),
        ]
        if tag.id in followed:
            line.append(Span(" ✓ following", italic=True))
        items.append(tuple(line))
    blocks: list[Block] = [heading("Tags"), BulletList(tuple(items))]
    blocks.append(
        para(
            "Follow one with ",
            Span("/subscribe TAG", code=True),
            "; see its stories with ",
            Span("/latest TAG", code=True),
            ".",
        )
    )
    return Message(tuple(blocks))
