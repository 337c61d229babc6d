"""A story body (Markdown) turned into the neutral message model.

Raw HTML is off: `<b>` in a story is shown as the four characters it is, by
every renderer, because it never becomes anything but plain text here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token

from content.messages import (
    Block,
    BulletList,
    CodeBlock,
    Heading,
    Inline,
    Paragraph,
    Span,
)


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Body:
    lead: tuple[Block, ...]
    sections: tuple[Section, ...]


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False})


def _inline(token: Token) -> Inline:
    spans: list[Span] = []
    bold = italic = 0
    links: list[str | None] = []
    for child in token.children or ():
        kind = child.type
        if kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold = max(0, bold - 1)
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic = max(0, italic - 1)
        elif kind == "link_open":
            href = str(child.attrs.get("href", ""))
            links.append(href if href.startswith(("http://", "https://")) else None)
        elif kind == "link_close":
            if links:
                links.pop()
        elif kind in ("text", "html_inline", "code_inline", "image", "softbreak", "hardbreak"):
            value = {"softbreak": " ", "hardbreak": "\n"}.get(kind, child.content)
            if not value:
                continue
            url = links[-1] if links else None
            span = Span(value, bold=bold > 0, italic=italic > 0, code=kind == "code_inline", url=url)
            if spans and _same_style(spans[-1], span):
                spans[-1] = Span(spans[-1].text + span.text, span.bold, span.italic, span.code, span.url)
            else:
                spans.append(span)
    return tuple(spans)


def _same_style(a: Span, b: Span) -> bool:
    return (a.bold, a.italic, a.code, a.url) == (b.bold, b.italic, b.code, b.url)


def parse_body(markdown: str) -> Body:
    tokens = _parser().parse(markdown)
    lead: list[Block] = []
    sections: list[tuple[str, list[Block]]] = []

    def out() -> list[Block]:
        return sections[-1][1] if sections else lead

    list_depth = 0
    items: list[Inline] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        kind = token.type
        if kind == "heading_open":
            inline = _inline(tokens[i + 1])
            title = "".join(s.text for s in inline).strip()
            if token.tag in ("h1", "h2"):
                sections.append((title, []))
            elif inline:
                out().append(
                    Heading(tuple(Span(s.text, bold=True, italic=s.italic, code=s.code, url=s.url) for s in inline))
                )
            i += 3
            continue
        if kind in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
            if list_depth == 0 and items:
                out().append(BulletList(tuple(items)))
                items = []
        elif kind == "inline":
            inline = _inline(token)
            if inline:
                if list_depth:
                    items.append(inline)
                else:
                    out().append(Paragraph(inline))
        elif kind in ("fence", "code_block"):
            code = token.content.rstrip("\n")
            if code:
                out().append(CodeBlock(code))
        i += 1
    return Body(tuple(lead), tuple(Section(title, tuple(blocks)) for title, blocks in sections))
