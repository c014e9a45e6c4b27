"""Who gets into the console: GitHub's OAuth web flow, the person's permission on the repository,
and the signed session cookie with its CSRF token.

Sign-in follows GitHub's web application flow. `/console/login` sends the browser to
`{GITHUB_SERVER_URL}/login/oauth/authorize` with the client id, the callback URL and a random
`state`, kept in a short-lived signed cookie; no scope is asked for, since the console only needs
to know who the person is (`GET /user` works with a token without scopes). The callback refuses a
`state` that does not match, exchanges the code at `POST {GITHUB_SERVER_URL}/login/oauth/access_token`,
reads the login at `GET {GITHUB_API_URL}/user`, then looks up that login's permission on
`GITHUB_REPOSITORY` with the runtime's own credentials: read or triage may view, write, maintain or
admin may act, anyone else is refused. The person's token is used for these two calls and dropped.

Cookies are signed with HMAC-SHA256 under `CONSOLE_SESSION_SECRET` (standard library only), each
with its purpose in the signature so a state cookie cannot pass for a session. The session carries
the login, the role, a CSRF token and its expiry (8 hours).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

SESSION_COOKIE = "osorganic_console"
STATE_COOKIE = "osorganic_console_state"
SESSION_SECONDS = 8 * 60 * 60
STATE_SECONDS = 10 * 60  # GitHub's codes expire after 10 minutes
OAUTH_TIMEOUT_SECONDS = 5.0
VIEW, ACT = "read", "write"
ACTING_PERMISSIONS = frozenset({"admin", "maintain", "write"})
VIEWING_PERMISSIONS = frozenset({"read", "triage"})
API_VERSION = "2022-11-28"
USER_AGENT = "osorganicai-console"


class SignInError(Exception):
    """Sign-in could not finish; the message is for the person (GitHub's own words where it gave some)."""


# -- signed values ---------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: bytes, purpose: str, body: str) -> str:
    return _b64(hmac.new(secret, f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(value: dict[str, Any], *, secret: bytes, purpose: str, lifetime_seconds: int, now: float | None = None) -> str:
    """`value` with an expiry, as `body.signature` (URL-safe base64), bound to `purpose`."""
    expires = int((time.time() if now is None else now) + lifetime_seconds)
    body = _b64(json.dumps({**value, "exp": expires}, separators=(",", ":")).encode())
    return f"{body}.{_mac(secret, purpose, body)}"


def unsign(token: str | None, *, secret: bytes, purpose: str, now: float | None = None) -> dict[str, Any] | None:
    """The signed value, or None when it is absent, forged, for another purpose or expired."""
    if not token or token.count(".") != 1:
        return None
    body, signature = token.split(".")
    if not hmac.compare_digest(signature, _mac(secret, purpose, body)):
        return None
    try:
        value = json.loads(_unb64(body))
    except ValueError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("exp"), int):
        return None
    if value["exp"] <= (time.time() if now is None else now):
        return None
    return value


# -- the session -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Session:
    login: str
    role: str  # VIEW or ACT
    csrf: str
    expires: int

    @property
    def may_act(self) -> bool:
        return self.role == ACT

    def cookie_value(self, secret: bytes, now: float | None = None) -> str:
        lifetime = self.expires - int(time.time() if now is None else now)
        return sign(
            {"login": self.login, "role": self.role, "csrf": self.csrf},
            secret=secret,
            purpose="session",
            lifetime_seconds=lifetime,
            now=now,
        )

    @classmethod
    def start(cls, login: str, role: str, now: float | None = None) -> Session:
        return cls(login, role, secrets.token_urlsafe(32), int((time.time() if now is None else now) + SESSION_SECONDS))

    @classmethod
    def from_cookie(cls, token: str | None, secret: bytes, now: float | None = None) -> Session | None:
        value = unsign(token, secret=secret, purpose="session", now=now)
        if value is None:
            return None
        login, role, csrf = value.get("login"), value.get("role"), value.get("csrf")
        if not isinstance(login, str) or role not in (VIEW, ACT) or not isinstance(csrf, str) or not csrf:
            return None
        return cls(login, role, csrf, value["exp"])

    def csrf_matches(self, supplied: str | None) -> bool:
        return bool(supplied) and hmac.compare_digest(supplied.encode(), self.csrf.encode())


def role_for_permission(permission: str | None) -> str | None:
    """ACT for write, maintain and admin; VIEW for read and triage; None (refused) otherwise."""
    if permission in ACTING_PERMISSIONS:
        return ACT
    if permission in VIEWING_PERMISSIONS:
        return VIEW
    return None


def new_state() -> str:
    return secrets.token_urlsafe(32)


def safe_next(path: str | None) -> str:
    """Where to go after signing in: a console path, never another site."""
    if path and path.startswith("/console") and not path.startswith("//") and "\\" not in path and "://" not in path:
        return path
    return "/console"


# -- GitHub's OAuth web flow -----------------------------------------------------------------------
class GitHubOAuth:
    """The two GitHub calls of the web flow plus the login lookup, over httpx."""

    def __init__(
        self,
        *,
        server_url: str,
        api_url: str,
        client_id: str,
        client_secret: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float = OAUTH_TIMEOUT_SECONDS,
    ) -> None:
        self.server_url = server_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self._http = httpx.Client(transport=transport, timeout=timeout, headers={"User-Agent": USER_AGENT})

    def close(self) -> None:
        self._http.close()

    def authorize_url(self, *, redirect_uri: str, state: str) -> str:
        query = urlencode({"client_id": self.client_id, "redirect_uri": redirect_uri, "state": state, "allow_signup": "false"})
        return f"{self.server_url}/login/oauth/authorize?{query}"

    def exchange_code(self, *, code: str, redirect_uri: str) -> str:
        """The person's access token for `code`. GitHub answers errors with 200 and an `error` field."""
        try:
            response = self._http.post(
                f"{self.server_url}/login/oauth/access_token",
                data={
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                    "code": code,
                    "redirect_uri": redirect_uri,
                },
                headers={"Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise SignInError(f"GitHub could not be reached to finish signing in ({error.__class__.__name__})") from error
        data = _json_object(response)
        if not response.is_success or "error" in data or not isinstance(data.get("access_token"), str):
            reason = data.get("error_description") or data.get("error") or f"status {response.status_code}"
            raise SignInError(f"GitHub refused the sign-in code: {reason}")
        return data["access_token"]

    def login_of(self, token: str) -> str:
        try:
            response = self._http.get(
                f"{self.api_url}/user",
                headers={
                    "Authorization": f"Bearer {token}",
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": API_VERSION,
                },
            )
        except httpx.HTTPError as error:
            raise SignInError(f"GitHub could not be reached to read who signed in ({error.__class__.__name__})") from error
        data = _json_object(response)
        login = data.get("login")
        if not response.is_success or not isinstance(login, str) or not login:
            raise SignInError(f"GitHub did not say who signed in: {data.get('message') or f'status {response.status_code}'}")
        return login


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
