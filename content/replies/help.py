"""The help text as a neutral message."""

from __future__ import annotations

from collections.abc import Sequence

from content.messages import Block, BulletList, Heading, Message, Span, heading, para


def help_message(commands: Sequence[tuple[str, str]], intro: bool) -> Message:
    """The commands, each a (usage line, description) pair such as ("/story SLUG", "One story's full explainer")."""
    blocks: list[Block] = []
    if intro:
        blocks.append(Heading((Span("Explainer bot", bold=True),)))
        blocks.append(
            para(
                "The latest AI and tech stories, simplified for humans: each one reads in about 30 seconds. Follow a tag and new stories on it arrive here as they are published."
            )
        )
    else:
        blocks.append(heading("Commands"))
    # A description is a menu's sentence; after the colon it reads on in lower case.
    items = tuple((Span(usage, code=True), Span(f": {text[:1].lower()}{text[1:]}")) for usage, text in commands)
    blocks.append(BulletList(items))
    blocks.append(para("Try ", Span("/latest", code=True), " or ", Span("/explain distillation", code=True), "."))
    return Message(tuple(blocks))
