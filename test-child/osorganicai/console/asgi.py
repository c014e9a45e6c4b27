"""What wraps every console answer at the ASGI level, and the small parsing the routes share.

`ConsoleHeaders` restores the browser's `/console...` path behind Vercel's rewrite and adds the
security headers to every answer: a strict Content-Security-Policy (no inline script or style, no
third-party origin, no framing), `nosniff`, no referrer, and `no-store` unless a route says
otherwise. `read_form` reads a small URL-encoded form; `etags` splits an `If-None-Match` header.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

MAX_FORM_BYTES = 10_000
FUNCTION_PATH = "/api/console"  # where vercel.json sends /console and /console/*
ORIGINAL_PATH_PARAMETER = "console_path"


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
    query = list(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
    original = next((value for name, value in query if name == ORIGINAL_PATH_PARAMETER), None)
    if original is None and not (path == FUNCTION_PATH or path.startswith(FUNCTION_PATH + "/") or path in ("", "/")):
        return scope
    if original is not None:
        rest = original.strip("/")
        query = [(name, value) for name, value in query if name != ORIGINAL_PATH_PARAMETER]
    elif path.startswith(FUNCTION_PATH):
        rest = path[len(FUNCTION_PATH) :].strip("/")
    else:
        rest = ""
    new_path = "/console" + (f"/{rest}" if rest else "")
    return {**scope, "path": new_path, "raw_path": new_path.encode(), "query_string": urlencode(query).encode("latin-1")}


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


def etags(header: str | None) -> set[str]:
    return {part.strip() for part in (header or "").split(",") if part.strip()}
