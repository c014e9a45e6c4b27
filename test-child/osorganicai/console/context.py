"""What every console route shares: the runtime's service, the templates, the clock, and the steps
each request starts with (who is signed in, or where to send them; a message page instead of data).

A `Refusal` ends a request early with a status and a message page, never with data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from ..config import RuntimeConfig, load_config
from ..service import Service
from ..settings import InvalidSettingError, MissingSettingError
from . import auth, pages
from .stages import format_age

PACKAGE = Path(__file__).resolve().parent


class Refusal(Exception):
    """An answer that ends a request early: a status and a message page (never data)."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


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


@dataclass
class ConsoleContext:
    service: Service
    config: RuntimeConfig | None = None  # None: config/agents.toml, read on first use
    oauth_transport: httpx.BaseTransport | None = None  # tests only; production talks to GitHub
    clock: Callable[[], float] = time.time
    environment: Environment = field(default_factory=templates)

    # -- what the requests read ------------------------------------------------------------------
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), tz=UTC)

    def runtime_config(self) -> RuntimeConfig:
        if self.config is None:
            self.config = load_config()
        return self.config

    def server_url(self) -> str:
        return self.service.settings.github_server_url

    def session_secret(self) -> bytes:
        try:
            return self.service.settings.console_session_secret
        except (MissingSettingError, InvalidSettingError) as error:
            raise Refusal(503, "The console is not set up", f"{error}. See the Console section of the README.") from error

    def session_of(self, request: Request) -> auth.Session | None:
        """The signed-in person, or None. Refusal when the console has no session secret."""
        return auth.Session.from_cookie(request.cookies.get(auth.SESSION_COOKIE), self.session_secret(), now=self.clock())

    def oauth(self) -> auth.GitHubOAuth:
        settings = self.service.settings
        return auth.GitHubOAuth(
            server_url=settings.github_server_url,
            api_url=settings.github_api_url,
            client_id=settings.oauth_client_id,
            client_secret=settings.oauth_client_secret,
            transport=self.oauth_transport,
        )

    # -- what the requests answer ----------------------------------------------------------------
    def html(self, status: int, template: str, **context: Any) -> HTMLResponse:
        return HTMLResponse(self.environment.get_template(template).render(**context), status_code=status)

    def message(self, status: int, title: str, text: str, session: auth.Session | None = None) -> HTMLResponse:
        return self.html(status, "message.html", title=title, message=text, session=session)

    def refused(self, refusal: Refusal) -> HTMLResponse:
        return self.message(refusal.status, refusal.title, refusal.message)

    def to_login(self, request: Request) -> Response:
        """303 to sign-in, coming back here afterwards; no body, so no data."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Response(status_code=303, headers={"Location": "/console/login?" + urlencode({"next": target})})

    def not_found(self, request: Request, text: str = "There is no such console page.") -> Response:
        try:
            session = self.session_of(request)
        except Refusal as refusal:
            return self.refused(refusal)
        if session is None:
            return self.to_login(request)
        return self.message(404, "Not found", text, session)
