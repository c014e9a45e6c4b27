"""The sign-in routes: `/console/login` starts GitHub's OAuth web flow, `/console/auth/callback`
finishes it (state checked, code exchanged, login read, permission looked up with the runtime's
credentials) and sets the session cookie. The protocol itself is in `auth`."""

from __future__ import annotations

import hmac

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..settings import InvalidSettingError, MissingSettingError
from . import auth
from .context import ConsoleContext, Refusal

CALLBACK_PATH = "/console/auth/callback"


def set_cookie(response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/console", httponly=True, secure=True, samesite="lax")


def callback_url(request: Request) -> str:
    """The callback on the host the browser used (behind Vercel, from its forwarded headers)."""
    proto = (request.headers.get("x-forwarded-proto") or request.url.scheme).split(",")[0].strip()
    host = (request.headers.get("x-forwarded-host") or request.headers.get("host") or request.url.netloc).split(",")[0].strip()
    return f"{proto}://{host}{CALLBACK_PATH}"


async def login(console: ConsoleContext, request: Request) -> Response:
    """302 to GitHub's authorize page, with a fresh `state` kept in a signed cookie for 10 minutes."""
    try:
        secret = console.session_secret()
        client = console.oauth()
    except Refusal as refusal:
        return console.refused(refusal)
    except MissingSettingError as error:
        return console.message(503, "The console is not set up", f"{error}. See the Console section of the README.")
    try:
        state = auth.new_state()
        location = client.authorize_url(redirect_uri=callback_url(request), state=state)
    finally:
        client.close()
    kept = {"state": state, "next": auth.safe_next(request.query_params.get("next"))}
    response = RedirectResponse(location, status_code=302)
    value = auth.sign(kept, secret=secret, purpose="state", lifetime_seconds=auth.STATE_SECONDS, now=console.clock())
    set_cookie(response, auth.STATE_COOKIE, value, auth.STATE_SECONDS)
    return response


async def callback(console: ConsoleContext, request: Request) -> Response:
    try:
        secret = console.session_secret()
    except Refusal as refusal:
        return console.refused(refusal)
    kept = auth.unsign(request.cookies.get(auth.STATE_COOKIE), secret=secret, purpose="state", now=console.clock())
    supplied = request.query_params.get("state") or ""
    if kept is None or not isinstance(kept.get("state"), str) or not _same(kept["state"], supplied):
        text = "The sign-in did not start here or took too long (state mismatch). Start again."
        return _without_state(console.message(403, "Sign-in refused", text))
    if request.query_params.get("error"):
        reason = request.query_params.get("error_description") or request.query_params["error"]
        return _without_state(console.message(403, "Sign-in cancelled", f"GitHub did not sign you in: {reason}."))
    code = request.query_params.get("code") or ""
    if not code or len(code) > 200:
        return console.message(400, "Sign-in refused", "GitHub's answer carried no sign-in code. Start again.")
    try:
        login_name, role = await run_in_threadpool(sign_in, console, code, callback_url(request))
    except auth.SignInError as error:
        return console.message(502, "Sign-in failed", str(error))
    except (MissingSettingError, InvalidSettingError) as error:
        return console.message(503, "The console is not set up", str(error))
    if role is None:
        text = f"{login_name} has no access to {console.service.settings.repository}: the console is for its collaborators."
        return _without_state(console.message(403, "No access", text))
    session = auth.Session.start(login_name, role, now=console.clock())
    response = RedirectResponse(auth.safe_next(kept.get("next")), status_code=303)
    set_cookie(response, auth.SESSION_COOKIE, session.cookie_value(secret, now=console.clock()), auth.SESSION_SECONDS)
    return _without_state(response)


def sign_in(console: ConsoleContext, code: str, redirect_uri: str) -> tuple[str, str | None]:
    """(login, role) for a sign-in code: GitHub's two calls, then the permission with the runtime's credentials."""
    client = console.oauth()
    try:
        token = client.exchange_code(code=code, redirect_uri=redirect_uri)
        login_name = client.login_of(token)
    finally:
        client.close()
    github = console.service.github()
    if github is None:
        raise auth.SignInError("the runtime has no GitHub credentials to look up your access (GITHUB_TOKEN or a GitHub App)")
    repository = console.service.settings.require_repository()
    try:
        permission = github.collaborator_permission(repository, login_name)
    except Exception as error:  # GitHub down or refusing: no session, say why
        raise auth.SignInError(f"your access to the repository could not be checked ({error.__class__.__name__})") from error
    return login_name, auth.role_for_permission(permission)


def _without_state(response: Response) -> Response:
    response.delete_cookie(auth.STATE_COOKIE, path="/console")
    return response


def _same(kept: str, supplied: str) -> bool:
    return bool(supplied) and hmac.compare_digest(kept.encode(), supplied.encode())
