"""The migrations and the store, against a real PostgreSQL server."""

from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest

from osorganicai.db import JobSpec, Store

from .conftest import PostgresServer, apply_migrations
from .support import fixture_bytes

TABLES = ("webhook_events", "jobs", "conversations", "agent_actions", "code_generations")


def record(store: Store, delivery: str, job: JobSpec | None = None):
    return store.record_delivery(
        delivery_id=delivery, event="issues", action="opened", repository="Codertocat/Hello-World",
        issue_number=1, sender_login="Codertocat", payload=fixture_bytes("issues.opened.payload.json"),
        outcome="queued" if job else "ignored", outcome_detail="test", job=job,
    )


def fill_every_table(store: Store) -> None:
    result = record(store, "delivery-fill", JobSpec("product_owner", "Codertocat/Hello-World", 1))
    store.add_message(repository="Codertocat/Hello-World", issue_number=1, role="user", content="hi", github_comment_id=1)
    store.log_action(agent="product_owner", action_type="test", payload={"a": 1}, job_id=result.job_id)
    store.record_code_generation(repository="Codertocat/Hello-World", issue_number=1, status="rejected")


def test_migrations_apply_to_plain_postgresql(pg_server: PostgresServer) -> None:
    with pg_server.admin("plain_postgres") as connection:
        rows = connection.execute(
            "select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace and relkind = 'r'"
        ).fetchall()
    assert dict(rows) == dict.fromkeys(TABLES, True)


def test_migrations_fail_atomically_when_applied_twice(database: str) -> None:
    with pytest.raises(psycopg.errors.DuplicateFunction):
        apply_migrations(database)
    with psycopg.connect(database) as connection:
        assert connection.execute("select count(*) from public.jobs").fetchone() == (0,)


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_client_roles_see_no_row_of_any_table(store: Store, database: str, role: str) -> None:
    fill_every_table(store)
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(f"set role {role}")
        for table in TABLES:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                connection.execute(f"select * from public.{table}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            connection.execute("insert into public.jobs (kind, repository, issue_number) values ('developer', 'a/b', 1)")


@pytest.mark.parametrize("role", ["anon", "authenticated"])
def test_row_level_security_hides_rows_even_if_a_grant_comes_back(store: Store, database: str, role: str) -> None:
    fill_every_table(store)
    with psycopg.connect(database, autocommit=True) as connection:
        for table in TABLES:
            connection.execute(f"grant select on public.{table} to {role}")
        connection.execute(f"set role {role}")
        for table in TABLES:
            assert connection.execute(f"select count(*) from public.{table}").fetchone() == (0,), table


def test_service_role_keeps_access(store: Store, database: str) -> None:
    fill_every_table(store)
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute("set role service_role")
        assert connection.execute("select count(*) from public.jobs").fetchone() == (1,)


def test_redelivered_event_is_stored_once(store: Store, database: str) -> None:
    first = record(store, "delivery-1", JobSpec("product_owner", "Codertocat/Hello-World", 1))
    second = record(store, "delivery-1", JobSpec("product_owner", "Codertocat/Hello-World", 1))
    assert not first.duplicate and first.job_id is not None
    assert second.duplicate and second.job_id is None
    with psycopg.connect(database) as connection:
        assert connection.execute("select count(*) from public.webhook_events").fetchone() == (1,)
        assert connection.execute("select count(*) from public.jobs").fetchone() == (1,)


def test_concurrent_redeliveries_race_to_one_row(store: Store, database: str) -> None:
    results = []
    barrier = threading.Barrier(4)

    def deliver() -> None:
        own = Store(database, max_connections=1)
        barrier.wait()
        results.append(record(own, "delivery-race", JobSpec("developer", "Codertocat/Hello-World", 1)))
        own.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(result.duplicate for result in results) == [False, True, True, True]
    with psycopg.connect(database) as connection:
        assert connection.execute("select count(*) from public.jobs").fetchone() == (1,)


def test_payload_with_nul_character_is_stored(store: Store) -> None:
    body = b'{"action": "opened", "issue": {"number": 1, "body": "a\\u0000b"}}'
    result = store.record_delivery(
        delivery_id="nul", event="issues", action="opened", repository=None, issue_number=1,
        sender_login=None, payload=body, outcome="ignored", outcome_detail=None, job=None,
    )
    assert result.event_id is not None


def test_updated_at_trigger_stamps_updates(store: Store, database: str) -> None:
    job_id = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 3))
    with psycopg.connect(database) as connection:
        connection.execute("update public.jobs set created_at = now() - interval '1 day', updated_at = now() - interval '1 day'")
    store.mark_dispatched(job_id)
    with psycopg.connect(database) as connection:
        created, updated = connection.execute("select created_at, updated_at from public.jobs").fetchone()
    assert updated > created


def test_job_lifecycle(store: Store) -> None:
    job_id = store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 2))
    store.mark_dispatch_failed(job_id, "GitHub down")
    job = store.get_job(job_id)
    assert job is not None and job.status == "pending" and job.attempts == 1 and job.last_error == "GitHub down"
    assert store.start_job(job_id) is not None
    store.finish_job(job_id, succeeded=True)
    assert store.get_job(job_id).status == "succeeded"
    assert store.start_job(job_id) is None
    assert store.start_job(uuid.uuid4()) is None


def test_sweep_dispatches_each_pending_job_once_with_skip_locked(store: Store, database: str) -> None:
    ids = [store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", n)) for n in range(1, 7)]
    dispatched: list[uuid.UUID] = []
    lock = threading.Lock()
    barrier = threading.Barrier(2)

    def slow_dispatch(job) -> None:
        time.sleep(0.05)  # hold the row locks while the other sweeper runs
        with lock:
            dispatched.append(job.id)

    def sweeper() -> None:
        own = Store(database, max_connections=1)
        barrier.wait()
        own.sweep(slow_dispatch, limit=3)
        own.close()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Each sweeper locked its own three rows and skipped the other's: six distinct jobs.
    assert len(dispatched) == 6 and len(set(dispatched)) == 6
    report = store.sweep(slow_dispatch, limit=20)
    assert sorted(dispatched, key=str) == sorted(ids, key=str)
    assert report.failed_dispatch == []
    assert all(store.get_job(job_id).status == "dispatched" for job_id in ids)


def test_sweep_keeps_failed_dispatches_pending_then_gives_up(store: Store) -> None:
    job_id = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 9))

    def broken(job) -> None:
        raise ConnectionError("GitHub unreachable")

    for _ in range(3):
        report = store.sweep(broken, max_attempts=3)
    assert report.failed_dispatch == [job_id]
    assert store.get_job(job_id).status == "pending"
    report = store.sweep(broken, max_attempts=3)
    assert report.abandoned == [job_id]
    assert store.get_job(job_id).status == "failed"


def test_conversation_keeps_each_comment_once_in_order(store: Store) -> None:
    repo = "Codertocat/Hello-World"
    assert store.add_message(repository=repo, issue_number=1, role="assistant", content="Q?", github_comment_id=10)
    assert store.add_message(repository=repo, issue_number=1, role="user", content="A.", github_comment_id=11)
    assert not store.add_message(repository=repo, issue_number=1, role="user", content="A.", github_comment_id=11)
    assert [(m.role, m.content) for m in store.conversation(repo, 1)] == [("assistant", "Q?"), ("user", "A.")]
    assert store.conversation(repo, 2) == []


def test_ping(store: Store) -> None:
    assert store.ping()


def test_agent_checks_a_permission_the_webhook_could_not(store: Store, fake_github) -> None:
    from osorganicai.jobs import permission_refusal

    github = fake_github.client()
    checked_later = store.get_job(store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 1, "stranger")))
    assert checked_later is not None and checked_later.verify_permission_of == "stranger"
    fake_github.permissions["stranger"] = "read"
    assert "stranger has no write or triage access (read)" in (permission_refusal(github, checked_later) or "")
    fake_github.permissions["stranger"] = "triage"
    assert permission_refusal(github, checked_later) is None
    lookups = len([call for call in fake_github.calls if "/collaborators/" in call.path])
    already_checked = store.get_job(store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 2)))
    assert already_checked is not None and permission_refusal(github, already_checked) is None
    # A job whose sender the webhook already checked costs no second lookup.
    assert len([call for call in fake_github.calls if "/collaborators/" in call.path]) == lookups
