"""Story files: import, re-import, updates, and refusals that write nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.composition import Core
from content.errors import StoryFileError
from content.models import Story, Tag, Term, TermAlias
from content.stories.drafts import load_story_file, parse_story_text
from content.stories.writer import SAMPLE_LIBRARY as LIBRARY
from tests.conftest import PRIVATE
from tests.helpers import cards, plain

GOOD = """---
title: A <b>bold</b> & "quoted" story
summary: Models learn from data & people; this one reads < 30 seconds.
category: Tech
published_at: 2026-11-01T09:15:00+02:00
tags: [Widgets, Elon Musk]
terms:
  - term: widget theory
    definition: The study of widgets.
    aliases: [WT]
---
The lead paragraph, with <script>alert(1)</script> in it.

## What happened

Something & something else.
"""


async def count(core: Core, model) -> int:
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_bundled_library_is_valid_and_big_enough() -> None:
    drafts = [load_story_file(p) for p in sorted(LIBRARY.glob("*.md"))]
    assert len(drafts) >= 12
    assert len({t.lower() for d in drafts for t in d.tags}) >= 8
    assert len({t.term.lower() for d in drafts for t in d.terms}) >= 20
    distillation = next(d for d in drafts if any(t.term == "distillation" for t in d.terms))
    assert set(distillation.tags) == {"Elon Musk", "xAI", "OpenAI"}
    assert distillation.published_at.date().isoformat() == "2026-04-30"


async def test_import_twice_changes_nothing_and_a_change_updates(blank: Core, tmp_path: Path) -> None:
    path = write(tmp_path, "one.md", GOOD)
    first = await blank.importer.import_paths([path])
    assert [s.outcome for s in first.saved] == ["created"] and not first.errors
    slug = first.saved[0].slug
    assert slug == "a-b-bold-b-quoted-story"
    async with blank.sessions() as session:
        story = (await session.execute(select(Story).where(Story.slug == slug))).scalar_one()
        assert story.published_at.isoformat() == "2026-11-01T07:15:00+00:00"  # stored in UTC
        stamp = story.updated_at
    again = await blank.importer.import_paths([path])
    assert [s.outcome for s in again.saved] == ["unchanged"]
    async with blank.sessions() as session:
        assert (await session.execute(select(Story.updated_at).where(Story.slug == slug))).scalar_one() == stamp

    changed = GOOD.replace("tags: [Widgets, Elon Musk]", "tags: [Gadgets]").replace(
        "  - term: widget theory\n    definition: The study of widgets.\n    aliases: [WT]\n",
        "  - term: gadgetry\n    definition: Gadgets, all of them.\n",
    )
    write(tmp_path, "one.md", changed)
    updated = await blank.importer.import_paths([tmp_path])
    assert [s.outcome for s in updated.saved] == ["updated"]
    assert await count(blank, Story) == 1
    async with blank.sessions() as session:
        counts = dict((await session.execute(select(Tag.name, Tag.story_count))).all())
        terms = set((await session.execute(select(Term.name))).scalars())
        aliases = set((await session.execute(select(TermAlias.name))).scalars())
    assert counts == {"Widgets": 0, "Elon Musk": 0, "Gadgets": 1}
    assert terms == {"gadgetry"} and aliases == set()  # the dropped term went with its story
    (card,) = cards(await blank.commands.handle_text(PRIVATE, "/explain gadgetry"))
    assert card.title == "gadgetry"


async def test_markup_in_a_story_stays_text(blank: Core, tmp_path: Path) -> None:
    await blank.importer.import_paths([write(tmp_path, "one.md", GOOD)])
    text = plain(await blank.commands.handle_text(PRIVATE, "/story a-b-bold-b-quoted-story"))
    assert 'A <b>bold</b> & "quoted" story' in text
    assert "<script>alert(1)</script>" in text


BAD = {
    "no title": (lambda t: t.replace('title: A <b>bold</b> & "quoted" story\n', ""), "title", "missing"),
    "bad date": (lambda t: t.replace("2026-11-01T09:15:00+02:00", "next tuesday"), "published_at", "ISO 8601"),
    "unknown key": (lambda t: t.replace("category: Tech\n", "category: Tech\nauthor: Ada\n"), "author", "unknown key"),
    "tags not a list": (lambda t: t.replace("tags: [Widgets, Elon Musk]", "tags: Widgets"), "tags", "must be a list"),
    "long title": (
        lambda t: t.replace('title: A <b>bold</b> & "quoted" story', "title: " + "x" * 201),
        "title",
        "at most 200",
    ),
    "long summary": (
        lambda t: t.replace("summary: Models", "summary: " + "word " * 121 + "Models"),
        "summary",
        "at most 120",
    ),
    "bad term": (lambda t: t.replace("    definition: The study of widgets.\n", ""), "terms[0].definition", "missing"),
    "bad yaml": (lambda t: t.replace("tags: [Widgets, Elon Musk]", "tags: [Widgets"), "front matter", "not valid YAML"),
    "no front matter": (lambda t: "Just text.\n", "front matter", "missing"),
    "bad slug": (lambda t: t.replace("category: Tech\n", "category: Tech\nslug: Not A Slug\n"), "slug", "lowercase"),
    "bad url": (lambda t: t.replace("category: Tech\n", "category: Tech\nurl: javascript:alert(1)\n"), "url", "http"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_story_files_name_the_file_field_and_problem(case: str, tmp_path: Path) -> None:
    mutate, field, problem = BAD[case]
    path = write(tmp_path, "broken.md", mutate(GOOD))
    with pytest.raises(StoryFileError) as caught:
        load_story_file(path)
    error = caught.value
    assert error.source == str(path) and error.field == field and problem in error.problem, str(error)
    assert str(error).startswith(f"{path}: {field}: ")


async def test_an_invalid_file_writes_nothing_and_the_rest_goes_on(blank: Core, tmp_path: Path) -> None:
    write(tmp_path, "a-good.md", GOOD)
    write(
        tmp_path,
        "b-bad.md",
        GOOD.replace("tags: [Widgets, Elon Musk]", "tags: Widgets").replace("A <b>bold", "Another"),
    )
    report = await blank.importer.import_paths([tmp_path])
    assert [s.outcome for s in report.saved] == ["created"]
    assert len(report.errors) == 1 and report.errors[0].source.endswith("b-bad.md")
    assert await count(blank, Story) == 1
    assert await count(blank, Tag) == 2


def test_dates_without_offset_are_utc_and_dates_alone_are_midnight() -> None:
    naive = parse_story_text(GOOD.replace("2026-11-01T09:15:00+02:00", "2026-11-01T09:15:00"), "x.md")
    assert naive.published_at.isoformat() == "2026-11-01T09:15:00+00:00"
    day = parse_story_text(GOOD.replace("2026-11-01T09:15:00+02:00", "2026-11-01"), "x.md")
    assert day.published_at.isoformat() == "2026-11-01T00:00:00+00:00"


async def test_seeding_happens_once_and_can_be_turned_off(blank: Core) -> None:
    await blank.prepare(seed=False)
    assert await count(blank, Story) == 0
    await blank.prepare()
    seeded = await count(blank, Story)
    assert seeded == len(list(LIBRARY.glob("*.md")))
    await blank.prepare()
    assert await count(blank, Story) == seeded


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"published_at": "0001-01-01T00:00:00+01:00"}, "published_at", "out of range"),
        ({"body": "a\x00b"}, "body", "NUL"),
        ({"terms": [{"term": "x", "definition": "lone \ud800 surrogate"}]}, "terms[0].definition", "surrogate"),
    ],
)
def test_values_no_database_can_store_are_refused(change: dict, field: str, problem: str) -> None:
    from content.stories.drafts import story_from_mapping

    base = {"title": "T", "summary": "S", "category": "AI", "published_at": "2026-01-01T00:00:00Z", "tags": ["A"]}
    with pytest.raises(StoryFileError) as caught:
        story_from_mapping({**base, **change}, "request")
    assert caught.value.field == field and problem in caught.value.problem
