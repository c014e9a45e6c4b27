"""The sweeper asks GitHub to redeliver failed webhook deliveries that were never stored: once each,
never a stored one, bounded per run, each in agent_actions; GitHub refusing is reported, not raised.

GitHub's delivery endpoints are a local fake over HTTP (`fake_webhook_deliveries.py`) in the
documented shapes, cursor pagination included; the database is the suite's PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from osorganicai.cli import run_sweep
from osorganicai.cron import create_cron_app
from osorganicai.db import JobSpec, Store
from osorganicai.github import AppAuth, GitHubClient, TokenAuth
from osorganicai.redelivery import MAX_REDELIVERIES_PER_RUN, redeliver_failed
from osorganicai.service import Service
from osorganicai.settings import Settings

from .fake_webhook_deliveries import FakeWebhookDeliveries

REPO = "Codertocat/Hello-World"
HOOK_ID = 12345678
HOUR = timedelta(hours=1)


@pytest.fixture
def fake() -> Iterator[FakeWebhookDeliveries]:
    deliveries = FakeWebhookDeliveries(repository=REPO)
    server, url = deliveries.serve()
    deliveries.url = url  # type: ignore[attr-defined]
    yield deliveries
    server.shutdown()
    server.server_close()


def client_for(fake: FakeWebhookDeliveries) -> GitHubClient:
    return GitHubClient(TokenAuth("t"), base_url=fake.url, max_attempts=1)  # type: ignore[attr-defined]


def requested(database: str) -> list[str]:
    with psycopg.connect(database) as connection:
        rows = connection.execute(
            "select payload ->> 'guid' from public.agent_actions where agent = 'sweeper'"
            " and action_type = 'webhook_redelivery_requested' order by id"
        ).fetchall()
    return [guid for (guid,) in rows]


def test_a_failed_delivery_is_redelivered_once(fake, store: Store, database: str) -> None:
    path = fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    failed = fake.deliver(path, "guid-failed", 503, age=HOUR)
    fake.redelivery_status_code = 503  # the redelivery fails too: asked for once all the same
    github = client_for(fake)

    first = redeliver_failed(store, github, REPO, str(HOOK_ID))
    second = redeliver_failed(store, github, REPO, str(HOOK_ID))

    assert first.redelivered == ["guid-failed"] and first.problem is None
    assert second.redelivered == []
    assert fake.attempts == [(path, failed["id"])]
    assert requested(database) == ["guid-failed"]


def test_a_stored_delivery_a_success_a_refusal_and_an_old_one_are_never_redelivered(fake, store: Store) -> None:
    path = fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    fake.deliver(path, "guid-stored", 504, age=HOUR)  # GitHub timed out, but the delivery was stored
    store.record_delivery(
        delivery_id="guid-stored", event="issues", action="opened", repository=REPO, issue_number=1,
        sender_login="octocat", payload=b"{}", outcome="ignored", outcome_detail="test", job=None,
    )  # fmt: skip
    fake.deliver(path, "guid-ok", 202, age=HOUR)
    fake.deliver(path, "guid-bad-signature", 401, age=HOUR)
    fake.deliver(path, "guid-old", 503, age=timedelta(days=3, hours=1))
    fake.deliver(path, "guid-retried", 503, age=2 * HOUR)
    fake.deliver(path, "guid-retried", 202, age=HOUR)  # a person redelivered it already
    fake.deliver(path, "guid-unreachable", 0, age=HOUR)  # GitHub could not connect: status code 0

    report = redeliver_failed(store, client_for(fake), REPO, str(HOOK_ID))

    assert report.redelivered == ["guid-unreachable"]


def test_deliveries_are_read_across_pages_and_redelivered_at_most_ten_per_run(fake, store: Store, database: str) -> None:
    path = fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    for index in range(MAX_REDELIVERIES_PER_RUN + 2):
        fake.deliver(path, f"guid-failed-{index:02d}", 502, age=HOUR * (40 - index))  # the oldest, on the last page
    for index in range(150):
        fake.deliver(path, f"guid-ok-{index}", 200, age=timedelta(minutes=index))

    first = redeliver_failed(store, client_for(fake), REPO, str(HOOK_ID))
    second = redeliver_failed(store, client_for(fake), REPO, str(HOOK_ID))

    assert first.redelivered == [f"guid-failed-{index:02d}" for index in range(MAX_REDELIVERIES_PER_RUN)]
    assert second.redelivered == [f"guid-failed-{index:02d}" for index in range(MAX_REDELIVERIES_PER_RUN, 12)]
    assert len(requested(database)) == 12


@pytest.mark.parametrize(("status", "says"), [(404, "404: Not Found"), (403, "403: Resource not accessible")])
def test_githubs_refusal_is_reported_not_raised(fake, store: Store, status: int, says: str) -> None:
    fake.refuse = status
    report = redeliver_failed(store, client_for(fake), REPO, str(HOOK_ID))
    assert report.redelivered == [] and report.problem is not None and says in report.problem


def test_without_a_webhook_id_the_one_runtime_webhook_is_found_by_its_url(fake, store: Store) -> None:
    fake.add_hook(1, "https://chat.example.com/hooks/github")
    path = fake.add_hook(2, "https://shop.vercel.app/api/webhooks/")
    fake.deliver(path, "guid-found", 503, age=HOUR)
    assert redeliver_failed(store, client_for(fake), REPO, None).redelivered == ["guid-found"]
    fake.add_hook(3, "https://shop-staging.vercel.app/api/webhooks")
    ambiguous = redeliver_failed(store, client_for(fake), REPO, None)
    assert (
        ambiguous.redelivered == [] and "2 webhooks" in str(ambiguous.problem) and "GITHUB_WEBHOOK_ID" in str(ambiguous.problem)
    )
    assert "numeric id" in str(redeliver_failed(store, client_for(fake), REPO, "../hooks").problem)


def test_a_github_app_reads_its_own_webhooks_deliveries_with_its_jwt(fake, store: Store) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    failed = fake.deliver("/app/hook/deliveries", "guid-app", 502, age=HOUR)
    fake.deliver("/app/hook/deliveries", "guid-another-repository", 502, age=HOUR, repository_id=42)
    github = GitHubClient(AppAuth("123", pem.decode(), "42"), base_url=fake.url, max_attempts=1)  # type: ignore[attr-defined]

    report = redeliver_failed(store, github, REPO, None)

    assert report.redelivered == ["guid-app"] and fake.attempts == [("/app/hook/deliveries", failed["id"])]
    app_calls = [auth for auth, path in zip(fake.authorizations, fake.paths, strict=True) if path.startswith("/app/hook")]
    assert app_calls and all(authorization.startswith("Bearer ey") for authorization in app_calls)


def test_the_cron_sweep_redelivers_and_reports(fake, store: Store, database: str) -> None:
    path = fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    fake.deliver(path, "guid-cron", 503, age=HOUR)
    settings = Settings.from_env(
        {
            "CRON_SECRET": "cron-secret",
            "GITHUB_TOKEN": "t",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_WEBHOOK_ID": str(HOOK_ID),
            "GITHUB_API_URL": fake.url,  # type: ignore[attr-defined]
        }
    )
    cron = TestClient(create_cron_app(Service(settings=settings, store=store)))
    response = cron.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"})
    assert response.status_code == 200, response.text
    assert response.json()["redelivered"] == ["guid-cron"] and response.json()["redelivery_problem"] is None
    assert response.json()["paused"] is False and response.json()["paused_by"] is None
    fake.refuse = 403
    store.create_job(JobSpec("developer", REPO, 1))  # the dispatch is refused as well: both are reported
    refused = cron.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"})
    assert refused.status_code == 200 and "403" in refused.json()["redelivery_problem"]
    assert len(refused.json()["failed_dispatch"]) == 1


def sweeper_settings(fake: FakeWebhookDeliveries, database: str) -> Settings:
    """What the sweeper workflow and the Vercel cron both have: the database, a token, the repository, the webhook."""
    return Settings.from_env(
        {
            "DATABASE_URL": database,
            "CRON_SECRET": "cron-secret",
            "GITHUB_TOKEN": "t",
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_WEBHOOK_ID": str(HOOK_ID),
            "GITHUB_API_URL": fake.url,  # type: ignore[attr-defined]
        }
    )


def test_the_workflows_sweep_redelivers_like_the_cron_and_says_the_agents_run(fake, store: Store, database: str, capsys) -> None:
    path = fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    failed = fake.deliver(path, "guid-workflow", 502, age=HOUR)

    assert run_sweep(sweeper_settings(fake, database), limit=5) == 0
    assert run_sweep(sweeper_settings(fake, database), limit=5) == 0  # asked for once, not again

    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == [
        "sweep: 0 dispatched, 0 failed to dispatch, 0 given up, 0 timed out",
        "redelivery: 1 failed webhook deliveries asked for again",
        "agents: running",
    ]
    assert printed[4] == "redelivery: 0 failed webhook deliveries asked for again"
    assert fake.attempts == [(path, failed["id"])] and requested(database) == ["guid-workflow"]


def test_the_workflows_sweep_reports_githubs_refusal_without_failing(fake, store: Store, database: str, capsys) -> None:
    fake.refuse = 403
    assert run_sweep(sweeper_settings(fake, database), limit=5) == 0
    redelivery = capsys.readouterr().out.splitlines()[1]
    assert redelivery.startswith("redelivery: 0 failed webhook deliveries asked for again; webhook deliveries not read")
    assert "403" in redelivery


def test_while_the_agents_are_paused_both_sweeps_say_so_and_dispatch_nothing(fake, store: Store, database: str, capsys) -> None:
    fake.add_hook(HOOK_ID, "https://shop.vercel.app/api/webhooks")
    store.create_job(JobSpec("developer", REPO, 1))
    store.set_agents_paused(True, "octocat")
    settings = sweeper_settings(fake, database)
    cron = TestClient(create_cron_app(Service(settings=settings, store=store)))

    assert run_sweep(settings, limit=5) == 0
    answer = cron.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"}).json()

    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("sweep: 0 dispatched")
    assert printed[2].startswith("agents: paused by octocat since ") and "nothing is dispatched until they resume" in printed[2]
    assert answer["dispatched"] == [] and answer["paused"] is True and answer["paused_by"] == "octocat"
    assert answer["paused_since"].startswith(str(store.agent_switch().changed_at.date()))
    assert not [path for path in fake.paths if path.endswith("/dispatches")]
    store.set_agents_paused(False, "octocat")
    resumed = cron.get("/api/cron/sweep", headers={"Authorization": "Bearer cron-secret"}).json()
    assert resumed["paused"] is False and resumed["paused_by"] is None and resumed["paused_since"] is None
