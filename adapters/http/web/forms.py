"""The write form's fields, to and from the story mapping the core validates.

The form holds what a story file holds, in fields a person types: tags as
one comma-separated line, each glossary term in a row of its own (term,
definition, aliases separated by commas). An empty optional field is left
out, so the core's own defaults and rules apply, and the core's refusals
name the same fields the form shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from content.stories.drafts import StoryDraft

TERM_ROWS_SPARE = 2  # empty term rows below the filled ones (the page adds more with a button)
TERM_ROWS_MAX = 20


@dataclass
class TermRow:
    term: str = ""
    definition: str = ""
    aliases: str = ""


@dataclass
class StoryForm:
    """The form as the editor filled it in, kept as typed to show it again."""

    title: str = ""
    summary: str = ""
    category: str = ""
    tags: str = ""
    url: str = ""
    slug: str = ""
    published_at: str = ""  # an ISO 8601 moment; empty: now
    correction: str = ""
    body: str = ""
    terms: list[TermRow] = field(default_factory=list)
    editing: str = ""  # the slug of the story being corrected, when it is a correction

    @property
    def rows(self) -> list[TermRow]:
        """The term rows to show: the filled ones and a few empty ones."""
        filled = [t for t in self.terms if t.term or t.definition or t.aliases]
        return [*filled, *(TermRow() for _ in range(TERM_ROWS_SPARE))][:TERM_ROWS_MAX]


def _split(line: str) -> list[str]:
    return [part.strip() for part in line.split(",") if part.strip()]


def form_from_post(data: Mapping[str, str]) -> StoryForm:
    def get(name: str) -> str:
        value = data.get(name, "")
        return value if isinstance(value, str) else ""

    rows: list[TermRow] = []
    for i in range(TERM_ROWS_MAX):
        row = TermRow(get(f"term-{i}").strip(), get(f"definition-{i}").strip(), get(f"aliases-{i}").strip())
        if row.term or row.definition or row.aliases:
            rows.append(row)  # kept in order, so the core's terms[N] is the form's row N
    return StoryForm(
        title=get("title"),
        summary=get("summary"),
        category=get("category"),
        tags=get("tags"),
        url=get("url"),
        slug=get("slug").strip(),
        published_at=get("published_at").strip(),
        correction=get("correction"),
        body=get("body").replace("\r\n", "\n"),
        terms=rows,
        editing=get("editing").strip(),
    )


def story_mapping(form: StoryForm, now: datetime) -> dict[str, object]:
    """What `story_from_mapping` validates; `now` stands in for a missing time."""
    data: dict[str, object] = {
        "title": form.title,
        "summary": form.summary,
        "category": form.category,
        "tags": _split(form.tags),
        "published_at": form.published_at or now.astimezone(UTC).isoformat(),
        "body": form.body,
    }
    slug = form.editing or form.slug
    if slug:
        data["slug"] = slug
    if form.url.strip():
        data["url"] = form.url.strip()
    if form.correction.strip():
        data["correction"] = form.correction.strip()
    terms = []
    for row in form.terms:
        entry: dict[str, object] = {"term": row.term, "definition": row.definition}
        if row.aliases:
            entry["aliases"] = _split(row.aliases)
        terms.append(entry)
    if terms:
        data["terms"] = terms
    return data


def form_from_draft(draft: StoryDraft) -> StoryForm:
    """A stored story in the form, to correct it."""
    return StoryForm(
        title=draft.title,
        summary=draft.summary,
        category=draft.category,
        tags=", ".join(draft.tags),
        url=draft.url or "",
        slug=draft.slug,
        published_at=draft.published_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        correction=draft.correction or "",
        body=draft.body,
        terms=[TermRow(t.term, t.definition, ", ".join(t.aliases)) for t in draft.terms],
        editing=draft.slug,
    )


def field_of(problem_field: str) -> str:
    """The form field a core refusal names: `terms[1].definition` is the
    definition of the second term row, `tags[0]` is the tags line."""
    if problem_field.startswith("terms[") and "]" in problem_field:
        index, _, rest = problem_field[len("terms[") :].partition("]")
        name = rest.lstrip(".") or "term"
        if name not in ("term", "definition", "aliases"):
            name = "term"
        if name.startswith("aliases"):
            name = "aliases"
        return f"{name}-{index}" if index.isdigit() else "terms"
    head = problem_field.split("[", 1)[0].split(".", 1)[0]
    return head or "story"
