"""The push explains itself: its first glossary term defined under the summary,
and a "What is TERM?" button that answers its presser alone; and the 150 words
the summary and that line may take together."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.composition import Core
from content.errors import StoryFileError
from content.messages import Action, Card, Message, Paragraph, Reply
from content.models import Story, Term
from content.replies.stories import POPUP_MAX, at_word, push_message
from content.replies.text import BUTTON_LABEL
from content.stories.drafts import (
    PUSH_MAX_WORDS,
    StoryDraft,
    TermDraft,
    key_term,
    load_story_file,
    push_words,
    story_from_mapping,
)
from content.stories.views import StoryView
from content.stories.writer import SAMPLE_LIBRARY
from tests.conftest import CHANNEL_ADMIN, GROUP_MEMBER, PRIVATE
from tests.helpers import cards, only, plain, short_story

DISTILLATION = "musk-xai-distillation-testimony"
RLHF = "how-rlhf-shapes-chatbots"


async def pushed(core: Core, slug: str, *, updated: bool = False) -> tuple[StoryView, Message]:
    async with core.sessions() as session:
        story_id = (await session.execute(select(Story.id).where(Story.slug == slug))).scalar_one()
    story = await core.catalog.story_to_push(story_id)
    assert story is not None
    return story, push_message(story, updated=updated)


def card_of(message: Message) -> Card:
    (card,) = message.blocks
    assert isinstance(card, Card)
    return card


def buttons(message: Message) -> list[tuple[str, str, str]]:
    return [(b.label, b.action, b.argument) for row in message.buttons for b in row]


def words(n: int, word: str = "word") -> str:
    return " ".join([word] * n)


def mapping(summary: str, *terms: tuple[str, str]) -> dict:
    return {
        "title": "A story",
        "summary": summary,
        "category": "AI",
        "published_at": "2026-12-01T09:00:00Z",
        "tags": ["xAI"],
        "terms": [{"term": t, "definition": d} for t, d in terms],
    }


# ----- the push ---------------------------------------------------------------
async def test_a_push_defines_its_first_term_under_the_summary_and_offers_to_explain_it(core: Core) -> None:
    story, message = await pushed(core, DISTILLATION)
    assert story.term is not None and story.term.name == "distillation"
    card = card_of(message)
    summary, line, more = card.blocks[:3]
    assert summary == Paragraph((summary.spans[0],)) and summary.spans[0].text == story.summary
    assert isinstance(line, Paragraph)
    (term, definition) = line.spans
    assert term.text == "distillation" and term.italic and not term.bold
    assert definition.text == ": " + story.term.definition and not definition.italic
    assert definition.text.startswith(": Querying a model many times")
    assert isinstance(more, Paragraph) and more.spans[0].url == story.url
    assert buttons(message) == [
        ("Explain", Action.STORY, DISTILLATION),
        ("What is distillation?", Action.DEFINE, "distillation"),
    ]
    assert message.link_preview and message.title == story.title
    # The console shows the line too, and how to ask for the term.
    text = plain(Reply((message,)))
    assert "distillation: Querying a model many times" in text and "/explain distillation" in text


async def test_the_first_term_is_the_first_the_newsroom_listed(core: Core) -> None:
    draft = replace(
        short_story("two-terms", "xAI"),
        terms=(TermDraft("Zeta function", "A function named after a letter."), TermDraft("alpha", "The first one.")),
    )
    await core.publisher.publish(draft)
    story, message = await pushed(core, "two-terms")
    assert story.term is not None and story.term.name == "Zeta function"
    first = key_term(draft.terms)
    assert first is not None and first.term == "Zeta function"  # the check on saving counts the same term
    assert ("What is Zeta function?", Action.DEFINE, "zetafunction") in buttons(message)


async def test_a_story_without_glossary_terms_has_no_line_and_one_button(core: Core) -> None:
    await core.publisher.publish(short_story("no-terms", "xAI"))
    story, message = await pushed(core, "no-terms")
    assert story.term is None
    blocks = card_of(message).blocks
    assert [b.spans[0].text for b in blocks if isinstance(b, Paragraph)] == [story.summary, "Read more"]
    assert buttons(message) == [("Explain", Action.STORY, "no-terms")]


async def test_a_corrected_push_keeps_its_shape(core: Core) -> None:
    draft = replace(short_story("to-correct", "xAI"), terms=(TermDraft("widget", "A small gadget."),))
    await core.publisher.publish(draft)
    await core.publisher.publish(replace(draft, title="Corrected title", correction="The title was wrong."))
    _story, sent = await pushed(core, "to-correct")
    _story, edited = await pushed(core, "to-correct", updated=True)
    assert (
        buttons(edited)
        == buttons(sent)
        == [
            ("Explain", Action.STORY, "to-correct"),
            ("What is widget?", Action.DEFINE, "widget"),
        ]
    )
    texts = ["".join(s.text for s in b.spans) for b in card_of(edited).blocks if isinstance(b, Paragraph)]
    assert texts[:3] == ["What changed, in one line.", "widget: A small gadget.", "Read more"]
    assert texts[3].startswith("Corrected ") and "The title was wrong." in texts[3]


async def test_lists_carry_no_definition(core: Core) -> None:
    latest = await core.commands.handle_text(PRIVATE, "/latest 10")
    text = plain(latest)
    assert "distillation: Querying" not in text
    assert not [b for row in only(latest).buttons for b in row if b.action == Action.DEFINE]


async def test_a_long_term_is_shortened_in_the_button_at_a_word(core: Core) -> None:
    story, message = await pushed(core, RLHF)
    assert story.term is not None and story.term.name == "reinforcement learning from human feedback"
    label, action, argument = buttons(message)[1]
    assert label == "What is reinforcement learning from…?"
    assert len(label.removeprefix("What is ").removesuffix("?")) <= BUTTON_LABEL
    assert (action, argument) == (Action.DEFINE, "reinforcementlearningfromhumanfeedback")


async def test_a_term_whose_key_will_not_fit_a_button_is_named_by_its_id(core: Core) -> None:
    long_name = "an exceptionally long name for a term that no button could carry whole"
    draft = replace(
        short_story("odd-terms", "xAI"),
        terms=(TermDraft(long_name, "Long, on purpose."), TermDraft("Überwachung", "Watching over people.")),
    )
    await core.publisher.publish(draft)
    story, message = await pushed(core, "odd-terms")
    assert story.term is not None and story.term.name == long_name
    (_label, action, argument) = buttons(message)[1]
    assert argument == f"#{story.term.id}" and len(action) + len(argument.encode()) <= 60
    reply = await core.commands.press(PRIVATE, action, argument)
    assert only(reply).private and cards(reply)[0].title == long_name

    await core.publisher.publish(replace(draft, slug="umlaut", terms=(draft.terms[1],)))
    story, message = await pushed(core, "umlaut")
    (_label, action, argument) = buttons(message)[1]
    assert argument.startswith("#") and argument.isascii()  # the key "überwachung" is not ASCII
    assert cards(await core.commands.press(PRIVATE, action, argument))[0].title == "Überwachung"


# ----- the button ---------------------------------------------------------------
async def test_the_define_button_answers_the_presser_with_the_explain_answer(core: Core) -> None:
    explained = only(await core.commands.handle_text(PRIVATE, "/explain distillation"))
    for caller in (PRIVATE, GROUP_MEMBER, CHANNEL_ADMIN):
        message = only(await core.commands.press(caller, Action.DEFINE, "distillation"))
        assert message.private
        assert message.blocks == explained.blocks and message.buttons == explained.buttons
        assert message.popup is not None and len(message.popup) <= POPUP_MAX
        assert message.popup.startswith("distillation: Querying a model many times")
        assert not message.popup.endswith("…")  # short enough to show whole


async def test_a_long_definition_pops_up_cut_at_a_word(core: Core) -> None:
    definition = " ".join(f"word{i}" for i in range(60))  # some 400 characters
    assert len(definition) > POPUP_MAX
    await core.publisher.publish(replace(short_story("wordy", "xAI"), terms=(TermDraft("verbosity", definition),)))
    message = only(await core.commands.press(PRIVATE, Action.DEFINE, "verbosity"))
    popup = message.popup
    assert popup is not None and len(popup) <= POPUP_MAX and popup.endswith("…")
    full = f"verbosity: {definition}"
    kept = popup.removesuffix("…")
    assert full.startswith(kept) and full[len(kept)] == " "  # cut where a word ends
    assert len(kept) > POPUP_MAX - 12  # and no shorter than it needs to be


def test_at_word_cuts_at_the_last_whole_word() -> None:
    assert at_word("short", 10) == "short"
    assert at_word("one two three", 10) == "one two…"
    assert at_word("one two, three", 9) == "one two…"  # no comma before the ellipsis
    assert at_word("abcdefghijklmnop", 8) == "abcdefg…"  # one word too long is cut inside it
    assert at_word("one two three", 8) == "one two…"  # the cut falls on a space


async def test_a_term_that_is_gone_gets_a_polite_private_answer(core: Core) -> None:
    for argument in ("nosuchterm", "#999999", "#abc", "#" + "9" * 40, "<b>", "", "Distillation!"):
        reply = await core.commands.press(GROUP_MEMBER, Action.DEFINE, argument)
        message = only(reply)
        assert message.private and message.popup is None, argument
        assert "no longer in the glossary" in plain(reply), argument


# ----- 150 words in all ---------------------------------------------------------------
def test_the_summary_and_the_definition_line_may_take_150_words() -> None:
    assert push_words("one two", "context window", "how much text fits") == 2 + 2 + 4
    at_limit = mapping(words(120), ("distillation", words(29, "def")))
    assert push_words(words(120), "distillation", words(29)) == PUSH_MAX_WORDS
    story_from_mapping(at_limit, "request")  # 150: accepted

    over = mapping(words(120), ("distillation", words(42, "def")))
    with pytest.raises(StoryFileError) as caught:
        story_from_mapping(over, "request")
    error = caught.value
    assert error.field == "summary"
    assert "summary and its first term's definition are 163 words; at most 150" in error.problem
    assert "distillation" in error.problem


def test_only_the_first_term_listed_counts() -> None:
    # "zeta", listed first, is defined on the push, so the long definition of "alpha" is not counted.
    story_from_mapping(mapping(words(120), ("zeta", "Short."), ("alpha", words(60))), "request")
    with pytest.raises(StoryFileError):
        story_from_mapping(mapping(words(120), ("zeta", words(60)), ("alpha", "Short.")), "request")


def test_every_sample_reads_in_30_seconds_with_its_definition() -> None:
    for path in sorted(SAMPLE_LIBRARY.glob("*.md")):
        draft = load_story_file(path)
        term = key_term(draft.terms)
        assert term is not None, path.name  # every sample defines a term on its push
        assert push_words(draft.summary, term.term, term.definition) <= PUSH_MAX_WORDS, path.name


async def test_a_refused_story_writes_nothing(blank: Core, tmp_path: Path) -> None:
    text = (
        "---\ntitle: Too long to read\nsummary: "
        + words(115)
        + "\ncategory: AI\npublished_at: 2026-12-01T09:00:00Z\ntags: [xAI]\nterms:\n"
        + "  - term: padding\n    definition: "
        + words(40)
        + "\n---\nLead.\n"
    )
    path = tmp_path / "long.md"
    path.write_text(text, encoding="utf-8")
    report = await blank.importer.import_paths([path])
    assert not report.saved and len(report.errors) == 1
    error = report.errors[0]
    assert error.field == "summary" and "are 156 words; at most 150" in error.problem
    async with blank.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Story))).scalar_one() == 0
        assert (await session.execute(select(func.count()).select_from(Term))).scalar_one() == 0


def test_a_draft_saved_directly_is_counted_by_the_same_rule() -> None:
    draft = StoryDraft(
        slug="s",
        title="t",
        summary=words(100),
        category="AI",
        published_at=datetime(2026, 12, 1, tzinfo=UTC),
        tags=("xAI",),
        url=None,
        terms=(TermDraft("a", words(3)), TermDraft("b", words(10)), TermDraft("A", words(5))),
        body="",
    )
    first = key_term(draft.terms)
    # Of two entries with one key the later is the wording saved, so it is the one counted.
    assert first is not None and first.definition == words(5)
