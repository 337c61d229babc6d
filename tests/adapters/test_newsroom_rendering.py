"""The pieces of the newsroom page that draw: Discord's markdown shown as
Discord shows it, safely, and the chart of sends per second."""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from adapters.discord.markdown_html import discord_markdown_html
from adapters.discord.render import render
from adapters.http.web.chart import sends_chart_svg
from content.messages import Card, Message, Paragraph, Span

SVG = "{http://www.w3.org/2000/svg}"


def description(*spans: Span) -> str:
    (out,) = render(Message((Card("T", blocks=(Paragraph(spans),)),)))
    return out.embeds[0].description or ""


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def test_styles_and_links_become_tags_and_the_rest_stays_text() -> None:
    shown = discord_markdown_html(
        description(
            Span("bold", bold=True),
            Span(" *not bold* "),
            Span("it", italic=True),
            Span(" <script>alert(1)</script> "),
            Span("link", url="https://news.test/a?b=1&c=2"),
            Span(" a_b `c` "),
            Span("x*y", code=True),
        )
    )
    assert "<strong>bold</strong>" in shown and "<em>it</em>" in shown
    assert '<a href="https://news.test/a?b=1&amp;c=2" rel="noopener noreferrer" target="_blank">link</a>' in shown
    assert "<code>x*y</code>" in shown
    assert "<script" not in shown and "&lt;script&gt;" in shown
    assert text_of(shown) == "bold *not bold* it <script>alert(1)</script> link a_b `c` x*y"


def test_only_web_links_become_links() -> None:
    shown = discord_markdown_html("[x](javascript:alert(1)) [y](https://ok.test)")
    assert shown.count("<a ") == 1 and 'href="https://ok.test"' in shown
    assert "javascript:alert(1)" in text_of(shown)


@given(st.lists(st.tuples(st.text(max_size=30), st.booleans(), st.booleans()), max_size=6))
def test_any_text_shows_as_itself(parts: list[tuple[str, bool, bool]]) -> None:
    spans = tuple(Span(text, bold=bold, italic=italic) for text, bold, italic in parts)
    shown = discord_markdown_html(description(*spans))
    assert "<script" not in shown.lower()
    expected = "".join(text for text, _b, _i in parts).strip()
    assert text_of(shown).split() == expected.split()


def test_the_chart_has_a_bar_per_second_scaled_to_the_peak() -> None:
    start = datetime(2026, 12, 2, 18, 0, 0, tzinfo=UTC)
    sent = [start] * 30 + [start + timedelta(seconds=1)] * 15 + [start + timedelta(seconds=4)] * 3
    svg = sends_chart_svg(sent)
    root = ET.fromstring(svg)
    bars = root.findall(f"{SVG}rect")
    assert [b.find(f"{SVG}title").text for b in bars] == ["30", "15", "3"]  # type: ignore[union-attr]
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[0] == 2 * heights[1] == 10 * heights[2]
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == "Sends per second: 48 in 5 s, peak 30 per second"
    assert "style" not in svg and "<script" not in svg


def test_a_long_fan_out_is_bucketed_and_nothing_sent_says_so() -> None:
    start = datetime(2026, 12, 2, 18, 0, 0, tzinfo=UTC)
    svg = sends_chart_svg([start + timedelta(seconds=s) for s in range(0, 7200, 7)])
    root = ET.fromstring(svg)
    assert len(root.findall(f"{SVG}rect")) <= 120
    assert "per minute" in (root.find(f"{SVG}title").text or "")  # type: ignore[union-attr]
    empty = ET.fromstring(sends_chart_svg([]))
    assert empty.find(f"{SVG}title").text == "Nothing sent yet"  # type: ignore[union-attr]
