"""The console's FastAPI app: pages, their live fragments, sign-in and the interventions.

Routes (all under `/console`):
- `GET /console`, `/console/issues/{n}`, `/console/costs`, `/console/health`: the pages, server-rendered;
- `GET /console/fragment/...`: the live part of each page with an `ETag` (a hash of the newest rows
  the page reads, the pause switch and the minute); `static/console.js` polls it every 2 s with
  `If-None-Match` and gets `304` or the new fragment. Plain short requests: they fit Vercel's limits;
- `GET /console/login`, `GET /console/auth/callback`, `POST /console/logout`: see `auth`;
- `POST /console/actions/pause|resume`, `POST /console/jobs/{id}/cancel|retry|raise-budget`: write
  access and the session's CSRF token required; each calls `osorganicai.interventions`, which records it;
- `GET /console/static/console.js|console.css`: the only assets, served by the app itself.

Without a session every URL but the static ones and sign-in answers `303` to `/console/login` with
an empty body. Every answer carries a strict Content-Security-Policy (no inline script or style).
On Vercel, `vercel.json` rewrites `/console` and `/console/*` to `api/console.py`; the app accepts
the path it is given either as the browser's path or as the function's, with the original in the
`console_path` query parameter (`restore_console_path`).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ..config import RuntimeConfig, load_config
from ..db import StoreError
from ..service import Service
from ..settings import InvalidSettingError, MissingSettingError
from . import auth, pages
from .stages import format_age

PACKAGE = Path(__file__).resolve().parent
STATIC_FILES = {"console.js": "text/javascript; charset=utf-8", "console.css": "text/css; charset=utf-8"}
MAX_FORM_BYTES = 10_000
GZIP_MINIMUM_BYTES = 2_000  # a pipeline of a thousand issues is ~370 kB of HTML, ~15 kB compressed
LIVE_PAGES = ("pipeline", "costs", "health")


class Refusal(Exception):
    """An answer that ends a request early: a status and a message page (never data)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


def content_security_policy(server_url: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        f"form-action 'self' {server_url}; frame-ancestors 'none'; base-uri 'none'"
    )


class ConsoleHeaders:
    """ASGI middleware: the console's path restored behind Vercel's rewrite, and the security headers on every answer."""

    def __init__(self, app: ASGIApp, server_url: Callable[[], str]) -> None:
        self.app = app
        self.server_url = server_url

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = restore_console_path(scope)
        policy = content_security_policy(self.server_url()).encode()

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", policy),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                if not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def restore_console_path(scope: Scope) -> Scope:
    """The browser's `/console...` path, whether the function is handed it or `/api/console?console_path=...`."""
    path = scope.get("path", "")
    query = [(name, value) for name, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)]
    original = next((value for name, value in query if name == "console_path"), None)
    if original is None and not (path == "/api/console" or path.startswith("/api/console/") or path in ("", "/")):
        return scope
    if original is not None:
        rest = original.strip("/")
        query = [(name, value) for name, value in query if name != "console_path"]
    elif path.startswith("/api/console"):
        rest = path[len("/api/console") :].strip("/")
    else:
        rest = ""
    new_path = "/console" + (f"/{rest}" if rest else "")
    return {**scope, "path": new_path, "raw_path": new_path.encode(), "query_string": urlencode(query).encode("latin-1")}


def templates() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(str(PACKAGE / "templates")),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["when"] = lambda value: value.strftime("%Y-%m-%d %H:%M:%S UTC") if isinstance(value, datetime) else "—"
    environment.filters["money"] = pages.money
    environment.filters["thousands"] = lambda value: f"{int(value or 0):,}"
    environment.filters["since"] = lambda value, now: format_age(now - value) if isinstance(value, datetime) else "—"
    environment.globals["FOLD_CHARS"] = pages.FOLD_CHARS
    return environment


def create_console_app(
    service: Service | None = None,
    *,
    config: RuntimeConfig | None = None,
    oauth_transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    service = service or Service()
    environment = templates()
    loaded: dict[str, RuntimeConfig] = {}
    app = FastAPI(title="osorganicai console", docs_url=None, redoc_url=None, openapi_url=None)

    def settings_server_url() -> str:
        return service.settings.github_server_url

    def runtime_config() -> RuntimeConfig:
        if config is not None:
            return config
        if "config" not in loaded:
            loaded["config"] = load_config()
        return loaded["config"]

    def now() -> datetime:
        return datetime.fromtimestamp(clock(), tz=pages.UTC)

    def session_secret() -> bytes:
        try:
            return service.settings.console_session_secret
        except (MissingSettingError, InvalidSettingError) as error:
            raise Refusal(503, "The console is not set up", f"{error}. See the Console section of the README.") from error

    def session_of(request: Request) -> auth.Session | None:
        return auth.Session.from_cookie(request.cookies.get(auth.SESSION_COOKIE), session_secret(), now=clock())

    def html(status: int, template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(environment.get_template(template).render(**context), status_code=status)

    def message(status: int, title: str, text: str, session: auth.Session | None = None) -> HTMLResponse:
        return html(status, "message.html", title=title, message=text, session=session)

    def to_login(request: Request) -> Response:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Response(status_code=303, headers={"Location": "/console/login?" + urlencode({"next": target})})

    def oauth() -> auth.GitHubOAuth:
        settings = service.settings
        return auth.GitHubOAuth(
            server_url=settings.github_server_url,
            api_url=settings.github_api_url,
            client_id=settings.oauth_client_id,
            client_secret=settings.oauth_client_secret,
            transport=oauth_transport,
        )

    # -- the live pages ----------------------------------------------------------------------------
    def page_context(session: auth.Session, name: str, number: int | None) -> dict[str, Any]:
        """What a page's fragment shows (blocking: runs in a worker thread)."""
        from ..interventions import pause_state

        store = service.store()
        links = pages.links_for(service.settings)
        moment = now()
        context: dict[str, Any] = {"session": session, "now": moment, "page": name, "links": links}
        context["pause"] = pause_state(store)
        if name == "pipeline":
            context.update(pages.pipeline(store, links, moment))
        elif name == "issue":
            issue = pages.issue_page(store, links, service.settings, int(number or 0), moment)
            if issue is None:
                raise Refusal(404, "No such issue", f"Nothing is recorded about issue #{number} of {links.repository}.")
            context["issue"] = issue
        elif name == "costs":
            context.update(pages.costs_page(store, links, moment.date(), runtime_config().console.monthly_budget_usd))
        else:
            context.update(pages.health_page(store, service.settings, links, moment))
        return context

    def etag_of(session: auth.Session, name: str, number: int | None) -> str:
        from .queries import fingerprint

        repository = service.settings.require_repository()
        data = fingerprint(service.store(), repository, number if name == "issue" else None)
        minute = int(clock() // 60)  # ages and "last 24 h" move with time
        seed = f"{name}|{number}|{data}|{minute}|{session.login}|{session.role}|{session.csrf}"
        return 'W/"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'

    async def live(request: Request, name: str, number: int | None, *, fragment: bool) -> Response:
        try:
            session = session_of(request)
            if session is None:
                return to_login(request)
            etag = await run_in_threadpool(etag_of, session, name, number)
            if fragment and etag in _etags(request.headers.get("if-none-match")):
                return Response(status_code=304, headers={"ETag": etag, "Cache-Control": "private, no-cache"})
            context = await run_in_threadpool(page_context, session, name, number)
        except Refusal as refusal:
            return message(refusal.status, refusal.title, refusal.message)
        except (MissingSettingError, InvalidSettingError) as error:
            return message(503, "The console is not set up", str(error))
        except StoreError:
            return message(503, "Database unavailable", "The database did not answer in time. The page retries by itself.")
        fragment_template = f"_{name}.html"
        fragment_url = f"/console/fragment/issues/{number}" if name == "issue" else f"/console/fragment/{name}"
        headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
        if fragment:
            return HTMLResponse(environment.get_template(fragment_template).render(**context), headers=headers)
        body = environment.get_template("page.html").render(
            fragment_template=fragment_template, fragment_url=fragment_url, etag=etag, **context
        )
        return HTMLResponse(body, headers=headers)

    @app.get("/console")
    async def pipeline_page(request: Request) -> Response:
        return await live(request, "pipeline", None, fragment=False)

    @app.get("/console/costs")
    async def costs_page(request: Request) -> Response:
        return await live(request, "costs", None, fragment=False)

    @app.get("/console/health")
    async def health_page(request: Request) -> Response:
        return await live(request, "health", None, fragment=False)

    @app.get("/console/issues/{number}")
    async def issue_page(request: Request, number: str) -> Response:
        parsed = _issue_number(number)
        return await live(request, "issue", parsed, fragment=False) if parsed else _no_issue(request)

    @app.get("/console/fragment/issues/{number}")
    async def issue_fragment(request: Request, number: str) -> Response:
        parsed = _issue_number(number)
        return await live(request, "issue", parsed, fragment=True) if parsed else _no_issue(request)

    @app.get("/console/fragment/{name}")
    async def fragment(request: Request, name: str) -> Response:
        if name not in LIVE_PAGES:
            return _not_found(request)
        return await live(request, name, None, fragment=True)

    def _no_issue(request: Request) -> Response:
        return _not_found(request, "An issue number is a whole number greater than 0.")

    def _not_found(request: Request, text: str = "There is no such console page.") -> Response:
        try:
            session = session_of(request)
        except Refusal as refusal:
            return message(refusal.status, refusal.title, refusal.message)
        if session is None:
            return to_login(request)
        return message(404, "Not found", text, session)

    # -- static assets -------------------------------------------------------------------------------
    assets = {name: (PACKAGE / "static" / name).read_bytes() for name in STATIC_FILES}

    @app.get("/console/static/{name}")
    async def static(request: Request, name: str) -> Response:
        if name not in assets:
            return Response("not found", status_code=404, media_type="text/plain")
        etag = '"' + hashlib.sha256(assets[name]).hexdigest()[:32] + '"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=300"}
        if etag in _etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers=headers)
        return Response(assets[name], media_type=STATIC_FILES[name], headers=headers)

    # -- sign-in -------------------------------------------------------------------------------------
    def cookie(response: Response, name: str, value: str, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, secure=True, samesite="lax")

    @app.get("/console/login")
    async def login(request: Request) -> Response:
        try:
            secret = session_secret()
            client = oauth()
        except Refusal as refusal:
            return message(refusal.status, refusal.title, refusal.message)
        except MissingSettingError as error:
            return message(503, "The console is not set up", f"{error}. See the Console section of the README.")
        try:
            state = auth.new_state()
            target = auth.safe_next(request.query_params.get("next"))
            location = client.authorize_url(redirect_uri=callback_url(request), state=state)
        finally:
            client.close()
        response = RedirectResponse(location, status_code=302)
        value = auth.sign(
            {"state": state, "next": target}, secret=secret, purpose="state", lifetime_seconds=auth.STATE_SECONDS, now=clock()
        )
        cookie(response, auth.STATE_COOKIE, value, auth.STATE_SECONDS)
        return response

    @app.get("/console/auth/callback")
    async def callback(request: Request) -> Response:
        try:
            secret = session_secret()
        except Refusal as refusal:
            return message(refusal.status, refusal.title, refusal.message)
        kept = auth.unsign(request.cookies.get(auth.STATE_COOKIE), secret=secret, purpose="state", now=clock())
        supplied = request.query_params.get("state") or ""
        if kept is None or not isinstance(kept.get("state"), str) or not _same(kept["state"], supplied):
            response = message(
                403, "Sign-in refused", "The sign-in did not start here or took too long (state mismatch). Start again."
            )
            response.delete_cookie(auth.STATE_COOKIE, path="/console")
            return response
        if request.query_params.get("error"):
            reason = request.query_params.get("error_description") or request.query_params["error"]
            return message(403, "Sign-in cancelled", f"GitHub did not sign you in: {reason}.")
        code = request.query_params.get("code") or ""
        if not code or len(code) > 200:
            return message(400, "Sign-in refused", "GitHub's answer carried no sign-in code. Start again.")
        try:
            login_name, role = await run_in_threadpool(sign_in, code, callback_url(request))
        except auth.SignInError as error:
            return message(502, "Sign-in failed", str(error))
        except (MissingSettingError, InvalidSettingError) as error:
            return message(503, "The console is not set up", str(error))
        if role is None:
            text = f"{login_name} has no access to {service.settings.repository}: the console is for its collaborators."
            response = message(403, "No access", text)
            response.delete_cookie(auth.STATE_COOKIE, path="/console")
            return response
        session = auth.Session.start(login_name, role, now=clock())
        response = RedirectResponse(auth.safe_next(kept.get("next")), status_code=303)
        cookie(response, auth.SESSION_COOKIE, session.cookie_value(secret, now=clock()), auth.SESSION_SECONDS)
        response.delete_cookie(auth.STATE_COOKIE, path="/console")
        return response

    def sign_in(code: str, redirect_uri: str) -> tuple[str, str | None]:
        """(login, role) for a sign-in code: GitHub's two calls, then the permission with the runtime's credentials."""
        client = oauth()
        try:
            token = client.exchange_code(code=code, redirect_uri=redirect_uri)
            login_name = client.login_of(token)
        finally:
            client.close()
        github = service.github()
        if github is None:
            raise auth.SignInError("the runtime has no GitHub credentials to look up your access (GITHUB_TOKEN or a GitHub App)")
        try:
            permission = github.collaborator_permission(service.settings.require_repository(), login_name)
        except (MissingSettingError, InvalidSettingError):
            raise
        except Exception as error:  # GitHub down or refusing: no session, say why
            raise auth.SignInError(f"your access to the repository could not be checked ({error.__class__.__name__})") from error
        return login_name, auth.role_for_permission(permission)

    def callback_url(request: Request) -> str:
        proto = (request.headers.get("x-forwarded-proto") or request.url.scheme).split(",")[0].strip()
        host = (
            (request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc).split(",")[0].strip()
        )
        return f"{proto}://{host}/console/auth/callback"

    @app.post("/console/logout")
    async def logout(request: Request) -> Response:
        checked = await checked_post(request, need_write=False)
        if isinstance(checked, Response):
            return checked
        response = message(200, "Signed out", "You are signed out of the console.")
        response.delete_cookie(auth.SESSION_COOKIE, path="/console")
        return response

    # -- interventions -------------------------------------------------------------------------------
    async def checked_post(request: Request, *, need_write: bool = True) -> tuple[auth.Session, dict[str, str]] | Response:
        """The session and form of a POST, or the answer refusing it: no session, no CSRF token, no write access."""
        try:
            session = session_of(request)
        except Refusal as refusal:
            return message(refusal.status, refusal.title, refusal.message)
        if session is None:
            return to_login(request)
        form = await read_form(request)
        if form is None:
            return message(400, "Refused", "The form could not be read (URL-encoded, at most 10 kB).", session)
        if not session.csrf_matches(form.get("csrf")):
            return message(403, "Refused", "The form's CSRF token is missing or wrong: reload the page and try again.", session)
        if need_write and not session.may_act:
            return message(403, "Refused", f"{session.login} has read access: only people with write access may act.", session)
        return session, form

    async def intervene(request: Request, act: Callable[[Service, str], Any], done: str) -> Response:
        checked = await checked_post(request)
        if isinstance(checked, Response):
            return checked
        session, form = checked
        from ..interventions import InterventionRefused

        try:
            await run_in_threadpool(act, service, session.login)
        except InterventionRefused as refusal:
            return message(409, "Not done", str(refusal), session)
        except StoreError:
            return message(503, "Not done", "The database did not answer in time: nothing was changed. Try again.", session)
        except (MissingSettingError, InvalidSettingError) as error:
            return message(503, "Not done", str(error), session)
        return RedirectResponse(auth.safe_next(form.get("return_to")), status_code=303, headers={"X-Console-Done": done})

    @app.post("/console/actions/pause")
    async def pause(request: Request) -> Response:
        from ..interventions import pause_agents

        return await intervene(request, pause_agents, "paused")

    @app.post("/console/actions/resume")
    async def resume(request: Request) -> Response:
        from ..interventions import resume_agents

        return await intervene(request, resume_agents, "resumed")

    @app.post("/console/jobs/{job_id}/{verb}")
    async def job_action(request: Request, job_id: str, verb: str) -> Response:
        from .. import interventions

        actions = {
            "cancel": interventions.cancel_job,
            "retry": interventions.retry_job,
            "raise-budget": interventions.raise_job_budget,
        }
        if verb not in actions:
            return _not_found(request)
        try:
            parsed = uuid.UUID(job_id)
        except ValueError:
            checked = await checked_post(request)
            if isinstance(checked, Response):
                return checked
            return message(400, "Refused", f"{job_id[:40]!r} is not a job id.", checked[0])
        act = actions[verb]
        return await intervene(request, lambda svc, login: act(svc, parsed, login), verb)

    @app.get("/console/{rest:path}")
    async def anything_else(request: Request, rest: str) -> Response:
        """Any other console URL: sign-in first, then a 404 page (registered last, so it matches last)."""
        return _not_found(request)

    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_BYTES)
    app.add_middleware(ConsoleHeaders, server_url=settings_server_url)
    return app


async def read_form(request: Request) -> dict[str, str] | None:
    """A small URL-encoded form (empty when there is no body), or None (too big, another type, not UTF-8)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    if not body:
        return {}  # no form at all: no CSRF token either
    if media_type != "application/x-www-form-urlencoded":
        return None
    try:
        return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=20))
    except (UnicodeDecodeError, ValueError):
        return None


def _issue_number(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 12 and int(text) > 0 else None


def _etags(header: str | None) -> set[str]:
    return {part.strip() for part in (header or "").split(",") if part.strip()}


def _same(kept: str, supplied: str) -> bool:
    return bool(supplied) and hmac.compare_digest(kept.encode(), supplied.encode())
