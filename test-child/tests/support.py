"""Test doubles: a fake GitHub (in-process transport or real HTTP server) and a scripted LLM."""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from osorganicai.github import GitHubClient, TokenAuth
from osorganicai.llm import LLMRequest, LLMResponse
from osorganicai.signature import sign

FIXTURES = Path(__file__).parent / "fixtures" / "github-webhooks"
SECRET = "test-webhook-secret"


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def signed_headers(body: bytes, event: str, delivery: str, secret: str = SECRET) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": sign(secret.encode(), body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery,
        "Content-Type": "application/json",
    }


@dataclass
class Call:
    method: str
    path: str
    body: Any


@dataclass
class FakeGitHub:
    """Just enough of GitHub's REST API for the runtime, with every call recorded."""

    repository: str = "Codertocat/Hello-World"
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=lambda: {"main": "base-sha"})
    fail_dispatch: int = 0  # answer this many dispatches with 503
    fail_permission_lookups: bool = False  # answer permission lookups with 503 (GitHub down)
    delay_seconds: float = 0.0  # served over HTTP: wait this long before each answer (a slow GitHub)
    calls: list[Call] = field(default_factory=list)
    completed_runs: set[int] = field(default_factory=set)  # workflow runs that finished: cancel answers 409
    cancelled_runs: list[int] = field(default_factory=list)
    bot_login: str = "hello-bot[bot]"
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_issue(self, number: int, title: str, body: str | None, labels: tuple[str, ...] = ()) -> None:
        self.issues[number] = {
            "number": number,
            "title": title,
            "body": body,
            "state": "open",
            "labels": [{"name": name} for name in labels],
            "user": {"login": "Codertocat", "type": "User"},
        }
        self.comments.setdefault(number, [])

    def user_comment(self, number: int, body: str, login: str = "Codertocat") -> None:
        self._next_id += 1
        self.comments[number].append({"id": self._next_id, "body": body, "user": {"login": login, "type": "User"}})

    def labels(self, number: int) -> list[str]:
        return [label["name"] for label in self.issues[number]["labels"]]

    def paths(self, method: str) -> list[str]:
        return [call.path for call in self.calls if call.method == method]

    def handle(self, method: str, url: str, body: Any) -> tuple[int, Any]:
        with self._lock:
            parts = urlsplit(url)
            path = unquote(parts.path)
            self.calls.append(Call(method, path, body))
            return self._route(method, path, parse_qs(parts.query), body)

    def _route(self, method: str, path: str, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        repo = f"/repos/{self.repository}"
        if not path.startswith(repo):
            return 404, {"message": "Not Found"}
        rest = path[len(repo) :]
        if match := re.fullmatch(r"/issues/(\d+)", rest):
            issue = self.issues.get(int(match.group(1)))
            return (200, issue) if issue else (404, {"message": "Not Found"})
        if match := re.fullmatch(r"/issues/(\d+)/comments", rest):
            number = int(match.group(1))
            if method == "GET":
                return 200, list(self.comments.get(number, []))
            self._next_id += 1
            comment = {"id": self._next_id, "body": body["body"], "user": {"login": self.bot_login, "type": "Bot"}}
            self.comments.setdefault(number, []).append(comment)
            return 201, comment
        if match := re.fullmatch(r"/issues/(\d+)/labels", rest):
            issue = self.issues[int(match.group(1))]
            for name in body["labels"]:
                if name not in self.labels(issue["number"]):
                    issue["labels"].append({"name": name})
            return 200, issue["labels"]
        if match := re.fullmatch(r"/issues/(\d+)/labels/(.+)", rest):
            issue = self.issues[int(match.group(1))]
            before = len(issue["labels"])
            issue["labels"] = [label for label in issue["labels"] if label["name"] != match.group(2)]
            return (200, issue["labels"]) if len(issue["labels"]) < before else (404, {"message": "Label does not exist"})
        if match := re.fullmatch(r"/collaborators/([^/]+)/permission", rest):
            if self.fail_permission_lookups:
                return 503, {"message": "Service Unavailable"}
            permission = self.permissions.get(match.group(1))
            return (200, {"permission": permission, "role_name": permission}) if permission else (404, {"message": "no"})
        if rest == "/dispatches":
            if self.fail_dispatch > 0:
                self.fail_dispatch -= 1
                return 503, {"message": "Service Unavailable"}
            return 204, None
        if (match := re.fullmatch(r"/actions/runs/(\d+)/cancel", rest)) and method == "POST":
            if int(match.group(1)) in self.completed_runs:
                return 409, {"message": "Cannot cancel a workflow run that is completed."}
            self.cancelled_runs.append(int(match.group(1)))
            return 202, {}
        if rest == "":
            return 200, {"full_name": self.repository, "default_branch": "main"}
        if match := re.fullmatch(r"/git/ref/heads/(.+)", rest):
            sha = self.refs.get(match.group(1))
            return (200, {"object": {"sha": sha}}) if sha else (404, {"message": "Not Found"})
        if rest == "/git/refs" and method == "POST":
            self.refs[body["ref"].removeprefix("refs/heads/")] = body["sha"]
            return 201, {"ref": body["ref"]}
        if match := re.fullmatch(r"/git/refs/heads/(.+)", rest):
            self.refs[match.group(1)] = body["sha"]
            return 200, {"object": {"sha": body["sha"]}}
        if match := re.fullmatch(r"/git/trees/([^/]+)", rest):
            return 200, {"tree": [{"path": p, "type": "blob", "size": len(c)} for p, c in sorted(self.files.items())]}
        if rest == "/git/trees":
            return 201, {"sha": "tree-sha"}
        if match := re.fullmatch(r"/git/commits/([^/]+)", rest):
            return 200, {"sha": match.group(1), "tree": {"sha": "base-tree"}}
        if rest == "/git/commits":
            return 201, {"sha": "commit-sha"}
        if match := re.fullmatch(r"/contents/(.+)", rest):
            text = self.files.get(match.group(1))
            return (200, text) if text is not None else (404, {"message": "Not Found"})
        if rest == "/pulls" and method == "GET":
            return 200, []
        if rest == "/pulls":
            return 201, {"number": 7, "html_url": f"https://github.com/{self.repository}/pull/7"}
        return 404, {"message": f"fake GitHub has no route for {method} {rest}"}

    # -- adapters --------------------------------------------------------------------------
    def transport(self) -> httpx.MockTransport:
        def handler(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content) if request.content else None
            status, data = self.handle(request.method, str(request.url), body)
            if isinstance(data, str):
                return httpx.Response(status, text=data)
            return httpx.Response(status, json=data) if data is not None else httpx.Response(status)

        return httpx.MockTransport(handler)

    def client(self, **kwargs: Any) -> GitHubClient:
        return GitHubClient(TokenAuth("test-token"), transport=self.transport(), sleep=lambda _s: None, **kwargs)

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, data = fake.handle(self.command, self.path, json.loads(raw) if raw else None)
                time.sleep(fake.delay_seconds)
                payload = b"" if data is None else (data.encode() if isinstance(data, str) else json.dumps(data).encode())
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"


class ScriptedLLM:
    """Answers with the given texts in order and records every request."""

    name = "scripted"

    def __init__(self, *replies: str | dict[str, Any]) -> None:
        self.replies = [reply if isinstance(reply, str) else json.dumps(reply) for reply in replies]
        self.requests: list[LLMRequest] = []

    def complete(self, request: LLMRequest) -> LLMResponse:
        self.requests.append(request)
        if not self.replies:
            raise AssertionError("the scripted LLM ran out of replies")
        return LLMResponse(text=self.replies.pop(0), input_tokens=100, output_tokens=50, model="scripted-model")
