"""`POST /api/webhooks`: verify, store, route, hand off. Answers well within GitHub's 10 s.

Order of operations: refuse bodies over 25 MB before buffering them (413); verify the HMAC
signature over the raw bytes (401, nothing stored); parse JSON (400); store the delivery and
its job in one transaction, keyed by `X-GitHub-Delivery` so a redelivery is a no-op; then one
`repository_dispatch` call hands the job to the agent workflow. If that call fails the delivery
is still acknowledged and the sweeper dispatches the pending job later.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from . import signature
from .health import add_health_route
from .routing import Decision, decide, summarise
from .service import Service
from .settings import InvalidSettingError, MissingSettingError

MAX_BODY_BYTES = 25 * 1024 * 1024
log = logging.getLogger("osorganicai.webhook")


class BodyTooLargeError(Exception):
    pass


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The raw body, refused as soon as it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLargeError
        except ValueError:
            raise BodyTooLargeError from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def handle_delivery(service: Service, event: str, delivery_id: str, body: bytes, payload: dict[str, Any]) -> JSONResponse:
    """Store and route one verified delivery (blocking I/O: run in a worker thread)."""
    from .db import JobSpec, StoreError

    settings = service.settings
    action, repository, issue_number, sender = summarise(payload)
    if event == "ping":
        decision = Decision(None, "ping")
    else:
        decision = decide(event, payload, bot_login=settings.bot_login, configured_repository=settings.repository)
        decision = _check_permission(service, decision)
    job = None
    if decision.kind and decision.repository and decision.issue_number:
        job = JobSpec(decision.kind, decision.repository, decision.issue_number, decision.verify_permission_of)
    try:
        result = service.store().record_delivery(
            delivery_id=delivery_id,
            event=event,
            action=action,
            repository=repository,
            issue_number=issue_number,
            sender_login=sender,
            payload=body,
            outcome="queued" if job else "ignored",
            outcome_detail=decision.reason,
            job=job,
        )
    except StoreError as error:
        log.error("delivery %s not stored: %s", delivery_id, error)
        return _error(503, "database unavailable; the delivery was not stored, redeliver it later")
    if result.duplicate:
        return JSONResponse({"status": "duplicate", "delivery": delivery_id})
    if event == "ping":
        return JSONResponse({"status": "pong", "delivery": delivery_id})
    if job is None or result.job_id is None:
        return JSONResponse({"status": "ignored", "reason": decision.reason, "delivery": delivery_id})
    dispatched, detail = _hand_off(service, job, result.job_id)
    return JSONResponse(
        {"status": "queued", "job": str(result.job_id), "kind": job.kind, "dispatched": dispatched, "detail": detail},
        status_code=202,
    )


def _check_permission(service: Service, decision: Decision) -> Decision:
    if not decision.permission_lookup or not decision.repository:
        return decision
    from .github import WRITE_PERMISSIONS

    login = decision.permission_lookup
    github = service.github()
    if github is None:
        return _verify_later(decision, login, "no GitHub credentials here")
    try:
        permission = github.collaborator_permission(decision.repository, login)
    except Exception as error:  # noqa: BLE001 - GitHub unreachable or failing: the agent checks again
        return _verify_later(decision, login, f"lookup failed: {error.__class__.__name__}")
    if permission not in WRITE_PERMISSIONS:
        return Decision(None, f"{login} has no write or triage access ({permission or 'none'})")
    return Decision(decision.kind, f"{decision.reason} ({permission})", decision.repository, decision.issue_number)


def _verify_later(decision: Decision, login: str, why: str) -> Decision:
    """Queue the job with the permission check left to the agent, which runs with its own token and fails closed."""
    reason = f"{decision.reason}; {login}'s permission not checked ({why}): the agent checks it before acting"
    return Decision(decision.kind, reason, decision.repository, decision.issue_number, verify_permission_of=login)


def _hand_off(service: Service, job: Any, job_id: Any) -> tuple[bool, str]:
    from .jobs import dispatch

    store = service.store()
    try:
        github = service.github()
    except (MissingSettingError, InvalidSettingError) as error:
        github, reason = None, str(error)
    else:
        reason = "missing setting GITHUB_TOKEN (or GitHub App credentials): the sweeper will dispatch it"
    if github is None:
        store.mark_dispatch_failed(job_id, reason)
        return False, reason
    try:
        dispatch(github, kind=job.kind, repository=job.repository, job_id=job_id, issue_number=job.issue_number)
    except Exception as error:  # noqa: BLE001 - the job stays pending for the sweeper
        message = f"dispatch failed ({error.__class__.__name__}): the sweeper will retry"
        log.warning("job %s: %s: %s", job_id, message, error)
        store.mark_dispatch_failed(job_id, f"{error.__class__.__name__}: {error}")
        return False, message
    store.mark_dispatched(job_id)
    return True, "dispatched to the agent workflow"


def create_app(service: Service | None = None) -> FastAPI:
    service = service or Service()
    app = FastAPI(title="osorganicai webhooks", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/webhooks")
    async def receive(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
        except BodyTooLargeError:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes")
        try:
            secrets = service.settings.webhook_secrets()
        except MissingSettingError as error:
            log.error("%s", error)
            return _error(500, str(error))
        if not signature.verify(secrets, body, request.headers.get("x-hub-signature-256")):
            return _error(401, "missing or invalid X-Hub-Signature-256")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _error(400, "body is not valid JSON")
        if not isinstance(payload, dict):
            return _error(400, "body is not a JSON object")
        event = request.headers.get("x-github-event", "").strip()
        delivery_id = request.headers.get("x-github-delivery", "").strip()
        if not event or not delivery_id or len(delivery_id) > 200:
            return _error(400, "missing X-GitHub-Event or X-GitHub-Delivery header")
        try:
            return await run_in_threadpool(handle_delivery, service, event, delivery_id, body, payload)
        except (MissingSettingError, InvalidSettingError) as error:
            log.error("%s", error)
            return _error(500, str(error))

    add_health_route(app, service)
    return app
