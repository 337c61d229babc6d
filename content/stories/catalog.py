"""The read side: queries that return views of stories, tags and terms."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from content.chats.lifecycle import place_is, whole_chat_is
from content.chats.ref import ChatRef
from content.db import SessionFactory
from content.delivery.status import JobKind
from content.dialect import is_postgres
from content.models import (
    CatalogState,
    Chat,
    Delivery,
    Story,
    StoryTag,
    StoryTerm,
    Subscription,
    Tag,
    Term,
    TermAlias,
    TermFollow,
)
from content.stories.views import (
    GlossaryEntry,
    KeyTerm,
    PlaceFollows,
    StoryDetail,
    StoryLink,
    StoryView,
    TagView,
    TermView,
    Withdrawal,
)

# What readers see: stories the newsroom has not withdrawn.
_PUBLISHED = Story.retracted_at.is_(None)


@dataclass(frozen=True, slots=True)
class KeyIndex:
    """Every tag and term key, for fuzzy matching in memory."""

    version: int
    tags: dict[str, TagView]
    # term or alias key -> (term id, the name the key spells)
    terms: dict[str, tuple[int, str]]


class Catalog:
    def __init__(self, sessions: SessionFactory, site_url: str) -> None:
        self._sessions = sessions
        self._site_url = site_url.rstrip("/")
        self._index: KeyIndex | None = None
        self._index_lock = asyncio.Lock()

    # ----- keys ---------------------------------------------------------
    async def keys(self) -> KeyIndex:
        """The key index, reloaded only when a writer has moved the catalog version."""
        async with self._sessions() as session:
            version = (await session.execute(select(CatalogState.version).where(CatalogState.id == 1))).scalar_one()
            index = self._index
            if index is not None and index.version == version:
                return index
            async with self._index_lock:
                if self._index is not None and self._index.version == version:
                    return self._index
                tags = {
                    row.key: TagView(row.id, row.key, row.name, row.story_count)
                    for row in (await session.execute(select(Tag.id, Tag.key, Tag.name, Tag.story_count))).all()
                }
                terms: dict[str, tuple[int, str]] = {}
                for term_id, key, name in (
                    await session.execute(select(TermAlias.term_id, TermAlias.key, TermAlias.name))
                ).all():
                    terms[key] = (term_id, name)
                for term_id, key, name in (await session.execute(select(Term.id, Term.key, Term.name))).all():
                    terms[key] = (term_id, name)
                self._index = KeyIndex(version, tags, terms)
                return self._index

    # ----- stories ------------------------------------------------------
    def _url(self, slug: str, url: str | None) -> str:
        return url or f"{self._site_url}/stories/{slug}"

    @staticmethod
    async def tag_names_in(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
        """story id -> its tags' names, in name order (as every list shows them)."""
        tags: dict[int, list[str]] = defaultdict(list)
        if ids:
            query = (
                select(StoryTag.story_id, Tag.name)
                .join(Tag, Tag.id == StoryTag.tag_id)
                .where(StoryTag.story_id.in_(list(ids)))
                .order_by(StoryTag.story_id, Tag.name)
            )
            for story_id, name in (await session.execute(query)).all():
                tags[story_id].append(name)
        return tags

    async def _views(self, session: AsyncSession, rows: Sequence[Any]) -> list[StoryView]:
        tags = await self.tag_names_in(session, [row.id for row in rows])
        return [
            StoryView(
                row.id,
                row.slug,
                row.title,
                row.summary,
                row.category,
                row.published_at,
                self._url(row.slug, row.url),
                tuple(tags[row.id]),
                row.correction,
                row.corrected_at,
            )
            for row in rows
        ]

    _LIST_COLUMNS = (
        Story.id,
        Story.slug,
        Story.title,
        Story.summary,
        Story.category,
        Story.published_at,
        Story.url,
        Story.correction,
        Story.corrected_at,
    )

    async def latest(self, limit: int, offset: int = 0, tag_id: int | None = None) -> list[StoryView]:
        async with self._sessions() as session:
            if tag_id is None:
                query = (
                    select(*self._LIST_COLUMNS).where(_PUBLISHED).order_by(Story.published_at.desc(), Story.id.desc())
                )
            else:
                query = (
                    select(*self._LIST_COLUMNS)
                    .join(StoryTag, StoryTag.story_id == Story.id)
                    .where(StoryTag.tag_id == tag_id, _PUBLISHED)
                    .order_by(StoryTag.published_at.desc(), StoryTag.story_id.desc())
                )
            rows = (await session.execute(query.limit(limit).offset(offset))).all()
            return await self._views(session, rows)

    async def stories_by_id(self, ids: list[int]) -> list[StoryView]:
        """Views in the order of `ids` (a search's ranking)."""
        if not ids:
            return []
        async with self._sessions() as session:
            rows = (await session.execute(select(*self._LIST_COLUMNS).where(Story.id.in_(ids), _PUBLISHED))).all()
            views = {view.id: view for view in await self._views(session, rows)}
        return [views[i] for i in ids if i in views]

    async def story_to_push(self, story_id: int) -> StoryView | None:
        """The story as a push shows it now; None once it is withdrawn or gone.

        On PostgreSQL the read waits for a correction or a retraction being
        committed (FOR SHARE against their row lock): a worker that claimed a
        send just before one either sends the new version or has its send
        seen, and followed up, by it; never the old version unfollowed."""
        async with self._sessions() as session:
            query = select(*self._LIST_COLUMNS).where(Story.id == story_id, _PUBLISHED)
            if is_postgres(session):
                query = query.with_for_update(read=True, of=Story)
            rows = (await session.execute(query)).all()
            views = await self._views(session, rows)
            if not views:
                return None
            term = await self._key_term(session, story_id)
        return replace(views[0], term=term)

    @staticmethod
    async def _key_term(session: AsyncSession, story_id: int) -> KeyTerm | None:
        """The story's first glossary term as the newsroom listed it, the one
        the 150-word check counted (`content.stories.drafts.key_term`)."""
        row = (
            await session.execute(
                select(Term.id, Term.key, Term.name, Term.definition)
                .join(StoryTerm, StoryTerm.term_id == Term.id)
                .where(StoryTerm.story_id == story_id)
                .order_by(StoryTerm.position, Term.key)
                .limit(1)
            )
        ).first()
        return KeyTerm(row.id, row.key, row.name, row.definition) if row is not None else None

    async def withdrawal(self, slug: str) -> Withdrawal | None:
        """The withdrawal of the story with this slug, if it was withdrawn."""
        return await self._withdrawal(Story.slug == slug)

    async def withdrawn(self, story_id: int) -> Withdrawal | None:
        return await self._withdrawal(Story.id == story_id)

    async def _withdrawal(self, which: Any) -> Withdrawal | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(Story.slug, Story.retraction_reason, Story.retracted_at).where(
                        which, Story.retracted_at.is_not(None)
                    )
                )
            ).first()
        return Withdrawal(row.slug, row.retraction_reason, row.retracted_at) if row is not None else None

    async def story(self, slug: str) -> StoryDetail | None:
        async with self._sessions() as session:
            row = (
                await session.execute(select(*self._LIST_COLUMNS, Story.body).where(Story.slug == slug, _PUBLISHED))
            ).first()
            if row is None:
                return None
            (view,) = await self._views(session, [row])
            glossary = (
                await session.execute(
                    select(Term.name, Term.definition)
                    .join(StoryTerm, StoryTerm.term_id == Term.id)
                    .where(StoryTerm.story_id == row.id)
                    .order_by(Term.name)
                )
            ).all()
            return StoryDetail(view, row.body, tuple(GlossaryEntry(n, d) for n, d in glossary))

    async def titles_by_slug_prefix(self, prefix: str, limit: int) -> list[tuple[str, str]]:
        """(slug, title) of stories whose slug starts with `prefix`, newest first."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        async with self._sessions() as session:
            query = (
                select(Story.slug, Story.title)
                .where(Story.slug.like(f"{escaped}%", escape="\\"), _PUBLISHED)
                .order_by(Story.published_at.desc(), Story.id.desc())
                .limit(limit)
            )
            return [(slug, title) for slug, title in (await session.execute(query)).all()]

    # ----- terms --------------------------------------------------------
    async def term(self, term_id: int, stories: int = 5) -> TermView | None:
        async with self._sessions() as session:
            row = (await session.execute(select(Term.id, Term.name, Term.definition).where(Term.id == term_id))).first()
            if row is None:
                return None
            aliases = (
                await session.execute(
                    select(TermAlias.name).where(TermAlias.term_id == term_id).order_by(TermAlias.name)
                )
            ).scalars()
            links = (
                await session.execute(
                    select(Story.slug, Story.title, Story.published_at)
                    .join(StoryTerm, StoryTerm.story_id == Story.id)
                    .where(StoryTerm.term_id == term_id, _PUBLISHED)
                    .order_by(Story.published_at.desc(), Story.id.desc())
                    .limit(stories)
                )
            ).all()
            return TermView(row.id, row.name, row.definition, tuple(aliases), tuple(StoryLink(*link) for link in links))

    # ----- tags and chats -----------------------------------------------
    async def tags(self) -> list[TagView]:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Tag.id, Tag.key, Tag.name, Tag.story_count).order_by(Tag.story_count.desc(), Tag.name)
                )
            ).all()
            return [TagView(*row) for row in rows]

    async def followed(self, chat: ChatRef) -> list[TagView]:
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Tag.id, Tag.key, Tag.name, Tag.story_count)
                    .join(Subscription, Subscription.tag_id == Tag.id)
                    .join(Chat, Chat.id == Subscription.chat_id)
                    .where(place_is(chat))
                    .order_by(Tag.name)
                )
            ).all()
            return [TagView(*row) for row in rows]

    async def digest_for(
        self, chat_id: int, since: datetime, until: datetime, limit: int
    ) -> tuple[list[StoryView], int]:
        """What a chat's digest shows: the stories that reached the newsroom's
        catalog in (since, until] on a tag or a term the chat follows, which it
        has not had as a push of their own, newest first; at most `limit`,
        and how many there are in all."""
        followed_tag = select(StoryTag.story_id).join(Subscription, Subscription.tag_id == StoryTag.tag_id)
        followed_term = select(StoryTerm.story_id).join(TermFollow, TermFollow.term_id == StoryTerm.term_id)
        # An entry spelled as a followed term's alias explains that term too (as in the fan-out).
        by_alias = (
            select(StoryTerm.story_id)
            .join(Term, Term.id == StoryTerm.term_id)
            .join(TermAlias, TermAlias.key == Term.key)
            .join(TermFollow, TermFollow.term_id == TermAlias.term_id)
        )
        pushed = select(Delivery.story_id).where(
            Delivery.chat_id == chat_id, Delivery.kind == JobKind.SEND, Delivery.story_id == Story.id
        )
        due = (
            _PUBLISHED,
            Story.created_at > since,
            Story.created_at <= until,
            or_(
                Story.id.in_(followed_tag.where(Subscription.chat_id == chat_id)),
                Story.id.in_(followed_term.where(TermFollow.chat_id == chat_id)),
                Story.id.in_(by_alias.where(TermFollow.chat_id == chat_id)),
            ),
            ~exists(pushed),
        )
        async with self._sessions() as session:
            total = (await session.execute(select(func.count()).select_from(Story).where(*due))).scalar_one()
            if not total:
                return [], 0
            rows = (
                await session.execute(
                    select(*self._LIST_COLUMNS)
                    .where(*due)
                    .order_by(Story.created_at.desc(), Story.id.desc())
                    .limit(limit)
                )
            ).all()
            return await self._views(session, rows), total

    async def followed_terms(self, chat: ChatRef) -> list[str]:
        """The names of the glossary terms the chat follows."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Term.name)
                    .join(TermFollow, TermFollow.term_id == Term.id)
                    .join(Chat, Chat.id == TermFollow.chat_id)
                    .where(place_is(chat))
                    .order_by(Term.name)
                )
            ).all()
        return [name for (name,) in rows]

    async def followed_across(self, chat: ChatRef) -> list[PlaceFollows]:
        """What every place of the chat follows, the chat itself first, then its
        topics and threads by name; places following nothing are left out."""
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Chat.thread_id, Chat.title, Chat.active, Tag.id, Tag.key, Tag.name, Tag.story_count)
                    .join(Subscription, Subscription.chat_id == Chat.id)
                    .join(Tag, Tag.id == Subscription.tag_id)
                    .where(whole_chat_is(chat))
                    .order_by(Chat.thread_id != "", Chat.title, Chat.thread_id, Tag.name)
                )
            ).all()
        places: dict[str, PlaceFollows] = {}
        for row in rows:
            place = places.get(row.thread_id) or PlaceFollows(row.thread_id or None, row.title, row.active, ())
            tag = TagView(row.id, row.key, row.name, row.story_count)
            places[row.thread_id] = PlaceFollows(place.thread_id, place.title, place.active, (*place.tags, tag))
        return list(places.values())
