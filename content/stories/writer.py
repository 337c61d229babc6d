"""The write side for stories: import (and later publish) a validated draft.

A save is one transaction: the story, its tags, its glossary terms and their
aliases, and the catalog version readers use to refresh their caches. Saving
the same draft twice writes nothing the second time. A save says what changed
for readers: whether what a push shows changed (a correction to edit in) and
which tags it gained (followers who may still be pushed it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
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
    utcnow,
)
from content.stories.corrections import Shown, shown
from content.stories.drafts import StoryDraft, key_term


class SaveOutcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"  # the same content again: nothing written


SLUG_COLUMN = 64  # stories.slug: room for a withdrawn story's "r<id>-" before its slug

# The bundled sample stories, loaded into an empty database on first start.
SAMPLE_LIBRARY = Path(__file__).parents[1] / "library"


@dataclass(frozen=True, slots=True)
class Saved:
    slug: str
    story_id: int
    outcome: SaveOutcome
    tag_ids: tuple[int, ...] = ()  # the story's tags, when this save linked them
    # An update: whether what a push shows changed, and the tags it gained.
    push_changed: bool = False
    added_tag_ids: tuple[int, ...] = ()
    first_published: datetime | None = None  # when the story was first saved


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
        if story is not None and story.retracted_at is not None:
            # A withdrawn story's slug published again is a new publication;
            # the withdrawn row keeps its pushes (to take down) under a slug
            # of its own.
            story.slug = f"r{story.id}-{draft.slug}"[:SLUG_COLUMN].rstrip("-")
            await session.flush()
            story = None
        if story is not None and story.content_hash == digest:
            return Saved(draft.slug, story.id, SaveOutcome.UNCHANGED)
        outcome = SaveOutcome.CREATED if story is None else SaveOutcome.UPDATED
        before: Shown | None = None
        old_tag_ids: set[int] = set()
        if story is None:
            story = Story(slug=draft.slug, created_at=utcnow())
            session.add(story)
        else:
            old_tags = (
                await session.execute(
                    select(Tag.id, Tag.key)
                    .join(StoryTag, StoryTag.tag_id == Tag.id)
                    .where(StoryTag.story_id == story.id)
                )
            ).all()
            old_tag_ids = {tag_id for tag_id, _key in old_tags}
            first = (
                await session.execute(
                    select(Term.name, Term.definition)
                    .join(StoryTerm, StoryTerm.term_id == Term.id)
                    .where(StoryTerm.story_id == story.id)
                    .order_by(StoryTerm.position, Term.key)
                    .limit(1)
                )
            ).first()
            before = shown(story, frozenset(key for _id, key in old_tags), (first[0], first[1]) if first else None)
        story.title = draft.title
        story.summary = draft.summary
        story.category = draft.category
        story.published_at = draft.published_at
        story.url = draft.url
        story.body = draft.body
        story.correction = draft.correction
        story.content_hash = digest
        term = key_term(draft.terms)
        after = shown(
            story, frozenset(key_of(name) for name in draft.tags), (term.term, term.definition) if term else None
        )
        changed = before is not None and before != after
        if changed:
            story.corrected_at = utcnow()
        await session.flush()
        tag_ids = await self._link_tags(session, story.id, draft)
        await self._link_terms(session, story.id, draft)
        await self._bump(session)
        return Saved(
            draft.slug,
            story.id,
            outcome,
            tuple(tag_ids),
            push_changed=changed,
            added_tag_ids=tuple(t for t in tag_ids if t not in old_tag_ids) if before is not None else (),
            first_published=story.created_at,
        )

    async def withdraw_in(self, session: AsyncSession, story_id: int) -> None:
        """Takes a withdrawn story out of the tags and the glossary, within the
        caller's transaction: its tags count it no longer, and terms only it
        defined go."""
        tag_ids = set((await session.execute(select(StoryTag.tag_id).where(StoryTag.story_id == story_id))).scalars())
        await session.execute(delete(StoryTag).where(StoryTag.story_id == story_id))
        await self._recount(session, tag_ids)
        await self._unlink_terms(session, story_id, [])
        await self._bump(session)

    @staticmethod
    async def _bump(session: AsyncSession) -> None:
        await session.execute(update(CatalogState).where(CatalogState.id == 1).values(version=CatalogState.version + 1))

    @staticmethod
    async def _recount(session: AsyncSession, tag_ids: set[int]) -> None:
        if tag_ids:
            counted = select(func.count()).where(StoryTag.tag_id == Tag.id).scalar_subquery()
            await session.execute(update(Tag).where(Tag.id.in_(tag_ids)).values(story_count=counted))

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
        await self._recount(session, set(tag_ids) | set(old_ids))
        return tag_ids

    async def _link_terms(self, session: AsyncSession, story_id: int, draft: StoryDraft) -> None:
        new_ids: list[int] = []  # in the glossary's order
        for entry in draft.terms:
            key = key_of(entry.term)
            stmt = insert_for(session, Term).values(key=key, name=entry.term, definition=entry.definition)
            # The latest story to define a term gives its wording.
            stmt = stmt.on_conflict_do_update(
                index_elements=["key"], set_={"name": entry.term, "definition": entry.definition}
            )
            await session.execute(stmt)
            term_id = (await session.execute(select(Term.id).where(Term.key == key))).scalar_one()
            if term_id not in new_ids:
                new_ids.append(term_id)
            await session.execute(delete(TermAlias).where(TermAlias.term_id == term_id))
            aliases = {key_of(a): a for a in entry.aliases if key_of(a) != key}
            if aliases:
                # An alias another term already holds stays with that term.
                await session.execute(
                    insert_for(session, TermAlias)
                    .values([{"term_id": term_id, "key": k, "name": a} for k, a in aliases.items()])
                    .on_conflict_do_nothing(index_elements=["key"])
                )
        await self._unlink_terms(session, story_id, new_ids)

    @staticmethod
    async def _unlink_terms(session: AsyncSession, story_id: int, new_ids: list[int]) -> None:
        """Links the story to `new_ids` alone, in their order; a term no story explains any more goes."""
        old_ids = set(
            (await session.execute(select(StoryTerm.term_id).where(StoryTerm.story_id == story_id))).scalars()
        )
        await session.execute(delete(StoryTerm).where(StoryTerm.story_id == story_id))
        if new_ids:
            await session.execute(
                insert_for(session, StoryTerm).values(
                    [{"story_id": story_id, "term_id": t, "position": i} for i, t in enumerate(new_ids)]
                )
            )
        orphans = old_ids - set(new_ids)
        if orphans:
            linked = select(StoryTerm.term_id).where(StoryTerm.term_id.in_(orphans))
            await session.execute(delete(Term).where(Term.id.in_(orphans), Term.id.not_in(linked)))


async def has_stories(sessions: SessionFactory) -> bool:
    async with sessions() as session:
        return (await session.execute(select(Story.id).limit(1))).first() is not None
