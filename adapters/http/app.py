"""The project's aiohttp server: health checks, metrics, the publishing API
and the routes adapters bring (Telegram's webhook)."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Mapping

from aiohttp import web

from adapters.http.api import MAX_BODY, PublishingApi, json_errors
from adapters.http.metrics import Metrics
from adapters.http.openapi import openapi_document
from content.delivery.health import PlatformHealth, PlatformState

log = logging.getLogger(__name__)

HealthCheck = Callable[[], Awaitable[None]]
# platform -> how it is doing now, asked at each health check
AdapterChecks = Mapping[str, Callable[[], PlatformHealth]]
HEALTH_TIMEOUT = 5.0

METRICS_KEY = web.AppKey("metrics", Metrics)


def build_app(
    health: HealthCheck,
    routes: list[web.RouteDef] | None = None,
    *,
    api: PublishingApi | None = None,
    metrics: Metrics | None = None,
    adapters: AdapterChecks | None = None,
) -> web.Application:
    """`health` raises when the database is unreachable. `api` adds the
    publishing API under /api/ (with its OpenAPI document). `metrics` is
    served on /metrics (the app makes its own when none is given).
    `adapters` is read at every health check, so entries may be added
    after the app is built (as each adapter starts)."""
    metrics = metrics if metrics is not None else Metrics()

    async def healthz(_request: web.Request) -> web.Response:
        try:
            await asyncio.wait_for(health(), HEALTH_TIMEOUT)
            database = "ok"
        except Exception as exc:  # any failure of the database is "unhealthy"
            log.warning("health check: database unreachable: %s: %s", type(exc).__name__, exc)
            database = "down"
        body: dict = {"status": "ok", "database": database}
        healthy = database == "ok"
        if adapters is not None:
            states: dict[str, str] = {}
            troubles: dict[str, dict[str, str | None]] = {}
            for name, check in dict(adapters).items():
                try:
                    platform = check()
                except Exception as exc:
                    log.exception("health check of adapter %s failed", name)
                    platform = PlatformHealth(PlatformState.CONNECTING, last_error=f"{type(exc).__name__}: {exc}")
                states[name] = platform.state.value
                if platform.state is PlatformState.DEGRADED:
                    since = platform.since.isoformat().replace("+00:00", "Z") if platform.since else None
                    troubles[name] = {"since": since, "last_error": platform.last_error}
                healthy = healthy and platform.ok
            body["adapters"] = states
            if troubles:
                body["degraded"] = troubles
        if not healthy:
            body["status"] = "unavailable"
        return web.json_response(body, status=200 if healthy else 503)

    async def scrape(request: web.Request) -> web.Response:
        if api is not None:
            try:
                metrics.set_queue_depth(await asyncio.wait_for(api.reports.queue_depth(), HEALTH_TIMEOUT))
            except Exception as exc:  # a scrape still answers; the gauge says "unknown"
                log.warning("metrics: queue depth unavailable: %s: %s", type(exc).__name__, exc)
                metrics.set_queue_depth(math.nan)
        body, content_type = metrics.exposition(request.headers.get("Accept"))
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application(client_max_size=MAX_BODY, middlewares=[json_errors])
    app[METRICS_KEY] = metrics
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", scrape)
    if api is not None:
        document = openapi_document()

        async def openapi(_request: web.Request) -> web.Response:
            return web.json_response(document)

        app.router.add_get("/api/openapi.json", openapi)
        app.add_routes(api.routes())
    app.add_routes(routes or [])
    return app
