"""`GET /api/health`: runtime version, database reachability, missing and misconfigured settings (names only).

`status` is `ok`; `degraded` when a setting is missing; `misconfigured` (503) when a setting makes
the webhook refuse every event (`GITHUB_REPOSITORY` unset or malformed), named in `misconfigured`;
503 also when the database is unreachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .settings import InvalidSettingError, MissingSettingError
from .version import __version__

if TYPE_CHECKING:
    from fastapi import FastAPI

    from .service import Service


def health_report(service: Service) -> tuple[int, dict[str, object]]:
    settings = service.settings
    database = "not configured"
    if settings.get("DATABASE_URL"):
        from .db import StoreError

        try:
            database = "reachable" if service.store().ping() else "unreachable"
        except (StoreError, MissingSettingError, InvalidSettingError):
            database = "unreachable"
    try:
        provider: str | None = settings.llm_provider
    except (MissingSettingError, InvalidSettingError):
        provider = None
    missing = settings.missing()
    misconfigured = settings.misconfigured()
    healthy = database == "reachable" and not misconfigured
    status = "misconfigured" if misconfigured else ("ok" if healthy and not missing else "degraded")
    body: dict[str, object] = {
        "status": status,
        "version": __version__,
        "database": database,
        "missing_settings": missing,
        "misconfigured": misconfigured,
        "llm_provider": provider,
    }
    return (200 if healthy else 503), body


def add_health_route(app: FastAPI, service: Service) -> None:
    @app.get("/api/health")
    async def health() -> JSONResponse:
        status, body = await run_in_threadpool(health_report, service)
        return JSONResponse(body, status_code=status)
