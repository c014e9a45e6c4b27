"""`GET /api/cron/sweep`: the Vercel cron entry, authorised by `Authorization: Bearer $CRON_SECRET`.

Each run is one sweeper run (`sweeper.py`, the same as `python -m osorganicai sweep`): pending jobs
dispatched, the webhook's failed deliveries that were never stored asked for again (`GITHUB_WEBHOOK_ID`
names the webhook), and whether the agents are paused (`paused`, `paused_by`, `paused_since`).
"""

from __future__ import annotations

import hmac
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .service import Service
from .settings import MissingSettingError

log = logging.getLogger("osorganicai.cron")


def sweep_report(service: Service) -> tuple[int, dict[str, object]]:
    """The sweeper run (`sweeper.py`) as the cron's status and JSON body."""
    from .db import StoreError
    from .sweeper import DATABASE_UNAVAILABLE, run_sweeper

    github = service.github()
    if github is None:
        return 500, {"error": "missing setting GITHUB_TOKEN (or GitHub App credentials)"}
    try:
        run = run_sweeper(service.store(), github, service.settings, limit=10, source="vercel cron")
    except StoreError as error:
        log.error("sweep: %s", error)
        return 503, {"error": DATABASE_UNAVAILABLE}
    return 200, run.as_json()


def create_cron_app(service: Service | None = None) -> FastAPI:
    service = service or Service()
    app = FastAPI(title="osorganicai cron", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api/cron/sweep")
    async def cron_sweep(request: Request) -> JSONResponse:
        try:
            secret = service.settings.require("CRON_SECRET")
        except MissingSettingError as error:
            return JSONResponse({"error": str(error)}, status_code=500)
        supplied = request.headers.get("authorization", "")
        if not hmac.compare_digest(supplied.encode(), f"Bearer {secret}".encode()):
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        try:
            status, body = await run_in_threadpool(sweep_report, service)
        except MissingSettingError as error:
            return JSONResponse({"error": str(error)}, status_code=500)
        return JSONResponse(body, status_code=status)

    return app
