"""Who may start paid work, through POST /api/webhooks with real payloads, a real database and a fake
GitHub: an outsider's issue waits until someone with write access engages with it (a runtime label, a
comment, an assignment), and only write access starts the Developer with `ready-for-dev`."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from osorganicai.db import JobSpec
from osorganicai.jobs import permission_refusal
from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import create_app

from .support import FakeGitHub, fixture_bytes, signed_headers

REPO = "Codertocat/Hello-World"
OUTSIDER = "stranger"  # opens the issue; no permission on the repository


@pytest.fixture
def client(settings: Settings, store, fake_github: FakeGitHub) -> TestClient:
    fake_github.permissions.update({"maintainer": "write", "triager": "triage"})
    github = fake_github.client(max_attempts=1, max_rate_limit_wait=0)
    return TestClient(create_app(Service(settings=settings, store=store, github=github)))


def rows(database: str, sql: str) -> list[tuple]:
    with psycopg.connect(database) as connection:
        return connection.execute(sql).fetchall()


def outsiders_issue(name: str) -> dict[str, Any]:
    """A real payload about issue #1, opened by the outsider (who has no association with the repository)."""
    payload = json.loads(fixture_bytes(name))
    payload["issue"]["user"] = {**payload["issue"]["user"], "login": OUTSIDER, "id": 4242}
    payload["issue"]["author_association"] = "NONE"
    return payload


def by(payload: dict[str, Any], login: str) -> dict[str, Any]:
    payload["sender"] = {**payload["sender"], "login": login}
    if "comment" in payload:
        association = "NONE" if login == OUTSIDER else "COLLABORATOR"
        payload["comment"]["user"] = {**payload["comment"]["user"], "login": login}
        payload["comment"]["author_association"] = association
    return payload


def labelled(label: str, login: str) -> dict[str, Any]:
    payload = by(outsiders_issue("issues.labeled.payload.json"), login)
    payload["label"]["name"] = label
    return payload


def deliver(client: TestClient, event: str, payload: dict[str, Any], delivery: str):
    body = json.dumps(payload).encode()
    return client.post("/api/webhooks", content=body, headers=signed_headers(body, event, delivery))


def outsiders_answer() -> dict[str, Any]:
    return by(outsiders_issue("issue_comment.created.payload.json"), OUTSIDER)


def test_an_outsiders_new_issue_is_stored_not_routed_and_nothing_is_posted(
    client: TestClient, database: str, fake_github: FakeGitHub
) -> None:
    opened = deliver(client, "issues", by(outsiders_issue("issues.opened.payload.json"), OUTSIDER), "opened-1")
    answer = deliver(client, "issue_comment", outsiders_answer(), "comment-1")

    for response in (opened, answer):
        assert response.status_code == 200 and response.json()["status"] == "ignored"
        assert "stranger has no write, maintain or admin access (none)" in response.json()["reason"]
        assert "no one with it has engaged with the issue yet" in response.json()["reason"]
    stored = rows(database, "select event, outcome, outcome_detail from webhook_events order by id")
    assert [(event, outcome) for event, outcome, _ in stored] == [("issues", "ignored"), ("issue_comment", "ignored")]
    assert all("stored, not routed" in detail for _, _, detail in stored)
    assert rows(database, "select count(*) from jobs") == [(0,)]
    assert fake_github.paths("POST") == []  # nothing dispatched, nothing posted on the issue


def test_after_a_writer_labels_it_the_outsiders_answer_steers(client: TestClient, database: str, fake_github: FakeGitHub) -> None:
    label = deliver(client, "issues", labelled("needs-clarification", "maintainer"), "label-1")
    assert label.status_code == 200 and "a writer engaged with the issue" in label.json()["reason"]
    assert rows(database, "select count(*) from jobs") == [(0,)]  # the label engages; it starts nothing
    engaged = "select agent, action_type, issue_number, payload ->> 'how', payload ->> 'permission' from agent_actions"
    assert rows(database, engaged) == [("maintainer", "writer_engaged", 1, "labelled needs-clarification", "write")]
    # Shown on the issue's timeline with its detail; not a console intervention (no actor_kind).
    [(detail, actor_kind)] = rows(database, "select payload ->> 'detail', payload ->> 'actor_kind' from agent_actions")
    assert detail == "maintainer (write) labelled needs-clarification: the issue's author steers it from now on"
    assert actor_kind is None

    lookups_before = len(fake_github.paths("GET"))
    answer = deliver(client, "issue_comment", outsiders_answer(), "answer-1")

    assert answer.status_code == 202 and answer.json()["kind"] == "product_owner"
    assert "with which a writer has engaged" in rows(database, "select outcome_detail from webhook_events order by id")[-1][0]
    assert len(fake_github.paths("GET")) == lookups_before  # the database said so: no permission lookup


def test_a_writers_comment_starts_the_product_owner_and_engages_them(client: TestClient, database: str) -> None:
    comment = deliver(client, "issue_comment", by(outsiders_issue("issue_comment.created.payload.json"), "maintainer"), "c-1")
    assert comment.status_code == 202 and comment.json()["kind"] == "product_owner"
    assert rows(database, "select agent, payload ->> 'how' from agent_actions") == [("maintainer", "commented")]
    answer = deliver(client, "issue_comment", outsiders_answer(), "c-2")
    assert answer.status_code == 202 and rows(database, "select count(*) from jobs") == [(2,)]


def test_a_writers_assignment_engages_them(client: TestClient, database: str) -> None:
    assigned = deliver(client, "issues", by(outsiders_issue("issues.assigned.payload.json"), "maintainer"), "assign-1")
    assert assigned.status_code == 200 and rows(database, "select count(*) from jobs") == [(0,)]
    assert rows(database, "select payload ->> 'how' from agent_actions") == [("assigned the issue",)]
    assert deliver(client, "issue_comment", outsiders_answer(), "assign-2").status_code == 202


def test_triage_neither_engages_nor_starts_the_developer(client: TestClient, database: str) -> None:
    clarify = deliver(client, "issues", labelled("needs-clarification", "triager"), "triage-1")
    ready = deliver(client, "issues", labelled("ready-for-dev", "triager"), "triage-2")
    assigned = deliver(client, "issues", by(outsiders_issue("issues.assigned.payload.json"), "triager"), "triage-3")
    for response in (clarify, ready, assigned):
        assert response.status_code == 200, response.text
        assert "triager has no write, maintain or admin access (triage)" in response.json()["reason"]
    assert rows(database, "select count(*) from jobs") == [(0,)]
    assert rows(database, "select count(*) from agent_actions") == [(0,)]
    assert deliver(client, "issue_comment", outsiders_answer(), "triage-4").json()["status"] == "ignored"


def test_a_writers_ready_for_dev_label_starts_the_developer(client: TestClient, database: str) -> None:
    response = deliver(client, "issues", labelled("ready-for-dev", "maintainer"), "ready-1")
    assert response.status_code == 202 and response.json()["kind"] == "developer"
    assert rows(database, "select kind, verify_permission_of from jobs") == [("developer", None)]
    assert rows(database, "select payload ->> 'how' from agent_actions") == [("labelled ready-for-dev",)]


def test_the_runtimes_own_labels_start_the_developer_and_nothing_else(
    client: TestClient, database: str, fake_github: FakeGitHub
) -> None:
    bot = {"login": "hello-bot[bot]", "type": "Bot"}
    clarify, ready = labelled("needs-clarification", "x"), labelled("ready-for-dev", "x")
    clarify["sender"] = ready["sender"] = bot
    assert deliver(client, "issues", clarify, "bot-1").json()["status"] == "ignored"
    assert deliver(client, "issues", ready, "bot-2").json()["kind"] == "developer"
    assert not [path for path in fake_github.paths("GET") if "/collaborators/" in path]
    assert rows(database, "select count(*) from agent_actions") == [(0,)]


def test_other_labels_are_ignored_without_a_lookup(client: TestClient, fake_github: FakeGitHub) -> None:
    response = deliver(client, "issues", labelled("bug", "maintainer"), "bug-1")
    assert response.status_code == 200 and "not one of the runtime's" in response.json()["reason"]
    assert fake_github.paths("GET") == []


def test_a_failed_lookup_leaves_the_ready_for_dev_check_to_the_claim(
    client: TestClient, database: str, fake_github: FakeGitHub, store
) -> None:
    fake_github.fail_permission_lookups = True
    response = deliver(client, "issues", labelled("ready-for-dev", "triager"), "down-1")
    assert response.status_code == 202
    assert rows(database, "select verify_permission_of from jobs") == [("triager",)]
    assert rows(database, "select count(*) from agent_actions") == [(0,)]  # not known to be a writer
    # An engagement-only event is not queued at all: nothing would check it later.
    unchecked = deliver(client, "issues", labelled("needs-clarification", "maintainer"), "down-2")
    assert unchecked.status_code == 200 and "not recorded as engagement" in unchecked.json()["reason"]


def test_the_claim_refuses_triage_and_records_a_writers_engagement(store, fake_github: FakeGitHub, database: str) -> None:
    fake_github.permissions.update({"maintainer": "write", "triager": "triage"})
    github = fake_github.client()
    triage_job = store.get_job(store.create_job(JobSpec("developer", REPO, 1, verify_permission_of="triager")))
    writer_job = store.get_job(store.create_job(JobSpec("developer", REPO, 1, verify_permission_of="maintainer")))

    assert "triager has no write, maintain or admin access (triage)" in (permission_refusal(github, triage_job, store) or "")
    assert not store.writer_engaged(REPO, 1)
    assert permission_refusal(github, writer_job, store) is None
    assert store.writer_engaged(REPO, 1) and not store.writer_engaged(REPO, 2)
    assert rows(database, "select agent, job_id::text, payload ->> 'permission' from agent_actions") == [
        ("maintainer", str(writer_job.id), "write")
    ]


def test_the_workflows_claim_records_the_engagement_it_checked(store, fake_github: FakeGitHub) -> None:
    from osorganicai.cli import claim_job

    fake_github.permissions["maintainer"] = "maintain"
    job_id = store.create_job(JobSpec("product_owner", REPO, 1, verify_permission_of="maintainer"))
    assert not store.writer_engaged(REPO, 1)
    assert claim_job(store, job_id, fake_github.client(), workflow_run_id=77) is None
    assert store.writer_engaged(REPO, 1) and store.get_job(job_id).status == "running"


def test_a_locked_engagement_record_answers_503_within_the_deadline_and_stores_nothing(client: TestClient, database: str) -> None:
    with psycopg.connect(database) as locker:
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute("lock table public.agent_actions in access exclusive mode")
        started = time.monotonic()
        response = deliver(client, "issue_comment", outsiders_answer(), "locked-1")
        elapsed = time.monotonic() - started
        locker.rollback()
    assert response.status_code == 503 and response.headers["Retry-After"] == "30"
    assert "redelivered" in response.json()["error"] and elapsed < 8.0
    assert rows(database, "select count(*) from webhook_events") == [(0,)]
