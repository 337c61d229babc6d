"""Every command of the table, through the core, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.keys import hashtag
from content.messages import BulletList, Heading, Paragraph
from tests.conftest import CHANNEL_ADMIN, GROUP_ADMIN, GROUP_MEMBER, PRIVATE
from tests.helpers import cards, only, plain

DISTILLATION = "musk-xai-distillation-testimony"


async def ask(core: Core, line: str, caller=PRIVATE):
    return await core.commands.handle_text(caller, line)


async def test_start_and_help_list_every_command(core: Core) -> None:
    for line in ("/start", "/help", "/help@SomeBot"):
        text = plain(await ask(core, line))
        for command in (
            "/latest",
            "/story",
            "/explain",
            "/search",
            "/tags",
            "/subscribe",
            "/unsubscribe",
            "/subscriptions",
        ):
            assert command in text, (line, command)
    assert "30 seconds" in plain(await ask(core, "/start"))


async def test_latest_shows_newest_five_with_everything_a_reader_needs(core: Core) -> None:
    reply = await ask(core, "/latest")
    shown = cards(reply)
    assert len(shown) == 5
    stories = await core.catalog.latest(16)
    assert [c.title for c in shown] == [s.title for s in stories[:5]]
    dates = [s.published_at for s in stories]
    assert dates == sorted(dates, reverse=True)
    first, card = stories[0], shown[0]
    assert card.url == f"https://news.test/stories/{first.slug}"
    meta = "".join(s.text for s in card.meta)
    assert first.category in meta and str(first.published_at.year) in meta
    body = [b for b in card.blocks if isinstance(b, Paragraph)]
    assert body[0].spans[0].text == first.summary
    assert any(s.url == card.url and "Read more" in s.text for b in body for s in b.spans)
    assert "".join(s.text for s in card.footer) == " ".join(hashtag(t) for t in first.tags)
    message = only(reply)
    assert [b.argument for row in message.buttons for b in row if b.action == "story"] == [s.slug for s in stories[:5]]
    assert any(b.action == "more" for row in message.buttons for b in row)


async def test_latest_count_and_tag(core: Core) -> None:
    assert len(cards(await ask(core, "/latest 3"))) == 3
    clamped = await ask(core, "/latest 50")
    assert len(cards(clamped)) == 10 and "between 1 and 10" in plain(clamped)
    assert len(cards(await ask(core, "/latest 0"))) == 1
    on_xai = cards(await ask(core, "/latest xai"))
    assert on_xai and all("#xAI" in "".join(s.text for s in c.footer) for c in on_xai)
    assert len(on_xai) == 2
    two_openai = cards(await ask(core, "/latest 2 #OpenAI"))
    assert len(two_openai) == 2 and all("#OpenAI" in "".join(s.text for s in c.footer) for c in two_openai)
    assert len(cards(await ask(core, "/latest Elon Musk 3"))) == 1
    assert len(cards(await ask(core, "/latest #ElonMusk"))) == 1


async def test_latest_unknown_tag_is_refused_with_suggestions(core: Core) -> None:
    reply = await ask(core, "/latest opnai")
    assert not cards(reply)
    assert "no tag “opnai”" in plain(reply) and "#OpenAI" in plain(reply)
    assert only(reply).private


async def test_more_button_pages_on(core: Core) -> None:
    first = only(await ask(core, "/latest"))
    more = next(b for row in first.buttons for b in row if b.action == "more")
    second = await core.commands.press(PRIVATE, more.action, more.argument)
    everything = await core.catalog.latest(16)
    assert [c.title for c in cards(second)] == [s.title for s in everything[5:10]]
    assert only(second).replaces_pressed and not first.replaces_pressed  # the page takes the list's place
    tagged = only(await ask(core, "/latest 1 chatbots"))
    more = next(b for row in tagged.buttons for b in row if b.action == "more")
    page = cards(await core.commands.press(PRIVATE, more.action, more.argument))
    assert page and all("#Chatbots" in "".join(s.text for s in c.footer) for c in page)


async def test_forged_buttons_get_a_polite_answer(core: Core) -> None:
    for action, argument in (
        ("more", "x:y"),
        ("more", "5:nosuchtag"),
        ("story", "<b>"),
        ("delete", "all"),
        ("more", "99999999:"),
    ):
        reply = await core.commands.press(PRIVATE, action, argument)
        assert "expired" in plain(reply), (action, argument)
        assert not only(reply).replaces_pressed  # a refusal never overwrites the list


async def test_story_shows_the_full_explainer(core: Core) -> None:
    reply = await ask(core, f"/story {DISTILLATION}")
    message = only(reply)
    assert message.link_preview
    (card,) = cards(reply)
    assert "partly" in card.title
    headings = [b.spans[0].text for b in card.blocks if isinstance(b, Heading)]
    assert len(headings) >= 3 and headings[-1] == "Glossary"
    glossary = [b for b in card.blocks if isinstance(b, BulletList)][-1]
    assert any(item[0].text == "distillation" for item in glossary.items)
    assert "".join(s.text for s in card.footer) == "#ElonMusk #OpenAI #xAI"
    assert card.url and card.url.endswith(DISTILLATION)
    text = plain(reply)
    assert "Grok" in text and "Read the full article" in text


async def test_story_by_pasted_link_and_unknown_slug(core: Core) -> None:
    pasted = await ask(core, f"/story https://news.test/stories/{DISTILLATION}")
    assert cards(pasted)[0].url.endswith(DISTILLATION)
    near = plain(await ask(core, "/story musk-distillation"))
    assert "No story" in near and DISTILLATION in near
    none = await ask(core, "/story zzzz-qqqq")
    assert "No story “zzzz-qqqq”" in plain(none) and only(none).private
    assert "Which story" in plain(await ask(core, "/story"))


async def test_explain_matches_case_hash_punctuation_alias_typo_and_phrases(core: Core) -> None:
    for typed in (
        "distillation",
        "Distillation",
        "#DISTILLATION",
        "distillation?!",
        "knowledge distillation",
        "distilation",
        "distillaton",
    ):
        (card,) = cards(await ask(core, f"/explain {typed}"))
        assert card.title == "distillation", typed
        assert "copy its behaviour into another model" in plain(await ask(core, f"/explain {typed}"))
    corrected = plain(await ask(core, "/explain distilation"))
    assert "Showing “distillation” for “distilation”" in corrected
    assert DISTILLATION in corrected
    for typed, name in (
        ("RAG", "retrieval-augmented generation"),
        ("context window", "context window"),
        ("Context-Window", "context window"),
        ("rlhf", "reinforcement learning from human feedback"),
        ("large language models", "large language model"),
        ("LLM", "large language model"),
    ):
        (card,) = cards(await ask(core, f"/explain {typed}"))
        assert card.title == name, typed


async def test_explain_lists_stories_newest_first(core: Core) -> None:
    text = plain(await ask(core, "/explain distillation"))
    assert "Explained in" in text and f"/story {DISTILLATION}" in text


async def test_explain_without_term_finds_stories_then_suggestions(core: Core) -> None:
    mention = plain(await ask(core, "/explain Grok"))
    assert "No glossary entry for “Grok” yet, but these stories mention it" in mention
    assert DISTILLATION in mention
    nothing = await ask(core, "/explain quantum teleportation")
    text = plain(nothing)
    assert "No explainer for “quantum teleportation” yet." in text
    hinted = plain(await ask(core, "/explain halucinashun"))
    assert "Did you mean" in hinted and "hallucination" in hinted
    suggestions = re.findall(r"Did you mean (.*)\?", hinted)
    assert suggestions and len(re.split(r", | or ", suggestions[0])) <= 3
    assert "Which term" in plain(await ask(core, "/explain   "))


async def test_plain_text_is_explained(core: Core) -> None:
    (card,) = cards(await ask(core, "distillation"))
    assert card.title == "distillation"


async def test_search_ranks_the_best_match_first(core: Core) -> None:
    reply = await ask(core, "/search distillation")
    text = plain(reply)
    assert text.index(DISTILLATION) < text.index("open-weight-models-explained")
    assert len(only(reply).buttons) >= 3
    both = plain(await ask(core, "/search Musk distillation"))
    assert DISTILLATION in both
    assert "Nothing found for “zyxw”" in plain(await ask(core, "/search zyxw"))
    assert "What should I look for" in plain(await ask(core, "/search"))


async def test_tags_list_counts_and_marks_followed(core: Core) -> None:
    await ask(core, "/subscribe xAI")
    text = plain(await ask(core, "/tags"))
    assert re.search(r"#Chatbots Chatbots · 7 stories", text)
    assert re.search(r"#xAI xAI · 2 stories ✓ following", text)
    assert "#OpenAI OpenAI · 6 stories\n" in text
    assert "#ElonMusk Elon Musk · 1 story" in text


async def test_subscribe_spellings_are_one_tag_and_second_time_is_harmless(core: Core) -> None:
    first = plain(await ask(core, "/subscribe #xAI"))
    assert "Subscribed to #xAI" in first
    for spelling in ("xai", "XAI", "#XAI", "x-AI"):
        assert "Already following #xAI" in plain(await ask(core, f"/subscribe {spelling}"))
    assert "Subscribed to #ElonMusk" in plain(await ask(core, "/subscribe Elon Musk"))
    assert "Already following #ElonMusk" in plain(await ask(core, "/subscribe #ElonMusk"))
    both = plain(await ask(core, "/subscribe OpenAI, Google"))
    assert "Subscribed to #Google, #OpenAI" in both or "Subscribed to #OpenAI, #Google" in both
    spaced = plain(await ask(core, "/subscribe nvidia meta"))
    assert "#Nvidia" in spaced and "#Meta" in spaced
    assert (
        plain(await ask(core, "/subscriptions"))
        == "This chat follows #ElonMusk, #Google, #Meta, #Nvidia, #OpenAI, #xAI."
    )


async def test_unknown_tag_is_refused_with_suggestions_and_not_created(core: Core) -> None:
    before = len(await core.catalog.tags())
    reply = await ask(core, "/subscribe OpenAl")
    text = plain(reply)
    assert "There's no tag “OpenAl”" in text and "#OpenAI" in text
    assert only(reply).private
    mixed = plain(await ask(core, "/subscribe xAI, nosuchthing"))
    assert "Subscribed to #xAI" in mixed and "no tag “nosuchthing”" in mixed
    assert len(await core.catalog.tags()) == before
    assert "Which tag" in plain(await ask(core, "/subscribe"))


async def test_unsubscribe_tags_and_all(core: Core) -> None:
    await ask(core, "/subscribe xAI, OpenAI, Google")
    assert "Unsubscribed from #xAI" in plain(await ask(core, "/unsubscribe #XAI"))
    assert "wasn't following #xAI" in plain(await ask(core, "/unsubscribe xai"))
    assert "no tag “zzz”" in plain(await ask(core, "/unsubscribe zzz"))
    gone = plain(await ask(core, "/unsubscribe all"))
    assert gone.startswith("Unsubscribed from everything") and "#OpenAI" in gone and "#Google" in gone
    assert "follows no tags" in plain(await ask(core, "/subscriptions"))
    assert "didn't follow any tag" in plain(await ask(core, "/unsubscribe all"))


async def test_only_admins_change_a_group_or_channel(core: Core) -> None:
    refused = await ask(core, "/subscribe xAI", GROUP_MEMBER)
    assert "Only admins of this group" in plain(refused) and only(refused).private
    assert "Only admins of this group" in plain(await ask(core, "/unsubscribe all", GROUP_MEMBER))
    assert "follows no tags" in plain(await ask(core, "/subscriptions", GROUP_MEMBER))
    assert "Subscribed to #xAI" in plain(await ask(core, "/subscribe xAI", GROUP_ADMIN))
    assert "follows #xAI" in plain(await ask(core, "/subscriptions", GROUP_MEMBER))
    assert "Subscribed to #OpenAI" in plain(await ask(core, "/subscribe OpenAI", CHANNEL_ADMIN))
    assert "follows #OpenAI." in plain(await ask(core, "/subscriptions", CHANNEL_ADMIN))
    # The private chat is another chat: nothing of the group shows there.
    assert "follows no tags" in plain(await ask(core, "/subscriptions"))


async def test_bad_input_gets_short_answers(core: Core) -> None:
    cases = {
        "": None,
        "/": "isn't a command",
        "/nosuchcommand": "no /nosuchcommand command",
        "/latest " + "x" * 1000: "too long",
        "/explain " + "a" * 1000: "too long",
        "/explain \x00\x07\x1b[31mred": "No explainer",
        "/explain <b>bold</b>": "No explainer for “<b>bold</b>”",
        "/search *bold* `code` @everyone": "Results for “*bold* `code` @everyone”",
        "/subscribe '; DROP TABLE tags; --": "no tag",
        '/search " OR 1=1 --': None,
        "/story ../../etc/passwd": "No story",
        "/latest -5": "between 1 and 10",
        "/latest 99999999999999999999": "no tag",
    }
    for line, expected in cases.items():
        reply = await ask(core, line)
        text = plain(reply)
        if expected is None:
            continue
        assert expected in text, (line, text)
        assert len(text) < 2000
    assert len(await core.catalog.tags()) >= 12  # the SQL fragment changed nothing


async def test_flood_protection_warns_once_then_ignores(database_url: str) -> None:
    from tests.conftest import empty_core

    core = await empty_core(database_url, command_rate_limit=3, command_rate_window=3600)
    try:
        await core.prepare()
        answers = [await ask(core, "/help") for _ in range(6)]
        assert all(a.messages for a in answers[:3])
        assert "Slow down" in plain(answers[3]) and only(answers[3]).private
        assert answers[4].messages == () and answers[5].messages == ()
        other = Caller(ChatRef("test", "private-2", "private"), user_id="someone-else")
        assert (await core.commands.handle_text(other, "/help")).messages  # the limit is per user
        assert (await core.commands.press(PRIVATE, "story", DISTILLATION)).messages == ()
    finally:
        await core.close()


async def test_a_deactivated_chat_comes_back_when_it_uses_the_bot(core: Core) -> None:
    await ask(core, "/subscribe xAI", GROUP_ADMIN)
    await core.chats.deactivate(GROUP_ADMIN.chat)
    assert await chat_active(core, GROUP_ADMIN.chat) is False
    await ask(core, "/latest 1", GROUP_MEMBER)
    assert await chat_active(core, GROUP_ADMIN.chat) is True


async def chat_active(core: Core, chat) -> bool | None:
    from sqlalchemy import select

    from content.models import Chat

    async with core.sessions() as session:
        query = select(Chat.active).where(Chat.platform == chat.platform, Chat.platform_chat_id == chat.chat_id)
        return (await session.execute(query)).scalar_one_or_none()


async def test_admin_check_is_asked_only_when_needed(core: Core) -> None:
    asked: list[str] = []

    async def check() -> bool:
        asked.append("asked")
        return True

    lazy = Caller(GROUP_MEMBER.chat, "u9", admin_check=check)
    await ask(core, "/latest 1", lazy)
    await ask(core, "/subscriptions", lazy)
    assert asked == []
    assert "Subscribed to #Meta" in plain(await ask(core, "/subscribe Meta", lazy))
    assert asked == ["asked"]


async def test_inline_offers_terms_and_stories(core: Core) -> None:
    results = await core.commands.inline("distillation")
    assert 1 < len(results) <= 10
    assert results[0].title == "distillation" and results[0].id.startswith("t")
    assert any(r.id.startswith("s") and "partly" in r.title for r in results)
    assert len({r.id for r in results}) == len(results)
    assert all(len(r.id.encode()) <= 64 for r in results)
    assert len(await core.commands.inline("")) == 10
    assert await core.commands.inline("zzqqxx") == []


async def test_about_introduces_the_newsroom_and_its_site(core: Core) -> None:
    (card,) = cards(await ask(core, "/about"))
    text = " ".join("".join(span.text for span in block.spans) for block in card.blocks)  # type: ignore[union-attr]
    assert card.title == "Explainers" and card.url == "https://news.test"
    assert "simplified for humans" in text and "news.test" in text
    newest = (await core.catalog.latest(1))[0]
    assert newest.title in text and f"/story {newest.slug}" in text
    assert "12 tags to follow, the busiest #Chatbots, #OpenAI, #Safety" in text
    assert "/about" in plain(await ask(core, "/help"))
