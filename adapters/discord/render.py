"""Neutral messages rendered as Discord messages: content, embeds and buttons.

Discord markdown in every string is escaped, so nothing a user or a story
contains can format, link or ping; mentions are disabled on top of that
(allowed_mentions none) by the sender. Limits: content 2,000 characters; an
embed's title 256 and description 4,096; 10 embeds and 6,000 characters of
embeds per message; 5 rows of 5 buttons, custom ids of 100 characters.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import discord
from discord.utils import escape_markdown

from content.messages import (
    Block,
    BulletList,
    Card,
    CodeBlock,
    Heading,
    Message,
    Paragraph,
    Span,
    plain_text,
)
from content.replies.text import shorten

CONTENT_LIMIT = 2000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL = 6000
BUTTONS_MAX = 25
CUSTOM_ID_PREFIX = "xb"
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80

CATEGORY_COLOURS = {
    "ai": 0x5865F2,
    "tech": 0x2D9CDB,
    "policy": 0xEB5757,
    "business": 0xF2994A,
    "science": 0x27AE60,
    "glossary": 0x9B51E0,
}


def colour(accent: str | None) -> discord.Colour:
    if not accent:
        return discord.Colour(0x99AAB5)
    known = CATEGORY_COLOURS.get(accent.casefold())
    # Categories the table does not know still get a stable colour of their own.
    return discord.Colour(known if known is not None else zlib.crc32(accent.casefold().encode()) & 0xFFFFFF)


def _span(span: Span) -> str:
    if span.code:
        # Inside backticks nothing is markdown; only a backtick could end it early.
        text = span.text.replace("`", "ˋ")
        out = f"`{text}`" if text.strip() else text
    else:
        out = escape_markdown(span.text, ignore_links=False)
    if span.italic and out.strip():
        out = f"*{out}*"
    if span.bold and out.strip():
        out = f"**{out}**"
    if span.url:
        url = span.url.replace(")", "%29").replace(" ", "%20")
        out = f"[{out}]({url})"
    return out


def inline(spans: tuple[Span, ...]) -> str:
    return "".join(_span(s) for s in spans)


def block_text(block: Block) -> str:
    if isinstance(block, Heading):
        return f"**{inline(block.spans)}**" if block.spans else ""
    if isinstance(block, Paragraph):
        return inline(block.spans)
    if isinstance(block, BulletList):
        return "\n".join(f"• {inline(item)}" for item in block.items)
    if isinstance(block, CodeBlock):
        return "```\n" + block.text.replace("```", "ˋˋˋ") + "\n```"
    return ""


def _cut(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks or spaces when possible."""
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        pieces.append(text)
    return pieces


def _pack(parts: list[str], limit: int, joiner: str = "\n\n") -> list[str]:
    """Join parts into as few texts of at most `limit` characters as possible."""
    out: list[str] = []
    for part in parts:
        for piece in _cut(part, limit):
            if out and len(out[-1]) + len(joiner) + len(piece) <= limit:
                out[-1] += joiner + piece
            else:
                out.append(piece)
    return out


def _size(embed: discord.Embed) -> int:
    return len(embed)  # discord.py counts title, description, fields, footer and author


def card_embeds(card: Card) -> list[discord.Embed]:
    texts = [block_text(b) for b in card.blocks]
    footer = " · ".join(p for p in (plain_text(card.meta), plain_text(card.footer)) if p)[:FOOTER_LIMIT]
    # Title, description and footer of one embed must also fit the 6,000 of a message.
    room = min(DESCRIPTION_LIMIT, EMBED_TOTAL - min(len(card.title), TITLE_LIMIT) - len(footer))
    descriptions = _pack([t for t in texts if t], room) or [""]
    embeds = []
    for i, description in enumerate(descriptions):
        embed = discord.Embed(description=description or None, colour=colour(card.accent))
        if i == 0:
            embed.title = shorten(card.title, TITLE_LIMIT)
            if card.url:
                embed.url = card.url
        if i == len(descriptions) - 1 and footer:
            embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


@dataclass
class Outgoing:
    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (label, custom_id)


def custom_id(action: str, argument: str) -> str | None:
    value = f"{CUSTOM_ID_PREFIX}:{action}:{argument}"
    return value if len(value) <= CUSTOM_ID_LIMIT else None


def render(message: Message) -> list[Outgoing]:
    """One neutral message as Discord messages, each within Discord's limits."""
    out: list[Outgoing] = []
    loose: list[str] = []  # text outside cards goes in the content
    embeds: list[discord.Embed] = []
    for block in message.blocks:
        if isinstance(block, Card):
            embeds.extend(card_embeds(block))
        else:
            text = block_text(block)
            if text:
                loose.append(text)
    for text in _pack(loose, CONTENT_LIMIT):
        out.append(Outgoing(content=text))
    for embed in embeds:
        last = out[-1] if out else None
        if (
            last is None
            or len(last.embeds) >= EMBEDS_PER_MESSAGE
            or sum(_size(e) for e in last.embeds) + _size(embed) > EMBED_TOTAL
        ):
            last = Outgoing()
            out.append(last)
        last.embeds.append(embed)
    if not out:
        out.append(Outgoing(content="…"))
    buttons: list[tuple[str, str]] = []
    for row in message.buttons:
        for button in row:
            cid = custom_id(button.action, button.argument)
            if cid is not None and len(buttons) < BUTTONS_MAX:
                label = shorten(button.label, LABEL_LIMIT)
                buttons.append((label, cid))
    out[-1].buttons = buttons
    return out
