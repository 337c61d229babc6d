"""Neutral messages rendered as Telegram HTML, split to fit 4,096 characters.

Every string from users and stories is escaped; each span opens and closes its
own tags, so a split between spans (or inside one span's text) can never
leave a tag open. Telegram counts length in UTF-16 code units of the text
after parsing, so that is what is counted here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from content.messages import (
    Block,
    BulletList,
    Card,
    CodeBlock,
    Heading,
    Message,
    Paragraph,
    Span,
)

LIMIT = 4096
CALLBACK_LIMIT = 64
_BREAK = Span("\n")
_GAP = Span("\n\n")


def utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le")) // 2


def span_html(span: Span) -> str:
    out = html.escape(span.text, quote=False)
    if span.code:
        out = f"<code>{out}</code>"
    if span.italic:
        out = f"<i>{out}</i>"
    if span.bold:
        out = f"<b>{out}</b>"
    if span.url:
        out = f'<a href="{html.escape(span.url, quote=True)}">{out}</a>'
    return out


def _styled(spans: tuple[Span, ...], **style: bool) -> list[Span]:
    return [
        Span(s.text, s.bold or style.get("bold", False), s.italic or style.get("italic", False), s.code, s.url)
        for s in spans
    ]


def _units(block: Block) -> list[list[Span]]:
    """A block as units that stay together when they can (one per line group)."""
    if isinstance(block, Heading):
        return [_styled(block.spans, bold=True)]
    if isinstance(block, Paragraph):
        return [list(block.spans)]
    if isinstance(block, BulletList):
        unit: list[Span] = []
        for i, item in enumerate(block.items):
            if i:
                unit.append(_BREAK)
            unit.append(Span("• "))
            unit.extend(item)
        return [unit]
    if isinstance(block, CodeBlock):
        return [[Span(block.text, code=True)]]
    if isinstance(block, Card):
        head: list[Span] = [Span(block.title, bold=True, url=block.url)]
        if block.meta:
            head.append(_BREAK)
            head.extend(_styled(block.meta, italic=True))
        units = [head]
        for inner in block.blocks:
            units.extend(_units(inner))
        if block.footer:
            units.append(list(block.footer))
        return units
    return []


def _pieces(span: Span, room: int) -> list[Span]:
    """Cut one span's text into pieces of at most `room` units, at spaces when possible."""
    pieces: list[Span] = []
    text = span.text
    while utf16_len(text) > room:
        cut = room
        while utf16_len(text[:cut]) > room:
            cut -= 1
        space = text.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        pieces.append(Span(text[:cut], span.bold, span.italic, span.code, span.url))
        text = text[cut:]
    if text:
        pieces.append(Span(text, span.bold, span.italic, span.code, span.url))
    return pieces


def render_html(message: Message, limit: int = LIMIT) -> list[str]:
    """The message as one or more HTML texts, each within `limit` after parsing."""
    chunks: list[list[Span]] = [[]]
    used = 0

    def add(unit: list[Span]) -> None:
        nonlocal used
        size = sum(utf16_len(s.text) for s in unit)
        gap = utf16_len(_GAP.text) if chunks[-1] else 0
        if used + gap + size <= limit:
            if gap:
                chunks[-1].append(_GAP)
            chunks[-1].extend(unit)
            used += gap + size
            return
        if chunks[-1]:
            chunks.append([])
            used = 0
        if size <= limit:
            chunks[-1].extend(unit)
            used = size
            return
        for span in unit:  # one unit longer than a whole message
            for piece in _pieces(span, limit):
                length = utf16_len(piece.text)
                if used + length > limit:
                    chunks.append([])
                    used = 0
                chunks[-1].append(piece)
                used += length

    for block in message.blocks:
        for unit in _units(block):
            if unit:
                add(unit)
    texts = ["".join(span_html(s) for s in chunk).strip() for chunk in chunks]
    return [t for t in texts if t] or ["…"]


def callback_data(action: str, argument: str) -> str | None:
    data = f"{action}:{argument}"
    return data if len(data.encode()) <= CALLBACK_LIMIT else None


def parse_callback(data: str | None) -> tuple[str, str]:
    action, _, argument = (data or "").partition(":")
    return action, argument


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    rows = []
    for row in message.buttons:
        buttons = [
            InlineKeyboardButton(b.label, callback_data=data)
            for b in row
            if (data := callback_data(b.action, b.argument)) is not None
        ]
        if buttons:
            rows.append(buttons)
    return InlineKeyboardMarkup(rows) if rows else None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What one neutral message becomes on Telegram: texts to send, in order."""

    texts: list[str]
    markup: InlineKeyboardMarkup | None
    preview: bool


def outgoing(message: Message) -> Outgoing:
    return Outgoing(render_html(message), keyboard(message), message.link_preview)
