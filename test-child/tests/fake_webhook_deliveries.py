"""A fake of GitHub's webhook delivery endpoints over real HTTP, keeping state, in the documented shapes.

    GET  /repos/{owner}/{repo}/hooks                                  the repository's webhooks (`id`, `config.url`)
    GET  /repos/{owner}/{repo}/hooks/{hook_id}/deliveries             deliveries, newest first; `per_page`, `cursor`;
                                                                      the next page's cursor in the `Link` header
    POST /repos/{owner}/{repo}/hooks/{hook_id}/deliveries/{id}/attempts   202 `{}`; the endpoint answers the redelivery
    GET  /app/hook/deliveries, POST /app/hook/deliveries/{id}/attempts     the same for a GitHub App (a JWT, not a token)
    POST /app/installations/{id}/access_tokens                        an installation token (`token`, `expires_at`)
    GET  /repos/{owner}/{repo}                                        the repository (`id`, `full_name`)

Each delivery is GitHub's "simple webhook delivery" (`hook-delivery-item`): id, guid, delivered_at,
redelivery, duration, status, status_code, event, action, installation_id, repository_id. A
redelivery adds a delivery with the same guid, `redelivery: true`, and the status the endpoint
gives it (`redelivery_status_code`). `refuse` answers every call with that status and GitHub's error
body, as GitHub does for a token without the Webhooks permission.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

REPOSITORY_ID = 1296269
STATUS_TEXT = {0: "failed to connect", 202: "Accepted", 200: "OK", 502: "Bad Gateway", 503: "Service Unavailable"}


@dataclass
class FakeWebhookDeliveries:
    repository: str = "Codertocat/Hello-World"
    hooks: list[dict[str, Any]] = field(default_factory=list)
    deliveries: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # deliveries path -> newest first
    redelivery_status_code: int = 202
    refuse: int | None = None  # answer everything with this status (403, 404)
    attempts: list[tuple[str, int]] = field(default_factory=list)  # (deliveries path, delivery id) asked for again
    authorizations: list[str] = field(default_factory=list)  # each call's Authorization header, in order
    paths: list[str] = field(default_factory=list)  # each call's path, in order
    _next_id: int = 9000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_hook(self, hook_id: int, url: str) -> str:
        self.hooks.append(
            {
                "type": "Repository",
                "id": hook_id,
                "name": "web",
                "active": True,
                "events": ["issues", "issue_comment"],
                "config": {"content_type": "json", "insecure_ssl": "0", "url": url},
                "url": f"https://api.github.com/repos/{self.repository}/hooks/{hook_id}",
            }
        )
        return self.repository_path(hook_id)

    def repository_path(self, hook_id: int) -> str:
        return f"/repos/{self.repository}/hooks/{hook_id}/deliveries"

    def deliver(
        self,
        path: str,
        guid: str,
        status_code: int,
        *,
        age: timedelta,
        redelivery: bool = False,
        repository_id: int = REPOSITORY_ID,
    ) -> dict[str, Any]:
        """A delivery GitHub made `age` ago, answered with `status_code` (0: could not connect)."""
        with self._lock:
            return self._add(path, guid, status_code, age=age, redelivery=redelivery, repository_id=repository_id)

    def _add(
        self, path: str, guid: str, status_code: int, *, age: timedelta, redelivery: bool, repository_id: int = REPOSITORY_ID
    ) -> dict[str, Any]:
        self._next_id += 1
        delivery = {
            "id": self._next_id,
            "guid": guid,
            "delivered_at": (datetime.now(UTC) - age).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "redelivery": redelivery,
            "duration": 0.27,
            "status": STATUS_TEXT.get(status_code, "Invalid HTTP Response: " + str(status_code)),
            "status_code": status_code,
            "event": "issues",
            "action": "opened",
            "installation_id": None,
            "repository_id": repository_id,
            "throttled_at": None,
        }
        self.deliveries.setdefault(path, []).insert(0, delivery)
        self.deliveries[path].sort(key=lambda item: item["delivered_at"], reverse=True)
        return delivery

    # -- the HTTP side --------------------------------------------------------------------------------
    def handle(self, method: str, target: str, authorization: str) -> tuple[int, Any, dict[str, str]]:
        with self._lock:
            self.authorizations.append(authorization)
            parts = urlsplit(target)
            path, query = parts.path, parse_qs(parts.query)
            self.paths.append(path)
            if self.refuse is not None:
                message = "Not Found" if self.refuse == 404 else "Resource not accessible by personal access token"
                return self.refuse, {"message": message, "documentation_url": "https://docs.github.com/rest"}, {}
            if path.startswith("/app/") and not authorization.startswith("Bearer ey"):
                return 401, {"message": "A JSON web token could not be decoded"}, {}
            if method == "POST" and re.fullmatch(r"/app/installations/\d+/access_tokens", path):
                return 201, {"token": "ghs_installation", "expires_at": "2099-01-01T00:00:00Z"}, {}
            if method == "GET" and path == f"/repos/{self.repository}":
                return 200, {"id": REPOSITORY_ID, "full_name": self.repository}, {}
            if method == "GET" and path == f"/repos/{self.repository}/hooks":
                return 200, self.hooks, {}
            if method == "GET" and (path in self.deliveries or path == "/app/hook/deliveries"):
                return self._page(path, query)
            match = re.fullmatch(r"(.+/deliveries)/(\d+)/attempts", path)
            if method == "POST" and match:
                return self._redeliver(match.group(1), int(match.group(2)))
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}

    def _redeliver(self, path: str, delivery_id: int) -> tuple[int, Any, dict[str, str]]:
        originals = [item for item in self.deliveries.get(path, []) if item["id"] == delivery_id]
        if not originals:
            return 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"}, {}
        self.attempts.append((path, delivery_id))
        original = originals[0]
        self._add(
            path, original["guid"], self.redelivery_status_code, age=timedelta(0), redelivery=True,
            repository_id=original["repository_id"],
        )  # fmt: skip
        return 202, {}, {}

    def _page(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any, dict[str, str]]:
        items = self.deliveries.get(path, [])
        per_page = min(100, int(query.get("per_page", ["30"])[0]))
        start = int(query.get("cursor", ["0"])[0])
        page = items[start : start + per_page]
        headers = {}
        if start + per_page < len(items):
            headers["Link"] = f'<https://api.github.com{path}?per_page={per_page}&cursor={start + per_page}>; rel="next"'
        return 200, page, headers

    def serve(self) -> tuple[ThreadingHTTPServer, str]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                status, data, headers = fake.handle(self.command, self.path, self.headers.get("authorization", ""))
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: Any) -> None:
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server, f"http://127.0.0.1:{server.server_address[1]}"
