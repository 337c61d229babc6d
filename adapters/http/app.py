"""The project's aiohttp server: health checks, and the routes adapters bring
(Telegram's webhook); the publishing API is added on top of it."""
from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

HealthCheck = Callable[[], Awaitable[None]]


def build_app(health: HealthCheck, routes: list[web.RouteDef] | None = None) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            await health()
        except Exception as exc:  # any failure of the database is "unhealthy"
            return web.json_response({"status": "unavailable", "database": type(exc).__name__}, status=503)
        return web.json_response({"status": "ok", "database": "ok"})

    app = web.Application(client_max_size=1024 * 1024)
    app.router.add_get("/healthz", healthz)
    app.add_routes(routes or [])
    return app
