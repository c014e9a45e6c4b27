"""Deployments of the default branch: a merged runtime pull request's merge commit, once deployed, is
checked and commented on its issue, whose conversation becomes `deployed`.

GitHub's documented deployment_status example (a deployment of the default branch) is the payload;
the fake GitHub keeps state over real HTTP; the database is the suite's PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from osorganicai.db import Store
from osorganicai.github import GitHubError
from osorganicai.lifecycle import PullStates, handle_event, run_lifecycle_job
from osorganicai.routing import LIFECYCLE, decide
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import create_app

from .fake_github_git import FakeGitHubGit
from .lifecycle_support import (  # noqa: F401 - the fixtures are used by name
    BOT,
    actions,
    closed_event,
    context_for,
    deployment_fixture,
    fixture,
    github_fixture,
    main_deployment_event,
    runtime_pull,
)
from .support import SECRET, signed_headers

ISSUE = 7


def merged(github: FakeGitHubGit, store: Store) -> tuple[dict[str, Any], str]:
    """The runtime's pull request for issue #7, merged, and its `pull_request` closed event handled."""
    pull = runtime_pull(github, github.client())
    github.close_pull(pull["number"], merged=True)
    assert handle_event(context_for(github, store), "pull_request", closed_event(github, pull, merged=True)).action == "done"
    return pull, github.pulls[0]["merge_commit_sha"]


def issue_comments(github: FakeGitHubGit) -> list[str]:
    return [comment["body"] for comment in github.comments(ISSUE)]


# -- routing: pure, the commit is looked up by the caller ------------------------------------------
def test_a_final_deployment_of_the_default_branch_asks_for_its_commit_to_be_looked_up() -> None:
    payload = fixture("deployment_status.payload.json")  # ref master, state success
    repository = payload["repository"]["full_name"]
    decision = decide("deployment_status", payload, bot_login=None, configured_repository=repository)
    assert (decision.kind, decision.issue_number) == (LIFECYCLE, None)
    assert decision.merge_commit_lookup == payload["deployment"]["sha"]
    for state in ("pending", "queued", "in_progress"):
        payload["deployment_status"]["state"] = state
        assert decide("deployment_status", payload, bot_login=None, configured_repository=repository).kind is None
    payload["deployment_status"]["state"] = "failure"
    payload["deployment"]["sha"] = "not a commit"
    assert decide("deployment_status", payload, bot_login=None, configured_repository=repository).kind is None


# -- the lifecycle job ----------------------------------------------------------------------------
def test_merging_keeps_the_merge_commit(github, store) -> None:
    _, merge_commit = merged(github, store)
    state = PullStates(store).get(github.repository, ISSUE)
    assert state is not None and (state.state, state.merge_commit_sha) == ("done", merge_commit)
    assert PullStates(store).merged_pull_of(github.repository, merge_commit) == (ISSUE, github.pulls[0]["number"])


def test_the_merge_commit_deployed_is_checked_commented_on_the_issue_once_and_the_issue_is_deployed(
    github, store, database, deployment
) -> None:
    _, merge_commit = merged(github, store)
    before = len(issue_comments(github))
    event = main_deployment_event(github, merge_commit, "success", deployment + "/")

    outcome = handle_event(context_for(github, store), "deployment_status", event)

    assert outcome.action == "deployed", outcome.detail
    comments = issue_comments(github)
    assert len(comments) == before + 1
    assert deployment in comments[-1] and "`GET /api/health`: 200" in comments[-1] and '"status": "ok"' in comments[-1]
    assert PullStates(store).get(github.repository, ISSUE).state == "deployed"
    assert ("lifecycle", "deployed") in actions(database)
    again = handle_event(context_for(github, store), "deployment_status", event)
    assert again.action == "ignored" and "already commented" in again.detail
    assert len(issue_comments(github)) == before + 1


def test_a_failed_deployment_of_the_merge_commit_comments_its_state_and_log_on_the_issue(github, store, deployment) -> None:
    _, merge_commit = merged(github, store)
    log = "https://vercel.com/acme/shop/deployments/dpl_9"
    failed = main_deployment_event(github, merge_commit, "error", "", log)
    assert handle_event(context_for(github, store), "deployment_status", failed).action == "deployment_failed"
    assert f"error. Log: {log}" in issue_comments(github)[-1]
    assert PullStates(store).get(github.repository, ISSUE).state == "done"
    retried = main_deployment_event(github, merge_commit, "success", deployment)
    retried["deployment"]["id"] += 1  # a new deployment of the same commit
    assert handle_event(context_for(github, store), "deployment_status", retried).action == "deployed"


def test_a_deployment_of_a_commit_the_runtime_did_not_merge_is_ignored(github, store, deployment) -> None:
    merged(github, store)
    before = len(issue_comments(github))
    other = main_deployment_event(github, "0" * 40, "success", deployment)
    outcome = handle_event(context_for(github, store), "deployment_status", other)
    assert outcome.action == "ignored" and len(issue_comments(github)) == before


def test_a_comment_that_fails_leaves_the_deployment_to_comment_on_the_next_run(github, store, deployment, monkeypatch) -> None:
    _, merge_commit = merged(github, store)
    event = main_deployment_event(github, merge_commit, "success", deployment)
    broken = context_for(github, store)

    def refused(*args: Any, **kwargs: Any) -> None:
        raise GitHubError(403, "POST", f"/repos/{github.repository}/issues/{ISSUE}/comments", "Resource not accessible")

    monkeypatch.setattr(broken.github, "create_comment", refused)
    with pytest.raises(GitHubError):
        handle_event(broken, "deployment_status", event)
    assert handle_event(context_for(github, store), "deployment_status", event).action == "deployed"
    assert len([body for body in issue_comments(github) if deployment in body]) == 1


# -- through the webhook --------------------------------------------------------------------------
def deliver(client: TestClient, event: str, payload: dict[str, Any], delivery: str):
    body = json.dumps(payload).encode()
    return client.post("/api/webhooks", content=body, headers=signed_headers(body, event, delivery))


def test_the_webhook_finds_the_issue_of_a_deployed_merge_commit_and_one_comment_is_posted_per_deployment(
    github, store, database, deployment
) -> None:
    """The deployment arrives before the lifecycle job has handled the merge: the stored `pull_request`
    closed delivery names the merge commit. A redelivery, and a second delivery of the same status,
    add no second comment."""
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "GITHUB_TOKEN": "t", "GITHUB_REPOSITORY": github.repository, "OSORGANIC_BOT_LOGIN": BOT}
    )
    client = TestClient(create_app(Service(settings=settings, store=store, github=github.client())))
    pull = runtime_pull(github, github.client())
    github.close_pull(pull["number"], merged=True)
    merge_commit = github.pulls[0]["merge_commit_sha"]
    assert deliver(client, "pull_request", closed_event(github, pull, merged=True), "closed-1").status_code == 202

    event = main_deployment_event(github, merge_commit, "success", deployment)
    queued = deliver(client, "deployment_status", event, "deployed-1")
    assert queued.status_code == 202 and queued.json()["kind"] == "lifecycle", queued.text
    assert deliver(client, "deployment_status", event, "deployed-1").json()["status"] == "duplicate"
    again = deliver(client, "deployment_status", event, "deployed-2")  # the same status delivered twice
    unknown = deliver(client, "deployment_status", main_deployment_event(github, "1" * 40, "success", deployment), "d-3")
    assert unknown.status_code == 200 and "not the merge commit of a runtime pull request" in unknown.json()["reason"]

    with psycopg.connect(database) as connection:
        deployment_jobs = connection.execute(
            "select j.id, j.issue_number from public.jobs j join public.webhook_events e on e.id = j.webhook_event_id"
            " where e.event = 'deployment_status' order by j.created_at"
        ).fetchall()
    assert [issue for _, issue in deployment_jobs] == [ISSUE, ISSUE] and again.status_code == 202
    outcomes = [run_lifecycle_job(context_for(github, store, job_id=job_id), job_id).action for job_id, _ in deployment_jobs]
    assert outcomes == ["deployed", "ignored"]
    assert sum(deployment in body for body in issue_comments(github)) == 1
    assert PullStates(store).get(github.repository, ISSUE).state == "deployed"


def test_a_job_without_a_delivery_is_reported_not_raised(github, store) -> None:
    assert run_lifecycle_job(context_for(github, store), uuid.uuid4()).action == "ignored"
