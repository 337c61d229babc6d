"""Another chat named by the caller: the core decides from the adapter's facts, and says why not.

A fake finder stands for an adapter: it names places with `@word` and records
which facts the core asks for, so that a test sees the lazy ones left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.composition import Core
from content.chats.access import Lack, Missing, NoPlace, Place, Problem
from content.chats.ref import ChatKind, ChatRef
from content.commands.caller import Caller
from content.commands.parsing import parse
from content.commands.registry import BY_NAME
from content.messages import Paragraph, Reply, plain_text
from tests.conftest import PRIVATE
from tests.helpers import only


@dataclass
class FakeFinder:
    """What an adapter would report: a place per name, and a log of what was asked."""

    admin: bool | None = True
    lacks: Missing | None = None
    kind: ChatKind = ChatKind.CHANNEL
    admin_right: str | None = None
    problems: dict[str, Problem] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def could_name(self, word: str) -> bool:
        return word.startswith("@")

    async def find(self, word: str) -> Place | NoPlace:
        self.asked.append(f"find {word}")
        if word in self.problems:
            return NoPlace(self.problems[word], word)
        return self.place(word)

    def place(self, word: str) -> Place:
        async def caller_is_admin() -> bool | None:
            self.asked.append("admin")
            return self.admin

        async def bot_lacks() -> Missing | None:
            self.asked.append("bot")
            return self.lacks

        chat = ChatRef("test", f"place-{word.lstrip('@')}", self.kind, word)
        return Place(chat, word, caller_is_admin, bot_lacks, self.admin_right)


def words(reply: Reply) -> str:
    """The reply's paragraphs as one line (the console's rendering would wrap them)."""
    return " ".join(plain_text(b.spans) for m in reply.messages for b in m.blocks if isinstance(b, Paragraph))


def from_private(finder: FakeFinder) -> Caller:
    return Caller(PRIVATE.chat, PRIVATE.user_id, places=finder)


async def test_the_first_word_is_a_place_only_when_the_finder_says_it_could_name_one() -> None:
    finder = FakeFinder()
    parsed = await parse(BY_NAME["subscribe"], "@news xAI, OpenAI", finder)
    assert set(parsed) == {"channel", "tag"} and parsed.text("tag") == "xAI, OpenAI"
    assert isinstance(parsed.place("channel"), Place) and parsed.place("channel").shown == "@news"
    assert dict(await parse(BY_NAME["subscribe"], "xAI @news", finder)) == {"tag": "xAI @news"}
    assert dict(await parse(BY_NAME["subscribe"], "@news xAI")) == {"tag": "@news xAI"}  # no finder: no place
    assert dict(await parse(BY_NAME["latest"], "@news 2", finder)) == {"count": 2, "tag": "@news"}  # takes no place
    assert finder.asked == ["find @news"]
    listing = await parse(BY_NAME["subscriptions"], "@news", finder)
    assert list(listing) == ["channel"]


async def test_a_name_that_finds_no_chat_is_refused_without_asking_anything_more(core: Core) -> None:
    finder = FakeFinder(
        problems={
            "@gone": Problem.NOT_FOUND,
            "@ada": Problem.PERSON,
            "@elsewhere": Problem.OTHER_SERVER,
            "@voice": Problem.WRONG_KIND,
        }
    )
    caller = from_private(finder)
    cases = {
        "@gone": "I can't find @gone. Check the name; for a private channel, add me as an admin first and use its numeric id.",
        "@ada": "@ada is a person, not a channel or group.",
        "@elsewhere": "Pick a text channel of this server.",
        "@voice": "@voice takes no pushes; pick a text, announcement or forum channel, or a thread.",
    }
    for name, said in cases.items():
        for command in (f"/subscribe {name} xAI", f"/unsubscribe {name} xAI", f"/subscriptions {name}"):
            reply = await core.commands.handle_text(caller, command)
            assert words(reply) == said and only(reply).private, command
    assert "admin" not in finder.asked and "bot" not in finder.asked


@pytest.mark.parametrize(
    ("admin", "admin_right", "said"),
    [
        (False, None, "Only admins of @news can change what it follows, and you are not one."),
        (None, None, "I can't see who the admins of @news are. Add me to it as an admin, then try again."),
        (False, "Manage Channels", "You need the Manage Channels permission in @news to change what it follows."),
    ],
)
async def test_only_the_places_admins_change_or_list_what_it_follows(
    core: Core, admin: bool | None, admin_right: str | None, said: str
) -> None:
    finder = FakeFinder(admin=admin, admin_right=admin_right)
    caller = from_private(finder)
    for command in ("/subscribe @news xAI", "/unsubscribe @news all", "/subscriptions @news"):
        finder.asked.clear()
        reply = await core.commands.handle_text(caller, command)
        assert words(reply) == said and only(reply).private, command
        assert finder.asked == ["find @news", "admin"], command  # the bot's rights are not asked then
    assert await core.catalog.followed(finder.place("@news").chat) == []


@pytest.mark.parametrize(
    ("missing", "kind", "said"),
    [
        (Missing(Lack.MEMBERSHIP), ChatKind.CHANNEL, "I can't post in @news: add me to it first, then try again."),
        (Missing(Lack.MEMBERSHIP), ChatKind.GROUP, "I can't post in @news: add me to the group first, then try again."),
        (
            Missing(Lack.ADMIN),
            ChatKind.CHANNEL,
            "I can't post in @news: make me an admin of the channel with the right to post messages, then try again.",
        ),
        (
            Missing(Lack.POST_RIGHT),
            ChatKind.CHANNEL,
            "I can't post in @news: give me the admin right to post messages, then try again.",
        ),
        (
            Missing(Lack.SEND_RIGHT),
            ChatKind.GROUP,
            "I can't post in @news: allow me to send messages there, then try again.",
        ),
        (
            Missing(Lack.PERMISSION, "Embed Links"),
            ChatKind.GROUP,
            "I can't post in @news: I need the Embed Links permission there.",
        ),
    ],
)
async def test_subscribing_a_place_needs_the_bot_to_be_able_to_post_there(
    core: Core, missing: Missing, kind: ChatKind, said: str
) -> None:
    finder = FakeFinder(lacks=missing, kind=kind)
    caller = from_private(finder)
    reply = await core.commands.handle_text(caller, "/subscribe @news xAI")
    assert words(reply) == said and only(reply).private
    assert finder.asked == ["find @news", "admin", "bot"]
    assert await core.catalog.followed(finder.place("@news").chat) == []
    # Unsubscribing and listing never need the bot to post there.
    finder.asked.clear()
    assert "@news: This chat follows no tags yet." in words(
        await core.commands.handle_text(caller, "/subscriptions @news")
    )
    assert (
        words(await core.commands.handle_text(caller, "/unsubscribe @news all"))
        == "@news: This chat didn't follow any tag."
    )
    assert "bot" not in finder.asked


async def test_an_admin_changes_the_place_and_the_answers_name_it(core: Core) -> None:
    finder = FakeFinder()
    caller = from_private(finder)
    reply = await core.commands.handle_text(caller, "/subscribe @news xAI, Elon Musk")
    first = only(reply).blocks[0]
    assert isinstance(first, Paragraph) and first.spans[0].text == "@news:" and first.spans[0].bold
    assert words(reply).startswith("@news: Subscribed to")
    news = finder.place("@news").chat
    assert {t.name for t in await core.catalog.followed(news)} == {"xAI", "Elon Musk"}
    assert await core.catalog.followed(PRIVATE.chat) == []  # the private chat itself follows nothing
    assert (
        words(await core.commands.handle_text(caller, "/subscriptions @news"))
        == "@news: This chat follows #ElonMusk, #xAI."
    )
    assert "@news: Which tag?" in words(await core.commands.handle_text(caller, "/subscribe @news"))
    # The same through typed options, as Discord gives them.
    typed = await core.commands.command(caller, "unsubscribe", {"tag": "xAI", "channel": finder.place("@news")})
    assert words(typed) == "@news: Unsubscribed from #xAI."
    refused = await core.commands.command(
        caller, "subscribe", {"tag": "xAI", "channel": NoPlace(Problem.OTHER_SERVER, "#x")}
    )
    assert words(refused) == "Pick a text channel of this server."


async def test_the_callers_own_chat_keeps_its_rules(core: Core) -> None:
    finder = FakeFinder()
    member = Caller(ChatRef("test", "group-9", "group"), "u8", places=finder)
    assert (
        words(await core.commands.handle_text(member, "/subscribe xAI"))
        == "Only admins of this group can change what it follows."
    )
    channel = Caller(ChatRef("test", "channel-9", "channel"), "u8")
    assert (
        words(await core.commands.handle_text(channel, "/unsubscribe all"))
        == "Only admins of this channel can change what it follows."
    )
    assert "follows no tags" in words(await core.commands.handle_text(member, "/subscriptions"))
    assert finder.asked == []
