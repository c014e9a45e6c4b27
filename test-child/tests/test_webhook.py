"""POST /api/webhooks in-process, with a real database and a fake GitHub."""

from __future__ import annotations

import json

import psycopg
import pytest
from fastapi.testclient import TestClient

from osorganicai.service import Service
from osorganicai.settings import Settings
from osorganicai.webhook import MAX_BODY_BYTES, create_app

from .support import FIXTURES, SECRET, FakeGitHub, fixture_bytes, signed_headers


@pytest.fixture
def client(settings: Settings, store, fake_github: FakeGitHub) -> TestClient:
    # Like the webhook's own client: one attempt, no waiting on rate limits.
    github = fake_github.client(max_attempts=1, max_rate_limit_wait=0)
    return TestClient(create_app(Service(settings=settings, store=store, github=github)))


def rows(database: str, sql: str) -> list[tuple]:
    with psycopg.connect(database) as connection:
        return connection.execute(sql).fetchall()


def post(client: TestClient, name: str, event: str, delivery: str, secret: str = SECRET):
    body = fixture_bytes(name)
    return client.post("/api/webhooks", content=body, headers=signed_headers(body, event, delivery, secret))


def test_unsigned_or_wrongly_signed_delivery_is_refused_and_not_stored(client: TestClient, database: str) -> None:
    body = fixture_bytes("issues.opened.payload.json")
    unsigned = client.post("/api/webhooks", content=body, headers={"X-GitHub-Event": "issues", "X-GitHub-Delivery": "d1"})
    wrong = post(client, "issues.opened.payload.json", "issues", "d2", secret="not the secret")
    assert unsigned.status_code == 401 and wrong.status_code == 401
    assert rows(database, "select count(*) from webhook_events") == [(0,)]


def test_body_over_25_mb_is_refused_before_buffering(client: TestClient) -> None:
    response = client.post(
        "/api/webhooks",
        content=b"{}",
        headers={"Content-Length": str(MAX_BODY_BYTES + 1), "X-GitHub-Event": "issues", "X-GitHub-Delivery": "big"},
    )
    assert response.status_code == 413


def test_streamed_body_over_the_limit_is_refused() -> None:
    app = create_app(Service(settings=Settings.from_env({"GITHUB_WEBHOOK_SECRET": SECRET})))

    def chunks():
        for _ in range(26):
            yield b"x" * (1024 * 1024)

    response = TestClient(app).post("/api/webhooks", content=chunks(), headers={"X-GitHub-Event": "issues"})
    assert response.status_code == 413


def test_malformed_json_after_a_valid_signature_is_400(client: TestClient) -> None:
    body = b'{"action": "opened",'
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issues", "bad-json"))
    assert response.status_code == 400


def test_ping_is_answered_200(client: TestClient) -> None:
    response = post(client, "ping.payload.json", "ping", "ping-1")
    assert response.status_code == 200 and response.json()["status"] == "pong"


@pytest.mark.parametrize("name", sorted(path.name for path in FIXTURES.glob("*.json")))
def test_every_real_payload_is_stored_and_acknowledged(client: TestClient, database: str, name: str) -> None:
    event = name.split(".", 1)[0]
    response = post(client, name, event, f"delivery-{name}")
    assert 200 <= response.status_code < 300, response.text
    stored = rows(
        database,
        "select delivery_id, event, payload = %s::jsonb from webhook_events".replace(
            "%s", "'" + fixture_bytes(name).decode().replace("'", "''") + "'"
        ),
    )
    assert stored == [(f"delivery-{name}", event, True)]


def test_issue_opened_queues_a_product_owner_job_and_dispatches_it(
    client: TestClient, database: str, fake_github: FakeGitHub
) -> None:
    response = post(client, "issues.opened.payload.json", "issues", "opened-1")
    assert response.status_code == 202
    data = response.json()
    assert data["kind"] == "product_owner" and data["dispatched"] is True
    dispatch = [call for call in fake_github.calls if call.path.endswith("/dispatches")]
    assert dispatch[0].body == {"event_type": "agent-product-owner", "client_payload": {"job_id": data["job"], "issue": 1}}
    assert rows(database, "select kind, status, issue_number from jobs") == [("product_owner", "dispatched", 1)]
    assert rows(database, "select outcome from webhook_events") == [("queued",)]


def test_redelivery_is_acknowledged_and_not_processed_twice(client: TestClient, database: str, fake_github) -> None:
    first = post(client, "issue_comment.created.payload.json", "issue_comment", "same-delivery")
    second = post(client, "issue_comment.created.payload.json", "issue_comment", "same-delivery")
    assert first.status_code == 202 and second.status_code == 200 and second.json()["status"] == "duplicate"
    assert rows(database, "select count(*) from jobs") == [(1,)]
    assert len(fake_github.paths("POST")) == 1


def test_failed_hand_off_still_acknowledges_and_the_sweeper_dispatches_later(
    client: TestClient, database: str, fake_github: FakeGitHub, store
) -> None:
    fake_github.fail_dispatch = 1
    response = post(client, "issues.edited.payload.json", "issues", "edited-1")
    assert response.status_code == 202 and response.json()["dispatched"] is False
    assert rows(database, "select status, attempts from jobs") == [("pending", 1)]
    from osorganicai.jobs import sweep

    report = sweep(store, fake_github.client())
    assert len(report.dispatched) == 1
    assert rows(database, "select status from jobs") == [("dispatched",)]


def test_without_github_credentials_the_job_stays_pending(store, database: str) -> None:
    settings = Settings.from_env(
        {"GITHUB_WEBHOOK_SECRET": SECRET, "OSORGANIC_BOT_LOGIN": "hello-bot[bot]", "GITHUB_REPOSITORY": "Codertocat/Hello-World"}
    )
    client = TestClient(create_app(Service(settings=settings, store=store)))
    response = post(client, "issues.opened.payload.json", "issues", "no-token")
    assert response.status_code == 202 and "GITHUB_TOKEN" in response.json()["detail"]
    assert rows(database, "select status from jobs") == [("pending",)]


def test_labels_other_than_ready_for_dev_are_ignored(client: TestClient, database: str) -> None:
    response = post(client, "issues.labeled.payload.json", "issues", "labeled-bug")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert rows(database, "select count(*) from jobs") == [(0,)]


def test_ready_for_dev_label_by_the_bot_starts_the_developer(client: TestClient, database: str) -> None:
    payload = json.loads(fixture_bytes("issues.labeled.payload.json"))
    payload["label"]["name"] = "ready-for-dev"
    payload["sender"] = {"login": "hello-bot[bot]", "type": "Bot"}
    body = json.dumps(payload).encode()
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issues", "ready-1"))
    assert response.status_code == 202 and response.json()["kind"] == "developer"


def test_the_runtime_is_known_by_its_marker_not_by_its_login(client: TestClient, database: str) -> None:
    # With a person's token the runtime comments as that person: their own comments still count.
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["comment"]["user"] = {"login": "hello-bot", "type": "User"}
    payload["sender"] = payload["comment"]["user"]
    body = json.dumps(payload).encode()
    heard = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "self-1"))
    assert heard.status_code == 202
    # The runtime's own comment carries the marker and starts nothing, whoever posted it.
    payload["comment"]["body"] += "\n\n<!-- osorganic:runtime -->"
    body = json.dumps(payload).encode()
    ignored = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "self-2"))
    assert ignored.status_code == 200 and "marker" in ignored.json()["reason"]
    assert rows(database, "select count(*) from jobs") == [(1,)]


def test_outsiders_need_write_maintain_or_admin_permission(client: TestClient, database: str, fake_github) -> None:
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["comment"]["author_association"] = "NONE"
    payload["comment"]["user"]["login"] = "stranger"
    body = json.dumps(payload).encode()
    refused = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "out-1"))
    assert refused.status_code == 200 and "no write, maintain or admin access (none)" in refused.json()["reason"]
    fake_github.permissions["stranger"] = "write"
    allowed = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "out-2"))
    assert allowed.status_code == 202
    assert rows(database, "select count(*) from jobs") == [(1,)]


@pytest.mark.parametrize("association", ["COLLABORATOR", "MEMBER", "NONE"])
def test_triage_access_neither_starts_nor_steers_the_product_owner(
    client: TestClient, database: str, fake_github, association: str
) -> None:
    # A triage collaborator's payload says COLLABORATOR (or MEMBER in an organisation): only the lookup tells.
    fake_github.permissions["triager"] = "triage"
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["comment"]["author_association"] = association
    payload["comment"]["user"]["login"] = "triager"
    body = json.dumps(payload).encode()
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "triage-1"))
    assert response.status_code == 200 and "triager has no write, maintain or admin access (triage)" in response.json()["reason"]
    assert "/repos/Codertocat/Hello-World/collaborators/triager/permission" in fake_github.paths("GET")
    assert rows(database, "select count(*) from jobs") == [(0,)]
    assert rows(database, "select outcome from webhook_events") == [("ignored",)]


def test_a_writer_who_opened_the_issue_starts_the_product_owner(client: TestClient, database: str, fake_github) -> None:
    # The issue's author is looked up like anyone: with write access, their own issue needs no engagement.
    fake_github.permissions["reporter"] = "write"
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["issue"]["user"]["login"] = payload["comment"]["user"]["login"] = "reporter"
    payload["comment"]["author_association"] = "COLLABORATOR"
    body = json.dumps(payload).encode()
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "author-1"))
    assert response.status_code == 202
    detail = rows(database, "select outcome_detail from webhook_events")[0][0]
    assert "issue's author reporter on their own issue (write)" in detail
    assert "/repos/Codertocat/Hello-World/collaborators/reporter/permission" in fake_github.paths("GET")


def test_a_failed_permission_lookup_queues_the_job_for_the_agent_to_check(client: TestClient, database: str, fake_github) -> None:
    payload = json.loads(fixture_bytes("issue_comment.created.payload.json"))
    payload["comment"]["author_association"] = "NONE"
    payload["comment"]["user"]["login"] = "stranger"
    body = json.dumps(payload).encode()
    fake_github.fail_permission_lookups = True
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "issue_comment", "down-1"))
    assert response.status_code == 202
    assert rows(database, "select verify_permission_of from jobs") == [("stranger",)]
    assert rows(database, "select outcome from webhook_events") == [("queued",)]


def test_missing_secret_is_named_without_a_stack_trace(store) -> None:
    client = TestClient(create_app(Service(settings=Settings.from_env({}), store=store)))
    body = fixture_bytes("ping.payload.json")
    response = client.post("/api/webhooks", content=body, headers=signed_headers(body, "ping", "p"))
    assert response.status_code == 500
    assert response.json() == {"error": response.json()["error"]}
    assert "GITHUB_WEBHOOK_SECRET" in response.json()["error"] and "Traceback" not in response.text


def test_missing_database_url_is_named(settings: Settings) -> None:
    client = TestClient(create_app(Service(settings=settings)))
    response = post(client, "issues.opened.payload.json", "issues", "no-db")
    assert response.status_code == 500 and "DATABASE_URL" in response.json()["error"]


def test_health_reports_database_and_missing_settings_without_values(store) -> None:
    settings = Settings.from_env(
        {
            "GITHUB_WEBHOOK_SECRET": "super-secret-value",
            "DATABASE_URL": "set",
            "LLM_PROVIDER": "openai",
            "GITHUB_REPOSITORY": "Codertocat/Hello-World",
        }
    )
    client = TestClient(create_app(Service(settings=settings, store=store)))
    response = client.get("/api/health")
    data = response.json()
    assert response.status_code == 200 and data["database"] == "reachable" and data["status"] == "degraded"
    assert data["misconfigured"] == {}
    assert "OPENAI_API_KEY" in data["missing_settings"] and "OSORGANIC_BOT_LOGIN" in data["missing_settings"]
    assert "super-secret-value" not in response.text and data["version"]


def test_cron_sweep_requires_the_cron_secret(store, fake_github: FakeGitHub) -> None:
    from osorganicai.cron import create_cron_app
    from osorganicai.db import JobSpec

    settings = Settings.from_env({"CRON_SECRET": "cron-secret", "GITHUB_TOKEN": "t"})
    client = TestClient(create_cron_app(Service(settings=settings, store=store, github=fake_github.client())))
    store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))
    assert client.get("/api/cron/sweep").status_code == 401
    assert client.get("/api/cron/sweep", headers={"Authorization": "Bearer wrong"}).status_code == 401
    response = client.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"})
    assert response.status_code == 200 and len(response.json()["dispatched"]) == 1
