"""The registry is the one list of commands; typed text is parsed into the arguments typed options give."""

from __future__ import annotations

import pytest

from bot.composition import Core
from content.commands.parsing import parse
from content.commands.registry import BY_NAME, COMMANDS, SPECS
from content.commands.spec import ArgKind, Argument, CommandSpec, Effect
from content.messages import BulletList, Reply
from tests.conftest import PRIVATE
from tests.helpers import cards, only, plain


async def nothing(services, request) -> Reply:
    return Reply()


async def test_a_leading_or_trailing_number_is_the_count_and_the_rest_the_text() -> None:
    latest = BY_NAME["latest"]
    assert dict(await parse(latest, "3 xai")) == {"count": 3, "tag": "xai"}
    assert dict(await parse(latest, "Elon Musk 3")) == {"count": 3, "tag": "Elon Musk"}
    assert dict(await parse(latest, "-5")) == {"count": -5}  # out of range: the handler clamps it, with a note
    assert dict(await parse(latest, "3 4")) == {"count": 3, "tag": "4"}
    assert dict(await parse(latest, "99999999999999999999")) == {"tag": "99999999999999999999"}  # no count anyone means
    assert dict(await parse(latest, "")) == {}


async def test_only_a_command_with_a_count_takes_one() -> None:
    assert dict(await parse(BY_NAME["search"], "top 10 models")) == {"query": "top 10 models"}
    assert dict(await parse(BY_NAME["explain"], "3")) == {"term": "3"}
    assert dict(await parse(BY_NAME["tags"], "whatever is typed")) == {}


def test_a_command_takes_at_most_one_text_argument() -> None:
    words = Argument("query", ArgKind.WORDS, "WORDS", "")
    tag = Argument("tag", ArgKind.TAG, "TAG", "")
    with pytest.raises(ValueError, match="more than one text argument"):
        CommandSpec("broken", "Two texts", nothing, (words, tag))
    count = Argument("count", ArgKind.COUNT, "N", "", minimum=1, maximum=3)
    with pytest.raises(ValueError, match="more than one count"):
        CommandSpec("broken", "Two counts", nothing, (count, Argument("n", ArgKind.COUNT, "N", "")))
    CommandSpec("fine", "One of each", nothing, (count, words))


def test_the_listed_commands_in_menu_order() -> None:
    # A command added later may follow these; these keep their order.
    names = [c.name for c in COMMANDS]
    assert names[:9] == [
        "latest",
        "story",
        "explain",
        "search",
        "tags",
        "subscribe",
        "unsubscribe",
        "subscriptions",
        "help",
    ]
    assert "start" in BY_NAME and "start" not in names
    assert [s.name for s in SPECS if s.changes_chat] == [
        "subscribe",
        "unsubscribe",
        "follow",
        "unfollow",
        "digest",
        "quiet",
    ]
    assert BY_NAME["subscribe"].effect is Effect.STARTS_PUSHES
    usage = {s.name: s.usage_line for s in SPECS}
    assert (
        usage
        | {
            "latest": "/latest [N] [TAG]",
            "story": "/story SLUG",
            "explain": "/explain TERM",
            "search": "/search WORDS",
            "tags": "/tags",
            "subscribe": "/subscribe TAG[, TAG...]",
            "unsubscribe": "/unsubscribe TAG[, TAG...] | all",
            "subscriptions": "/subscriptions [all]",
            "help": "/help",
            "follow": "/follow TERM",
            "unfollow": "/unfollow TERM",
            "digest": "/digest daily HH:MM [TIMEZONE] | weekly DAY HH:MM [TIMEZONE] | off",
            "quiet": "/quiet HH:MM-HH:MM [TIMEZONE] | off",
            "settings": "/settings",
        }
        == usage
    )


async def test_help_lists_exactly_the_registry(core: Core) -> None:
    for line in ("/help", "/start"):
        (listing,) = [
            b for b in only(await core.commands.handle_text(PRIVATE, line)).blocks if isinstance(b, BulletList)
        ]
        assert [item[0].text for item in listing.items] == [s.usage_line for s in COMMANDS], line
        assert [item[1].text for item in listing.items][:2] == [
            ": the newest stories, optionally on one tag",
            ": one story's full explainer",
        ]


async def test_typed_options_and_typed_text_get_the_same_answer(core: Core) -> None:
    typed = await core.commands.command(PRIVATE, "latest", {"count": 2, "tag": "xAI"})
    texted = await core.commands.handle_text(PRIVATE, "/latest xAI 2")
    assert [c.title for c in cards(typed)] == [c.title for c in cards(texted)] and len(cards(typed)) == 2
    unset = await core.commands.command(PRIVATE, "latest", {"count": None, "tag": None})
    assert len(cards(unset)) == 5
    assert "too long" in plain(await core.commands.command(PRIVATE, "search", {"query": "x" * 201}))
    assert "no /nosuch command" in plain(await core.commands.command(PRIVATE, "nosuch", {}))
    with pytest.raises(TypeError):
        await core.commands.command(PRIVATE, "latest", {"count": "2"})
