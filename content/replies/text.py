"""Small pieces every answer is made of: dates, shortened text, hashtags, notices, suggestions."""

from __future__ import annotations

from datetime import datetime

from content.keys import hashtag
from content.messages import Message, Paragraph, Reply, Span, para
from content.stories.views import TagView

BUTTON_LABEL = 28


def day(moment: datetime) -> str:
    return f"{moment.day} {moment:%b %Y}"


def moment_line(moment: datetime) -> str:
    return f"{day(moment)}, {moment:%H:%M} UTC"


def shorten(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def quoted(value: str) -> str:
    return "“" + shorten(value, 60) + "”"


def tag_names(tags: list[TagView] | tuple[TagView, ...]) -> str:
    return ", ".join(hashtag(t.name) for t in tags)


def hashtags(names: tuple[str, ...] | list[str]) -> tuple[Span, ...]:
    return (Span(" ".join(hashtag(n) for n in names)),) if names else ()


def notice(*spans: Span | str, private: bool = True) -> Message:
    return Message((para(*spans),), private=private)


def answer(message: Message) -> Reply:
    return Reply((message,))


def refusal(*spans: Span | str) -> Reply:
    return answer(notice(*spans))


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


def paragraph_lines(*lines: tuple[Span, ...]) -> tuple[Paragraph, ...]:
    return tuple(Paragraph(line) for line in lines if line)
