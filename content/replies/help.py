"""The help text as a neutral message."""
from __future__ import annotations

from content.messages import Block, BulletList, Heading, Message, Span, heading, para


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
