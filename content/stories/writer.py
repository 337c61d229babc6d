"""The write side for stories: import (and later publish) a validated draft.

A save is one transaction: the story, its tags, its glossary terms and their
aliases, and the catalog version readers use to refresh their caches. Saving
the same draft twice writes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from content.db import SessionFactory
from content.dialect import insert_for
from content.keys import key_of
from content.models import (
    CatalogState,
    Story,
    StoryTag,
    StoryTerm,
    Tag,
    Term,
    TermAlias,
)
from content.stories.drafts import StoryDraft


class SaveOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same content again: nothing written


# The bundled sample stories, loaded into an empty database on first start.
SAMPLE_LIBRARY = Path(__file__).parents[1] / "library"


@dataclass(frozen=True, slots=True)
class Saved:
    slug: str
    story_id: int
    outcome: SaveOutcome
    tag_ids: tuple[int, ...] = ()  # the story's tags, when this save linked them


class StoryWriter:
    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions

    async def save(self, draft: StoryDraft) -> Saved:
        async with self._sessions.begin() as session:
            return await self.save_in(session, draft)

    async def save_in(self, session: AsyncSession, draft: StoryDraft) -> Saved:
        """Save within the caller's transaction (publishing queues deliveries in the same one)."""
        digest = draft.content_hash()
        story = (await session.execute(select(Story).where(Story.slug == draft.slug))).scalar_one_or_none()
        if story is not None and story.content_hash == digest:
            return Saved(draft.slug, story.id, SaveOutcome.UNCHANGED)
        outcome = SaveOutcome.CREATED if story is None else SaveOutcome.UPDATED
        if story is None:
            story = Story(slug=draft.slug)
            session.add(story)
        story.title = draft.title
        story.summary = draft.summary
        story.category = draft.category
        story.published_at = draft.published_at
        story.url = draft.url
        story.body = draft.body
        story.content_hash = digest
        await session.flush()
        tag_ids = await self._link_tags(session, story.id, draft)
        await self._link_terms(session, story.id, draft)
        await session.execute(update(CatalogState).where(CatalogState.id == 1).values(version=CatalogState.version + 1))
        return Saved(draft.slug, story.id, outcome, tuple(tag_ids))

    async def _link_tags(self, session: AsyncSession, story_id: int, draft: StoryDraft) -> list[int]:
        names = {key_of(name): name for name in draft.tags}
        await session.execute(
            insert_for(session, Tag)
            .values([{"key": key, "name": name, "story_count": 0} for key, name in names.items()])
            .on_conflict_do_nothing(index_elements=["key"])
        )
        tag_ids = list((await session.execute(select(Tag.id).where(Tag.key.in_(names)))).scalars())
        old_ids = list((await session.execute(select(StoryTag.tag_id).where(StoryTag.story_id == story_id))).scalars())
        await session.execute(delete(StoryTag).where(StoryTag.story_id == story_id))
        await session.execute(
            insert_for(session, StoryTag).values(
                [{"story_id": story_id, "tag_id": tag_id, "published_at": draft.published_at} for tag_id in tag_ids]
            )
        )
        touched = set(tag_ids) | set(old_ids)
        counted = select(func.count()).where(StoryTag.tag_id == Tag.id).scalar_subquery()
        await session.execute(update(Tag).where(Tag.id.in_(touched)).values(story_count=counted))
        return tag_ids

    async def _link_terms(self, session: AsyncSession, story_id: int, draft: StoryDraft) -> None:
        old_ids = set(
            (await session.execute(select(StoryTerm.term_id).where(StoryTerm.story_id == story_id))).scalars()
        )
        await session.execute(delete(StoryTerm).where(StoryTerm.story_id == story_id))
        new_ids: set[int] = set()
        for entry in draft.terms:
            key = key_of(entry.term)
            stmt = insert_for(session, Term).values(key=key, name=entry.term, definition=entry.definition)
            # The latest story to define a term gives its wording.
            stmt = stmt.on_conflict_do_update(
                index_elements=["key"], set_={"name": entry.term, "definition": entry.definition}
            )
            await session.execute(stmt)
            term_id = (await session.execute(select(Term.id).where(Term.key == key))).scalar_one()
            new_ids.add(term_id)
            await session.execute(delete(TermAlias).where(TermAlias.term_id == term_id))
            aliases = {key_of(a): a for a in entry.aliases if key_of(a) != key}
            if aliases:
                # An alias another term already holds stays with that term.
                await session.execute(
                    insert_for(session, TermAlias)
                    .values([{"term_id": term_id, "key": k, "name": a} for k, a in aliases.items()])
                    .on_conflict_do_nothing(index_elements=["key"])
                )
        if new_ids:
            await session.execute(
                insert_for(session, StoryTerm).values([{"story_id": story_id, "term_id": t} for t in new_ids])
            )
        orphans = old_ids - new_ids
        if orphans:
            linked = select(StoryTerm.term_id).where(StoryTerm.term_id.in_(orphans))
            await session.execute(delete(Term).where(Term.id.in_(orphans), Term.id.not_in(linked)))


async def has_stories(sessions: SessionFactory) -> bool:
    async with sessions() as session:
        return (await session.execute(select(Story.id).limit(1))).first() is not None
