"""Test doubles and helpers for the console: a fake GitHub serving the OAuth web flow and the REST
API the console calls, over real HTTP, laid out like GitHub Enterprise Server (web flow at the root,
API under /api/v3), and a seeded story of issues in the real database.

The fake keeps state: the OAuth App (client id, secret, callback URL), who is signed in to GitHub,
the codes it issued (each usable once, for the client and redirect_uri it was issued to), the
tokens it handed out, and the collaborators' permissions on the repository. It answers in GitHub's
wire format: the authorize page sends the browser back to the callback with `code` and `state` (302),
`access_token` errors come with status 200 and `error`/`error_description`, `/user` refuses unknown
tokens with 401 "Bad credentials", the permission endpoint answers 404 for a non-collaborator and
wants the runtime's own token. Given a repository's fake API (`api`, a `FakeGitHubGit`), every other
`/api/v3/...` request is answered by it, permissions and dispatches included: one GitHub for the
browser, the console and the webhook.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi.testclient import TestClient

from osorganicai.console import auth
from osorganicai.db import JobSpec, Store
from osorganicai.lifecycle.state import PullStates
from osorganicai.settings import Settings

REPOSITORY = "Codertocat/Hello-World"
RUNTIME_TOKEN = "runtime-token-for-the-fake"
CLIENT_ID = "Iv1.console-client"
CLIENT_SECRET = "console-client-secret-value"
SESSION_SECRET = "s" * 48
CONSOLE_BASE = "https://testserver"
API_PREFIX = "/api/v3"  # GitHub Enterprise Server's REST API address under its web address


@dataclass
class FakeGitHubWeb:
    """GitHub's OAuth web flow and the few REST calls the console makes, with the state they need."""

    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    callback_url: str = f"{CONSOLE_BASE}/console/auth/callback"
    repository: str = REPOSITORY
    runtime_token: str = RUNTIME_TOKEN
    signed_in_as: str | None = None  # the person whose browser is signed in to GitHub
    permissions: dict[str, str] = field(default_factory=dict)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    api: Any = None  # a FakeGitHubGit answering the rest of /api/v3 (its token is then the runtime's)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- the routes ------------------------------------------------------------------------------
    def answer(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            parts = urlsplit(target)
            self.requests.append((method, parts.path))
            query = {name: values[0] for name, values in parse_qs(parts.query).items()}
            if method == "GET" and parts.path == "/login/oauth/authorize":
                return self._authorize(query)
            if method == "POST" and parts.path == "/login/oauth/access_token":
                return self._access_token(headers, body)
            if method == "GET" and parts.path == "/api/v3/user":
                return self._user(headers)
            if self.api is not None and parts.path.startswith(API_PREFIX + "/"):
                return _forwarded(self.api, method, target[len(API_PREFIX) :], headers, body)
            prefix = f"{API_PREFIX}/repos/{self.repository}/collaborators/"
            if method == "GET" and parts.path.startswith(prefix) and parts.path.endswith("/permission"):
                return self._permission(headers, parts.path[len(prefix) : -len("/permission")])
            return _json(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})

    def _authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        """The person approves at once (they are signed in to GitHub): back to the callback with a code."""
        if query.get("client_id") != self.client_id:
            return 404, {"Content-Type": "text/html"}, b"<p>The application could not be found.</p>"
        redirect_uri = query.get("redirect_uri") or self.callback_url
        if redirect_uri != self.callback_url:
            return _redirect(self.callback_url, {"error": "redirect_uri_mismatch", "state": query.get("state", "")})
        if self.signed_in_as is None:
            return 200, {"Content-Type": "text/html"}, b"<p>Sign in to GitHub</p>"
        code = secrets.token_hex(10)
        self.codes[code] = {"login": self.signed_in_as, "redirect_uri": redirect_uri, "client_id": self.client_id}
        return _redirect(redirect_uri, {"code": code, "state": query.get("state", "")})

    def _access_token(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        content_type = headers.get("content-type", "")
        if content_type.startswith("application/json"):
            form = json.loads(body or b"{}")
        else:
            form = {name: values[0] for name, values in parse_qs(body.decode()).items()}
        if "application/json" not in headers.get("accept", ""):
            return 200, {"Content-Type": "application/x-www-form-urlencoded"}, b"error=this_fake_wants_accept_json"
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _json(
                200,
                {
                    "error": "incorrect_client_credentials",
                    "error_description": "The client_id and/or client_secret passed are incorrect.",
                },
            )
        issued = self.codes.pop(str(form.get("code")), None)
        if issued is None or issued["client_id"] != form.get("client_id"):
            return _json(200, {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."})
        if form.get("redirect_uri") and form["redirect_uri"] != issued["redirect_uri"]:
            return _json(
                200,
                {
                    "error": "redirect_uri_mismatch",
                    "error_description": "The redirect_uri MUST match the registered callback URL for this application.",
                },
            )
        token = "gho_" + secrets.token_hex(18)
        self.tokens[token] = issued["login"]
        return _json(200, {"access_token": token, "token_type": "bearer", "scope": ""})

    def _user(self, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        login = self.tokens.get(_bearer(headers))
        if login is None:
            return _json(401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"})
        return _json(200, {"login": login, "id": 1000 + len(login), "type": "User"})

    def _permission(self, headers: dict[str, str], login: str) -> tuple[int, dict[str, str], bytes]:
        if _bearer(headers) != self.runtime_token:
            return _json(401, {"message": "Bad credentials"})
        permission = self.permissions.get(login)
        if permission is None:
            return _json(404, {"message": f"{login} is not a user"})
        legacy = {"maintain": "write", "triage": "read"}.get(permission, permission)
        return _json(200, {"permission": legacy, "role_name": permission, "user": {"login": login}})

    # -- serving -----------------------------------------------------------------------------------
    @contextmanager
    def serve(self) -> Iterator[str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, answer_headers, payload = fake.answer(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()


def _forwarded(api: Any, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    """One REST call answered by the repository's fake API, in its wire format."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return _json(400, {"message": "Problems parsing JSON"})
    status, answer = api.handle(method, target, headers, data)
    if isinstance(answer, bytes):
        return status, {"Content-Type": "application/octet-stream"}, answer
    if status == 302 and isinstance(answer, dict) and "location" in answer:
        return 302, {"Location": answer["location"]}, b""
    return _json(status, answer)


def _redirect(url: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    return 302, {"Location": f"{url}?{urlencode(query)}"}, b""


def _bearer(headers: dict[str, str]) -> str:
    value = headers.get("authorization", "")
    for prefix in ("Bearer ", "token "):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return ""


# -- settings and clients --------------------------------------------------------------------------------
def console_settings(database: str, github_url: str = "http://127.0.0.1:9", **extra: str) -> Settings:
    values = {
        "DATABASE_URL": database,
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_TOKEN": RUNTIME_TOKEN,
        "GITHUB_SERVER_URL": github_url,
        "GITHUB_API_URL": f"{github_url}/api/v3",
        "GITHUB_OAUTH_CLIENT_ID": CLIENT_ID,
        "GITHUB_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "CONSOLE_SESSION_SECRET": SESSION_SECRET,
        "GITHUB_WEBHOOK_SECRET": "console-test-webhook-secret",
        "OSORGANIC_BOT_LOGIN": "hello-bot[bot]",
        "LLM_PROVIDER": "offline",
        **extra,
    }
    return Settings.from_env(values)


def console_client(app: Any) -> TestClient:
    return TestClient(app, base_url=CONSOLE_BASE, follow_redirects=False)


def sign_in_as(client: TestClient, login: str, role: str) -> auth.Session:
    """Give the client a session cookie signed as the console signs them (what a finished sign-in leaves)."""
    session = auth.Session.start(login, role)
    client.cookies.set(auth.SESSION_COOKIE, session.cookie_value(SESSION_SECRET.encode()), path="/console")
    return session


# -- a seeded story ----------------------------------------------------------------------------------------
def seed_story(store: Store, now: datetime | None = None) -> dict[str, Any]:
    """Three issues: #7 asking (questions and an answer), #8 in review after a Developer run with checks,
    #9 needing a person after a failed job. Returns the ids the tests act on."""
    issue_payload = {"issue": {"number": 7, "title": "Gift cards at checkout"}, "repository": {"full_name": REPOSITORY}}
    store.record_delivery(
        delivery_id="seed-7",
        event="issues",
        action="opened",
        repository=REPOSITORY,
        issue_number=7,
        sender_login="Codertocat",
        payload=json.dumps(issue_payload),
        outcome="queued",
        outcome_detail="issue opened: Product Owner",
        job=JobSpec("product_owner", REPOSITORY, 7),
    )
    store.record_delivery(
        delivery_id="seed-ignored",
        event="issues",
        action="opened",
        repository="someone/else",
        issue_number=3,
        sender_login="mallory",
        payload=json.dumps({"issue": {"number": 3, "title": "elsewhere"}}),
        outcome="ignored",
        outcome_detail="refused: repository someone/else is not GITHUB_REPOSITORY (Codertocat/Hello-World)",
        job=None,
    )
    store.add_message(
        repository=REPOSITORY, issue_number=7, role="user", content="Gift cards at checkout please", author_login="Codertocat"
    )
    store.log_action(
        agent="product_owner",
        action_type="llm_call",
        payload={"provider": "openai", "model": "gpt-4o-mini", "input_tokens": 1200, "output_tokens": 300, "cost_usd": 0.00036},
        repository=REPOSITORY,
        issue_number=7,
    )
    store.log_action(
        agent="product_owner",
        action_type="asked_questions",
        payload={"questions": ["Which currencies?", "Partial redemption?"], "comment_id": 11},
        repository=REPOSITORY,
        issue_number=7,
    )
    store.add_message(
        repository=REPOSITORY,
        issue_number=7,
        role="assistant",
        content="1. Which currencies?\n2. Partial redemption?",
        github_comment_id=11,
    )
    store.add_message(
        repository=REPOSITORY,
        issue_number=7,
        role="user",
        content="EUR only; yes.",
        author_login="Codertocat",
        github_comment_id=12,
    )

    store.record_delivery(
        delivery_id="seed-8",
        event="issues",
        action="labeled",
        repository=REPOSITORY,
        issue_number=8,
        sender_login="Codertocat",
        payload=json.dumps({"issue": {"number": 8, "title": "Refund emails"}}),
        outcome="queued",
        outcome_detail="ready-for-dev: Developer",
        job=None,
    )
    store.log_action(
        agent="product_owner", action_type="marked_ready", payload={"comment_id": 21}, repository=REPOSITORY, issue_number=8
    )
    developer_job = store.create_job(JobSpec("developer", REPOSITORY, 8))
    store.record_code_generation(
        repository=REPOSITORY,
        issue_number=8,
        status="published",
        job_id=developer_job,
        branch="feature/issue-8-refund-emails",
        commit_sha="c" * 40,
        pull_request_number=31,
        pull_request_url=f"https://github.com/{REPOSITORY}/pull/31",
        files=["shop/refunds.py", "tests/test_refunds.py"],
        provider="openai",
        model="gpt-4o-mini",
        input_tokens=50_000,
        output_tokens=4_000,
        cost_usd=0.0099,
        proposal_status="ready",
        base_commit="b" * 40,
        checks=[
            {
                "name": "pytest",
                "command": "python -m pytest -q",
                "exit_code": 1,
                "passed": False,
                "timed_out": False,
                "duration_seconds": 3.2,
                "output_tail": "FAILED test_refunds.py token ghp_" + "A" * 36,
                "round": 1,
            },
            {
                "name": "pytest",
                "command": "python -m pytest -q",
                "exit_code": 0,
                "passed": True,
                "timed_out": False,
                "duration_seconds": 3.0,
                "output_tail": "2 passed",
                "round": 2,
            },
        ],
        check_rounds=2,
        steps=17,
        minutes=6.5,
        detail="published as draft pull request #31",
    )
    store.log_action(
        agent="developer",
        action_type="publish_published",
        job_id=developer_job,
        repository=REPOSITORY,
        issue_number=8,
        payload={
            "detail": "pushed to feature/issue-8-refund-emails; pull request #31",
            "pull_request": 31,
            "title": "Send refund emails",
            "summary": "Sends an email when a refund is issued.",
            "diff_stat": [
                {"path": "shop/refunds.py", "added": 14, "removed": 2, "binary": False},
                {"path": "tests/test_refunds.py", "added": 30, "removed": 0, "binary": False},
            ],
            "transcript": [
                {"at": 1796547600.0, "kind": "task", "model": "gpt-4o-mini", "task": "Implement refund emails"},
                {
                    "at": 1796547610.0,
                    "kind": "tool",
                    "name": "bash",
                    "is_error": False,
                    "content": "export DATABASE_URL=postgresql://shop:hunter2secret@db.internal/shop",
                },
                {"at": 1796547620.0, "kind": "finish", "summary": "Refund emails are sent."},
            ],
        },
    )
    store.finish_job(developer_job, succeeded=True)
    PullStates(store).track(REPOSITORY, 8, 31, "feature/issue-8-refund-emails")
    store.log_action(
        agent="lifecycle",
        action_type="ready_for_review",
        payload={"pull_request": 31, "head": "c" * 40},
        repository=REPOSITORY,
        issue_number=8,
    )

    failed_job = store.create_job(JobSpec("developer", REPOSITORY, 9))
    store.log_action(agent="product_owner", action_type="marked_ready", payload={}, repository=REPOSITORY, issue_number=9)
    store.start_job(failed_job)
    store.finish_job(failed_job, succeeded=False, error="provider refused the request: 401 invalid key")
    store.log_action(
        agent="sweeper",
        action_type="sweep",
        payload={"source": "cron", "dispatched": 2, "failed_dispatch": 0, "abandoned": 0, "timed_out": 1},
    )
    return {"developer_job": developer_job, "failed_job": failed_job}
