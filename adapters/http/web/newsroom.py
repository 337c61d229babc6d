"""The newsroom's pages at /newsroom: sign in, the stories and how their
pushes are going, one story's sends over time, the write form with both
platforms' previews, the tags and the feeds.

Handlers translate: a form into the core's story mapping, the core's views
into templates, the core's refusals into a message at the field. The rules
(who may publish, what a story may hold, who gets it) are the core's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import secrets
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from adapters.feeds.fetch import FeedFetchError
from adapters.feeds.poller import FeedExists, FeedPoller
from adapters.http.web.chart import sends_chart_svg
from adapters.http.web.forms import StoryForm, field_of, form_from_draft, form_from_post, story_mapping
from adapters.http.web.previews import discord_preview, telegram_preview
from content.delivery.reports import Reports
from content.errors import StoryFileError
from content.keys import is_slug
from content.newsroom.accounts import Accounts
from content.newsroom.board import Board, Progress
from content.newsroom.sessions import SignedIn, SignIns
from content.newsroom.throttle import SignInThrottle
from content.publishing.publisher import Publisher
from content.stories.drafts import SUMMARY_MAX_WORDS, StoryDraft, story_from_mapping
from content.stories.ingest import FeedError
from content.stories.writer import SaveOutcome

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "newsroom_session"
SIGNIN_CSRF_COOKIE = "newsroom_signin"
EVENTS_SECONDS = 1.0  # how often a live page's bars are refreshed
EVENTS_LIFETIME = 600.0  # a stream ends after this; the browser reconnects on its own
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
CLOSING = web.AppKey("closing", asyncio.Event)


async def page_headers(request: web.Request, response: web.StreamResponse) -> None:
    """Every page: no framing, no inline script or style, nothing sniffed;
    nothing signed in is kept by a cache. (A signal, not a middleware, so the
    event stream and aiohttp's own refusals get them too.)"""
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    if not request.path.startswith("/newsroom/static/"):
        response.headers["Cache-Control"] = "no-store"


def _secure(request: web.Request) -> bool:
    # Behind a reverse proxy that ends TLS the connection itself is plain HTTP;
    # the proxy says how the browser came in.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def _address(request: web.Request) -> str:
    """Who is signing in, for the throttle: the peer, or, when the peer is a
    proxy on this machine, the address it says it forwards for."""
    peer = request.remote or "unknown"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and peer in ("127.0.0.1", "::1"):
        return forwarded.split(",")[-1].strip()[:64] or peer
    return peer


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _progress_json(progress: dict[str, Progress]) -> dict[str, Any]:
    return {
        platform: {
            "sent": p.sent,
            "pending": p.pending,
            "failed": p.failed,
            "cancelled": p.cancelled,
            "total": p.total,
        }
        for platform, p in progress.items()
    }


class Refused(Exception):
    """A form the core refused: the field it names and why; nothing was written."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass
class NewsroomPages:
    board: Board
    publisher: Publisher
    reports: Reports
    accounts: Accounts
    signins: SignIns
    throttle: SignInThrottle
    feeds: FeedPoller | None = None
    newsroom_name: str = "Newsroom"

    def app(self) -> web.Application:
        app = web.Application()
        app.on_response_prepare.append(page_headers)
        app[CLOSING] = asyncio.Event()

        async def closing(_app: web.Application) -> None:
            app[CLOSING].set()  # open event streams end, so the server stops at once

        app.on_shutdown.append(closing)
        env = aiohttp_jinja2.setup(
            app,
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,
        )
        env.filters["when"] = _when
        env.globals["newsroom_name"] = self.newsroom_name
        env.globals["summary_max"] = SUMMARY_MAX_WORDS
        env.globals["static"] = _static_urls()
        app.router.add_get("", self.home)
        app.router.add_get("/", self.home)
        app.router.add_get("/signin", self.signin_page)
        app.router.add_post("/signin", self.signin)
        app.router.add_post("/signout", self.signout)
        app.router.add_get("/stories", self.stories)
        app.router.add_get("/stories/{slug}", self.story)
        app.router.add_get("/stories/{slug}/retract", self.retract_page)
        app.router.add_post("/stories/{slug}/retract", self.retract)
        app.router.add_get("/progress", self.progress)
        app.router.add_get("/events", self.events)
        app.router.add_get("/write", self.write_page)
        app.router.add_post("/write", self.write)
        app.router.add_post("/preview", self.preview)
        app.router.add_get("/tags", self.tags)
        app.router.add_get("/feeds", self.feeds_page)
        app.router.add_post("/feeds", self.add_feed)
        app.router.add_post("/feeds/{id}/{action}", self.feed_action)
        app.router.add_static("/static", HERE / "static")
        return app

    # ----- who is asking ----------------------------------------------------
    async def _signed_in(self, request: web.Request) -> SignedIn | None:
        token = request.cookies.get(SESSION_COOKIE)
        return await self.signins.find(token) if token else None

    async def _reader(self, request: web.Request) -> SignedIn:
        signed_in = await self._signed_in(request)
        if signed_in is None:
            target = urllib.parse.quote(request.path_qs, safe="/") if request.method == "GET" else ""
            raise web.HTTPSeeOther(f"/newsroom/signin?next={target}")
        return signed_in

    async def _form(self, request: web.Request, signed_in: SignedIn) -> dict[str, str]:
        """The posted form, once its CSRF token is the session's."""
        data = await request.post()
        given = data.get("csrf")
        if not isinstance(given, str) or not hmac.compare_digest(given.encode(), signed_in.csrf.encode()):
            raise web.HTTPForbidden(
                text="This form has expired or did not come from the newsroom page; reload it and try again.",
            )
        return {k: v for k, v in data.items() if isinstance(v, str)}

    @staticmethod
    def _editor(signed_in: SignedIn) -> None:
        if not signed_in.account.role.can_publish:
            raise web.HTTPForbidden(
                text="Your account can read the newsroom page; only editors publish, correct and retract."
            )

    def _page(self, request: web.Request, template: str, signed_in: SignedIn | None, **context: Any) -> web.Response:
        return aiohttp_jinja2.render_template(
            template, request, {"me": signed_in, "path": request.path, "request": request, **context}
        )

    async def home(self, request: web.Request) -> web.Response:
        raise web.HTTPSeeOther("/newsroom/stories")

    # ----- signing in -------------------------------------------------------
    def _signin_form(self, request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
        token = request.cookies.get(SIGNIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        response = self._page(
            request,
            "signin.html",
            None,
            csrf=token,
            error=error,
            next=self._next(request.query.get("next", "")),
        )
        response.set_status(status)
        response.set_cookie(
            SIGNIN_CSRF_COOKIE, token, httponly=True, samesite="Strict", secure=_secure(request), path="/newsroom"
        )
        return response

    @staticmethod
    def _next(target: str) -> str:
        # Only a page of ours: never another site (an open redirect).
        return target if target.startswith("/newsroom/") and not target.startswith("//") else "/newsroom/stories"

    async def signin_page(self, request: web.Request) -> web.Response:
        if await self._signed_in(request) is not None:
            raise web.HTTPSeeOther("/newsroom/stories")
        return self._signin_form(request)

    async def signin(self, request: web.Request) -> web.Response:
        data = await request.post()
        cookie = request.cookies.get(SIGNIN_CSRF_COOKIE, "")
        given = data.get("csrf")
        if not cookie or not isinstance(given, str) or not hmac.compare_digest(given.encode(), cookie.encode()):
            return self._signin_form(request, "The sign-in form expired; please try again.", 403)
        address = _address(request)
        wait = self.throttle.delay(address)
        if wait > 0:
            await asyncio.sleep(wait)  # slows a guesser down; a person barely notices
        email = data.get("email")
        password = data.get("password")
        account = None
        if isinstance(email, str) and isinstance(password, str) and email and password:
            account = await self.accounts.verify(email, password)
        if account is None:
            self.throttle.failed(address)
            log.info("newsroom: failed sign-in from %s", address)
            return self._signin_form(request, "Wrong email or password.", 401)
        self.throttle.succeeded(address)
        token, signed_in = await self.signins.open(account)
        target = data.get("next")
        response = web.HTTPSeeOther(self._next(target if isinstance(target, str) else ""))
        response.set_cookie(
            SESSION_COOKIE,
            token,
            httponly=True,
            samesite="Lax",
            secure=_secure(request),
            path="/newsroom",
            expires=signed_in.expires_at.strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        response.del_cookie(SIGNIN_CSRF_COOKIE, path="/newsroom")
        log.info("newsroom: %s signed in", account.email)
        raise response

    async def signout(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        await self._form(request, signed_in)
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await self.signins.close(token)
        response = web.HTTPSeeOther("/newsroom/signin")
        response.del_cookie(SESSION_COOKIE, path="/newsroom")
        raise response

    # ----- stories ----------------------------------------------------------
    async def stories(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        query = request.query.get("q", "").strip()[:100]
        stories = await self.board.stories(50, query or None)
        return self._page(request, "stories.html", signed_in, stories=stories, query=query)

    def _slug(self, request: web.Request) -> str:
        slug = request.match_info["slug"]
        if not is_slug(slug):
            raise web.HTTPNotFound(text="No story has this address.")
        return slug

    async def story(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        slug = self._slug(request)
        story = await self.board.story(slug)
        if story is None:
            raise web.HTTPNotFound(text=f"No story with the slug {slug}.")
        report = await self.reports.deliveries(slug)
        chart = sends_chart_svg(await self.board.sent_times(slug))
        history = await self.board.history(slug)
        return self._page(request, "story.html", signed_in, story=story, report=report, chart=chart, history=history)

    async def progress(self, request: web.Request) -> web.Response:
        """The bars of the stories a page shows, for pages that cannot keep a stream open."""
        await self._reader(request)
        return web.json_response(_progress_json_all(await self.board.progress(self._slugs(request))))

    @staticmethod
    def _slugs(request: web.Request) -> list[str]:
        return [s for s in request.query.get("slugs", "").split(",") if is_slug(s)][:100]

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-Sent Events: the bars of the listed stories, sent when they change."""
        await self._reader(request)
        slugs = self._slugs(request)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )
        await response.prepare(request)
        last: dict[str, Any] | None = None
        loop = asyncio.get_running_loop()
        ends = loop.time() + EVENTS_LIFETIME
        quiet = 0.0
        closing = request.app[CLOSING]
        try:
            while loop.time() < ends and not closing.is_set():
                if request.transport is None or request.transport.is_closing():
                    break  # the page went away
                now = _progress_json_all(await self.board.progress(slugs))
                if now != last:
                    await response.write(f"data: {json.dumps(now)}\n\n".encode())
                    last, quiet = now, 0.0
                elif (quiet := quiet + EVENTS_SECONDS) >= 15:
                    await response.write(b": still here\n\n")  # keeps proxies from closing an idle stream
                    quiet = 0.0
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closing.wait(), EVENTS_SECONDS)
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        return response

    # ----- writing ----------------------------------------------------------
    async def write_page(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        self._editor(signed_in)
        form = StoryForm()
        slug = request.query.get("slug")
        if slug:
            if not is_slug(slug) or (draft := await self.board.draft(slug)) is None:
                raise web.HTTPNotFound(text=f"No story with the slug {slug[:80]}.")
            story = await self.board.story(slug)
            if story is not None and story.retracted_at is not None:
                raise web.HTTPConflict(text="This story was withdrawn; a withdrawn story is not corrected.")
            form = form_from_draft(draft)
        return await self._write(request, signed_in, form, preview=bool(slug))

    async def _write(
        self,
        request: web.Request,
        signed_in: SignedIn,
        form: StoryForm,
        *,
        preview: bool = False,
        confirm: bool = False,
        status: int = 200,
    ) -> web.Response:
        errors: dict[str, str] = {}
        shown = None
        draft = None
        if preview or confirm:
            try:
                draft = await self._draft(form)
                shown = await self._shown(draft)
            except Refused as refused:
                errors[refused.field] = refused.problem
                confirm = False
                status = 422 if status == 200 else status
        response = self._page(
            request,
            "write.html",
            signed_in,
            form=form,
            errors=errors,
            preview=shown,
            confirm=confirm,
            draft=draft,
            tags=await self.board.tag_names(),
        )
        response.set_status(status)
        return response

    async def _draft(self, form: StoryForm) -> StoryDraft:
        """The form as the core's draft, or the core's refusal at its field."""
        try:
            draft = story_from_mapping(story_mapping(form, datetime.now(UTC)), "form")
        except StoryFileError as error:
            raise Refused(field_of(error.field), error.problem) from None
        if not form.editing:
            existing = await self.board.story(draft.slug)
            if existing is not None:
                raise Refused(
                    "slug" if form.slug else "title",
                    f"a story with the slug {draft.slug} exists; open it to correct it, or give this one another slug",
                )
        return draft

    async def _shown(self, draft: StoryDraft) -> dict[str, Any]:
        preview = await self.board.preview(draft)
        existing = await self.board.story(draft.slug)
        sent = {platform: p.sent for platform, p in existing.progress.items()} if existing else {}
        return {
            "telegram": telegram_preview(preview.message),
            "discord": discord_preview(preview.message),
            "audience": preview.audience,
            "digests": preview.digests,
            "reach": sum(preview.audience.values()),
            "words": preview.words,
            "edits": sent,
            "edit_count": sum(sent.values()),
            "correction": existing is not None,
        }

    async def write(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        data = await self._form(request, signed_in)
        self._editor(signed_in)
        form = form_from_post(data)
        action = data.get("action", "preview")
        if action != "confirm":
            return await self._write(request, signed_in, form, preview=True, confirm=action == "publish")
        try:
            draft = await self._draft(form)
        except Refused:
            return await self._write(request, signed_in, form, preview=True, status=422)
        published = await self.publisher.publish(draft, by=signed_in.account.email)
        log.info(
            "newsroom: %s published %s: %s, %d pushes queued, %d to correct",
            signed_in.account.email,
            published.slug,
            published.outcome,
            published.deliveries_queued,
            published.corrections_queued,
        )
        done = "published" if published.outcome is SaveOutcome.CREATED else "saved"
        raise web.HTTPSeeOther(f"/newsroom/stories/{published.slug}?done={done}")

    async def preview(self, request: web.Request) -> web.Response:
        """The live preview: both platforms' pushes of the form as it stands, never saved."""
        signed_in = await self._reader(request)
        data = await self._form(request, signed_in)
        self._editor(signed_in)
        form = form_from_post(data)
        try:
            draft = await self._draft(form)
        except Refused as refused:
            return web.json_response({"errors": {refused.field: refused.problem}, "words": _words(form)})
        shown = await self._shown(draft)
        fragment = aiohttp_jinja2.render_string("preview.html", request, {"preview": shown})
        return web.json_response(
            {
                "errors": {},
                "words": shown["words"],
                "summary_words": _words(form),
                "slug": draft.slug,
                "audience": shown["audience"],
                "digests": shown["digests"],
                "telegram": shown["telegram"].json(),
                "discord": shown["discord"].json(),
                "html": fragment,
            }
        )

    # ----- retracting -------------------------------------------------------
    async def retract_page(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        self._editor(signed_in)
        return await self._retract_form(request, signed_in)

    async def _retract_form(
        self, request: web.Request, signed_in: SignedIn, error: str | None = None, reason: str = "", status: int = 200
    ) -> web.Response:
        slug = self._slug(request)
        story = await self.board.story(slug)
        if story is None:
            raise web.HTTPNotFound(text=f"No story with the slug {slug}.")
        reach = sum(p.sent + p.pending for p in story.progress.values())
        response = self._page(request, "retract.html", signed_in, story=story, error=error, reason=reason, reach=reach)
        response.set_status(status)
        return response

    async def retract(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        data = await self._form(request, signed_in)
        self._editor(signed_in)
        slug = self._slug(request)
        reason = data.get("reason", "")
        if data.get("confirm") != "yes":
            return await self._retract_form(request, signed_in, "Tick the box to confirm the retraction.", reason, 422)
        try:
            retracted = await self.publisher.retract(slug, reason or None, by=signed_in.account.email)
        except StoryFileError as error:
            return await self._retract_form(request, signed_in, error.problem, reason, 422)
        if retracted is None:
            raise web.HTTPNotFound(text=f"No story with the slug {slug}.")
        log.info("newsroom: %s retracted %s", signed_in.account.email, slug)
        raise web.HTTPSeeOther(f"/newsroom/stories/{slug}?done=retracted")

    # ----- tags and feeds ---------------------------------------------------
    async def tags(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        return self._page(request, "tags.html", signed_in, tags=await self.board.tags())

    async def feeds_page(
        self, request: web.Request, error: str | None = None, status: int = 200, signed_in: SignedIn | None = None
    ) -> web.Response:
        signed_in = signed_in or await self._reader(request)
        feeds = await self.feeds.feeds.all() if self.feeds is not None else []
        response = self._page(
            request, "feeds.html", signed_in, feeds=feeds, error=error, enabled=self.feeds is not None
        )
        response.set_status(status)
        return response

    async def add_feed(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        data = await self._form(request, signed_in)
        self._editor(signed_in)
        if self.feeds is None:
            raise web.HTTPNotFound(text="Feeds are not part of this server.")
        from adapters.http.api import ApiRefusal
        from adapters.http.feeds_api import validate_feed  # one validation for the API and the page

        body = json.dumps(
            {
                "url": data.get("url", ""),
                "tags": [t.strip() for t in data.get("tags", "").split(",") if t.strip()],
                **({"category": data["category"]} if data.get("category", "").strip() else {}),
            }
        ).encode()
        try:
            url, tags, category = validate_feed(body)
            await self.feeds.add(url, tags, category)
        except ApiRefusal as refused:
            return await self.feeds_page(request, str(refused.body.get("error")), 422, signed_in)
        except FeedFetchError as error:
            return await self.feeds_page(request, f"url: {error.problem}", 422, signed_in)
        except FeedError as error:
            return await self.feeds_page(request, f"url: not a feed: {error}", 422, signed_in)
        except FeedExists:
            return await self.feeds_page(request, "url: a feed with this URL exists", 409, signed_in)
        raise web.HTTPSeeOther("/newsroom/feeds")

    async def feed_action(self, request: web.Request) -> web.Response:
        signed_in = await self._reader(request)
        await self._form(request, signed_in)
        self._editor(signed_in)
        raw, action = request.match_info["id"], request.match_info["action"]
        if self.feeds is None or not (raw.isascii() and raw.isdigit() and len(raw) < 18):
            raise web.HTTPNotFound(text="No such feed.")
        feed_id = int(raw)
        actions = {
            "pause": self.feeds.feeds.pause,
            "resume": self.feeds.feeds.due_now,
            "remove": self.feeds.feeds.remove,
        }
        if action not in actions:
            raise web.HTTPNotFound(text="No such action.")
        if not await actions[action](feed_id):
            raise web.HTTPNotFound(text="No such feed.")
        raise web.HTTPSeeOther("/newsroom/feeds")


def _static_urls() -> Callable[[str], str]:
    """Each static file's address with its content's hash, so a browser never
    keeps an old script or stylesheet after an upgrade."""
    versions = {path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12] for path in (HERE / "static").iterdir()}

    def static(name: str) -> str:
        return f"/newsroom/static/{name}?v={versions[name]}"

    return static


def _progress_json_all(progress: dict[str, dict[str, Progress]]) -> dict[str, Any]:
    return {slug: _progress_json(platforms) for slug, platforms in progress.items()}


def _words(form: StoryForm) -> int:
    return len(form.summary.split())
