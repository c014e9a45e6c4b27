"""The console's POST routes: sign out, and the interventions (pause, resume, cancel, retry, raise a
budget), which `osorganicai.interventions` carries out and records with the person's login.

Every POST needs a session and its CSRF token (403 without); the interventions also need write
access (403 for a reader). Done, the browser goes back to the page it came from (`return_to`, a
console path only); refused, it gets a page saying why.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from ..db import StoreError
from ..service import Service
from ..settings import InvalidSettingError, MissingSettingError
from . import auth
from .asgi import read_form
from .context import ConsoleContext, Refusal


async def checked_post(
    console: ConsoleContext, request: Request, *, need_write: bool = True
) -> tuple[auth.Session, dict[str, str]] | Response:
    """The session and form of a POST, or the answer refusing it: no session, no CSRF token, no write access."""
    try:
        session = console.session_of(request)
    except Refusal as refusal:
        return console.refused(refusal)
    if session is None:
        return console.to_login(request)
    form = await read_form(request)
    if form is None:
        return console.message(400, "Refused", "The form could not be read (URL-encoded, at most 10 kB).", session)
    if not session.csrf_matches(form.get("csrf")):
        return console.message(
            403, "Refused", "The form's CSRF token is missing or wrong: reload the page and try again.", session
        )
    if need_write and not session.may_act:
        return console.message(
            403, "Refused", f"{session.login} has read access: only people with write access may act.", session
        )
    return session, form


async def logout(console: ConsoleContext, request: Request) -> Response:
    checked = await checked_post(console, request, need_write=False)
    if isinstance(checked, Response):
        return checked
    response = console.message(200, "Signed out", "You are signed out of the console.")
    response.delete_cookie(auth.SESSION_COOKIE, path="/console")
    return response


async def intervene(console: ConsoleContext, request: Request, act: Callable[[Service, str], Any], done: str) -> Response:
    checked = await checked_post(console, request)
    if isinstance(checked, Response):
        return checked
    session, form = checked
    from ..interventions import InterventionRefused

    try:
        await run_in_threadpool(act, console.service, session.login)
    except InterventionRefused as refusal:
        return console.message(409, "Not done", str(refusal), session)
    except StoreError:
        return console.message(503, "Not done", "The database did not answer in time: nothing was changed. Try again.", session)
    except (MissingSettingError, InvalidSettingError) as error:
        return console.message(503, "Not done", str(error), session)
    return RedirectResponse(auth.safe_next(form.get("return_to")), status_code=303, headers={"X-Console-Done": done})


async def pause(console: ConsoleContext, request: Request) -> Response:
    from ..interventions import pause_agents

    return await intervene(console, request, pause_agents, "paused")


async def resume(console: ConsoleContext, request: Request) -> Response:
    from ..interventions import resume_agents

    return await intervene(console, request, resume_agents, "resumed")


async def job_action(console: ConsoleContext, request: Request, job_id: str, verb: str) -> Response:
    from .. import interventions

    acts = {"cancel": interventions.cancel_job, "retry": interventions.retry_job, "raise-budget": interventions.raise_job_budget}
    if verb not in acts:
        return console.not_found(request)
    try:
        parsed = uuid.UUID(job_id)
    except ValueError:
        checked = await checked_post(console, request)
        if isinstance(checked, Response):
            return checked
        return console.message(400, "Refused", f"{job_id[:40]!r} is not a job id.", checked[0])
    act = acts[verb]
    return await intervene(console, request, lambda service, login: act(service, parsed, login), verb)
