"""The console's FastAPI app: its routes, each a line that hands over to the module doing the work.

Routes (all under `/console`):
- `GET /console`, `/console/issues/{n}`, `/console/costs`, `/console/health`: the pages, server-rendered;
- `GET /console/fragment/...`: the live part of each page with an `ETag`; `static/console.js` polls it
  every 2 s with `If-None-Match` and gets `304` or the new fragment (`live`). Plain short requests:
  they fit Vercel's function limits;
- `GET /console/login`, `GET /console/auth/callback` (`signin`), `POST /console/logout` (`actions`);
- `POST /console/actions/pause|resume`, `POST /console/jobs/{id}/cancel|retry|raise-budget`: write
  access and the session's CSRF token required (`actions`);
- `GET /console/static/console.js|console.css`: the only assets, served by the app itself.

Without a session every URL but the static ones and sign-in answers `303` to `/console/login` with an
empty body. Every answer carries a strict Content-Security-Policy and is gzipped when the browser
accepts it (`asgi`). On Vercel, `vercel.json` rewrites `/console` and `/console/*` to `api/console.py`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.middleware.gzip import GZipMiddleware

from ..config import RuntimeConfig
from ..service import Service
from . import actions, live, signin
from .asgi import ConsoleHeaders, etags
from .context import PACKAGE, ConsoleContext

STATIC_FILES = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
GZIP_MINIMUM_BYTES = 2_000  # a pipeline of a thousand issues is ~370 kB of HTML, ~15 kB compressed


def create_console_app(
    service: Service | None = None,
    *,
    config: RuntimeConfig | None = None,
    oauth_transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    console = ConsoleContext(service or Service(), config=config, oauth_transport=oauth_transport, clock=clock)
    app = FastAPI(title="osorganicai console", docs_url=None, redoc_url=None, openapi_url=None)
    add_page_routes(app, console)
    add_static_routes(app)
    add_sign_in_routes(app, console)
    add_action_routes(app, console)

    @app.get("/console/{rest:path}")
    async def anything_else(request: Request, rest: str) -> Response:
        """Any other console URL: sign-in first, then a 404 page (registered last, so it matches last)."""
        return console.not_found(request)

    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(ConsoleHeaders, server_url=console.server_url)
    return app


def add_page_routes(app: FastAPI, console: ConsoleContext) -> None:
    @app.get("/console")
    async def pipeline_page(request: Request) -> Response:
        return await live.live(console, request, "pipeline", None, fragment=False)

    @app.get("/console/costs")
    async def costs_page(request: Request) -> Response:
        return await live.live(console, request, "costs", None, fragment=False)

    @app.get("/console/health")
    async def health_page(request: Request) -> Response:
        return await live.live(console, request, "health", None, fragment=False)

    @app.get("/console/issues/{number}")
    async def issue_page(request: Request, number: str) -> Response:
        parsed = live.issue_number(number)
        return await live.live(console, request, "issue", parsed, fragment=False) if parsed else _no_issue(console, request)

    @app.get("/console/fragment/issues/{number}")
    async def issue_fragment(request: Request, number: str) -> Response:
        parsed = live.issue_number(number)
        return await live.live(console, request, "issue", parsed, fragment=True) if parsed else _no_issue(console, request)

    @app.get("/console/fragment/{name}")
    async def fragment(request: Request, name: str) -> Response:
        if name not in live.LIVE_PAGES:
            return console.not_found(request)
        return await live.live(console, request, name, None, fragment=True)


def _no_issue(console: ConsoleContext, request: Request) -> Response:
    return console.not_found(request, "An issue number is a whole number greater than 0.")


def add_static_routes(app: FastAPI) -> None:
    assets = {name: (PACKAGE / "static" / name).read_bytes() for name in STATIC_FILES}
    tags = {name: '"' + hashlib.sha256(content).hexdigest()[:32] + '"' for name, content in assets.items()}

    @app.get("/console/static/{name}")
    async def static(request: Request, name: str) -> Response:
        if name not in assets:
            return Response("not found", status_code=404, media_type="text/plain")
        headers = {"ETag": tags[name], "Cache-Control": "public, max-age=300"}
        if tags[name] in etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        return Response(assets[name], media_type=STATIC_FILES[name], headers=headers)


def add_sign_in_routes(app: FastAPI, console: ConsoleContext) -> None:
    @app.get("/console/login")
    async def login(request: Request) -> Response:
        return await signin.login(console, request)

    @app.get("/console/auth/callback")
    async def callback(request: Request) -> Response:
        return await signin.callback(console, request)

    @app.post("/console/logout")
    async def logout(request: Request) -> Response:
        return await actions.logout(console, request)


def add_action_routes(app: FastAPI, console: ConsoleContext) -> None:
    @app.post("/console/actions/pause")
    async def pause(request: Request) -> Response:
        return await actions.pause(console, request)

    @app.post("/console/actions/resume")
    async def resume(request: Request) -> Response:
        return await actions.resume(console, request)

    @app.post("/console/jobs/{job_id}/{verb}")
    async def job_action(request: Request, job_id: str, verb: str) -> Response:
        return await actions.job_action(console, request, job_id, verb)
