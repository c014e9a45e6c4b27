"""`GET /api/cron/sweep`: the Vercel cron entry, authorised by `Authorization: Bearer $CRON_SECRET`.

Each run dispatches pending jobs (`jobs.sweep`), then asks GitHub to redeliver the webhook's failed
deliveries that were never stored (`redelivery.py`; `GITHUB_WEBHOOK_ID` names the webhook).
"""

from __future__ import annotations

import hmac
import logging
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .service import Service
from .settings import InvalidSettingError, MissingSettingError

if TYPE_CHECKING:
    from .github import GitHubClient

log = logging.getLogger("osorganicai.cron")


def sweep_report(service: Service) -> tuple[int, dict[str, object]]:
    from .db import StoreError
    from .jobs import sweep

    github = service.github()
    if github is None:
        return 500, {"error": "missing setting GITHUB_TOKEN (or GitHub App credentials)"}
    try:
        report = sweep(service.store(), github, limit=10, source="vercel cron")
    except StoreError as error:
        log.error("sweep: %s", error)
        return 503, {"error": "database unavailable: the next sweep retries"}
    return 200, {
        "dispatched": [str(job) for job in report.dispatched],
        "failed_dispatch": [str(job) for job in report.failed_dispatch],
        "abandoned": [str(job) for job in report.abandoned],
        "timed_out": [str(job) for job in report.timed_out],
        **redelivery_report(service, github),
    }


def redelivery_report(service: Service, github: GitHubClient) -> dict[str, object]:
    """The failed webhook deliveries asked for again (`redelivery.py`); a failure is reported, not raised."""
    from .db import StoreError
    from .redelivery import redeliver_failed

    try:
        repository = service.settings.repository
    except InvalidSettingError as error:
        return {"redelivered": [], "redelivery_problem": str(error)}
    if repository is None:
        return {"redelivered": [], "redelivery_problem": "GITHUB_REPOSITORY is not set"}
    try:
        report = redeliver_failed(service.store(), github, repository, service.settings.get("GITHUB_WEBHOOK_ID"))
    except StoreError as error:
        log.error("redelivery: %s", error)
        return {"redelivered": [], "redelivery_problem": "database unavailable: the next sweep retries"}
    return {"redelivered": report.redelivered, "redelivery_problem": report.problem}


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
