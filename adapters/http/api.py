"""The publishing API: the newsroom posts, corrects and retracts stories, and
follows how their pushes are going; anyone may read the stories.

A story posted here passes the same validation as a story file
(`content.stories.drafts.story_from_mapping`) and is published as `explainer-bot
publish` publishes: saved and, when new, its pushes queued in the same
transaction; when it changes what a push shows, the pushes already out are
queued for an edit. A retraction (`explainer-bot retract`) withdraws it and
queues the deletes of what went out. A request refused for any reason writes
nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from sqlalchemy.exc import DBAPIError

from content.delivery.reports import DeliveryReport, Reports
from content.delivery.status import DeliveryStatus
from content.errors import StoryFileError
from content.keys import is_slug
from content.publishing.publisher import Publisher
from content.stories.drafts import FIELDS, StoryDraft, retraction_reason, story_from_mapping
from content.stories.views import StoryDetail, StoryView
from content.stories.writer import SaveOutcome

log = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # bytes of a request body (a story, or a retraction)
DEFAULT_LIMIT, MAX_LIMIT = 20, 100
API_FIELDS = (*FIELDS, "body")
RETRACTION_FIELDS = ("reason",)
WITHDRAWN = "withdrawn by the newsroom"
REALM = "explainer-bot"


class ApiRefusal(Exception):
    """A request answered with an error; nothing was written."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body
        self.headers = headers or {}

    def response(self) -> web.Response:
        return web.json_response(self.body, status=self.status, headers=self.headers)


def invalid(field: str, problem: str) -> ApiRefusal:
    return ApiRefusal(422, {"error": f"{field}: {problem}", "field": field, "problem": problem})


# ----- JSON shapes ----------------------------------------------------------
def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def story_json(view: StoryView) -> dict[str, Any]:
    return {
        "slug": view.slug,
        "title": view.title,
        "summary": view.summary,
        "category": view.category,
        "published_at": iso(view.published_at),
        "url": view.url,
        "tags": list(view.tags),
        "correction": view.correction,
        "corrected_at": iso(view.corrected_at) if view.corrected_at is not None else None,
    }


def detail_json(detail: StoryDetail) -> dict[str, Any]:
    return {
        **story_json(detail.story),
        "body": detail.body,
        "glossary": [{"term": entry.name, "definition": entry.definition} for entry in detail.glossary],
    }


def counts_json(counts: dict[DeliveryStatus, int]) -> dict[str, int]:
    return {status.value: count for status, count in counts.items()}


def report_json(report: DeliveryReport) -> dict[str, Any]:
    return {
        "slug": report.slug,
        "total": report.total,
        "by_status": counts_json(report.by_status),
        "by_platform": {platform: counts_json(counts) for platform, counts in report.by_platform.items()},
        "failures": [
            {
                "platform": push.platform,
                "chat_id": push.chat_id,
                "status": push.status.value,
                "attempts": push.attempts,
                "error": push.error,
                "kind": push.kind.value,
                "thread_id": push.thread_id,
            }
            for push in report.failures
        ],
        "notes": [
            {"platform": n.platform, "chat_id": n.chat_id, "thread_id": n.thread_id, "note": n.note}
            for n in report.notes
        ],
        "corrections": counts_json(report.corrections),
        "retractions": counts_json(report.retractions),
        "corrected_at": iso(report.corrected_at) if report.corrected_at is not None else None,
        "retracted_at": iso(report.retracted_at) if report.retracted_at is not None else None,
    }


# ----- the request body -----------------------------------------------------
def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    if not raw.strip():
        raise ApiRefusal(400, {"error": "malformed JSON: the body is empty; send the story as a JSON object"})
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise ApiRefusal(400, {"error": "malformed JSON: the body is not UTF-8"}) from None
    except RecursionError:
        raise ApiRefusal(400, {"error": "malformed JSON: nested too deeply"}) from None
    except ValueError as exc:
        raise ApiRefusal(400, {"error": f"malformed JSON: {exc}"}) from None


def validate_story(data: Any) -> StoryDraft:
    if not isinstance(data, dict):
        raise invalid("story", "must be a JSON object of the story's fields")
    try:
        draft = story_from_mapping(data, "request")
    except StoryFileError as error:
        problem = error.problem
        if problem.startswith("unknown key") and "." not in error.field:
            # A story file keeps its body below the front matter; here it is a field too.
            problem = f"unknown key (allowed: {', '.join(API_FIELDS)})"
        raise invalid(error.field, problem) from None
    return draft


def validate_retraction(raw: bytes) -> str | None:
    """The reason a retraction request gives; a request without a body gives none."""
    if not raw.strip():
        return None
    data = parse_json(raw)
    if not isinstance(data, dict):
        raise invalid("retraction", 'must be a JSON object, e.g. {"reason": "..."}, or no body at all')
    for key in data:
        if key not in RETRACTION_FIELDS:
            raise invalid(key[:80], f"unknown key (allowed: {', '.join(RETRACTION_FIELDS)})")
    try:
        return retraction_reason(data.get("reason"), "request")
    except StoryFileError as error:
        raise invalid(error.field, error.problem) from None


# ----- the routes -----------------------------------------------------------
@dataclass
class PublishingApi:
    """The newsroom's routes (bearer token): `POST /api/stories`, `DELETE
    /api/stories/{slug}`, `GET /api/stories/{slug}/deliveries`; the story
    routes readers use are open."""

    publisher: Publisher
    reports: Reports
    token: str | None  # API_TOKEN; None: publishing is refused

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/stories", self.publish),
            web.get("/api/stories", self.list_stories),
            web.get("/api/stories/{slug}", self.story),
            web.delete("/api/stories/{slug}", self.retract),
            web.get("/api/stories/{slug}/deliveries", self.deliveries),
        ]

    # ----- the newsroom's routes -------------------------------------------
    def _authorize(self, request: web.Request, what: str = "publishing") -> None:
        if self.token is None:
            raise ApiRefusal(403, {"error": f"{what} is disabled: API_TOKEN is not set on the server"})
        scheme, _, given = request.headers.get("Authorization", "").strip().partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            raise ApiRefusal(
                401,
                {"error": "a bearer token is required: Authorization: Bearer <API_TOKEN>"},
                {"WWW-Authenticate": f'Bearer realm="{REALM}"'},
            )
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode("utf-8")):
            raise ApiRefusal(
                401,
                {"error": "wrong bearer token"},
                {"WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token"'},
            )

    @staticmethod
    async def _body(request: web.Request) -> bytes:
        too_large = ApiRefusal(413, {"error": f"the request body is larger than {MAX_BODY} bytes (1 MiB)"})
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise too_large
        try:
            return await request.read()  # the app's client_max_size is MAX_BODY
        except web.HTTPRequestEntityTooLarge:
            raise too_large from None

    async def publish(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request)
            draft = validate_story(parse_json(await self._body(request)))
        except ApiRefusal as refused:
            return refused.response()
        published = await self.publisher.publish(draft, by="api")
        created = published.outcome is SaveOutcome.CREATED
        body = {
            "slug": published.slug,
            "outcome": published.outcome,
            "deliveries_queued": published.deliveries_queued,
            "corrections_queued": published.corrections_queued,
        }
        headers = {"Location": f"/api/stories/{published.slug}"} if created else None
        log.info(
            "API published %s: %s, %d deliveries queued, %d pushes to correct",
            published.slug,
            published.outcome,
            published.deliveries_queued,
            published.corrections_queued,
        )
        return web.json_response(body, status=201 if created else 200, headers=headers)

    async def retract(self, request: web.Request) -> web.Response:
        try:
            self._authorize(request, "retracting")
            reason = validate_retraction(await self._body(request))
        except ApiRefusal as refused:
            return refused.response()
        slug = self._slug(request)
        retracted = await self.publisher.retract(slug, reason, by="api") if slug else None
        if retracted is None:
            return self._no_story(request)
        log.info(
            "API retracted %s: %d pushes to take down, %d not yet sent cancelled",
            retracted.slug,
            retracted.retractions_queued,
            retracted.cancelled,
        )
        return web.json_response(
            {"slug": retracted.slug, "outcome": "retracted", "retractions_queued": retracted.retractions_queued}
        )

    # ----- the read routes --------------------------------------------------
    async def list_stories(self, request: web.Request) -> web.Response:
        raw = request.query.get("limit")
        limit = DEFAULT_LIMIT
        if raw is not None:
            if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT):
                return invalid("limit", f"must be a whole number from 1 to {MAX_LIMIT}").response()
            limit = int(raw)
        tag = None
        name = request.query.get("tag")
        if name is not None:
            tag = await self.reports.tag(name)
            if tag is None:
                return web.json_response({"error": f"unknown tag: {name}", "tag": name}, status=404)
        stories = await self.reports.latest(limit, tag)
        return web.json_response({"stories": [story_json(view) for view in stories]})

    @staticmethod
    def _slug(request: web.Request) -> str | None:
        """The path's slug when it could be one (anything else cannot be stored, so is unknown)."""
        slug = request.match_info["slug"]
        return slug if is_slug(slug) else None

    @staticmethod
    def _no_story(request: web.Request) -> web.Response:
        slug = request.match_info["slug"]
        return web.json_response({"error": f"no story with slug {slug[:80]!r}", "slug": slug}, status=404)

    async def story(self, request: web.Request) -> web.Response:
        slug = self._slug(request)
        detail = await self.reports.story(slug) if slug else None
        if detail is None:
            withdrawal = await self.reports.withdrawal(slug) if slug else None
            if withdrawal is not None:
                return web.json_response(
                    {"error": WITHDRAWN, "slug": withdrawal.slug, "reason": withdrawal.reason}, status=410
                )
            return self._no_story(request)
        return web.json_response(detail_json(detail))

    async def deliveries(self, request: web.Request) -> web.Response:
        # The newsroom's view, not the readers': its failures name the chats
        # (the platforms' chat ids) that follow the story's tags.
        try:
            self._authorize(request, "the delivery report")
        except ApiRefusal as refused:
            return refused.response()
        slug = self._slug(request)
        report = await self.reports.deliveries(slug) if slug else None
        if report is None:
            return self._no_story(request)
        return web.json_response(report_json(report))


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under /api/, aiohttp's own refusals (unknown path, wrong method) and
    unexpected failures answer in JSON like the rest of the API."""
    if not request.path.startswith("/api/"):
        return await handler(request)
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() not in ("content-type", "content-length")}
        return web.json_response({"error": exc.reason.lower()}, status=exc.status, headers=headers)
    except (DBAPIError, OSError, TimeoutError) as exc:
        # The database away (restarted, failing over, unreachable): nothing was
        # written, and the same request succeeds once it is back.
        log.warning("%s %s: the database is unavailable: %s", request.method, request.path, type(exc).__name__)
        return web.json_response(
            {"error": "the database is unavailable; nothing was written, try again shortly"},
            status=503,
            headers={"Retry-After": "5"},
        )
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return web.json_response({"error": "internal error"}, status=500)
