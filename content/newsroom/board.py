"""The newsroom page's read side: stories with how their pushes are going,
a story's sends over time, the tags with their followers, a story as a
draft to correct, and what a draft would push and to how many chats.

Plain views out; the page's handlers only show them. A preview is the
push exactly as the delivery worker would build it (`push_message`), so
the adapters' renderers give what the chats will get.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, or_, select, union

from content.chats.preferences import DigestEvery
from content.db import SessionFactory
from content.delivery.status import DeliveryStatus, JobKind
from content.keys import key_of
from content.messages import Message
from content.models import (
    Chat,
    Delivery,
    Story,
    StoryEventRow,
    StoryTag,
    StoryTerm,
    Subscription,
    Tag,
    Term,
    TermAlias,
    TermFollow,
    utcnow,
)
from content.replies.stories import push_message
from content.stories.catalog import Catalog
from content.stories.drafts import StoryDraft, TermDraft, key_term, push_words
from content.stories.history import StoryEvent, StoryEventKind
from content.stories.search import Search
from content.stories.views import KeyTerm, StoryView, TagView

RECENT_DAYS = 30
SENT_TIMES_MAX = 500_000  # sends read for one story's chart


@dataclass(frozen=True, slots=True)
class Progress:
    """A story's sends on one platform, as a bar shows them."""

    sent: int = 0
    pending: int = 0  # waiting or in flight
    failed: int = 0  # given up, or refused by the chat
    cancelled: int = 0  # withdrawn before they went out

    @property
    def total(self) -> int:
        return self.sent + self.pending + self.failed + self.cancelled

    @property
    def done(self) -> bool:
        return self.pending == 0

    def percent(self, part: int) -> float:
        return 100.0 * part / self.total if self.total else 0.0


def _progress(counts: dict[DeliveryStatus, int]) -> Progress:
    return Progress(
        sent=counts.get(DeliveryStatus.SENT, 0),
        pending=counts.get(DeliveryStatus.PENDING, 0) + counts.get(DeliveryStatus.SENDING, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0) + counts.get(DeliveryStatus.SKIPPED, 0),
        cancelled=counts.get(DeliveryStatus.CANCELLED, 0),
    )


@dataclass(frozen=True, slots=True)
class BoardStory:
    slug: str
    title: str
    category: str
    tags: tuple[str, ...]
    published_at: datetime
    created_at: datetime
    corrected_at: datetime | None
    correction: str | None
    retracted_at: datetime | None
    retraction_reason: str | None
    progress: dict[str, Progress] = field(default_factory=dict)  # platform -> its sends


@dataclass(frozen=True, slots=True)
class TagOverview:
    name: str
    key: str
    followers: dict[str, int]  # platform -> active chats following it
    recent: tuple[tuple[str, str, datetime], ...]  # (slug, title, published_at), newest first


@dataclass(frozen=True, slots=True)
class Preview:
    """What a draft would push (the neutral message), to whom, and how long it reads."""

    message: Message
    audience: dict[str, int]  # platform -> chats that get it now
    digests: dict[str, int]  # platform -> chats that gather it into their digest
    words: int


class Board:
    def __init__(self, sessions: SessionFactory, catalog: Catalog, search: Search, site_url: str) -> None:
        self._sessions = sessions
        self._catalog = catalog
        self._search = search
        self._site_url = site_url.rstrip("/")

    # ----- stories --------------------------------------------------------
    _COLUMNS = (
        Story.id,
        Story.slug,
        Story.title,
        Story.category,
        Story.published_at,
        Story.created_at,
        Story.corrected_at,
        Story.correction,
        Story.retracted_at,
        Story.retraction_reason,
    )

    async def stories(self, limit: int = 50, query: str | None = None) -> list[BoardStory]:
        """Newest first, withdrawn ones too; `query` narrows to the stories
        holding its words, or whose slug or headline contains it."""
        statement = select(*self._COLUMNS).order_by(Story.published_at.desc(), Story.id.desc()).limit(limit)
        if query and query.strip():
            needle = query.strip()[:100]
            found = await self._search.story_ids(needle, limit)
            pattern = "%" + needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            statement = statement.where(
                or_(
                    Story.id.in_(found),
                    func.lower(Story.title).like(pattern, escape="\\"),
                    Story.slug.like(pattern, escape="\\"),
                )
            )
        return await self._board(statement)

    async def story(self, slug: str) -> BoardStory | None:
        found = await self._board(select(*self._COLUMNS).where(Story.slug == slug))
        return found[0] if found else None

    async def _board(self, statement: Select[*tuple[Any, ...]]) -> list[BoardStory]:
        async with self._sessions() as session:
            rows = (await session.execute(statement)).all()
            tags = await Catalog.tag_names_in(session, [row.id for row in rows])
        progress = await self._progress_by_id([row.id for row in rows])
        return [
            BoardStory(
                row.slug,
                row.title,
                row.category,
                tuple(tags.get(row.id, ())),
                row.published_at,
                row.created_at,
                row.corrected_at,
                row.correction,
                row.retracted_at,
                row.retraction_reason,
                progress.get(row.id, {}),
            )
            for row in rows
        ]

    async def history(self, slug: str) -> list[StoryEvent]:
        """What happened to the story, oldest first. A story saved without
        the publisher (a story file imported) starts at when it was saved."""
        async with self._sessions() as session:
            story = (await session.execute(select(Story.id, Story.created_at).where(Story.slug == slug))).first()
            if story is None:
                return []
            rows = (
                await session.execute(
                    select(StoryEventRow.kind, StoryEventRow.at, StoryEventRow.note, StoryEventRow.by)
                    .where(StoryEventRow.story_id == story.id)
                    .order_by(StoryEventRow.at, StoryEventRow.id)
                )
            ).all()
        events = [StoryEvent(*row) for row in rows]
        if not any(e.kind is StoryEventKind.PUBLISHED for e in events):
            events.insert(0, StoryEvent(StoryEventKind.PUBLISHED, story.created_at, None, None))
        return events

    async def progress(self, slugs: Sequence[str]) -> dict[str, dict[str, Progress]]:
        """slug -> platform -> its sends, for the stories a page shows."""
        if not slugs:
            return {}
        async with self._sessions() as session:
            ids = dict(
                (await session.execute(select(Story.slug, Story.id).where(Story.slug.in_(list(slugs)[:200])))).all()
            )
        by_id = await self._progress_by_id(list(ids.values()))
        return {slug: by_id.get(story_id, {}) for slug, story_id in ids.items()}

    async def _progress_by_id(self, ids: list[int]) -> dict[int, dict[str, Progress]]:
        if not ids:
            return {}
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Delivery.story_id, Delivery.platform, Delivery.status, func.count())
                    .where(Delivery.story_id.in_(ids), Delivery.kind == JobKind.SEND)
                    .group_by(Delivery.story_id, Delivery.platform, Delivery.status)
                )
            ).all()
        counts: dict[int, dict[str, dict[DeliveryStatus, int]]] = defaultdict(lambda: defaultdict(dict))
        for story_id, platform, status, count in rows:
            if story_id is not None:
                counts[story_id][platform][status] = count
        return {
            story_id: {platform: _progress(c) for platform, c in sorted(platforms.items())}
            for story_id, platforms in counts.items()
        }

    async def sent_times(self, slug: str) -> list[datetime]:
        """When each of the story's pushes went out, oldest first (the chart's data)."""
        async with self._sessions() as session:
            return [
                moment
                for moment in (
                    await session.execute(
                        select(Delivery.sent_at)
                        .join(Story, Story.id == Delivery.story_id)
                        .where(
                            Story.slug == slug,
                            Delivery.kind == JobKind.SEND,
                            Delivery.status == DeliveryStatus.SENT,
                            Delivery.sent_at.is_not(None),
                        )
                        .order_by(Delivery.sent_at)
                        .limit(SENT_TIMES_MAX)
                    )
                ).scalars()
                if moment is not None
            ]

    # ----- tags -----------------------------------------------------------
    async def tags(self, days: int = RECENT_DAYS, per_tag: int = 10) -> list[TagOverview]:
        """Every tag with its followers per platform and its stories of the last `days`."""
        since = utcnow() - timedelta(days=days)
        async with self._sessions() as session:
            tags = (await session.execute(select(Tag.id, Tag.key, Tag.name).order_by(Tag.key))).all()
            followers = (
                await session.execute(
                    select(Subscription.tag_id, Chat.platform, func.count())
                    .join(Chat, Chat.id == Subscription.chat_id)
                    .where(Chat.active.is_(True))
                    .group_by(Subscription.tag_id, Chat.platform)
                )
            ).all()
            recent = (
                await session.execute(
                    select(StoryTag.tag_id, Story.slug, Story.title, Story.published_at)
                    .join(Story, Story.id == StoryTag.story_id)
                    .where(Story.published_at >= since, Story.retracted_at.is_(None))
                    .order_by(StoryTag.tag_id, Story.published_at.desc())
                )
            ).all()
        counts: dict[int, dict[str, int]] = defaultdict(dict)
        for tag_id, platform, count in followers:
            counts[tag_id][platform] = count
        stories: dict[int, list[tuple[str, str, datetime]]] = defaultdict(list)
        for tag_id, slug, title, published_at in recent:
            if len(stories[tag_id]) < per_tag:
                stories[tag_id].append((slug, title, published_at))
        return [
            TagOverview(name, key, dict(sorted(counts[tag_id].items())), tuple(stories[tag_id]))
            for tag_id, key, name in tags
        ]

    async def tag_names(self) -> list[str]:
        """Every tag's display name: what the write form suggests."""
        return sorted((t.name for t in (await self._catalog.keys()).tags.values()), key=str.lower)

    # ----- drafts ---------------------------------------------------------
    async def draft(self, slug: str) -> StoryDraft | None:
        """A story as the newsroom wrote it, to open in the form for a correction."""
        async with self._sessions() as session:
            story = (await session.execute(select(Story).where(Story.slug == slug))).scalar_one_or_none()
            if story is None:
                return None
            tags = await Catalog.tag_names_in(session, [story.id])
            terms = (
                await session.execute(
                    select(Term.id, Term.name, Term.definition)
                    .join(StoryTerm, StoryTerm.term_id == Term.id)
                    .where(StoryTerm.story_id == story.id)
                    .order_by(StoryTerm.position, Term.key)
                )
            ).all()
            aliases: dict[int, list[str]] = defaultdict(list)
            if terms:
                for term_id, name in (
                    await session.execute(
                        select(TermAlias.term_id, TermAlias.name)
                        .where(TermAlias.term_id.in_([t.id for t in terms]))
                        .order_by(TermAlias.id)
                    )
                ).all():
                    aliases[term_id].append(name)
            return StoryDraft(
                slug=story.slug,
                title=story.title,
                summary=story.summary,
                category=story.category,
                published_at=story.published_at,
                tags=tuple(tags.get(story.id, ())),
                url=story.url,
                terms=tuple(TermDraft(t.name, t.definition, tuple(aliases[t.id])) for t in terms),
                body=story.body,
                correction=story.correction,
            )

    async def preview(self, draft: StoryDraft) -> Preview:
        """The push a draft would be, without saving it, and who would get it now."""
        keys = await self._catalog.keys()
        # Tags and terms already known keep the names they are stored under, as
        # the writer keeps them, so the preview shows what the push will show.
        names = sorted(
            {key_of(t): (keys.tags[key_of(t)].name if key_of(t) in keys.tags else t) for t in draft.tags}.values()
        )
        first = key_term(draft.terms)
        term = None
        if first is not None:
            known = keys.terms.get(key_of(first.term))
            term = KeyTerm(known[0] if known else 0, key_of(first.term), first.term, first.definition)
        async with self._sessions() as session:
            stored = (
                await session.execute(
                    select(Story.id, Story.correction, Story.corrected_at).where(Story.slug == draft.slug)
                )
            ).first()
        corrected_at = None
        if stored is not None and draft.correction:
            corrected_at = utcnow()  # a correction's note shows with the time it is saved
        view = StoryView(
            stored.id if stored is not None else 0,
            draft.slug,
            draft.title,
            draft.summary,
            draft.category,
            draft.published_at,
            draft.url or f"{self._site_url}/stories/{draft.slug}",
            tuple(names),
            draft.correction,
            corrected_at,
            term,
        )
        audience, digests = await self._audience(draft, keys.tags, keys.terms)
        words = push_words(draft.summary, first.term, first.definition) if first else len(draft.summary.split())
        return Preview(push_message(view), audience, digests, words)

    async def _audience(
        self, draft: StoryDraft, tags: dict[str, TagView], terms: dict[str, tuple[int, str]]
    ) -> tuple[dict[str, int], dict[str, int]]:
        """Active chats following the draft's tags or terms, per platform: those
        pushed at once, and those that gather it into their digest."""
        tag_ids = [tags[key_of(t)].id for t in draft.tags if key_of(t) in tags]
        term_ids: set[int] = set()
        for entry in draft.terms:
            for spelling in (entry.term, *entry.aliases):
                if key_of(spelling) in terms:
                    term_ids.add(terms[key_of(spelling)][0])
        if not tag_ids and not term_ids:
            return {}, {}
        followers = union(
            select(Subscription.chat_id.label("chat_id")).where(Subscription.tag_id.in_(tag_ids)),
            select(TermFollow.chat_id.label("chat_id")).where(TermFollow.term_id.in_(sorted(term_ids))),
        ).subquery("followers")
        digest = Chat.digest != DigestEvery.OFF
        async with self._sessions() as session:
            rows = (
                await session.execute(
                    select(Chat.platform, digest.label("digest"), func.count())
                    .join(followers, followers.c.chat_id == Chat.id)
                    .where(Chat.active.is_(True))
                    .group_by(Chat.platform, digest)
                )
            ).all()
        now: dict[str, int] = {}
        later: dict[str, int] = {}
        for platform, in_digest, count in rows:
            (later if in_digest else now)[platform] = count
        return dict(sorted(now.items())), dict(sorted(later.items()))
