"""For any text a user may type, the core answers without an exception."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import render_plain
from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.commands.registry import COMMANDS
from content.messages import Reply, Span
from tests.conftest import empty_core

NAMES = [c.name for c in COMMANDS] + ["start", "nosuch", "LATEST", "latest@SomeBot"]
CALLERS = [
    Caller(ChatRef("prop", "p", "private"), "u"),
    Caller(ChatRef("prop", "g", "group"), "u", is_admin=False),
    Caller(ChatRef("prop", "g", "group"), "a", is_admin=True),
]
anything = st.text(max_size=300)
lines = st.one_of(
    anything,
    st.builds(lambda n, a: f"/{n} {a}", st.sampled_from(NAMES), anything),
    st.builds(
        lambda n, a: f"/{n} {a}",
        st.sampled_from(NAMES),
        st.text(alphabet="#@*_`<>&;'\"\\%,- 0123456789xaiOpenElonMusk", max_size=60),
    ),
)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[asyncio.AbstractEventLoop, Core]]:
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('prop') / 'prop.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    loop = asyncio.new_event_loop()
    core = loop.run_until_complete(empty_core(url))
    loop.run_until_complete(core.prepare())
    yield loop, core
    loop.run_until_complete(core.close())
    loop.close()


def check(reply: Reply) -> None:
    assert isinstance(reply, Reply)
    for message in reply.messages:
        render_plain(message)
        for block in message.blocks:
            for span in getattr(block, "spans", ()):
                assert isinstance(span, Span) and isinstance(span.text, str)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(line=lines, who=st.sampled_from(CALLERS))
def test_any_line_gets_an_answer(seeded, line: str, who: Caller) -> None:
    loop, core = seeded
    reply = loop.run_until_complete(core.commands.handle_text(who, line))
    check(reply)
    if line.strip() and line.strip().isprintable():
        assert reply.messages, line


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.text(max_size=20), argument=st.text(max_size=80))
def test_any_button_gets_an_answer(seeded, action: str, argument: str) -> None:
    loop, core = seeded
    check(loop.run_until_complete(core.commands.press(CALLERS[0], action, argument)))
