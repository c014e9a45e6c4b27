"""State in PostgreSQL (Supabase) through psycopg 3: deliveries, jobs, conversations, audit.

In production `DATABASE_URL` points at Supabase's transaction pooler (port 6543), which cannot
keep prepared statements across transactions, so every connection is opened with
`prepare_threshold=None`. A serverless function keeps a pool of at most two connections.
The schema is `supabase/migrations/`; this module is its only writer.

Every call is bounded, so the webhook answers within GitHub's 10 s even when the database is
down or a table is locked: connecting waits at most `connect_timeout` seconds, waiting for a pooled
connection at most `pool_timeout` seconds, and each transaction starts with `SET LOCAL`
`statement_timeout` and `lock_timeout` (transaction-scoped, so they work through a transaction
pooler, which forwards no startup options and shares server sessions between clients). Inside an
active deadline (`deadline.py`: the webhook's answer) each of these is capped by the time left.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from .deadline import budget

CONNECT_TIMEOUT_SECONDS = 3
POOL_TIMEOUT_SECONDS = 3.0
STATEMENT_TIMEOUT_MS = 3000
LOCK_TIMEOUT_MS = 2000
MIN_STATEMENT_TIMEOUT_MS = 50  # less time left than this before a deadline: the call is not made

# A job is `running` from the agent's start until it finishes. A workflow run that GitHub cancels or
# times out never reports back, so the sweeper fails a job still running this long after its start:
# the longest path through the kind's workflow (the `timeout-minutes` of its jobs, in
# .github/workflows/) plus a margin. `fix` and `revise` run in the Developer workflow. Kinds not
# listed get DEFAULT_RUNNING_TIMEOUT_MINUTES; `Store.sweep` takes the table as an argument.
DEVELOPER_WORKFLOW_MINUTES = 10 + 30 + 10  # developer-agent.yml: claim, develop, publish
RUNNING_TIMEOUT_MINUTES = {
    "product_owner": 15,  # product-owner-agent.yml
    "developer": DEVELOPER_WORKFLOW_MINUTES,
    "fix": DEVELOPER_WORKFLOW_MINUTES,
    "revise": DEVELOPER_WORKFLOW_MINUTES,
    "lifecycle": 10,  # lifecycle-agent.yml
}
DEFAULT_RUNNING_TIMEOUT_MINUTES = 60
RUNNING_TIMEOUT_MARGIN_MINUTES = 5
# Statuses after which a job never runs or is dispatched again.
FINAL_STATUSES = ("succeeded", "failed", "cancelled", "abandoned")


class StoreError(RuntimeError):
    """The database could not be reached or refused an operation."""


class StoreBusyError(StoreError):
    """The database is reachable but did not answer in time: a lock, a statement timeout, no free connection."""


class StoreDataError(StoreError):
    """The database refused a value (a malformed payload, a value out of range): retrying will not help."""


@dataclass(frozen=True)
class JobSpec:
    kind: str
    repository: str
    issue_number: int
    # The login whose permission the agent must check before acting (the webhook could not).
    verify_permission_of: str | None = None


# The `agent_actions` type of a person with write access engaging with an issue (`steering.py`).
WRITER_ENGAGED_ACTION = "writer_engaged"


@dataclass(frozen=True)
class Engagement:
    """A person with write access acting on an issue: from then on its author steers it."""

    repository: str
    issue_number: int
    login: str
    how: str  # what they did, in words: "commented", "labelled ready-for-dev", "assigned the issue"...
    permission: str  # their permission, or "owner" when the payload names them the repository's OWNER
    delivery_id: str | None = None

    def payload(self) -> dict[str, Any]:
        """The action's payload; `detail` is the line the console's timeline shows."""
        detail = f"{self.login} ({self.permission}) {self.how}: the issue's author steers it from now on"
        return {
            "actor": self.login,
            "how": self.how,
            "permission": self.permission,
            "delivery": self.delivery_id,
            "detail": detail,
        }


@dataclass(frozen=True)
class DeliveryResult:
    event_id: int | None
    duplicate: bool
    job_id: uuid.UUID | None


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    kind: str
    status: str
    repository: str
    issue_number: int
    attempts: int
    last_error: str | None
    created_at: datetime
    verify_permission_of: str | None
    workflow_run_id: int | None = None
    budget_factor: Decimal = Decimal(1)
    budget_raised_by: str | None = None
    budget_raised_at: datetime | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Message:
    role: str
    content: str
    author_login: str | None
    github_comment_id: int | None


@dataclass(frozen=True)
class SweepReport:
    dispatched: list[uuid.UUID]
    failed_dispatch: list[uuid.UUID]
    abandoned: list[uuid.UUID]  # given up after too many failed dispatches (status `failed`)
    timed_out: list[uuid.UUID] = field(default_factory=list)  # running past their workflow's timeout


# -- interventions: what a person does from the console ----------------------------------------------
RAISED_BUDGET_FACTOR = 2  # the one raise jobs_budget_factor_check allows (from 1)
RETRYABLE_STATUSES = ("failed", "abandoned", "cancelled")


@dataclass(frozen=True)
class AgentSwitch:
    """The pause switch of every agent (`agent_controls`) and who turned it last, when."""

    paused: bool
    changed_by: str | None
    changed_at: datetime | None


@dataclass(frozen=True)
class JobClaim:
    """A job's start: the job, now running; or why it is not (unknown, finished, or held by the pause)."""

    job: Job | None
    held_by: AgentSwitch | None = None  # set when the agents are paused: the job went back to pending


@dataclass(frozen=True)
class JobControls:
    """What a running job follows: the pause switch and its own budget factor."""

    paused: bool
    paused_by: str | None
    budget_factor: Decimal


@dataclass(frozen=True)
class JobRetry:
    """A retry's new job; or none, because the job is not retryable or `unfinished_job` does that work already."""

    new_job: uuid.UUID | None
    unfinished_job: uuid.UUID | None = None


def held_reason(switch: AgentSwitch) -> str:
    """The reason a job waits, kept in `jobs.last_error` and shown in the console."""
    when = f" at {switch.changed_at:%Y-%m-%d %H:%M} UTC" if switch.changed_at else ""
    return f"held: the agents were paused by {switch.changed_by or 'someone'}{when}; dispatched when they resume"


def _payload_text(raw: bytes | str) -> str:
    """The delivery body as jsonb input. PostgreSQL's jsonb cannot hold U+0000: drop it."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if "\\u0000" in text:
        text = json.dumps(_strip_nul(json.loads(text)))
    return text


def _strip_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(item) for item in value]
    if isinstance(value, dict):
        return {_strip_nul(key): _strip_nul(item) for key, item in value.items()}
    return value


class Store:
    """Typed operations on the runtime's tables over a small psycopg connection pool."""

    def __init__(
        self,
        conninfo: str,
        *,
        max_connections: int = 2,
        connect_timeout: int = CONNECT_TIMEOUT_SECONDS,
        pool_timeout: float = POOL_TIMEOUT_SECONDS,
        statement_timeout_ms: int = STATEMENT_TIMEOUT_MS,
        lock_timeout_ms: int = LOCK_TIMEOUT_MS,
    ) -> None:
        self._conninfo = conninfo
        self._max_connections = max_connections
        self._connect_timeout = max(1, int(connect_timeout))  # libpq counts whole seconds
        self._pool_timeout = pool_timeout
        self._statement_timeout_ms = int(statement_timeout_ms)
        self._lock_timeout_ms = int(lock_timeout_ms)
        self._pool: Any = None

    def _get_pool(self) -> Any:
        if self._pool is None:
            self._pool = ConnectionPool(
                self._conninfo,
                min_size=1,
                max_size=self._max_connections,
                kwargs={"prepare_threshold": None, "connect_timeout": self._connect_timeout},
                check=ConnectionPool.check_connection,
                timeout=self._pool_timeout,
                open=True,
                name="osorganicai",
            )
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @contextmanager
    def transaction(self) -> Iterator[psycopg.Cursor[dict[str, Any]]]:
        """A cursor inside one transaction: committed on success, rolled back on error.

        The transaction's statements run under the store's statement and lock timeouts. Errors
        become StoreBusyError (timeouts), StoreDataError (a refused value) or StoreError.
        """
        # Within an active deadline (the webhook's), each limit is also capped by the time left.
        statement_ms = int(budget(self._statement_timeout_ms / 1000) * 1000)
        if statement_ms < MIN_STATEMENT_TIMEOUT_MS:
            raise StoreBusyError("database not called: the caller's deadline has passed")
        lock_ms = min(self._lock_timeout_ms, statement_ms)
        try:
            pool = self._get_pool()
            with (
                pool.connection(timeout=budget(self._pool_timeout)) as connection,
                connection.cursor(row_factory=dict_row) as cursor,
            ):
                cursor.execute(
                    "select pg_catalog.set_config('statement_timeout', %s, true),"
                    " pg_catalog.set_config('lock_timeout', %s, true)",
                    (f"{statement_ms}ms", f"{lock_ms}ms"),
                )
                yield cursor
        except (PoolTimeout, TimeoutError) as error:
            raise StoreBusyError(f"database unreachable or busy: {error}") from error
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled) as error:
            raise StoreBusyError(f"database busy: {error.__class__.__name__}: {error}".strip()) from error
        except psycopg.DataError as error:
            raise StoreDataError(f"database refused a value: {error.__class__.__name__}: {error}".strip()) from error
        except psycopg.Error as error:
            raise StoreError(f"database error: {error.__class__.__name__}: {error}".strip()) from error

    def ping(self) -> bool:
        with self.transaction() as cursor:
            cursor.execute("select 1 as ok")
            row = cursor.fetchone()
        return bool(row and row["ok"] == 1)

    # -- deliveries and jobs ---------------------------------------------------------------
    def record_delivery(
        self,
        *,
        delivery_id: str,
        event: str,
        action: str | None,
        repository: str | None,
        issue_number: int | None,
        sender_login: str | None,
        payload: bytes | str,
        outcome: str,
        outcome_detail: str | None,
        job: JobSpec | None,
        engagement: Engagement | None = None,
    ) -> DeliveryResult:
        """Store a delivery, its job and the writer's engagement it shows in one transaction; a
        redelivery changes nothing."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.webhook_events
                  (delivery_id, event, action, repository, issue_number, sender_login,
                   payload, outcome, outcome_detail)
                values (%s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)
                on conflict (delivery_id) do nothing
                returning id
                """,
                (
                    delivery_id,
                    event,
                    action,
                    repository,
                    issue_number,
                    sender_login,
                    _payload_text(payload),
                    outcome,
                    outcome_detail,
                ),
            )
            row = cursor.fetchone()
            if row is None:
                return DeliveryResult(event_id=None, duplicate=True, job_id=None)
            job_id = None
            if job is not None:
                cursor.execute(
                    """
                    insert into public.jobs (kind, repository, issue_number, webhook_event_id, verify_permission_of)
                    values (%s, %s, %s, %s, %s)
                    returning id
                    """,
                    (job.kind, job.repository, job.issue_number, row["id"], job.verify_permission_of),
                )
                job_row = cursor.fetchone()
                job_id = job_row["id"] if job_row else None
            if engagement is not None:
                _insert_engagement(cursor, engagement, job_id)
            return DeliveryResult(event_id=row["id"], duplicate=False, job_id=job_id)

    def record_engagement(self, engagement: Engagement, job_id: uuid.UUID | None = None) -> None:
        with self.transaction() as cursor:
            _insert_engagement(cursor, engagement, job_id)

    def writer_engaged(self, repository: str, issue_number: int) -> bool:
        """Whether a person with write access has engaged with the issue (`steering.py`)."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                select exists (
                  select 1 from public.agent_actions
                  where repository = %s and issue_number = %s and action_type = %s
                ) as engaged
                """,
                (repository, issue_number, WRITER_ENGAGED_ACTION),
            )
            row = cursor.fetchone()
        return bool(row and row["engaged"])

    def create_job(self, job: JobSpec) -> uuid.UUID:
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.jobs (kind, repository, issue_number, verify_permission_of)
                values (%s, %s, %s, %s)
                returning id
                """,
                (job.kind, job.repository, job.issue_number, job.verify_permission_of),
            )
            row = cursor.fetchone()
        if row is None:
            raise StoreError("job insert returned no id")
        return row["id"]

    def get_job(self, job_id: uuid.UUID) -> Job | None:
        with self.transaction() as cursor:
            cursor.execute("select * from public.jobs where id = %s", (job_id,))
            row = cursor.fetchone()
        return Job.from_row(row) if row else None

    def mark_dispatched(self, job_id: uuid.UUID) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs
                set status = 'dispatched', dispatched_at = pg_catalog.now(), attempts = attempts + 1,
                    last_error = null
                where id = %s and status = 'pending'
                """,
                (job_id,),
            )

    def mark_dispatch_failed(self, job_id: uuid.UUID, error: str) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                "update public.jobs set attempts = attempts + 1, last_error = %s where id = %s",
                (error[:2000], job_id),
            )

    def start_job(self, job_id: uuid.UUID) -> Job | None:
        """Move a job to running. None when it is unknown or already finished."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs
                set status = 'running', started_at = pg_catalog.now()
                where id = %s and status in ('pending', 'dispatched', 'running')
                returning *
                """,
                (job_id,),
            )
            row = cursor.fetchone()
        return Job.from_row(row) if row else None

    def finish_job(self, job_id: uuid.UUID, *, succeeded: bool, error: str | None = None) -> None:
        """Record a job's outcome. A job already cancelled or abandoned keeps that status."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs
                set status = %s, finished_at = pg_catalog.now(), last_error = %s
                where id = %s and status not in ('cancelled', 'abandoned')
                """,
                ("succeeded" if succeeded else "failed", (error or None) and error[:2000], job_id),
            )

    def cancel_job(self, job_id: uuid.UUID, reason: str) -> bool:
        """Stop a job that has not finished: it is never dispatched again. False when it already finished."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs set status = 'cancelled', finished_at = pg_catalog.now(), last_error = %s
                where id = %s and status not in ('succeeded', 'failed', 'cancelled', 'abandoned')
                returning id
                """,
                (reason[:2000], job_id),
            )
            return cursor.fetchone() is not None

    def abandon_jobs(self, repository: str, issue_number: int, reason: str) -> list[uuid.UUID]:
        """Abandon every unfinished job of an issue (its conversation ended): none is dispatched again."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs set status = 'abandoned', finished_at = pg_catalog.now(), last_error = %s
                where repository = %s and issue_number = %s
                  and status not in ('succeeded', 'failed', 'cancelled', 'abandoned')
                returning id
                """,
                (reason[:2000], repository, issue_number),
            )
            return [row["id"] for row in cursor.fetchall()]

    def sweep(
        self,
        dispatch: Callable[[Job], None],
        *,
        limit: int = 20,
        max_attempts: int = 8,
        redispatch_after_minutes: int = 30,
        running_timeout_minutes: Mapping[str, int] | None = None,
    ) -> SweepReport:
        """Fail jobs stuck in `running`, then dispatch pending jobs and jobs dispatched long ago that never started.

        Only `pending` and `dispatched` jobs are ever dispatched: succeeded, failed, cancelled and
        abandoned jobs never are, and none while the agents are paused (`agent_controls`). Rows are
        locked with FOR UPDATE SKIP LOCKED, so two sweepers running at once never take the same job.
        `dispatch` raises to report a failed hand-off.
        """
        timed_out = self._fail_stuck_jobs(running_timeout_minutes or RUNNING_TIMEOUT_MINUTES, limit)
        dispatched: list[uuid.UUID] = []
        failed: list[uuid.UUID] = []
        abandoned: list[uuid.UUID] = []
        with self.transaction() as cursor:
            cursor.execute(
                """
                select * from public.jobs
                where (status = 'pending'
                   or (status = 'dispatched'
                       and dispatched_at < pg_catalog.now() - pg_catalog.make_interval(mins => %s)))
                  and not exists (select 1 from public.agent_controls where paused)
                order by created_at
                limit %s
                for update skip locked
                """,
                (redispatch_after_minutes, limit),
            )
            for row in cursor.fetchall():
                job = Job.from_row(row)
                if job.attempts >= max_attempts:
                    cursor.execute(
                        """
                        update public.jobs set status = 'failed', finished_at = pg_catalog.now(),
                          last_error = coalesce(last_error, '') || ' (gave up after ' || attempts || ' dispatches)'
                        where id = %s
                        """,
                        (job.id,),
                    )
                    abandoned.append(job.id)
                    continue
                try:
                    dispatch(job)
                except Exception as error:  # noqa: BLE001 - any hand-off failure keeps the job pending
                    cursor.execute(
                        "update public.jobs set attempts = attempts + 1, last_error = %s where id = %s",
                        (f"{error.__class__.__name__}: {error}"[:2000], job.id),
                    )
                    failed.append(job.id)
                else:
                    cursor.execute(
                        """
                        update public.jobs set status = 'dispatched', dispatched_at = pg_catalog.now(),
                          attempts = attempts + 1, last_error = null
                        where id = %s
                        """,
                        (job.id,),
                    )
                    dispatched.append(job.id)
        return SweepReport(dispatched=dispatched, failed_dispatch=failed, abandoned=abandoned, timed_out=timed_out)

    def _fail_stuck_jobs(self, timeout_minutes: Mapping[str, int], limit: int) -> list[uuid.UUID]:
        """Mark jobs running past their workflow's timeout (plus a margin) as failed, saying why."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                with stuck as (
                  select id, kind, coalesce(started_at, dispatched_at, created_at) as since,
                         coalesce((%(timeouts)s::jsonb ->> kind)::integer, %(default)s) as timeout_minutes
                  from public.jobs
                  where status = 'running'
                    and coalesce(started_at, dispatched_at, created_at)
                        < pg_catalog.now() - pg_catalog.make_interval(
                            mins => coalesce((%(timeouts)s::jsonb ->> kind)::integer, %(default)s) + %(margin)s)
                  order by since
                  limit %(limit)s
                  for update skip locked
                )
                update public.jobs as job
                set status = 'failed', finished_at = pg_catalog.now(),
                    last_error = pg_catalog.format(
                      'still running %%s minutes after it started, past the %%s workflow''s timeout of %%s minutes: '
                      'the run was cancelled or timed out without reporting back',
                      pg_catalog.floor(extract(epoch from pg_catalog.now() - stuck.since) / 60)::bigint,
                      stuck.kind, stuck.timeout_minutes)
                from stuck
                where job.id = stuck.id
                returning job.id
                """,
                {
                    "timeouts": json.dumps(dict(timeout_minutes)),
                    "default": DEFAULT_RUNNING_TIMEOUT_MINUTES,
                    "margin": RUNNING_TIMEOUT_MARGIN_MINUTES,
                    "limit": limit,
                },
            )
            return [row["id"] for row in cursor.fetchall()]

    # -- conversations --------------------------------------------------------------------
    def add_message(
        self,
        *,
        repository: str,
        issue_number: int,
        role: str,
        content: str,
        author_login: str | None = None,
        github_comment_id: int | None = None,
    ) -> bool:
        """Append to an issue's conversation. False when that comment is already stored."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.conversations
                  (repository, issue_number, role, content, author_login, github_comment_id)
                values (%s, %s, %s, %s, %s, %s)
                on conflict (github_comment_id) where github_comment_id is not null do nothing
                returning id
                """,
                (repository, issue_number, role, content, author_login, github_comment_id),
            )
            return cursor.fetchone() is not None

    def conversation(self, repository: str, issue_number: int) -> list[Message]:
        with self.transaction() as cursor:
            cursor.execute(
                """
                select role, content, author_login, github_comment_id from public.conversations
                where repository = %s and issue_number = %s
                order by created_at, id
                """,
                (repository, issue_number),
            )
            return [Message(**row) for row in cursor.fetchall()]

    # -- audit ------------------------------------------------------------------------------
    def log_action(
        self,
        *,
        agent: str,
        action_type: str,
        payload: dict[str, Any],
        repository: str | None = None,
        issue_number: int | None = None,
        job_id: uuid.UUID | None = None,
    ) -> None:
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.agent_actions (job_id, agent, action_type, repository, issue_number, payload)
                values (%s, %s, %s, %s, %s, %s)
                """,
                (job_id, agent, action_type, repository, issue_number, Jsonb(_strip_nul(payload))),
            )

    def record_code_generation(
        self,
        *,
        repository: str,
        issue_number: int,
        status: str,
        job_id: uuid.UUID | None = None,
        branch: str | None = None,
        commit_sha: str | None = None,
        pull_request_number: int | None = None,
        pull_request_url: str | None = None,
        files: list[str] | None = None,
        rejection_reasons: list[str] | None = None,
        provider: str | None = None,
        model: str | None = None,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cost_usd: float = 0.0,
        proposal_status: str | None = None,
        base_commit: str | None = None,
        checks: list[dict[str, Any]] | None = None,
        check_rounds: int = 0,
        steps: int = 0,
        minutes: float = 0.0,
        budget_exhausted: str | None = None,
        budget_remaining: str | None = None,
        detail: str | None = None,
    ) -> int:
        """One Developer run's outcome. Publishing a proposal also records the proposal's status, its
        base commit, the checks and the budgets used (steps, minutes, which budget ran out)."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.code_generations
                  (job_id, repository, issue_number, status, branch, commit_sha, pull_request_number,
                   pull_request_url, files, rejection_reasons, provider, model, input_tokens,
                   output_tokens, cost_usd, proposal_status, base_commit, checks, check_rounds, steps,
                   minutes, budget_exhausted, budget_remaining, detail)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,
                        %s, %s, %s, %s, %s, %s, %s, %s, %s)
                returning id
                """,
                (
                    job_id,
                    repository,
                    issue_number,
                    status,
                    branch,
                    commit_sha,
                    pull_request_number,
                    pull_request_url,
                    Jsonb(files or []),
                    Jsonb(rejection_reasons or []),
                    provider,
                    model,
                    input_tokens,
                    output_tokens,
                    cost_usd,
                    proposal_status,
                    base_commit,
                    Jsonb(_strip_nul(checks or [])),
                    check_rounds,
                    steps,
                    minutes,
                    budget_exhausted,
                    budget_remaining and _strip_nul(budget_remaining)[:5000],
                    detail and _strip_nul(detail)[:5000],
                ),
            )
            row = cursor.fetchone()
        if row is None:
            raise StoreError("code_generations insert returned no id")
        return int(row["id"])

    # -- interventions: the pause switch, workflow runs, raised budgets, retries -------------------------
    def agent_switch(self) -> AgentSwitch:
        with self.transaction() as cursor:
            cursor.execute("select paused, changed_by, changed_at from public.agent_controls where id")
            row = cursor.fetchone()
        return AgentSwitch(**row) if row else AgentSwitch(paused=False, changed_by=None, changed_at=None)

    def set_agents_paused(self, paused: bool, login: str) -> tuple[AgentSwitch, bool]:
        """Turn the switch; the switch after, and False when it already was in that position (left as it was)."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                insert into public.agent_controls as controls (id, paused, changed_by, changed_at)
                values (true, %(paused)s, %(login)s, pg_catalog.now())
                on conflict (id) do update
                  set paused = excluded.paused, changed_by = excluded.changed_by, changed_at = excluded.changed_at
                  where controls.paused is distinct from excluded.paused
                returning paused, changed_by, changed_at
                """,
                {"paused": paused, "login": login[:100]},
            )
            row = cursor.fetchone()
            if row is not None:
                return AgentSwitch(**row), True
            cursor.execute("select paused, changed_by, changed_at from public.agent_controls where id")
            return AgentSwitch(**cursor.fetchone()), False

    def hold_if_paused(self, job_id: uuid.UUID) -> AgentSwitch | None:
        """While the agents are paused, keep a pending job pending with the reason; the switch then, else None."""
        with self.transaction() as cursor:
            cursor.execute("select paused, changed_by, changed_at from public.agent_controls where id for share")
            row = cursor.fetchone()
            if row is None or not row["paused"]:
                return None
            switch = AgentSwitch(**row)
            cursor.execute(
                "update public.jobs set last_error = %s where id = %s and status = 'pending'",
                (held_reason(switch), job_id),
            )
            return switch

    def claim_job(self, job_id: uuid.UUID, workflow_run_id: int | None = None) -> JobClaim:
        """Start a job in its workflow run, unless the agents are paused: then it goes back to `pending`
        with the reason (dispatched again on resume) and `held_by` says so. The switch is read FOR SHARE,
        so a pause waits for a claim in progress, and a claim after a pause sees it."""
        with self.transaction() as cursor:
            cursor.execute("select paused, changed_by, changed_at from public.agent_controls where id for share")
            row = cursor.fetchone()
            switch = AgentSwitch(**row) if row else None
            if switch is not None and switch.paused:
                cursor.execute(
                    """
                    update public.jobs set status = 'pending', last_error = %s
                    where id = %s and status in ('pending', 'dispatched', 'running')
                    """,
                    (held_reason(switch), job_id),
                )
                return JobClaim(job=None, held_by=switch)
            cursor.execute(
                """
                update public.jobs
                set status = 'running', started_at = pg_catalog.now(),
                    workflow_run_id = coalesce(%s, workflow_run_id)
                where id = %s and status in ('pending', 'dispatched', 'running')
                returning *
                """,
                (workflow_run_id, job_id),
            )
            job_row = cursor.fetchone()
        return JobClaim(job=Job.from_row(job_row) if job_row else None)

    def job_controls(self, job_id: uuid.UUID) -> JobControls:
        """The pause switch and the job's budget factor (1 for an unknown job), in one query."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                select controls.paused, controls.changed_by as paused_by, coalesce(job.budget_factor, 1) as budget_factor
                from public.agent_controls as controls
                left join public.jobs as job on job.id = %s
                where controls.id
                """,
                (job_id,),
            )
            row = cursor.fetchone()
        return JobControls(**row) if row else JobControls(paused=False, paused_by=None, budget_factor=Decimal(1))

    def pause_job(self, job_id: uuid.UUID, reason: str) -> bool:
        """A run the pause switch stopped (its work kept): `paused` until the agents resume."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs set status = 'paused', finished_at = pg_catalog.now(), last_error = %s
                where id = %s and status in ('pending', 'dispatched', 'running')
                returning id
                """,
                (reason[:2000], job_id),
            )
            return cursor.fetchone() is not None

    def requeue_paused_jobs(self) -> list[uuid.UUID]:
        """On resume: the jobs the pause stopped become `pending` again, for the sweep to dispatch."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs
                set status = 'pending', finished_at = null, last_error = 'queued again: the agents resumed'
                where status = 'paused'
                returning id
                """
            )
            return [row["id"] for row in cursor.fetchall()]

    def raise_job_budget(self, job_id: uuid.UUID, login: str, kinds: tuple[str, ...]) -> Job | None:
        """Multiply an unfinished job's budgets by RAISED_BUDGET_FACTOR, once. None when the job is
        unknown, finished, of another kind, or already raised (the caller reads the job to say which)."""
        with self.transaction() as cursor:
            cursor.execute(
                """
                update public.jobs
                set budget_factor = %s, budget_raised_by = %s, budget_raised_at = pg_catalog.now()
                where id = %s and budget_factor = 1 and kind = any(%s)
                  and status not in ('succeeded', 'failed', 'cancelled', 'abandoned')
                returning *
                """,
                (RAISED_BUDGET_FACTOR, login[:100], job_id, list(kinds)),
            )
            row = cursor.fetchone()
        return Job.from_row(row) if row else None

    def retry_job(self, job_id: uuid.UUID) -> JobRetry:
        """A new pending job for the same work as a failed, abandoned or cancelled one (same kind, issue and
        delivery), unless a job for that same work is still unfinished (a retry already queued). The
        retried row is locked first, so two retries at once make one job."""
        with self.transaction() as cursor:
            cursor.execute("select * from public.jobs where id = %s for update", (job_id,))
            row = cursor.fetchone()
            if row is None or row["status"] not in RETRYABLE_STATUSES:
                return JobRetry(new_job=None)
            cursor.execute(
                """
                select id from public.jobs
                where kind = %s and repository = %s and issue_number = %s
                  and webhook_event_id is not distinct from %s
                  and status in ('pending', 'dispatched', 'running', 'paused')
                order by created_at desc
                limit 1
                """,
                (row["kind"], row["repository"], row["issue_number"], row["webhook_event_id"]),
            )
            unfinished = cursor.fetchone()
            if unfinished is not None:
                return JobRetry(new_job=None, unfinished_job=unfinished["id"])
            cursor.execute(
                """
                insert into public.jobs (kind, repository, issue_number, webhook_event_id)
                values (%s, %s, %s, %s)
                returning id
                """,
                (row["kind"], row["repository"], row["issue_number"], row["webhook_event_id"]),
            )
            return JobRetry(new_job=cursor.fetchone()["id"])


def _insert_engagement(cursor: psycopg.Cursor[dict[str, Any]], engagement: Engagement, job_id: uuid.UUID | None) -> None:
    cursor.execute(
        """
        insert into public.agent_actions (job_id, agent, action_type, repository, issue_number, payload)
        values (%s, %s, %s, %s, %s, %s)
        """,
        (
            job_id,
            engagement.login,
            WRITER_ENGAGED_ACTION,
            engagement.repository,
            engagement.issue_number,
            Jsonb(_strip_nul(engagement.payload())),
        ),
    )
