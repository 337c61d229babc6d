"""Publishing queues one delivery per following active chat, once, in the same transaction."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.composition import Core
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.models import Delivery
from content.stories.drafts import StoryDraft, TermDraft

DRAFT = StoryDraft(
    slug="fresh-news",
    title="Fresh news",
    summary="Something new.",
    category="AI",
    published_at=datetime(2026, 11, 27, 9, tzinfo=UTC),
    tags=("xAI", "OpenAI"),
    url=None,
    terms=(TermDraft("freshness", "Being new."),),
    body="Lead.",
)


def chat(n: int, kind: str = "private") -> Caller:
    return Caller(ChatRef("test", f"chat-{n}", kind), user_id=f"user-{n}", is_admin=True)


async def deliveries(core: Core, story_id: int) -> list[tuple[int, str]]:
    async with core.sessions() as session:
        rows = await session.execute(select(Delivery.chat_id, Delivery.status).where(Delivery.story_id == story_id))
        return sorted(rows.all())


async def test_fan_out_is_deduplicated_across_tags_and_skips_inactive_chats(core: Core) -> None:
    follows = {1: "xAI", 2: "OpenAI", 3: "xAI, OpenAI", 4: "Google", 5: "xAI", 6: "Elon Musk, OpenAI"}
    for n, tags in follows.items():
        await core.commands.handle_text(chat(n), f"/subscribe {tags}")
    await core.chats.deactivate(chat(5).chat)

    published = await core.publisher.publish(DRAFT)
    assert published.outcome == "created" and published.deliveries_queued == 4  # chats 1, 2, 3 and 6
    rows = await deliveries(core, published.story_id)
    assert len(rows) == 4 and {status for _, status in rows} == {"pending"}
    assert len({chat_id for chat_id, _ in rows}) == 4


async def test_a_republish_updates_and_pushes_nothing_again(core: Core) -> None:
    await core.commands.handle_text(chat(1), "/subscribe xAI")
    first = await core.publisher.publish(DRAFT)
    assert first.deliveries_queued == 1
    again = await core.publisher.publish(DRAFT)
    assert again.outcome == "unchanged" and again.deliveries_queued == 0
    changed = await core.publisher.publish(replace(DRAFT, title="Fresh news, corrected"))
    assert changed.outcome == "updated" and changed.deliveries_queued == 0
    async with core.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Delivery))).scalar_one() == 1


async def test_a_story_nobody_follows_queues_nothing(core: Core) -> None:
    published = await core.publisher.publish(replace(DRAFT, slug="lonely", tags=("Brand New Tag",)))
    assert published.outcome == "created" and published.deliveries_queued == 0
    assert await deliveries(core, published.story_id) == []
