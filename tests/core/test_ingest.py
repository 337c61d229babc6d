"""Feed bodies read into story drafts: RSS 0.9x/1.0/2.0 and Atom, and what a
hostile feed may try."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from content.stories.drafts import SUMMARY_MAX_WORDS
from content.stories.ingest import (
    BODY_MAX,
    TAGS_MAX,
    TITLE_MAX,
    FeedError,
    ParsedFeed,
    _feedparser,
    parse_feed,
)
from content.stories.markdown import parse_body

FEEDS = Path(__file__).resolve().parents[1] / "feeds"
FETCHED = datetime(2026, 5, 6, 12, 0, tzinfo=UTC)


def read(name: str, **options: object) -> ParsedFeed:
    return parse_feed((FEEDS / name).read_bytes(), fetched_at=FETCHED, **options)  # type: ignore[arg-type]


def rss(*items: str, channel: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel><title>Wire</title>'
        f"<link>https://wire.example/</link><description>d</description>{channel}{''.join(items)}</channel></rss>"
    ).encode()


def item(title: str = "A headline", *, extra: str = "", tags: str = "<category>AI</category>") -> str:
    return f"<item><title>{title}</title><description>One sentence.</description>{tags}{extra}</item>"


def parse(body: bytes, **options: object) -> ParsedFeed:
    return parse_feed(body, fetched_at=FETCHED, **options)  # type: ignore[arg-type]


def body_text(markdown: str) -> list[str]:
    """What a reader sees of a body, block by block, through the story renderer."""
    parsed = parse_body(markdown)
    blocks = list(parsed.lead) + [b for s in parsed.sections for b in s.blocks]
    texts = [s.title for s in parsed.sections]
    for block in blocks:
        if hasattr(block, "spans"):
            texts.append("".join(span.text for span in block.spans))
        elif hasattr(block, "items"):
            texts.extend("".join(span.text for span in entry) for entry in block.items)
    return texts


# ----- the three formats -----------------------------------------------------------


def test_rss2_item_with_guid_categories_html_description_and_content() -> None:
    feed = read("rss2.xml", feed_tags=("AI", "small-models"))
    assert feed.title == "Pocket Lab & Friends"
    assert feed.ttl_seconds == 45 * 60
    assert feed.problems == ()
    (entry,) = feed.entries
    draft = entry.draft
    assert entry.key == "lab-post-0042"
    assert draft.title == "Tiny models learn to count"
    assert draft.slug == "tiny-models-learn-to-count"
    assert draft.summary == "A 3-million-parameter model learned to count objects. It still fails on crowds & queues."
    assert draft.url == "https://lab.example/posts/tiny-models-count"
    assert draft.published_at == datetime(2026, 5, 5, 7, 15, tzinfo=UTC)
    # "small-models" is the same key as the category "Small Models": the first spelling is kept.
    assert draft.tags == ("Small Models", "counting", "AI")
    assert draft.category == "Small Models"
    assert draft.terms == ()


def test_rss2_content_becomes_markdown_with_heading_list_link_and_no_script() -> None:
    body = read("rss2.xml", feed_tags=("AI",)).entries[0].draft.body
    assert body == (
        "The lab trained a **very small** model on toy scenes.\n\n"
        "## What changed\n\n"
        "Two things, read more [in the paper](https://lab.example/paper):\n\n"
        "- more data\n"
        "- a smaller vocabulary\n\n"
        "Counting \\*stars\\* is still hard."
    )
    assert "alert" not in body
    parsed = parse_body(body)
    assert parsed.sections[0].title == "What changed"
    assert "Counting *stars* is still hard." in body_text(body)


def test_atom_entry_with_id_updated_and_html_content() -> None:
    feed = read("atom.xml", category="Chips")
    assert feed.title == "Chip Notes"
    assert feed.ttl_seconds is None
    (entry,) = feed.entries
    assert entry.key == "tag:chips.example,2026:entry-7"
    assert entry.draft.title == "Wafer-scale & you"
    assert entry.draft.published_at == datetime(2026, 5, 4, 15, 30, tzinfo=UTC)
    assert entry.draft.url == "https://chips.example/entries/7"
    assert entry.draft.category == "Chips"
    assert entry.draft.tags == ("Hardware",)
    assert (
        entry.draft.body == "A wafer-scale chip is one chip the size of a whole wafer.\n\n1. fewer links\n2. more heat"
    )
    # No summary in the entry: its content, as plain text, with its blocks apart.
    assert entry.draft.summary == "A wafer-scale chip is one chip the size of a whole wafer. fewer links more heat"


def test_rss1_rdf_item() -> None:
    (entry,) = read("rss1.rdf").entries
    assert entry.key == "https://old.example/n/1"
    assert entry.draft.title == "Robots sort parcels faster"
    assert entry.draft.tags == ("Robotics",)
    assert entry.draft.category == "Robotics"
    assert entry.draft.published_at == datetime(2026, 4, 1, 8, 0, tzinfo=UTC)
    assert entry.draft.summary.startswith("A warehouse robot now sorts 900 parcels an hour.")


def test_rss091_with_its_doctype_reads() -> None:
    body = (
        b'<?xml version="1.0"?>\n<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n<rss version="0.91"><channel><title>Old</title>'
        b"<link>https://o.example/</link><description>d</description><language>en</language>"
        b"<item><title>Ninety-one</title><link>https://o.example/91</link><description>Still here.</description></item>"
        b"</channel></rss>"
    )
    (entry,) = parse(body, feed_tags=("Archive",)).entries
    assert entry.draft.title == "Ninety-one"
    assert entry.key == "https://o.example/91"


# ----- keys ---------------------------------------------------------------------------


def test_key_falls_back_from_guid_to_link_to_a_hash_of_title_and_date() -> None:
    date = "<pubDate>Mon, 04 May 2026 10:00:00 GMT</pubDate>"
    feed = parse(
        rss(
            item("With guid", extra="<guid>g-1</guid><link>https://wire.example/1</link>"),
            item("With link", extra="<link>https://wire.example/2</link>"),
            item("Neither", extra=date),
        )
    )
    keys = [e.key for e in feed.entries]
    expected = hashlib.sha256(b"Neither\nMon, 04 May 2026 10:00:00 GMT").hexdigest()
    assert keys == ["g-1", "https://wire.example/2", f"sha256:{expected}"]


def test_a_long_guid_is_hashed_to_fit() -> None:
    guid = "x" * 2000
    (entry,) = parse(rss(item(extra=f"<guid>{guid}</guid>"))).entries
    assert entry.key == "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    assert len(entry.key) <= 500


# ----- summary ------------------------------------------------------------------------


def test_summary_is_cut_at_a_sentence_end_within_the_word_limit() -> None:
    sentence = "This sentence has exactly eight words in it. "
    description = sentence * 40  # 320 words
    (entry,) = parse(
        rss(f"<item><title>Long</title><description>{description}</description><category>AI</category></item>")
    ).entries
    summary = entry.draft.summary
    assert summary.endswith("in it.")
    assert len(summary.split()) == (SUMMARY_MAX_WORDS // 8) * 8
    assert len(summary.split()) <= SUMMARY_MAX_WORDS


def test_summary_without_a_sentence_end_is_cut_at_a_word() -> None:
    description = " ".join(f"word{i}" for i in range(300))
    (entry,) = parse(
        rss(f"<item><title>Run-on</title><description>{description}</description><category>AI</category></item>")
    ).entries
    words = entry.draft.summary.split()
    assert len(words) == SUMMARY_MAX_WORDS
    assert words[-1] == f"word{SUMMARY_MAX_WORDS - 1}…"


def test_summary_stays_within_its_character_limit() -> None:
    description = ("Supercalifragilisticexpialidocious " * 100).strip()
    (entry,) = parse(
        rss(f"<item><title>Wordy</title><description>{description}</description><category>AI</category></item>")
    ).entries
    assert len(entry.draft.summary) <= 1000
    assert entry.draft.summary.endswith("…")


def test_summary_html_is_stripped_safely() -> None:
    description = "&lt;p&gt;Hello &lt;script&gt;steal()&lt;/script&gt;&lt;b&gt;world&lt;/b&gt;.&lt;/p&gt;&lt;img src=x onerror=y&gt;"
    (entry,) = parse(
        rss(f"<item><title>T</title><description>{description}</description><category>AI</category></item>")
    ).entries
    assert entry.draft.summary == "Hello world."


# ----- body ---------------------------------------------------------------------------


def test_body_markdown_escapes_text_and_keeps_only_web_links() -> None:
    content = (
        "<h1>Top</h1><h4>Minor</h4>"
        "<p>Use _underscores_, [brackets] and `ticks`; C# &amp; &lt;b&gt;tags&lt;/b&gt; show as typed.</p>"
        "<p>1. Not a list</p><p>- nor this</p><p># nor a heading</p>"
        '<p><a href="javascript:alert(1)">bad</a> <a href="/relative">rel</a> <a href="https://x.example/a b">ok</a></p>'
        "<p>Wow!<a href='https://x.example/i'>not an image</a></p>"
        "<iframe src='https://evil.example'>fallback</iframe><style>p{}</style><img src='https://x.example/i.png'>"
        "<p><em>slanted</em> and <b> padded </b>words</p>"
    )
    body_xml = f"<content:encoded><![CDATA[{content}]]></content:encoded>"
    doc = rss(item(extra=body_xml)).replace(
        b'<rss version="2.0">', b'<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
    )
    body = parse(doc).entries[0].draft.body
    assert "## Top" in body
    assert "### Minor" in body
    assert "javascript" not in body and "fallback" not in body and "p{}" not in body and "i.png" not in body
    assert "[ok](https://x.example/a%20b)" in body
    assert "*slanted* and **padded** words" in body
    shown = body_text(body)
    assert "Use _underscores_, [brackets] and `ticks`; C# & <b>tags</b> show as typed." in shown
    assert "1. Not a list" in shown
    assert "- nor this" in shown
    assert "# nor a heading" in shown
    assert "bad rel ok" in shown
    assert "Wow!not an image" in shown
    assert parse_body(body).sections[0].title == "Top"


def test_a_body_over_the_limit_is_cut_with_a_problem() -> None:
    paragraph = "<p>" + "Many words here. " * 20 + "</p>"
    content = paragraph * 400  # about 136,000 characters of text
    doc = rss(
        f"<item><title>Huge</title><description><![CDATA[{content}]]></description><category>AI</category></item>"
    )
    feed = parse(doc)
    (entry,) = feed.entries
    assert len(entry.draft.body) <= BODY_MAX
    assert entry.draft.body.endswith("…")
    assert feed.problems == (f"item 1 (“Huge”): body: cut to {BODY_MAX} characters",)


# ----- dates -------------------------------------------------------------------------


def test_a_date_in_year_9999_is_the_fetch_time_with_a_problem() -> None:
    feed = parse(rss(item("Far future", extra="<pubDate>Fri, 31 Dec 9999 23:59:59 GMT</pubDate>")))
    assert feed.entries[0].draft.published_at == FETCHED
    assert len(feed.problems) == 1
    assert feed.problems[0].startswith("item 1 (“Far future”): published_at: 9999-12-31 is in the future")


def test_a_date_hours_ahead_is_kept() -> None:
    ahead = (FETCHED + timedelta(hours=3)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    feed = parse(rss(item(extra=f"<pubDate>{ahead}</pubDate>")))
    assert feed.entries[0].draft.published_at == FETCHED + timedelta(hours=3)
    assert feed.problems == ()


@pytest.mark.parametrize("date", ["", "<pubDate>not a date at all</pubDate>"])
def test_no_date_or_an_unreadable_one_is_the_fetch_time(date: str) -> None:
    feed = parse(rss(item(extra=date)))
    assert feed.entries[0].draft.published_at == FETCHED
    assert feed.problems == ()


# ----- tags and category --------------------------------------------------------------


def test_an_item_without_tags_is_refused_and_the_others_are_kept() -> None:
    feed = parse(rss(item("Tagged"), item("Bare", tags=""), item("Also tagged")))
    assert [e.draft.title for e in feed.entries] == ["Tagged", "Also tagged"]
    assert feed.problems == ("item 2 (“Bare”): tags: no tags: give the feed tags",)


def test_feed_tags_merge_with_categories_by_key() -> None:
    tags = "<category>OpenAI</category><category>#elon musk</category><category>Elon-Musk</category>"
    (entry,) = parse(rss(item(tags=tags)), feed_tags=("openai", "ElonMusk", "Chips")).entries
    assert entry.draft.tags == ("OpenAI", "elon musk", "Chips")


def test_feed_tags_are_never_crowded_out_by_many_categories() -> None:
    tags = "".join(f"<category>Topic {i}</category>" for i in range(15))
    (entry,) = parse(rss(item(tags=tags)), feed_tags=("Newsroom",)).entries
    assert len(entry.draft.tags) == TAGS_MAX
    assert entry.draft.tags[-1] == "Newsroom"
    assert entry.draft.tags[0] == "Topic 0"


def test_unusable_categories_are_left_off_and_the_category_defaults_to_news() -> None:
    tags = f"<category>{'x' * 80}</category><category>!!!</category>"
    feed = parse(rss(item(tags=tags)), feed_tags=("AI",))
    (entry,) = feed.entries
    assert entry.draft.tags == ("AI",)
    assert entry.draft.category == "News"


def test_an_item_without_a_title_is_refused() -> None:
    feed = parse(rss("<item><description>No headline.</description><category>AI</category></item>", item("Fine")))
    assert [e.draft.title for e in feed.entries] == ["Fine"]
    assert feed.problems == ("item 1: title: missing (an item needs a headline)",)


def test_a_link_that_is_not_http_is_dropped() -> None:
    (entry,) = parse(rss(item(extra="<link>javascript:alert(1)</link>"))).entries
    assert entry.draft.url is None


# ----- no feed at all ------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"", b"this is not xml", b"<html><body><p>A web page</p></body></html>", b'<?xml version="1.0"?><note/>'],
)
def test_a_body_that_is_no_feed_raises_feed_error(body: bytes) -> None:
    with pytest.raises(FeedError) as raised:
        parse(body)
    assert str(raised.value).startswith("not an RSS or Atom feed")
    assert len(str(raised.value)) < 200


def test_a_body_naming_a_local_file_is_not_read_as_one() -> None:
    # feedparser reads bytes it is given as a file name when such a file exists.
    with pytest.raises(FeedError):
        parse(str(FEEDS / "rss2.xml").encode())


# ----- hostile input ---------------------------------------------------------------


def _bomb(levels: int = 10, one_line: bool = True) -> bytes:
    sep = "" if one_line else "\n"
    entities = [f'<!ENTITY lol0 "{"lol" * 10}">']
    entities += [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)]
    return (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [{sep}{sep.join(entities)}{sep}]>\n<rss version="2.0"><channel>'
        f"<title>Boom</title><item><title>&lol{levels - 1};</title><description>x</description>"
        "<category>AI</category></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("one_line", [True, False])
def test_an_entity_bomb_is_refused_quickly(one_line: bool) -> None:
    started = time.monotonic()
    with pytest.raises(FeedError, match="declares XML entities"):
        parse(_bomb(one_line=one_line))
    assert time.monotonic() - started < 0.5


def test_an_entity_bomb_in_utf16_is_refused() -> None:
    with pytest.raises(FeedError, match="declares XML entities"):
        parse(
            _bomb()
            .decode()
            .replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="utf-16"?>')
            .encode("utf-16")
        )


def test_feedparser_itself_survives_an_entity_bomb_in_bounded_time() -> None:
    # The refusal above is a second line of defence: feedparser hands one-line
    # declarations on to expat, whose amplification limit stops the bomb.
    started = time.monotonic()
    result = _feedparser(_bomb())
    assert time.monotonic() - started < 5
    assert all(len(str(e.get("title", ""))) < 10_000 for e in result.get("entries", []))  # type: ignore[attr-defined]


def test_ten_thousand_items_read_only_max_items() -> None:
    items = [item(f"Story {i}", extra=f"<guid>g{i}</guid>") for i in range(10_000)]
    started = time.monotonic()
    feed = parse(rss(*items), max_items=500)
    assert time.monotonic() - started < 30
    assert len(feed.entries) == 500
    assert feed.entries[0].key == "g0" and feed.entries[-1].key == "g499"
    assert feed.problems == ("feed has 10000 items; the first 500 were read",)


def test_a_one_megabyte_title_is_cut() -> None:
    title = "word " * 200_000
    feed = parse(rss(item(title)))
    (entry,) = feed.entries
    assert len(entry.draft.title) <= TITLE_MAX
    assert entry.draft.title.endswith("word…")
    assert feed.problems == (f"item 1 (“{'word ' * 11}word…”): title: cut to {TITLE_MAX} characters",)


def test_nul_characters_and_lone_surrogates_are_removed() -> None:
    doc = rss(
        "<item><title>Nul\x00led title</title><description>Sum\x00mary &#xD800;here.</description>"
        "<category>A\x00I</category></item>"
    )
    (entry,) = parse(doc).entries
    assert entry.draft.title == "Nulled title"
    assert "\x00" not in entry.draft.summary and "\ud800" not in entry.draft.summary
    assert entry.draft.summary.startswith("Summary")
    assert entry.draft.tags == ("AI",)
    assert "\x00" not in entry.key


def test_a_huge_ttl_is_capped_and_a_bad_one_ignored() -> None:
    assert parse(rss(item(), channel="<ttl>999999999</ttl>")).ttl_seconds == 86_400
    assert parse(rss(item(), channel="<ttl>soon</ttl>")).ttl_seconds is None
    assert parse(rss(item(), channel="<ttl>0</ttl>")).ttl_seconds is None


def test_a_crash_inside_feedparser_is_a_feed_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # Fuzzed, broken markup makes feedparser raise KeyError('links') and the like.
    def broken(*args: object, **kwargs: object) -> object:
        raise KeyError("links")

    monkeypatch.setattr("content.stories.ingest.feedparser.parse", broken)
    with pytest.raises(FeedError, match="could not be read"):
        parse(rss(item()))
