"""Shared steps for the lifecycle tests: the runtime's pull request on a fake GitHub, and real payload
shapes (GitHub's documented examples in fixtures/) pointed at it."""

from __future__ import annotations

import copy
import json
from typing import Any

from osorganicai.github import GitHubClient
from osorganicai.labels import RUNTIME_MARKER
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
    payload["number"] = pull["number"]
    return payload


def deployment_event(github: FakeGitHubGit, state: str, url: str, log_url: str = "") -> dict[str, Any]:
    payload = point_at(fixture("deployment_status.payload.json"), github)
    payload["deployment"].update(ref=BRANCH, sha=github.branch_head(BRANCH), environment="Preview")
    payload["deployment_status"].update(state=state, environment="Preview", environment_url=url, log_url=log_url)
    return payload
