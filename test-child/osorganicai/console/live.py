"""The console's pages and their live fragments.

Each page is a layout around a fragment; `static/console.js` asks for the fragment again every 2 s
with the `ETag` it last saw. The ETag is a hash of `queries.fingerprint` (the newest rows the page
reads and the pause switch; one issue's rows for an Issue page), the minute (ages and "last 24 h"
move with time) and the session (its buttons and CSRF token), so an unchanged page costs one small
query and a `304`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from ..db import StoreError
from ..settings import InvalidSettingError, MissingSettingError
from . import auth, pages
from .asgi import etags
from .context import ConsoleContext, Refusal

LIVE_PAGES = ("pipeline", "costs", "health")
LIVE_CACHE_CONTROL = "private, no-cache"


def page_context(console: ConsoleContext, session: auth.Session, name: str, number: int | None) -> dict[str, Any]:
    """What a page's fragment shows (blocking: runs in a worker thread)."""
    from ..interventions import pause_state

    store = console.service.store()
    settings = console.service.settings
    links = pages.links_for(settings)
    moment = console.now()
    context: dict[str, Any] = {"session": session, "now": moment, "page": name, "links": links, "pause": pause_state(store)}
    if name == "pipeline":
        context.update(pages.pipeline(store, links, moment))
    elif name == "issue":
        issue = pages.issue_page(store, links, settings, int(number or 0), moment)
        if issue is None:
            raise Refusal(404, "No such issue", f"Nothing is recorded about issue #{number} of {links.repository}.")
        context["issue"] = issue
    elif name == "costs":
        context.update(pages.costs_page(store, links, moment.date(), console.runtime_config().console.monthly_budget_usd))
    else:
        context.update(pages.health_page(store, settings, links, moment))
    return context


def etag_of(console: ConsoleContext, session: auth.Session, name: str, number: int | None) -> str:
    from .queries import fingerprint

    repository = console.service.settings.require_repository()
    data = fingerprint(console.service.store(), repository, number if name == "issue" else None)
    minute = int(console.clock() // 60)
    seed = f"{name}|{number}|{data}|{minute}|{session.login}|{session.role}|{session.csrf}"
    return 'W/"' + hashlib.sha256(seed.encode()).hexdigest()[:32] + '"'


def fragment_url(name: str, number: int | None) -> str:
    return f"/console/fragment/issues/{number}" if name == "issue" else f"/console/fragment/{name}"


async def live(console: ConsoleContext, request: Request, name: str, number: int | None, *, fragment: bool) -> Response:
    """A page (`fragment=False`) or its fragment: sign-in first, then `304` when the ETag still holds."""
    try:
        session = console.session_of(request)
        if session is None:
            return console.to_login(request)
        etag = await run_in_threadpool(etag_of, console, session, name, number)
        if fragment and etag in etags(request.headers.get("if-none-match")):
            return Response(status_code=304, headers={"ETag": etag, "Cache-Control": LIVE_CACHE_CONTROL})
        context = await run_in_threadpool(page_context, console, session, name, number)
    except Refusal as refusal:
        return console.refused(refusal)
    except (MissingSettingError, InvalidSettingError) as error:
        return console.message(503, "The console is not set up", str(error))
    except StoreError:
        return console.message(503, "Database unavailable", "The database did not answer in time. The page retries by itself.")
    headers = {"ETag": etag, "Cache-Control": LIVE_CACHE_CONTROL}
    template = console.environment.get_template(f"_{name}.html")
    if fragment:
        return HTMLResponse(template.render(**context), headers=headers)
    body = console.environment.get_template("page.html").render(
        fragment_template=f"_{name}.html", fragment_url=fragment_url(name, number), etag=etag, **context
    )
    return HTMLResponse(body, headers=headers)


def issue_number(text: str) -> int | None:
    return int(text) if text.isdigit() and 0 < len(text) <= 12 and int(text) > 0 else None
