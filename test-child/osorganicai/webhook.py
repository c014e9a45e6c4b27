"""`POST /api/webhooks`: verify, parse, store, route, hand off. Answers well within GitHub's 10 s.

Order of operations, each refusal answered at once and nothing stored before the signature holds:
0. the request gets one deadline, WEBHOOK_DEADLINE_SECONDS from its arrival, well inside GitHub's
   10 s: every phase below takes its timeout from the time left, capped by its own limit
   (`deadline.py`), so their sum never passes it;
1. the body is read with a size limit (413 over 25 MB, refused before buffering) and a deadline
   (408 when it trickles in slower than that);
2. the HMAC signature over the raw bytes, as received, is verified (401);
3. the content type must be `application/json`, or GitHub's form encoding
   (`application/x-www-form-urlencoded` with the JSON in one `payload=` field), in UTF-8 and not
   compressed (415);
4. `X-GitHub-Event` and `X-GitHub-Delivery` must be short printable ASCII (400);
5. the JSON must be a UTF-8 object GitHub could have sent (400 with the reason; see `parse_json_object`);
6. the delivery and its job are stored in one transaction keyed by `X-GitHub-Delivery`, so a redelivery
   is a no-op. Every database call runs under short connect, lock and statement timeouts: a database
   that is down, busy or locked answers 503 with `Retry-After`, and the delivery, not stored, is
   accepted when it is redelivered (GitHub does not redeliver by itself: "Redeliver" in the webhook's
   Recent Deliveries, or the REST API, within 3 days);
   When too little time is left to store it (the lookups were slow), the answer is 503 with
   `Retry-After` and nothing is stored;
7. one `repository_dispatch` call hands the job to the agent workflow. If it fails, or too little of
   the 10 s is left, the delivery is still acknowledged and the sweeper dispatches the pending job.
   While the agents are paused (`interventions.py`), the job is held as pending, the reason in its
   row, and dispatched when they resume.

Only events from `GITHUB_REPOSITORY` are routed: with it unset, or for another repository, the
delivery is stored as ignored with the reason and `/api/health` reports the misconfiguration.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import urllib.parse
from dataclasses import replace
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from . import signature
from .deadline import Deadline
from .health import add_health_route
from .routing import Decision, decide, summarise
from .service import Service
from .settings import InvalidSettingError, MissingSettingError

MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
BODY_TIMEOUT_SECONDS = 5.0  # the whole body, from the first read; GitHub gives up after 10 s
MAX_JSON_DEPTH = 64  # GitHub's payloads nest about 6 deep
MAX_INTEGER = 2**63 - 1  # GitHub's ids are 64-bit; PostgreSQL's bigint holds them
MIN_INTEGER = -(2**63)
RETRY_AFTER_SECONDS = 30
# One deadline from the request's arrival, inside GitHub's 10 s; each phase takes its timeout from it.
WEBHOOK_DEADLINE_SECONDS = 8.0
STORE_RESERVE_SECONDS = 2.5  # the lookups before storing leave this much for storing and answering
MIN_STORE_SECONDS = 1.0  # less left than this: 503 before anything is stored
HAND_OFF_MIN_SECONDS = 2.0  # less left than this after storing: the sweeper dispatches the job

JSON_TYPES = ("application/json",)
FORM_TYPE = "application/x-www-form-urlencoded"
EVENT_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,63}")
DELIVERY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")
log = logging.getLogger("osorganicai.webhook")


class BodyTooLargeError(Exception):
    pass


class BodyTimeoutError(Exception):
    pass


class PayloadError(ValueError):
    """The request is not a delivery GitHub could have sent; `status` is the HTTP answer, the message the reason."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# -- reading and parsing the request --------------------------------------------------------------
async def read_body(request: Request, limit: int = MAX_BODY_BYTES, timeout: float = BODY_TIMEOUT_SECONDS) -> bytes:
    """The raw body, refused as soon as it is known to exceed `limit` bytes or to take over `timeout` seconds."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLargeError
        except ValueError:
            raise BodyTooLargeError from None
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise BodyTooLargeError
                chunks.append(chunk)
    except TimeoutError:
        raise BodyTimeoutError from None
    return b"".join(chunks)


def json_from_request(content_type: str | None, body: bytes, content_encoding: str | None = None) -> bytes:
    """The JSON text of a delivery: the body itself, or the `payload` field of GitHub's form encoding."""
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise PayloadError(415, f"content encoding {content_encoding[:50]!r} is not supported: GitHub sends bodies uncompressed")
    media_type, _, parameters = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    charset = _charset(parameters)
    if charset not in (None, "utf-8", "utf8"):
        raise PayloadError(415, f"charset {charset[:50]!r} is not supported: GitHub sends UTF-8")
    if media_type in JSON_TYPES:
        return body
    if media_type == FORM_TYPE:
        return _form_payload(body)
    shown = media_type or "none"
    raise PayloadError(415, f"content type {shown[:100]!r} is not supported: set the webhook's content type to application/json")


def _charset(parameters: str) -> str | None:
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return None


def _form_payload(body: bytes) -> bytes:
    try:
        text = body.decode("ascii")
        fields = urllib.parse.parse_qsl(
            text, keep_blank_values=True, strict_parsing=True, encoding="utf-8", errors="strict", max_num_fields=20
        )
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError(400, f"form body is not valid URL encoding of UTF-8 text: {error}") from None
    payloads = [value for name, value in fields if name == "payload"]
    if len(payloads) != 1:
        raise PayloadError(400, f"form body must carry exactly one payload= field, found {len(payloads)}")
    return payloads[0].encode("utf-8")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The delivery as a dict, or PayloadError(400) saying why it is not JSON GitHub could have sent.

    Refused: an empty body; a byte order mark or UTF-16/UTF-32 text (RFC 8259 asks for UTF-8
    without a BOM); invalid UTF-8; NaN, Infinity and numbers that overflow a double; integers
    outside 64 bits; lone UTF-16 surrogates in strings; nesting deeper than MAX_JSON_DEPTH; and
    any top-level value that is not an object.
    """
    if not raw.strip():
        raise PayloadError(400, "body is empty: GitHub sends a JSON object")
    if raw.startswith(b"\xef\xbb\xbf"):
        raise PayloadError(400, "body starts with a byte order mark: JSON text must be UTF-8 without one")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")) or b"\x00" in raw[:2]:
        # RFC 4627's detection: JSON text starts with an ASCII character, so a NUL among the first two
        # bytes means UTF-16 or UTF-32 (either byte order).
        raise PayloadError(400, "body is UTF-16 or UTF-32: GitHub sends UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PayloadError(400, f"body is not valid UTF-8 (byte {error.start})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_int=_bounded_int, parse_float=_finite_float)
    except RecursionError:
        raise PayloadError(400, f"JSON nests deeper than {MAX_JSON_DEPTH} levels") from None
    except json.JSONDecodeError as error:
        raise PayloadError(400, f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}") from None
    except ValueError as error:
        raise PayloadError(400, str(error)) from None
    if not isinstance(value, dict):
        raise PayloadError(400, f"body is a JSON {_json_type(value)}, not an object")
    _check_structure(value)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"JSON holds {name}, which is not JSON (RFC 8259)")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 19:
        raise ValueError(f"JSON holds an integer outside 64 bits ({text[:30]}...)")
    number = int(text)
    if not MIN_INTEGER <= number <= MAX_INTEGER:
        raise ValueError(f"JSON holds an integer outside 64 bits ({text})")
    return number


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"JSON holds a number too large for a double ({text[:30]})")
    return number


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    return "number"


def _check_structure(value: dict[str, Any]) -> None:
    """Depth at most MAX_JSON_DEPTH, and no lone surrogate in a key or string (PostgreSQL refuses them)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise PayloadError(400, f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
        children = item.items() if isinstance(item, dict) else enumerate(item)
        for key, child in children:
            if isinstance(key, str):
                _check_text(key)
            if isinstance(child, str):
                _check_text(child)
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(400, "JSON holds a lone UTF-16 surrogate escape (\\ud800-\\udfff), which is not text") from None


def delivery_headers(request: Request) -> tuple[str, str]:
    """(event, delivery id), or PayloadError(400) when either is missing, too long or not printable ASCII."""
    event = request.headers.get("x-github-event", "").strip()
    delivery_id = request.headers.get("x-github-delivery", "").strip()
    if not EVENT_PATTERN.fullmatch(event):
        raise PayloadError(400, "missing or malformed X-GitHub-Event header (lowercase letters and _, up to 64)")
    if not DELIVERY_PATTERN.fullmatch(delivery_id):
        raise PayloadError(400, "missing or malformed X-GitHub-Delivery header (printable ASCII, up to 200 characters)")
    return event, delivery_id


# -- storing and routing ---------------------------------------------------------------------------
def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _unavailable(error: Exception) -> JSONResponse:
    """503 naming the kind of failure only (the details, which may name the database host, go to the log)."""
    from .db import StoreBusyError

    why = "busy or unreachable: no answer within its timeouts" if isinstance(error, StoreBusyError) else "error"
    message = (
        f"database {why}; the delivery was not stored and will be accepted when it is "
        "redelivered (Redeliver in the webhook's Recent Deliveries, or the REST API)"
    )
    return _error(503, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def repository_refusal(settings: Any, event: str, repository: str | None) -> str | None:
    """Why a delivery must not be routed for its repository, or None. `ping` is always answered."""
    if event == "ping":
        return None
    try:
        configured = settings.repository
    except InvalidSettingError as error:
        return f"refused: {error}"
    if configured is None:
        return "refused: GITHUB_REPOSITORY is not set, so no event is routed: set it to owner/repo"
    if repository is not None and repository.lower() != configured.lower():
        return f"refused: repository {repository} is not GITHUB_REPOSITORY ({configured})"
    return None


def handle_delivery(
    service: Service, event: str, delivery_id: str, body: bytes, payload: dict[str, Any], deadline: Deadline | None = None
) -> JSONResponse:
    """Route, store and hand off one verified delivery (blocking I/O: run in a worker thread).

    Every phase takes its timeout from `deadline` (the request's, from its arrival): the lookups
    leave STORE_RESERVE_SECONDS for storing, a delivery with less than MIN_STORE_SECONDS left is
    refused with 503 before anything is stored, and the hand-off is left to the sweeper when less
    than HAND_OFF_MIN_SECONDS is left.
    """
    from .db import JobSpec, StoreDataError, StoreError

    deadline = deadline or Deadline(WEBHOOK_DEADLINE_SECONDS)
    action, repository, issue_number, sender = summarise(payload)
    try:
        with deadline.keeping(STORE_RESERVE_SECONDS).active():
            decision = route_delivery(service, event, payload, repository)
    except StoreError as error:  # a lookup in the database failed: it is busy, so storing would fail too
        log.error("delivery %s not routed: %s", delivery_id, error)
        return _unavailable(error)
    job = None
    if decision.kind and decision.repository and decision.issue_number:
        job = JobSpec(decision.kind, decision.repository, decision.issue_number, decision.verify_permission_of)
    if deadline.remaining() < MIN_STORE_SECONDS:
        log.error("delivery %s not stored: %.1f s left of the webhook's deadline", delivery_id, deadline.remaining())
        return _out_of_time()
    try:
        with deadline.active():
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
                engagement=engagement_of(decision, delivery_id),
            )
    except StoreDataError as error:
        log.error("delivery %s refused by the database: %s", delivery_id, error)
        return _error(400, f"the database refused the payload: {error}")
    except StoreError as error:
        log.error("delivery %s not stored: %s", delivery_id, error)
        return _unavailable(error)
    if result.duplicate:
        return JSONResponse({"status": "duplicate", "delivery": delivery_id})
    if event == "ping":
        return JSONResponse({"status": "pong", "delivery": delivery_id})
    if job is None or result.job_id is None:
        return JSONResponse({"status": "ignored", "reason": decision.reason, "delivery": delivery_id})
    if deadline.remaining() < HAND_OFF_MIN_SECONDS:
        dispatched, detail = False, "stored late in GitHub's 10 s: the sweeper will dispatch it"
    else:
        with deadline.active():
            dispatched, detail = _hand_off(service, job, result.job_id)
    return JSONResponse(
        {"status": "queued", "job": str(result.job_id), "kind": job.kind, "dispatched": dispatched, "detail": detail},
        status_code=202,
    )


def route_delivery(service: Service, event: str, payload: dict[str, Any], repository: str | None) -> Decision:
    """What the delivery starts: the pure routing decision, then the lookups it asks for."""
    settings = service.settings
    if event == "ping":
        return Decision(None, "ping")
    refusal = repository_refusal(settings, event, repository)
    if refusal:
        return Decision(None, refusal)
    decision = decide(event, payload, bot_login=settings.bot_login, configured_repository=settings.repository)
    decision = _find_merged_issue(service, decision)
    return _check_permission(service, decision)


def _find_merged_issue(service: Service, decision: Decision) -> Decision:
    """A deployment names only its commit: when that is the merge commit of the runtime's pull request, its issue."""
    sha = decision.merge_commit_lookup
    if not sha or not decision.repository:
        return decision
    from .lifecycle.state import PullStates

    merged = PullStates(service.store()).merged_pull_of(decision.repository, sha)
    if merged is None:
        return Decision(None, f"{decision.reason}; {sha[:12]} is not the merge commit of a runtime pull request")
    issue, pull = merged
    reason = f"deployment of {sha[:12]}, the merge commit of pull request #{pull} for issue #{issue}"
    return Decision(decision.kind, reason, decision.repository, issue)


def _out_of_time() -> JSONResponse:
    message = (
        "too little of GitHub's 10 s was left to store the delivery; nothing was stored and it will be "
        "accepted when it is redelivered (Redeliver in the webhook's Recent Deliveries, or the REST API)"
    )
    return _error(503, message, {"Retry-After": str(RETRY_AFTER_SECONDS)})


def _check_permission(service: Service, decision: Decision) -> Decision:
    """The decision once the actor's access is known: looked up, or, for the issue's author, a writer's
    engagement with the issue read from the database first (no lookup needed then)."""
    if not decision.permission_lookup or not decision.repository or not decision.issue_number:
        return decision
    from .steering import STEERING_ROLES_TEXT, steers

    login = decision.permission_lookup
    if decision.needs_writer_engagement and service.store().writer_engaged(decision.repository, decision.issue_number):
        reason = f"{decision.reason}, with which a writer has engaged"
        return replace(decision, reason=reason, permission_lookup=None)
    github = service.github()
    if github is None:
        return _verify_later(decision, login, "no GitHub credentials here")
    try:
        permission = github.collaborator_permission(decision.repository, login)
    except Exception as error:  # noqa: BLE001 - GitHub unreachable or failing: the agent checks again
        return _verify_later(decision, login, f"lookup failed: {error.__class__.__name__}")
    if steers(permission):
        reason = f"{decision.reason} ({permission})"
        if decision.engagement:
            reason += ": a writer engaged with the issue, so its author steers it"
        return replace(decision, reason=reason, permission_lookup=None, permission=permission)
    refusal = f"{login} has no {STEERING_ROLES_TEXT} access ({permission or 'none'})"
    if decision.needs_writer_engagement:
        refusal = (
            f"{refusal} and no one with it has engaged with the issue yet (labelled it needs-clarification or "
            "ready-for-dev, commented on, edited or assigned it): its author steers only then; stored, not routed"
        )
    return Decision(None, refusal)


def _verify_later(decision: Decision, login: str, why: str) -> Decision:
    """Queue the job with the permission check left to the agent, which runs with its own token and fails closed."""
    if decision.kind is None:
        return Decision(None, f"{decision.reason}; {login}'s permission not checked ({why}): not recorded as engagement")
    reason = f"{decision.reason}; {login}'s permission not checked ({why}): the agent checks it before acting"
    return replace(decision, reason=reason, permission_lookup=None, verify_permission_of=login)


def engagement_of(decision: Decision, delivery_id: str) -> Any:
    """The writer's engagement the delivery shows, to store with it (`steering.py`), or None."""
    from .db import Engagement

    if not (decision.engagement and decision.actor and decision.permission and decision.repository and decision.issue_number):
        return None
    return Engagement(
        decision.repository, decision.issue_number, decision.actor, decision.engagement, decision.permission, delivery_id
    )


def _hand_off(service: Service, job: Any, job_id: Any) -> tuple[bool, str]:
    """Dispatch the stored job. Whatever fails here, the job is stored and the sweeper dispatches it."""
    from .db import StoreError, held_reason
    from .jobs import dispatch

    store = service.store()
    try:
        github = service.github()
    except (MissingSettingError, InvalidSettingError) as error:
        github, reason = None, str(error)
    else:
        reason = "missing setting GITHUB_TOKEN (or GitHub App credentials): the sweeper will dispatch it"
    try:
        switch = store.hold_if_paused(job_id)
        if switch is not None:
            return False, held_reason(switch)
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
    except StoreError as error:
        log.error("job %s: dispatch state not recorded: %s", job_id, error)
        return False, f"job stored, its dispatch state not recorded ({error.__class__.__name__}): the sweeper checks it"
    return True, "dispatched to the agent workflow"


# -- the app -----------------------------------------------------------------------------------------
def create_app(service: Service | None = None, *, body_timeout: float = BODY_TIMEOUT_SECONDS) -> FastAPI:
    service = service or Service()
    app = FastAPI(title="osorganicai webhooks", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post("/api/webhooks")
    async def receive(request: Request) -> JSONResponse:
        deadline = Deadline(WEBHOOK_DEADLINE_SECONDS)
        try:
            body = await read_body(request, timeout=deadline.budget(body_timeout))
        except BodyTooLargeError:
            return _error(413, f"body over {MAX_BODY_BYTES} bytes", {"Connection": "close"})
        except BodyTimeoutError:
            return _error(408, f"body not received within {body_timeout:g} s", {"Connection": "close"})
        except ClientDisconnect:
            return _error(400, "the client disconnected before sending the whole body")
        try:
            secrets = service.settings.webhook_secrets()
        except MissingSettingError as error:
            log.error("%s", error)
            return _error(500, str(error))
        if not signature.verify(secrets, body, request.headers.get("x-hub-signature-256")):
            return _error(401, "missing or invalid X-Hub-Signature-256")
        try:
            raw_json = json_from_request(request.headers.get("content-type"), body, request.headers.get("content-encoding"))
            event, delivery_id = delivery_headers(request)
            payload = await run_in_threadpool(parse_json_object, raw_json)
        except PayloadError as error:
            return _error(error.status, error.reason)
        try:
            return await run_in_threadpool(handle_delivery, service, event, delivery_id, raw_json, payload, deadline)
        except (MissingSettingError, InvalidSettingError) as error:
            log.error("%s", error)
            return _error(500, str(error))

    add_health_route(app, service)
    return app
