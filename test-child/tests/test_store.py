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

TABLES = ("webhook_events", "jobs", "conversations", "agent_actions", "code_generations", "pull_request_states", "agent_controls")


def record(store: Store, delivery: str, job: JobSpec | None = None):
    return store.record_delivery(
        delivery_id=delivery,
        event="issues",
        action="opened",
        repository="Codertocat/Hello-World",
        issue_number=1,
        sender_login="Codertocat",
        payload=fixture_bytes("issues.opened.payload.json"),
        outcome="queued" if job else "ignored",
        outcome_detail="test",
        job=job,
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
        delivery_id="nul",
        event="issues",
        action="opened",
        repository=None,
        issue_number=1,
        sender_login=None,
        payload=body,
        outcome="ignored",
        outcome_detail=None,
        job=None,
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
    assert "stranger has no write, maintain or admin access (read)" in (permission_refusal(github, checked_later) or "")
    fake_github.permissions["stranger"] = "triage"
    assert "stranger has no write, maintain or admin access (triage)" in (permission_refusal(github, checked_later) or "")
    fake_github.permissions["stranger"] = "maintain"
    assert permission_refusal(github, checked_later) is None
    lookups = len([call for call in fake_github.calls if "/collaborators/" in call.path])
    already_checked = store.get_job(store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 2)))
    assert already_checked is not None and permission_refusal(github, already_checked) is None
    # A job whose sender the webhook already checked costs no second lookup.
    assert len([call for call in fake_github.calls if "/collaborators/" in call.path]) == lookups


def test_a_locked_table_fails_fast_instead_of_waiting(store: Store, database: str) -> None:
    from osorganicai.db import LOCK_TIMEOUT_MS, StoreBusyError

    with psycopg.connect(database) as locker:
        locker.execute("lock table public.jobs in access exclusive mode")
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="LockNotAvailable"):
            store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))
        waited = time.monotonic() - started
    assert LOCK_TIMEOUT_MS / 1000 - 0.1 < waited < 5
    assert store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))


def test_a_slow_statement_is_cancelled_by_the_statement_timeout(database: str) -> None:
    from osorganicai.db import StoreBusyError

    quick = Store(database, statement_timeout_ms=300)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="QueryCanceled"), quick.transaction() as cursor:
            cursor.execute("select pg_catalog.pg_sleep(5)")
        assert time.monotonic() - started < 2
        assert quick.ping()  # the connection went back to the pool usable
    finally:
        quick.close()


def test_an_unreachable_database_fails_within_the_connect_timeout(tmp_path) -> None:
    from osorganicai.db import StoreBusyError

    nowhere = Store(f"host={tmp_path} port=5432 user=postgres dbname=none", connect_timeout=1, pool_timeout=1.0)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError):
            nowhere.ping()
        assert time.monotonic() - started < 3
    finally:
        nowhere.close()


def test_a_value_the_database_refuses_is_a_data_error(store: Store) -> None:
    from osorganicai.db import StoreDataError

    with pytest.raises(StoreDataError):
        store.record_delivery(
            delivery_id="surrogate",
            event="issues",
            action=None,
            repository=None,
            issue_number=None,
            sender_login=None,
            payload='{"a": "\\ud800"}',
            outcome="ignored",
            outcome_detail=None,
            job=None,
        )


def age_job(database: str, job_id: uuid.UUID, column: str, minutes: int) -> None:
    with psycopg.connect(database) as connection:
        connection.execute(
            f"update public.jobs set {column} = now() - make_interval(mins => %s) where id = %s", (minutes, job_id)
        )


def test_sweep_fails_jobs_running_past_their_workflow_timeout(store: Store, database: str) -> None:
    from osorganicai.db import RUNNING_TIMEOUT_MARGIN_MINUTES, RUNNING_TIMEOUT_MINUTES

    developer_limit = RUNNING_TIMEOUT_MINUTES["developer"] + RUNNING_TIMEOUT_MARGIN_MINUTES
    stuck = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))
    busy = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 2))
    owner = store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 3))
    for job_id in (stuck, busy, owner):
        store.start_job(job_id)
    age_job(database, stuck, "started_at", developer_limit + 1)
    age_job(database, busy, "started_at", developer_limit - 5)  # a long Developer run, still within its timeout
    age_job(database, owner, "started_at", RUNNING_TIMEOUT_MINUTES["product_owner"] + RUNNING_TIMEOUT_MARGIN_MINUTES + 1)
    dispatched: list[uuid.UUID] = []
    report = store.sweep(lambda job: dispatched.append(job.id))
    assert sorted(report.timed_out, key=str) == sorted([stuck, owner], key=str) and dispatched == []
    failed = store.get_job(stuck)
    assert failed is not None and failed.status == "failed"
    assert failed.last_error is not None and "past the developer workflow's timeout of 50 minutes" in failed.last_error
    assert store.get_job(busy).status == "running"
    assert store.sweep(lambda job: dispatched.append(job.id)).timed_out == []


def test_sweep_never_dispatches_cancelled_or_abandoned_jobs(store: Store, database: str) -> None:
    cancelled = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))
    abandoned = store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 2))
    dispatched_long_ago = store.create_job(JobSpec("product_owner", "Codertocat/Hello-World", 2))
    store.mark_dispatched(dispatched_long_ago)
    age_job(database, dispatched_long_ago, "dispatched_at", 120)  # would be re-dispatched if still live
    assert store.cancel_job(cancelled, "the workflow run was cancelled")
    assert sorted(store.abandon_jobs("Codertocat/Hello-World", 2, "pull request closed without merging"), key=str) == sorted(
        [abandoned, dispatched_long_ago], key=str
    )
    report = store.sweep(lambda job: pytest.fail(f"dispatched {job.id} ({job.status})"))
    assert report.dispatched == [] and report.failed_dispatch == [] and report.timed_out == []
    assert store.start_job(cancelled) is None and store.start_job(abandoned) is None
    store.finish_job(abandoned, succeeded=True)  # a run that ends late does not revive it
    assert [store.get_job(job_id).status for job_id in (cancelled, abandoned, dispatched_long_ago)] == [
        "cancelled",
        "abandoned",
        "abandoned",
    ]
    assert store.get_job(cancelled).last_error == "the workflow run was cancelled"
    assert not store.cancel_job(cancelled, "again")


def test_sweeper_skips_running_jobs_another_sweeper_holds(store: Store, database: str) -> None:
    stuck = store.create_job(JobSpec("developer", "Codertocat/Hello-World", 1))
    store.start_job(stuck)
    age_job(database, stuck, "started_at", 24 * 60)
    with psycopg.connect(database) as other:
        other.execute("select id from public.jobs where id = %s for update", (stuck,))
        assert store.sweep(lambda job: None).timed_out == []
    assert store.sweep(lambda job: None).timed_out == [stuck]
