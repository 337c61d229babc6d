"""The platform-neutral message model every reply is made of.

Adapters render it (Telegram HTML, Discord embeds, plain text); the core never
produces markup strings, so nothing a user or a story contains can turn into
markup by accident: every string here is plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Span:
    """A run of plain text with optional styling; `url` makes it a link."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    url: str | None = None


Inline = tuple[Span, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    spans: Inline


@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: Inline


@dataclass(frozen=True, slots=True)
class BulletList:
    items: tuple[Inline, ...]


@dataclass(frozen=True, slots=True)
class CodeBlock:
    text: str


@dataclass(frozen=True, slots=True)
class Card:
    """One story or one glossary entry, shown as a unit.

    Renderers with a native notion of a card (Discord embeds) map it onto it;
    the others print the title, the meta line, the blocks and the footer.
    `accent` names a colour family (the story's category) for those that can
    show one.
    """

    title: str
    url: str | None = None
    meta: Inline = ()
    blocks: tuple[Block, ...] = ()
    footer: Inline = ()
    accent: str | None = None


Block = Heading | Paragraph | BulletList | CodeBlock | Card


class Action(StrEnum):
    """What a button does when pressed."""

    STORY = "story"  # open one story; the argument is its slug
    MORE = "more"  # the next page of a list; the argument is "OFFSET:TAGKEY"
    DEFINE = "define"  # one glossary term, to the presser alone; the argument is its key (or "#ID")
    SETTING = "setting"  # change one of the chat's settings; the argument names the change ("digest:off")


@dataclass(frozen=True, slots=True)
class Button:
    """An action the user can take with one tap.

    `action` and `argument` are handed back to the core unchanged
    (`Commands.press`); adapters encode them into their platform's callback
    data, which is why both are kept short (ASCII, at most 60 bytes together).
    """

    label: str
    action: str
    argument: str = ""


@dataclass(frozen=True, slots=True)
class Message:
    blocks: tuple[Block, ...]
    buttons: tuple[tuple[Button, ...], ...] = ()
    link_preview: bool = False
    # True for answers meant for the asking user only (refusals, errors):
    # platforms that can show a reply to one person (Discord) do so.
    private: bool = False
    # True for the next page of a list: it takes the place of the message
    # whose button asked for it, where the platform can edit that message.
    replaces_pressed: bool = False
    # What a place that takes each push as a post of its own needs: the post's
    # title, and the labels it may be filed under (the story's tags, by name).
    title: str | None = None
    labels: tuple[str, ...] = ()
    # The answer in a few words (at most 200 characters), for platforms that
    # can show the presser of a button a pop-up instead of a message (Telegram).
    popup: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    messages: tuple[Message, ...] = field(default_factory=tuple)


def text(value: str, **style: object) -> Span:
    return Span(value, **style)  # type: ignore[arg-type]


def para(*spans: Span | str) -> Paragraph:
    return Paragraph(tuple(s if isinstance(s, Span) else Span(s) for s in spans))


def heading(value: str) -> Heading:
    return Heading((Span(value, bold=True),))


def plain_text(spans: Inline) -> str:
    return "".join(s.text for s in spans)
