"""The HTTP API end to end: the app served on 127.0.0.1 by aiohttp's test
server, on SQLite and PostgreSQL, with real HTTP requests (and schemathesis
checking the server against its own OpenAPI document)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import ClientSession
from aiohttp.test_utils import TestClient, TestServer
from pydantic import SecretStr
from sqlalchemy import func, select, update

from adapters.console import render_plain
from adapters.http.api import PublishingApi
from adapters.http.app import METRICS_KEY, build_app
from adapters.http.metrics import Metrics
from adapters.http.openapi import openapi_document
from bot.composition import Core, build_http_app, build_workers
from content.chats.ref import ChatRef
from content.commands.caller import Caller
from content.delivery.breaker import BreakerState, BreakerView
from content.delivery.health import PlatformHealth, PlatformState, platform_health
from content.delivery.outcomes import Outcome, RateLimited, Sent, Vanished
from content.delivery.port import Target
from content.delivery.reports import Reports
from content.delivery.status import DeliveryStatus, JobKind
from content.delivery.worker import DeliveryWorker
from content.messages import Message
from content.models import Chat, Delivery, Story, StoryTag, Tag, Term, TermAlias

TOKEN = "s3cret-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def story(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Grok 5 arrives with a bigger context window",
        "summary": "xAI shipped Grok 5; it reads longer documents at once, and OpenAI answered within a day.",
        "category": "AI",
        "published_at": "2026-05-02T09:00:00Z",
        "tags": ["xAI", "OpenAI"],
        "terms": [
            {
                "term": "context window",
                "definition": "How much text a model reads at once.",
                "aliases": ["context length"],
            }
        ],
        "body": "xAI released Grok 5.\n\n## What changed\n\nMore context.",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


@asynccontextmanager
async def serving(
    core: Core, token: str | None = TOKEN, adapters: Mapping[str, Callable[[], bool]] | None = None
) -> AsyncIterator[TestClient]:
    """The app as the runtime builds it (bot.composition.build_http_app), served on 127.0.0.1."""
    core.settings = core.settings.model_copy(update={"api_token": SecretStr(token) if token else None})
    async with TestServer(build_http_app(core, adapters=adapters), host="127.0.0.1") as server:
        async with TestClient(server) as client:
            yield client


async def count(core: Core, model: type) -> int:
    async with core.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def subscribe(core: Core, chat: str, tags: str, platform: str = "test") -> None:
    reply = await core.commands.handle_text(Caller(ChatRef(platform, chat, "private"), "u1"), f"/subscribe {tags}")
    assert reply is not None


def counts(**given: int) -> dict[str, int]:
    """A report's counts by status: every status, zero unless given."""
    return {status.value: given.get(status.value, 0) for status in DeliveryStatus}


# ----- publishing -------------------------------------------------------------
async def test_publish_creates_then_a_republish_answers_200_and_queues_nothing(core: Core) -> None:
    async with serving(core) as client:
        answer = await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)
        assert answer.status == 201
        assert await answer.json() == {
            "slug": "grok-5",
            "outcome": "created",
            "deliveries_queued": 0,
            "corrections_queued": 0,
        }
        assert answer.headers["Location"] == "/api/stories/grok-5"

        again = await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)
        assert again.status == 200
        assert await again.json() == {
            "slug": "grok-5",
            "outcome": "unchanged",
            "deliveries_queued": 0,
            "corrections_queued": 0,
        }

        await subscribe(core, "late", "xAI")  # a follower now: an update still pushes nothing
        changed = await client.post("/api/stories", json=story(slug="grok-5", title="Grok 5 is out"), headers=AUTH)
        assert changed.status == 200
        # The late follower's tag is not new to the story, and no push went out to correct.
        assert await changed.json() == {
            "slug": "grok-5",
            "outcome": "updated",
            "deliveries_queued": 0,
            "corrections_queued": 0,
        }

        shown = await (await client.get("/api/stories/grok-5")).json()
        assert shown["title"] == "Grok 5 is out"
        assert (await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json())["total"] == 0

        derived = await client.post("/api/stories", json=story(title="A story without a slug"), headers=AUTH)
        assert derived.status == 201
        assert await derived.json() == {
            "slug": "a-story-without-a-slug",
            "outcome": "created",
            "deliveries_queued": 1,
            "corrections_queued": 0,
        }
    assert await count(core, Delivery) == 1


async def test_deliveries_queued_counts_each_following_chat_once(core: Core) -> None:
    await subscribe(core, "c1", "xAI")
    await subscribe(core, "c2", "xAI, OpenAI")  # follows two of the story's tags: one push
    await subscribe(core, "c3", "Nvidia")  # follows none of them
    async with serving(core) as client:
        answer = await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)
        assert answer.status == 201
        assert (await answer.json())["deliveries_queued"] == 2

        report = await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json()
        assert report["slug"] == "grok-5" and report["total"] == 2
        assert report["by_status"] == counts(pending=2)
        assert report["by_platform"] == {"test": counts(pending=2)}
        assert report["failures"] == []
        assert report["corrections"] == report["retractions"] == counts()
        assert report["corrected_at"] is None and report["retracted_at"] is None

        async with core.sessions.begin() as session:
            c1 = (await session.execute(select(Chat.id).where(Chat.platform_chat_id == "c1"))).scalar_one()
            await session.execute(
                update(Delivery)
                .where(Delivery.chat_id == c1)
                .values(status="failed", attempts=5, last_error="HTTP 500")
            )
            await session.execute(update(Delivery).where(Delivery.chat_id != c1).values(status="sent"))
        report = await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json()
        assert report["by_status"] == counts(sent=1, failed=1)
        assert report["by_platform"]["test"]["failed"] == 1
        assert report["failures"] == [
            {
                "platform": "test",
                "chat_id": "c1",
                "status": "failed",
                "attempts": 5,
                "error": "HTTP 500",
                "kind": "send",
                "thread_id": None,
            }
        ]
        assert report["notes"] == []

        quiet = await (await client.get("/api/stories/what-is-a-context-window/deliveries", headers=AUTH)).json()
        assert quiet["total"] == 0 and quiet["by_platform"] == {} and quiet["failures"] == []


# ----- refused requests write nothing -------------------------------------------
def _words(n: int) -> str:
    return " ".join(["word"] * n)


# (what is sent, headers, the status, the field a 422 names)
REFUSED: list[tuple[str, Any, dict[str, str], int, str | None]] = [
    ("no token", story(), {}, 401, None),
    ("wrong token", story(), {"Authorization": "Bearer not-the-token"}, 401, None),
    ("another scheme", story(), {"Authorization": f"Basic {TOKEN}"}, 401, None),
    ("malformed JSON", b'{"title": "x",', AUTH, 400, None),
    ("not JSON at all", b"title: x", AUTH, 400, None),
    ("empty body", b"", AUTH, 400, None),
    ("NaN is not JSON", b'{"title": NaN}', AUTH, 400, None),
    ("not UTF-8", b'{"title": "\xff"}', AUTH, 400, None),
    ("an array", [story()], AUTH, 422, "story"),
    ("a string", "a story", AUTH, 422, "story"),
    ("missing title", story(title=...), AUTH, 422, "title"),
    ("unknown key", story(subtitle="more"), AUTH, 422, "subtitle"),
    ("over-long title", story(title="x" * 201), AUTH, 422, "title"),
    ("blank title", story(title="   "), AUTH, 422, "title"),
    ("summary over 120 words", story(summary=_words(121)), AUTH, 422, "summary"),
    ("tags not a list", story(tags="xAI"), AUTH, 422, "tags"),
    ("no tags", story(tags=[]), AUTH, 422, "tags"),
    ("a tag of a number", story(tags=["xAI", 5]), AUTH, 422, "tags[1]"),
    ("bad date", story(published_at="yesterday"), AUTH, 422, "published_at"),
    ("date out of range in UTC", story(published_at="0001-01-01T00:00:00+01:00"), AUTH, 422, "published_at"),
    ("a number for a date", story(published_at=20260502), AUTH, 422, "published_at"),
    ("bad slug", story(slug="Not A Slug"), AUTH, 422, "slug"),
    ("bad url", story(url="ftp://example.com/x"), AUTH, 422, "url"),
    (
        "term with an unknown key",
        story(terms=[{"term": "a", "definition": "b", "see": "c"}]),
        AUTH,
        422,
        "terms[0].see",
    ),
    ("NUL in the body", story(body="a\u0000b"), AUTH, 422, "body"),
    ("a lone surrogate", story(title="a\ud800b"), AUTH, 422, "title"),
    ("a tag too long once normalised", story(tags=["\ufdfa" * 5]), AUTH, 422, "tags"),
]


async def test_every_refused_request_writes_nothing(core: Core) -> None:
    stories, deliveries = await count(core, Story), await count(core, Delivery)
    await subscribe(core, "c1", "xAI")
    written = (Story, Tag, Term, TermAlias, StoryTag, Delivery)
    before = [await count(core, model) for model in written]
    async with serving(core) as client:
        for name, payload, headers, status, field in REFUSED:
            if isinstance(payload, bytes):
                answer = await client.post(
                    "/api/stories", data=payload, headers={**headers, "Content-Type": "application/json"}
                )
            else:
                answer = await client.post("/api/stories", json=payload, headers=headers)
            assert answer.status == status, name
            assert answer.content_type == "application/json", name
            body = await answer.json()
            assert body["error"], name
            if status == 401:
                assert answer.headers["WWW-Authenticate"].startswith("Bearer "), name
            if status == 422:
                assert body["field"] == field, (name, body)
                assert body["problem"] and body["error"] == f"{field}: {body['problem']}", name
        unknown = await (await client.post("/api/stories", json=story(subtitle="x"), headers=AUTH)).json()
        assert "body" in unknown["problem"] and "subtitle" not in unknown["problem"]  # the API's fields, body included

        # Over 1 MiB: refused from its Content-Length, and when streamed without one.
        big = json.dumps(story(body="x" * (1024 * 1024))).encode()
        answer = await client.post("/api/stories", data=big, headers={**AUTH, "Content-Type": "application/json"})
        assert answer.status == 413 and "1 MiB" in (await answer.json())["error"]

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(big), 64 * 1024):
                yield big[start : start + 64 * 1024]

        answer = await client.post("/api/stories", data=chunks(), headers={**AUTH, "Content-Type": "application/json"})
        assert answer.status == 413

        # Without a token, a large body is refused for the token (and not read).
        assert (await client.post("/api/stories", data=big)).status == 401
        assert [await count(core, model) for model in written] == before, "a refused request wrote rows"
        # The same story with the token goes through: the refusals were about the request only.
        assert (await client.post("/api/stories", json=story(), headers=AUTH)).status == 201
    assert await count(core, Story) == stories + 1
    assert await count(core, Delivery) == deliveries + 1


async def test_without_api_token_the_newsrooms_routes_are_refused_and_reading_works(core: Core) -> None:
    stories = await count(core, Story)
    async with serving(core, token=None) as client:
        answer = await client.post("/api/stories", json=story(), headers=AUTH)
        assert answer.status == 403
        assert "API_TOKEN is not set" in (await answer.json())["error"]
        retraction = await client.delete("/api/stories/what-is-a-context-window", headers=AUTH)
        assert retraction.status == 403 and "API_TOKEN is not set" in (await retraction.json())["error"]
        report = await client.get("/api/stories/what-is-a-context-window/deliveries", headers=AUTH)
        assert report.status == 403 and "API_TOKEN is not set" in (await report.json())["error"]
        assert (await client.get("/api/stories")).status == 200
        assert (await client.get("/api/stories/what-is-a-context-window")).status == 200
    assert await count(core, Story) == stories
    assert await core.catalog.withdrawal("what-is-a-context-window") is None


# ----- corrections and retractions ------------------------------------------------
class Screens:
    """A platform's chats in memory, as their readers see them: what each push
    now shows, and the readers who deleted theirs (an edit or a delete of it
    finds nothing)."""

    platform = "console"  # a platform the composition root has limits for

    def __init__(self) -> None:
        self.shown: dict[str, str] = {}
        self.deleted_by_reader: set[str] = set()
        self._ids = itertools.count(1)

    async def send(self, target: Target, message: Message) -> Outcome:
        self.shown[target.chat.chat_id] = render_plain(message)
        return Sent((str(next(self._ids)),))

    async def edit(self, target: Target, message: Message) -> Outcome:
        if target.chat.chat_id in self.deleted_by_reader:
            return Vanished("message to edit not found")
        self.shown[target.chat.chat_id] = render_plain(message)
        return Sent(target.message_ids)

    async def delete(self, target: Target, notice: Message | None = None) -> Outcome:
        if target.chat.chat_id in self.deleted_by_reader:
            return Vanished("message to delete not found")
        del self.shown[target.chat.chat_id]
        return Sent(())


async def drain(core: Core, worker: DeliveryWorker) -> None:
    """Steps the worker until nothing is pending or being sent (an edit or a
    delete is claimed only once the send it acts on is done)."""
    for _ in range(50):
        await worker.run_once()
        async with core.sessions() as session:
            unfinished = (
                await session.execute(
                    select(func.count()).select_from(Delivery).where(Delivery.status.in_(("pending", "sending")))
                )
            ).scalar_one()
        if not unfinished:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the queue never drained")


async def test_a_correction_and_a_retraction_reach_every_reader_who_got_the_story(core: Core) -> None:
    for chat in ("reader-1001", "reader-1002"):
        await subscribe(core, chat, "xAI", platform="console")
    await subscribe(core, "reader-1003", "Nvidia", platform="console")  # follows none of its tags
    screens = Screens()
    # The workers as the runtime builds them, so that their outcomes reach the app's metrics.
    (worker,) = build_workers(core, [screens])
    async with serving(core) as client:
        created = await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)
        assert created.status == 201
        assert (await created.json())["deliveries_queued"] == 2
        await drain(core, worker)
        assert set(screens.shown) == {"reader-1001", "reader-1002"}

        note = "An earlier version overstated the context window."
        corrected = await client.post(
            "/api/stories", json=story(slug="grok-5", title="Grok 5 is out", correction=note), headers=AUTH
        )
        assert corrected.status == 200
        assert await corrected.json() == {
            "slug": "grok-5",
            "outcome": "updated",
            "deliveries_queued": 0,
            "corrections_queued": 2,  # the two pushes already out
        }
        report = await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json()
        assert report["corrections"] == counts(pending=2) and report["by_status"] == counts(sent=2)
        assert report["corrected_at"].endswith("Z") and report["retracted_at"] is None
        await drain(core, worker)
        for chat in ("reader-1001", "reader-1002"):
            seen = " ".join(screens.shown[chat].split())  # the console wraps lines
            assert seen.startswith("Grok 5 is out") and note in seen
        shown = await (await client.get("/api/stories/grok-5")).json()
        assert shown["title"] == "Grok 5 is out"
        # Readers of the API see the note too, as the pushes do.
        assert shown["correction"] == note and shown["corrected_at"] == report["corrected_at"]
        listed = await (await client.get("/api/stories?limit=100")).json()
        assert [s["correction"] for s in listed["stories"] if s["slug"] == "grok-5"] == [note]

        # The reader of one chat deleted the push: its delete finds nothing, which is not a failure.
        screens.deleted_by_reader.add("reader-1002")
        retracted = await client.delete(
            "/api/stories/grok-5", json={"reason": "  Our source withdrew the claim. "}, headers=AUTH
        )
        assert retracted.status == 200
        assert await retracted.json() == {"slug": "grok-5", "outcome": "retracted", "retractions_queued": 2}
        again = await client.delete("/api/stories/grok-5", headers=AUTH)
        assert again.status == 200
        assert await again.json() == {"slug": "grok-5", "outcome": "retracted", "retractions_queued": 0}

        gone = await client.get("/api/stories/grok-5")
        assert gone.status == 410
        assert await gone.json() == {
            "error": "withdrawn by the newsroom",
            "slug": "grok-5",
            "reason": "Our source withdrew the claim.",
        }
        listed = (await (await client.get("/api/stories", params={"limit": "100"})).json())["stories"]
        assert listed and "grok-5" not in [s["slug"] for s in listed]
        tagged = (await (await client.get("/api/stories", params={"tag": "xAI"})).json())["stories"]
        assert "grok-5" not in [s["slug"] for s in tagged]

        # The report is the newsroom's: it names the chats.
        anonymous = await client.get("/api/stories/grok-5/deliveries")
        assert anonymous.status == 401 and anonymous.headers["WWW-Authenticate"].startswith("Bearer ")
        assert "reader-" not in await anonymous.text()
        await drain(core, worker)
        assert screens.shown == {"reader-1002": screens.shown["reader-1002"]}  # the other push is down
        report = await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json()
        assert report["total"] == 2 and report["by_status"] == counts(sent=2)
        assert report["corrections"] == counts(sent=2)
        assert report["retractions"] == counts(sent=1, skipped=1)
        assert report["retracted_at"].endswith("Z") and report["corrected_at"].endswith("Z")
        (failure,) = report["failures"]
        assert {k: v for k, v in failure.items() if k != "attempts"} == {
            "platform": "console",
            "chat_id": "reader-1002",
            "status": "skipped",
            "error": "message to delete not found",
            "kind": "delete",
            "thread_id": None,
        }

        metrics = await (await client.get("/metrics")).text()
    # Sends count as deliveries (and are timed); their edits and deletes as changes.
    assert 'explainer_deliveries_total{outcome="sent",platform="console"} 2.0' in metrics
    assert 'explainer_delivery_latency_seconds_count{platform="console"} 2.0' in metrics
    assert 'explainer_delivery_changes_total{kind="edit",outcome="sent",platform="console"} 2.0' in metrics
    assert 'explainer_delivery_changes_total{kind="delete",outcome="sent",platform="console"} 1.0' in metrics
    assert 'explainer_delivery_changes_total{kind="delete",outcome="vanished",platform="console"} 1.0' in metrics
    assert "reader-" not in metrics  # no chat ids


async def test_a_retraction_cancels_the_pushes_not_yet_sent(core: Core) -> None:
    await subscribe(core, "c1", "xAI")
    async with serving(core) as client:
        assert (await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)).status == 201
        # No body at all: a retraction without a reason.
        retracted = await client.delete("/api/stories/grok-5", headers=AUTH)
        assert await retracted.json() == {"slug": "grok-5", "outcome": "retracted", "retractions_queued": 0}
        gone = await client.get("/api/stories/grok-5")
        assert gone.status == 410 and (await gone.json())["reason"] is None
        report = await (await client.get("/api/stories/grok-5/deliveries", headers=AUTH)).json()
        assert report["by_status"] == counts(cancelled=1) and report["failures"] == []
        assert report["retractions"] == counts()

        # Its slug published again is a new story, pushed anew.
        republished = await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)
        assert republished.status == 201 and (await republished.json())["deliveries_queued"] == 1
        assert (await client.get("/api/stories/grok-5")).status == 200


# (what is sent, the path's slug, headers, the status, the field a 422 names)
REFUSED_RETRACTIONS: list[tuple[str, Any, str, dict[str, str], int, str | None]] = [
    ("no token", None, "grok-5", {}, 401, None),
    ("wrong token", None, "grok-5", {"Authorization": "Bearer not-the-token"}, 401, None),
    ("another scheme", None, "grok-5", {"Authorization": f"Basic {TOKEN}"}, 401, None),
    ("no token, with a reason", {"reason": "x"}, "grok-5", {}, 401, None),
    ("unknown slug", None, "no-such-story", AUTH, 404, None),
    ("not a slug", None, "Not%20A%20Slug", AUTH, 404, None),
    ("malformed JSON", b'{"reason": ', "grok-5", AUTH, 400, None),
    ("NaN is not JSON", b'{"reason": NaN}', "grok-5", AUTH, 400, None),
    ("not UTF-8", b'{"reason": "\xff"}', "grok-5", AUTH, 400, None),
    ("an array", ["wrong"], "grok-5", AUTH, 422, "retraction"),
    ("a string", "wrong", "grok-5", AUTH, 422, "retraction"),
    ("a number for a reason", {"reason": 5}, "grok-5", AUTH, 422, "reason"),
    ("a list for a reason", {"reason": ["wrong"]}, "grok-5", AUTH, 422, "reason"),
    ("an over-long reason", {"reason": "x" * 501}, "grok-5", AUTH, 422, "reason"),
    ("NUL in the reason", {"reason": "a\u0000b"}, "grok-5", AUTH, 422, "reason"),
    ("a lone surrogate", b'{"reason": "a\\ud800b"}', "grok-5", AUTH, 422, "reason"),
    ("unknown key", {"reason": "wrong", "why": "x"}, "grok-5", AUTH, 422, "why"),
]


async def test_every_refused_retraction_writes_nothing(core: Core) -> None:
    await subscribe(core, "c1", "xAI")
    async with serving(core) as client:
        assert (await client.post("/api/stories", json=story(slug="grok-5"), headers=AUTH)).status == 201
        await client.post("/api/stories", json=story(slug="grok-5", title="Grok 5 is out"), headers=AUTH)
        async with core.sessions.begin() as session:  # the push went out: a retraction would delete it
            await session.execute(update(Delivery).values(status="sent", message_ids=("7",)))

        async def rows() -> list[tuple[Any, ...]]:
            async with core.sessions() as session:
                deliveries = (await session.execute(select(Delivery.id, Delivery.kind, Delivery.status))).all()
                stories = (await session.execute(select(Story.slug, Story.retracted_at))).all()
            return sorted(map(tuple, deliveries)) + sorted(map(tuple, stories))

        before = await rows()
        for name, payload, slug, headers, status, field in REFUSED_RETRACTIONS:
            path = f"/api/stories/{slug}"
            if isinstance(payload, bytes):
                answer = await client.delete(
                    path, data=payload, headers={**headers, "Content-Type": "application/json"}
                )
            elif payload is None:
                answer = await client.delete(path, headers=headers)
            else:
                answer = await client.delete(path, json=payload, headers=headers)
            assert answer.status == status, name
            assert answer.content_type == "application/json", name
            body = await answer.json()
            assert body["error"], name
            if status == 401:
                assert answer.headers["WWW-Authenticate"].startswith("Bearer "), name
            if status == 404:
                assert body["slug"] == slug.replace("%20", " "), name
            if status == 422:
                assert body["field"] == field, (name, body)
                assert body["problem"] and body["error"] == f"{field}: {body['problem']}", name
        big = json.dumps({"reason": "x" * (1024 * 1024)}).encode()
        answer = await client.delete(
            "/api/stories/grok-5", data=big, headers={**AUTH, "Content-Type": "application/json"}
        )
        assert answer.status == 413
        assert await rows() == before, "a refused retraction wrote rows"
        assert (await client.get("/api/stories/grok-5")).status == 200

        # At the limit, and with the token, it goes through.
        fine = await client.delete("/api/stories/grok-5", json={"reason": "x" * 500}, headers=AUTH)
        assert await fine.json() == {"slug": "grok-5", "outcome": "retracted", "retractions_queued": 1}
        assert (await (await client.get("/api/stories/grok-5")).json())["reason"] == "x" * 500


# ----- the read routes ------------------------------------------------------------
async def test_listing_stories_by_limit_and_tag(core: Core) -> None:
    async with serving(core) as client:
        everything = (await (await client.get("/api/stories")).json())["stories"]
        assert len(everything) == 16  # the sample library; the default limit is 20
        dates = [s["published_at"] for s in everything]
        assert dates == sorted(dates, reverse=True) and dates[0].endswith("Z")
        assert set(everything[0]) == {
            "slug",
            "title",
            "summary",
            "category",
            "published_at",
            "url",
            "tags",
            "correction",
            "corrected_at",
        }

        three = (await (await client.get("/api/stories", params={"limit": "3"})).json())["stories"]
        assert [s["slug"] for s in three] == [s["slug"] for s in everything[:3]]

        for spelling in ("xAI", "#xai", "X-AI"):
            tagged = (await (await client.get("/api/stories", params={"tag": spelling})).json())["stories"]
            assert tagged and all("xAI" in s["tags"] for s in tagged), spelling
        musk = (await (await client.get("/api/stories", params={"tag": "#ElonMusk", "limit": "1"})).json())["stories"]
        assert len(musk) == 1 and "Elon Musk" in musk[0]["tags"]

        unknown = await client.get("/api/stories", params={"tag": "Cobol"})
        assert unknown.status == 404
        assert await unknown.json() == {"error": "unknown tag: Cobol", "tag": "Cobol"}

        for bad in ("0", "101", "abc", "", "2.5", "-1", "+5"):
            answer = await client.get("/api/stories", params={"limit": bad})
            assert answer.status == 422, bad
            assert (await answer.json())["field"] == "limit"


async def test_one_story_with_body_tags_and_glossary(core: Core) -> None:
    async with serving(core) as client:
        answer = await client.get("/api/stories/musk-xai-distillation-testimony")
        assert answer.status == 200
        detail = await answer.json()
        assert detail["slug"] == "musk-xai-distillation-testimony"
        assert {"Elon Musk", "xAI", "OpenAI"} <= set(detail["tags"])
        assert "distillation" in [entry["term"] for entry in detail["glossary"]]
        assert detail["body"].strip() and detail["url"].startswith("https://")

        for slug in ("no-such-story", "Not%20A%20Slug", "x" * 80):
            missing = await client.get(f"/api/stories/{slug}")
            assert missing.status == 404 and "error" in await missing.json()
            assert (await client.get(f"/api/stories/{slug}/deliveries", headers=AUTH)).status == 404
        # Unknown paths and methods under /api/ answer in JSON too.
        assert (await client.get("/api/nothing")).content_type == "application/json"
        assert (await client.delete("/api/stories")).status == 405


# ----- health and metrics --------------------------------------------------------
async def test_health_reports_the_database_and_each_adapter(core: Core) -> None:
    since = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)
    states = {"telegram": PlatformHealth(PlatformState.OK), "discord": PlatformHealth(PlatformState.OK)}
    adapters = {name: (lambda name=name: states[name]) for name in states}
    async with serving(core, adapters=adapters) as client:
        answer = await client.get("/healthz")
        assert answer.status == 200
        assert await answer.json() == {
            "status": "ok",
            "database": "ok",
            "adapters": {"telegram": "ok", "discord": "ok"},
        }

        states["discord"] = PlatformHealth(PlatformState.CONNECTING)
        answer = await client.get("/healthz")
        assert answer.status == 503
        assert await answer.json() == {
            "status": "unavailable",
            "database": "ok",
            "adapters": {"telegram": "ok", "discord": "connecting"},
        }

        # Pushes waiting for Telegram: degraded, since when, and why.
        states["discord"] = PlatformHealth(PlatformState.OK)
        states["telegram"] = PlatformHealth(PlatformState.DEGRADED, since, "Telegram unreachable: Bad Gateway (502)")
        answer = await client.get("/healthz")
        assert answer.status == 503
        assert await answer.json() == {
            "status": "unavailable",
            "database": "ok",
            "adapters": {"telegram": "degraded", "discord": "ok"},
            "degraded": {
                "telegram": {"since": "2026-12-02T04:00:00Z", "last_error": "Telegram unreachable: Bad Gateway (502)"}
            },
        }

    def broken() -> PlatformHealth:
        raise RuntimeError("gateway gone")

    async def database_down() -> None:
        raise OSError("connection refused")

    app = build_app(database_down, adapters={"telegram": broken})
    async with TestServer(app, host="127.0.0.1") as server, TestClient(server) as client:
        answer = await client.get("/healthz")
        assert answer.status == 503
        assert await answer.json() == {
            "status": "unavailable",
            "database": "down",
            "adapters": {"telegram": "connecting"},
        }


def test_a_platforms_health_is_its_connection_and_its_breaker() -> None:
    opened = BreakerView(BreakerState.OPEN, datetime(2026, 12, 2, tzinfo=UTC), "502", waiting=3)
    closed = BreakerView(BreakerState.CLOSED, None, None, waiting=0)
    assert platform_health(True, closed).state is PlatformState.OK
    assert platform_health(False, closed).state is PlatformState.CONNECTING
    assert platform_health(True, None).state is PlatformState.OK
    degraded = platform_health(True, opened)
    assert degraded.state is PlatformState.DEGRADED and degraded.last_error == "502" and degraded.since is not None


async def test_metrics_in_prometheus_text_format(core: Core) -> None:
    await subscribe(core, "c1", "xAI")
    await subscribe(core, "c2", "OpenAI")
    core.metrics.count_command("telegram", "latest")
    core.metrics.count_command("telegram", "latest")
    core.metrics.count_delivery("discord", "rate_limited")
    core.metrics.observe_delivery_latency("telegram", 1.5)
    async with serving(core) as client:
        assert (await client.post("/api/stories", json=story(), headers=AUTH)).status == 201
        answer = await client.get("/metrics")
        assert answer.status == 200
        assert answer.headers["Content-Type"].startswith("text/plain")
        text = await answer.text()
    assert 'explainer_commands_total{command="subscribe",platform="test"} 2.0' in text  # counted by Commands itself
    assert 'explainer_commands_total{command="latest",platform="telegram"} 2.0' in text
    assert 'explainer_deliveries_total{outcome="rate_limited",platform="discord"} 1.0' in text
    assert 'explainer_delivery_latency_seconds_bucket{le="2.5",platform="telegram"} 1.0' in text
    assert "explainer_delivery_queue_depth 2.0" in text  # the two pending rows, read at scrape time

    # Each Metrics has its own registry: two apps never share series.
    other = Metrics()
    assert b'explainer_commands_total{command="latest"' not in other.exposition()[0]


def test_delivery_outcomes_count_by_kind_and_time_the_sent() -> None:
    metrics = Metrics()
    queued = datetime.now(UTC) - timedelta(seconds=3)
    metrics.delivery_outcome("telegram", Sent(("42",)), queued)
    metrics.delivery_outcome("telegram", RateLimited(1.0), queued)
    # Edits and deletes are changes to pushes, not pushes: counted apart, and not timed.
    metrics.delivery_outcome("telegram", Sent(("42",)), queued, JobKind.EDIT)
    metrics.delivery_outcome("telegram", RateLimited(1.0), queued, JobKind.EDIT)
    metrics.delivery_outcome("telegram", Sent(()), queued, JobKind.DELETE)
    metrics.delivery_outcome("telegram", Vanished("message to delete not found"), queued, JobKind.DELETE)
    text = metrics.exposition()[0].decode()
    assert 'explainer_deliveries_total{outcome="sent",platform="telegram"} 1.0' in text
    assert 'explainer_deliveries_total{outcome="rate_limited",platform="telegram"} 1.0' in text
    assert 'explainer_delivery_latency_seconds_count{platform="telegram"} 1.0' in text
    assert 'explainer_delivery_latency_seconds_bucket{le="2.5",platform="telegram"} 0.0' in text
    assert 'explainer_delivery_latency_seconds_bucket{le="5.0",platform="telegram"} 1.0' in text
    assert 'explainer_delivery_changes_total{kind="edit",outcome="sent",platform="telegram"} 1.0' in text
    assert 'explainer_delivery_changes_total{kind="edit",outcome="rate_limited",platform="telegram"} 1.0' in text
    assert 'explainer_delivery_changes_total{kind="delete",outcome="sent",platform="telegram"} 1.0' in text
    assert 'explainer_delivery_changes_total{kind="delete",outcome="vanished",platform="telegram"} 1.0' in text


# ----- the OpenAPI document --------------------------------------------------------
def test_openapi_limits_are_those_of_story_validation() -> None:
    from content.stories.drafts import _Story

    validation = _Story.model_json_schema()
    documented = openapi_document()["components"]["schemas"]["StoryIn"]
    assert set(documented["properties"]) == set(validation["properties"])
    assert sorted(documented["required"]) == sorted(validation["required"])
    for name, rules in validation["properties"].items():
        ours = documented["properties"][name]
        if "anyOf" in rules:  # optional text: str | None
            rules = next(r for r in rules["anyOf"] if r.get("type") != "null")
        for limit in ("minLength", "maxLength", "minItems", "maxItems", "pattern"):
            if limit in rules:
                assert ours[limit] == rules[limit], (name, limit)
    term_rules = validation["$defs"]["_Term"]["properties"]
    term_ours = documented["properties"]["terms"]["items"]["properties"]
    for name in ("term", "definition"):
        assert term_ours[name]["maxLength"] == term_rules[name]["maxLength"]
    assert term_ours["aliases"]["maxItems"] == term_rules["aliases"]["maxItems"]


def _schemathesis(base_url: str, examples: int) -> int:
    """Every operation of the served document (schemathesis leaves out the
    document's own route), positive and negative cases, derandomized so a run
    is repeatable, against the server; returns the number of requests made.
    `ignored_auth` re-sends each POST without the token and wants a 401."""
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        ignored_auth,
        response_headers_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(f"{base_url}/api/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_headers_conformance,
        response_schema_conformance,
        ignored_auth,
    ]
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith("/api/feeds"):
            # Adding or polling a feed fetches its URL: generated ones would reach
            # out of this machine. tests/adapters/test_feeds.py drives these routes.
            continue
        has_inputs = bool(list(operation.iter_parameters())) or bool(operation.body)
        modes = (
            (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
            if has_inputs
            else (schemathesis.GenerationMode.POSITIVE,)
        )
        for mode in modes:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=examples if has_inputs else 1,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate, Phase.shrink],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: schemathesis.Case) -> None:
                nonlocal calls
                calls += 1
                case.call_and_validate(base_url=base_url, headers=dict(AUTH), checks=checks)

            run()
    return calls


async def test_the_server_does_what_its_openapi_document_says(core: Core) -> None:
    await subscribe(core, "c1", "xAI")
    async with serving(core) as client:
        document = await (await client.get("/api/openapi.json")).json()
        assert document["openapi"].startswith("3.")
        assert set(document["paths"]) == {
            "/api/stories",
            "/api/stories/{slug}",
            "/api/stories/{slug}/deliveries",
            "/api/feeds",
            "/api/feeds/{id}",
            "/api/feeds/{id}/poll",
            "/api/openapi.json",
            "/healthz",
            "/metrics",
        }
        assert document["paths"]["/api/stories"]["post"]["security"] == [{"bearer": []}]
        assert document["paths"]["/api/stories/{slug}"]["delete"]["security"] == [{"bearer": []}]
        assert document["paths"]["/api/stories/{slug}/deliveries"]["get"]["security"] == [{"bearer": []}]
        # schemathesis speaks HTTP synchronously: from a thread, to the server on this loop.
        base_url = str(client.make_url("")).rstrip("/")
        calls = await asyncio.wait_for(asyncio.to_thread(_schemathesis, base_url, 40), timeout=120)
    assert calls > 100


NEEDS_TOKEN = {
    ("post", "/api/stories"),
    ("delete", "/api/stories/{slug}"),
    ("get", "/api/stories/{slug}/deliveries"),
    ("post", "/api/feeds"),
    ("get", "/api/feeds"),
    ("delete", "/api/feeds/{id}"),
    ("post", "/api/feeds/{id}/poll"),
}


async def test_the_openapi_document_says_which_routes_need_the_token(core: Core) -> None:
    document = openapi_document()
    operations = {
        (method, path): operation for path, item in document["paths"].items() for method, operation in item.items()
    }
    secured = {key for key, operation in operations.items() if operation.get("security")}
    assert secured == NEEDS_TOKEN
    for method, path in NEEDS_TOKEN:
        responses = operations[method, path]["responses"]
        assert {"401", "403"} <= set(responses), (method, path)
        assert f"{method.upper()} {path}" in document["info"]["description"]
    assert "/metrics" in document["info"]["description"] and "no chat ids" in document["info"]["description"]
    assert "410" in operations["get", "/api/stories/{slug}"]["responses"]
    published = document["components"]["schemas"]["Published"]["properties"]
    assert "corrections_queued" in published
    report = document["components"]["schemas"]["Deliveries"]
    assert {"corrections", "retractions", "corrected_at", "retracted_at"} <= set(report["required"])
    assert "kind" in report["properties"]["failures"]["items"]["required"]

    # Every route the app serves is documented, and no other (the newsroom's
    # pages are HTML for people, not the API); those that need the token refuse without it.
    app = build_http_app(core)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD"
        and route.resource is not None
        and not route.resource.canonical.startswith("/newsroom")
    }
    assert ("get", "/newsroom/stories") in {
        (route.method.lower(), route.resource.canonical) for route in app.router.routes() if route.resource
    }
    assert served == set(operations)
    async with serving(core) as client:
        for method, path in NEEDS_TOKEN:
            answer = await client.request(
                method, path.replace("{slug}", "what-is-a-context-window").replace("{id}", "1")
            )
            assert answer.status == 401, (method, path)
    assert await core.catalog.withdrawal("what-is-a-context-window") is None


class DatabaseAway(Reports):
    async def queue_depth(self) -> int:
        raise OSError("connection refused")


async def test_several_apps_each_with_their_own_metrics(core: Core) -> None:
    reports = Reports(core.sessions, core.catalog)
    apps = [build_app(lambda: asyncio.sleep(0), api=PublishingApi(core.publisher, reports, None)) for _ in range(2)]
    assert apps[0][METRICS_KEY] is not apps[1][METRICS_KEY]
    async with ClientSession() as session:
        for app in apps:
            async with TestServer(app, host="127.0.0.1") as server:
                async with session.get(server.make_url("/metrics")) as answer:
                    assert answer.status == 200
                    assert "explainer_delivery_queue_depth 0.0" in await answer.text()
        # A scrape while the database is away still answers; the depth is unknown (NaN).
        away = build_app(
            lambda: asyncio.sleep(0), api=PublishingApi(core.publisher, DatabaseAway(core.sessions, core.catalog), None)
        )
        async with TestServer(away, host="127.0.0.1") as server:
            async with session.get(server.make_url("/metrics")) as answer:
                assert answer.status == 200
                assert "explainer_delivery_queue_depth NaN" in await answer.text()
