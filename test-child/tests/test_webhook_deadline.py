"""The webhook's one deadline: every phase (body, permission lookup, database, hand-off) takes its
timeout from the time left since the request arrived, so together they stay inside GitHub's 10 s.

The slow GitHub is the fake served over real HTTP with a delay; the locked table is a real lock
held by another connection to the suite's PostgreSQL.
"""

from __future__ import annotations

import json
import time
import uuid

import psycopg
import pytest
from fastapi.testclient import TestClient

from osorganicai.db import Store, StoreBusyError
from osorganicai.deadline import Deadline, budget
from osorganicai.github import GitHubClient, GitHubUnavailableError, TokenAuth
from osorganicai.service import WEBHOOK_GITHUB_TIMEOUT_SECONDS, Service
from osorganicai.settings import Settings
from osorganicai.webhook import RETRY_AFTER_SECONDS, WEBHOOK_DEADLINE_SECONDS, create_app, handle_delivery

from .support import FakeGitHub, fixture_bytes, signed_headers
from .test_webhook_hostile import raw_request, served

GITHUB_GIVES_SECONDS = 10.0
MARGIN_SECONDS = 0.5  # scheduling and the test's own socket handling


def rows(database: str, sql: str) -> list[tuple]:
    with psycopg.connect(database) as connection:
        return connection.execute(sql).fetchall()


def stranger_comment() -> bytes:
    """A comment by someone the payload does not vouch for: the webhook must look up their permission."""
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["comment"]["author_association"] = "NONE"
    payload["comment"]["user"]["login"] = "stranger"
    return json.dumps(payload).encode()


def slow_github_client(url: str) -> GitHubClient:
    # As Service.github() builds it for the webhook: one attempt, its own 3 s cap per request.
    return GitHubClient(
        TokenAuth("t"), base_url=url, timeout=WEBHOOK_GITHUB_TIMEOUT_SECONDS, max_attempts=1, max_rate_limit_wait=0
    )


def test_a_slow_body_a_slow_github_and_a_locked_table_at_once_are_answered_within_the_deadline(
    settings: Settings, store: Store, database: str
) -> None:
    """Each phase alone is within its cap: a body over 4.4 s (under its 5 s), a permission lookup that
    GitHub does not answer (cut at 3 s), a lock (given up after 2 s). Without one deadline they took
    9.4 s; with it the lookup gets what the deadline leaves, and the answer comes at 7.5 s."""
    fake = FakeGitHub(delay_seconds=6.0)
    github_server, github_url = fake.serve()
    body = stranger_comment()
    headers = signed_headers(body, "issue_comment", "slow-everything")
    head = (
        "POST /api/webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    size = len(body) // 12 + 1
    parts = [body[index : index + size] for index in range(0, len(body), size)]  # 12 parts, 0.4 s apart
    app = create_app(Service(settings=settings, store=store, github=slow_github_client(github_url)))
    try:
        with served(app) as port, psycopg.connect(database) as locker:
            locker.execute("set idle_in_transaction_session_timeout = '20s'")
            locker.execute("lock table public.jobs in access exclusive mode")
            answer, elapsed = raw_request(port, head, parts, pause=0.4, timeout=GITHUB_GIVES_SECONDS + 5)
    finally:
        github_server.shutdown()
    assert answer.startswith(b"HTTP/1.1 503"), answer[:300]
    assert f"retry-after: {RETRY_AFTER_SECONDS}".encode() in answer.lower()
    assert elapsed < WEBHOOK_DEADLINE_SECONDS + MARGIN_SECONDS, f"answered after {elapsed:.1f} s"
    assert elapsed < GITHUB_GIVES_SECONDS
    assert "/repos/Codertocat/Hello-World/collaborators/stranger/permission" in fake.paths("GET")
    assert rows(database, "select count(*) from webhook_events") == [(0,)]  # nothing half stored
    assert rows(database, "select count(*) from jobs") == [(0,)]


def test_a_slow_permission_lookup_leaves_time_to_store_the_job_for_the_agent_to_check(
    settings: Settings, store: Store, database: str
) -> None:
    fake = FakeGitHub(delay_seconds=6.0)
    github_server, github_url = fake.serve()
    client = TestClient(create_app(Service(settings=settings, store=store, github=slow_github_client(github_url))))
    body = stranger_comment()
    try:
        started = time.monotonic()
        response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "slow-lookup"))
        elapsed = time.monotonic() - started
    finally:
        github_server.shutdown()
    assert response.status_code == 202, response.text
    assert response.json()["dispatched"] is False  # the dispatch, as slow, timed out: the sweeper's
    assert elapsed < WEBHOOK_DEADLINE_SECONDS + MARGIN_SECONDS, f"answered after {elapsed:.1f} s"
    assert rows(database, "select verify_permission_of, status from jobs") == [("stranger", "pending")]


def test_with_too_little_time_left_nothing_is_stored_and_the_answer_is_503(
    settings: Settings, store: Store, database: str, fake_github: FakeGitHub
) -> None:
    service = Service(settings=settings, store=store, github=fake_github.client(max_attempts=1))
    payload = json.loads(fixture_bytes("issues.opened.payload.json"))
    response = handle_delivery(
        service, "issues", "late-arrival", fixture_bytes("issues.opened.payload.json"), payload, Deadline(0.5)
    )
    assert response.status_code == 503 and response.headers["retry-after"] == str(RETRY_AFTER_SECONDS)
    assert b"nothing was stored" in response.body
    assert rows(database, "select count(*) from webhook_events") == [(0,)]


def test_budget_is_the_phase_cap_outside_a_deadline_and_the_time_left_inside() -> None:
    assert budget(3.0) == 3.0
    now = [100.0]
    deadline = Deadline(8.0, clock=lambda: now[0])
    with deadline.active():
        assert budget(3.0) == 3.0
        now[0] = 106.5
        assert budget(3.0) == pytest.approx(1.5)
        with deadline.keeping(1.0).active():
            assert budget(3.0) == pytest.approx(0.5)
        now[0] = 109.0
        assert budget(3.0) == 0.0
    assert budget(3.0) == 3.0


def test_a_store_call_within_a_deadline_gives_up_when_the_deadline_does(store: Store, database: str) -> None:
    with psycopg.connect(database) as locker:
        locker.execute("set idle_in_transaction_session_timeout = '15s'")
        locker.execute("lock table public.jobs in access exclusive mode")
        started = time.monotonic()
        with pytest.raises(StoreBusyError), Deadline(0.4).active():
            store.get_job(uuid.uuid4())
        assert time.monotonic() - started < 1.0  # not the store's own 2 s lock timeout
    with pytest.raises(StoreBusyError, match="deadline has passed"), Deadline(0.0).active():
        store.ping()


def test_a_github_call_within_a_deadline_is_cut_at_the_time_left() -> None:
    fake = FakeGitHub(delay_seconds=3.0)
    server, url = fake.serve()
    client = GitHubClient(TokenAuth("t"), base_url=url, timeout=15.0, max_attempts=1)
    try:
        started = time.monotonic()
        with pytest.raises(GitHubUnavailableError), Deadline(0.5).active():
            client.get_issue(fake.repository, 1)
        assert time.monotonic() - started < 1.5
        with pytest.raises(GitHubUnavailableError, match="deadline has passed"), Deadline(0.0).active():
            client.get_issue(fake.repository, 1)
    finally:
        server.shutdown()
