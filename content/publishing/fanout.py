"""Who gets a story, queued in one set-based statement.

One INSERT ... SELECT per publish: a send per active chat following any of
the story's tags or any glossary term it explains (a UNION, so a chat
following two of them gets one message; ON CONFLICT on the sends' unique
key, so nothing is ever queued twice). Chats that take digests get none:
their digest gathers the story. No Python loop over subscribers: a fan-out
to half a million chats is one statement.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import Insert, literal, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.preferences import DigestEvery
from content.delivery.status import DeliveryStatus, JobKind
from content.dialect import insert_for
from content.models import SEND_ONLY, Chat, Delivery, StoryTerm, Subscription, Term, TermAlias, TermFollow, utcnow

_COLUMNS = ["kind", "story_id", "chat_id", "platform", "status", "attempts", "next_attempt_at", "created_at"]


def fanout_statement(session: AsyncSession, story_id: int, tag_ids: tuple[int, ...], *, terms: bool = True) -> Insert:
    """The INSERT that queues a send of `story_id` to every active follower of
    `tag_ids` and, with `terms`, of the terms the story explains."""
    now = utcnow()
    # The tag ids as values: the planner then knows how many followers
    # to expect (rows added in this transaction have no statistics yet).
    chats = select(Subscription.chat_id.label("chat_id")).where(Subscription.tag_id.in_(list(tag_ids)))
    if terms:
        explained = union(
            select(StoryTerm.term_id).where(StoryTerm.story_id == story_id),
            # A story's entry spelled as another term's alias explains that term too.
            select(TermAlias.term_id)
            .join(Term, Term.key == TermAlias.key)
            .join(StoryTerm, StoryTerm.term_id == Term.id)
            .where(StoryTerm.story_id == story_id),
        )
        chats = union(chats, select(TermFollow.chat_id).where(TermFollow.term_id.in_(explained)))  # type: ignore[assignment]
    else:
        chats = chats.distinct()
    followers_of = chats.subquery("followers")
    followers = (
        select(
            literal(JobKind.SEND, type_=Delivery.kind.type).label("kind"),
            literal(story_id).label("story_id"),
            followers_of.c.chat_id,
            Chat.platform,
            literal(DeliveryStatus.PENDING, type_=Delivery.status.type).label("status"),
            literal(0).label("attempts"),
            literal(now, type_=Delivery.next_attempt_at.type).label("next_attempt_at"),
            literal(now, type_=Delivery.created_at.type).label("created_at"),
        )
        .join(Chat, Chat.id == followers_of.c.chat_id)
        .where(Chat.active.is_(True), Chat.digest == DigestEvery.OFF)
        # In chat order, the new rows' index entries and the checks of their
        # chats go through the indexes in order, not at random.
        .order_by(followers_of.c.chat_id)
    )
    return cast(
        Insert,
        (
            insert_for(session, Delivery)
            .from_select(_COLUMNS, followers)
            .on_conflict_do_nothing(index_elements=["story_id", "chat_id"], index_where=SEND_ONLY)
        ),
    )


async def queue_fanout(session: AsyncSession, story_id: int, tag_ids: tuple[int, ...], *, terms: bool = True) -> int:
    """Queues the sends within the caller's transaction; returns how many were queued."""
    if not tag_ids and not terms:
        return 0
    result = await session.execute(fanout_statement(session, story_id, tag_ids, terms=terms))
    return max(result.rowcount or 0, 0)  # type: ignore[attr-defined]
