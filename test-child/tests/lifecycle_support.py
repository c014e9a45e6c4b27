"""Shared steps for the lifecycle tests: the runtime's pull request on a fake GitHub, and real payload
shapes (GitHub's documented examples in fixtures/) pointed at it."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest

from osorganicai.db import Store
from osorganicai.github import GitHubClient
from osorganicai.labels import RUNTIME_MARKER
from osorganicai.lifecycle import LifecycleContext
from osorganicai.publishing.messages import pull_marker

from .fake_github_git import FakeGitHubGit
from .support import FIXTURES

BOT = "osorganic-bot[bot]"
BRANCH = "feature/issue-7-discounts"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def runtime_pull(github: FakeGitHubGit, client: GitHubClient, *, draft: bool = True) -> dict[str, Any]:
    """Issue #7 by `alice`, the runtime's branch with one commit, and its draft pull request carrying the marker."""
    github.create_repository({"shop.py": "PRICE = 1\n"})
    github.add_issue(7, "Discounts raise the price", "10% off 100 is 90", labels=("ready-for-dev",), author="alice")
    github.push_commit(BRANCH, {"shop.py": "PRICE = 2\n"}, message="Developer: discounts")
    body = f"{pull_marker(7)}\nFixes #7\n\nThe change.\n{RUNTIME_MARKER}"
    pull = client.create_pull(github.repository, head=BRANCH, base="main", title="Discounts", body=body, draft=draft)
    return client.get_pull(github.repository, pull.number)


def point_at(payload: dict[str, Any], github: FakeGitHubGit) -> dict[str, Any]:
    payload = copy.deepcopy(payload)
    payload["repository"]["full_name"] = github.repository
    return payload


def check_suite_event(github: FakeGitHubGit, pull: dict[str, Any], conclusion: str = "success") -> dict[str, Any]:
    payload = point_at(fixture("check_suite.completed.payload.json"), github)
    suite = payload["check_suite"]
    suite.update(head_branch=BRANCH, head_sha=github.branch_head(BRANCH), conclusion=conclusion)
    suite["pull_requests"][0].update(number=pull["number"], head={"ref": BRANCH, "sha": github.branch_head(BRANCH)})
    return payload


def review_event(github: FakeGitHubGit, pull: dict[str, Any], login: str, state: str, body: str | None) -> dict[str, Any]:
    payload = point_at(fixture("pull_request_review.submitted.payload.json"), github)
    payload["review"].update(state=state, body=body, user={"login": login, "type": "User"})
    payload["pull_request"].update(number=pull["number"], head={"ref": BRANCH, "sha": github.branch_head(BRANCH)})
    payload["sender"]["login"] = login
    return payload


def review_comment_event(github: FakeGitHubGit, pull: dict[str, Any], comment: dict[str, Any]) -> dict[str, Any]:
    payload = point_at(fixture("pull_request_review_comment.created.payload.json"), github)
    payload["comment"].update(comment)
    payload["pull_request"].update(number=pull["number"], head={"ref": BRANCH, "sha": github.branch_head(BRANCH)})
    return payload


def closed_event(github: FakeGitHubGit, pull: dict[str, Any], merged: bool) -> dict[str, Any]:
    payload = point_at(fixture("pull_request.closed.payload.json"), github)
    payload["pull_request"].update(
        number=pull["number"], merged=merged, body=pull["body"], head={"ref": BRANCH, "sha": github.branch_head(BRANCH)}
    )
    if merged:  # the fake merges by fast-forward: the merge commit is the head
        payload["pull_request"]["merge_commit_sha"] = github.branch_head(BRANCH)
    payload["number"] = pull["number"]
    return payload


def deployment_event(github: FakeGitHubGit, state: str, url: str, log_url: str = "") -> dict[str, Any]:
    payload = point_at(fixture("deployment_status.payload.json"), github)
    payload["deployment"].update(ref=BRANCH, sha=github.branch_head(BRANCH), environment="Preview")
    payload["deployment_status"].update(state=state, environment="Preview", environment_url=url, log_url=log_url)
    return payload


# -- fixtures and helpers shared by the lifecycle tests ---------------------------------------------
@pytest.fixture(name="github")
def github_fixture(tmp_path: Path) -> Iterator[FakeGitHubGit]:
    """The fake GitHub with alice (write), mallory (read) and the runtime's bot (write)."""
    with FakeGitHubGit(tmp_path / "github", bot_login=BOT) as fake:
        fake.permissions.update({"alice": "write", "mallory": "read", BOT: "write"})
        yield fake


def context_for(github: FakeGitHubGit, store: Store, **kwargs: Any) -> LifecycleContext:
    return LifecycleContext(repository=github.repository, github=github.client(), store=store, bot_login=BOT, **kwargs)


def actions(database: str) -> list[tuple[str, str]]:
    with psycopg.connect(database) as connection:
        return connection.execute("select agent, action_type from public.agent_actions order by id").fetchall()


@pytest.fixture(name="deployment")
def deployment_fixture() -> Iterator[str]:
    """A deployment's address, whose `/api/health` answers 200 with a JSON status."""
    with healthy_deployment() as url:
        yield url


@contextmanager
def healthy_deployment() -> Iterator[str]:
    """Serve a deployment whose `/api/health` answers 200 with a JSON status for the time of the block; its address."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status": "ok", "database": "ok"}' if self.path == "/api/health" else b"not found"
            self.send_response(200 if self.path == "/api/health" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def main_deployment_event(github: FakeGitHubGit, sha: str, state: str, url: str, log_url: str = "") -> dict[str, Any]:
    """GitHub's documented deployment_status (a deployment of the default branch), for commit `sha`."""
    payload = point_at(fixture("deployment_status.payload.json"), github)
    payload["deployment"].update(ref="main", sha=sha)
    payload["deployment_status"].update(state=state, environment_url=url, log_url=log_url)
    return payload
