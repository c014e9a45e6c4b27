"""The console's reads: read-only SQL over the runtime's tables, one function per page part.

Every query runs in `Store.transaction()` (so under its statement and lock timeouts) and writes
nothing. The pipeline reads, per issue, only the newest record of each kind that can move its
stage (`stages.STAGE_ACTION_TYPES`, jobs per kind and status, publications per outcome), which
keeps it one pass over indexed rows however long the history. `fingerprint` is what the live
view compares: it changes whenever a row a page shows is added or updated.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..db import DEFAULT_RUNNING_TIMEOUT_MINUTES, RUNNING_TIMEOUT_MARGIN_MINUTES, RUNNING_TIMEOUT_MINUTES, Store
from ..jobs import SWEEPER_AGENT
from .costs import CostRow
from .stages import STAGE_ACTION_TYPES

TIMELINE_LIMIT = 500
DELIVERIES_SHOWN = 100
JOBS_SHOWN = 50
SWEEPS_SHOWN = 20
INTERVENTIONS_SHOWN = 20
STUCK_WAITING_MINUTES = 30  # pending or dispatched this long without starting: the sweeper should have acted


@dataclass
class IssueRecords:
    """What the pipeline needs about one issue."""

    number: int
    title: str | None = None
    actions: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)
    generations: list[dict[str, Any]] = field(default_factory=list)
    pull_state: dict[str, Any] | None = None


def fingerprint(store: Store, repository: str, issue_number: int | None = None) -> str:
    """A short hash of the newest ids, update times and counts of every table the pages read
    (scoped to one issue when `issue_number` is given), and of the pause switch."""
    scope = "repository = %(repository)s" + (" and issue_number = %(issue)s" if issue_number is not None else "")
    with store.transaction() as cursor:
        cursor.execute(
            f"""
            select
              (select pg_catalog.concat(max(id), '/', count(*)) from public.agent_actions where {scope}) as actions,
              (select pg_catalog.concat(max(updated_at), '/', count(*)) from public.jobs where {scope}) as jobs,
              (select pg_catalog.concat(max(updated_at), '/', count(*))
               from public.code_generations where {scope}) as generations,
              (select pg_catalog.concat(max(id), '/', count(*)) from public.conversations where {scope}) as conversations,
              (select pg_catalog.concat(max(updated_at), '/', count(*)) from public.pull_request_states where {scope}) as pulls,
              (select pg_catalog.concat(max(updated_at), '/', count(*)) from public.webhook_events where {scope}) as deliveries,
              (select pg_catalog.concat(paused, '/', changed_at) from public.agent_controls) as switch,
              (select max(id) from public.agent_actions where agent = %(sweeper)s) as sweeps
            """,  # noqa: S608 - `scope` is one of two fixed strings; values are parameters
            {"repository": repository, "issue": issue_number, "sweeper": SWEEPER_AGENT},
        )
        row = cursor.fetchone() or {}
    text = "|".join(str(row.get(name)) for name in sorted(row))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


# -- pipeline --------------------------------------------------------------------------------------
def pipeline_records(store: Store, repository: str) -> list[IssueRecords]:
    """Every issue the runtime has recorded anything about, with what decides its stage."""
    issues: dict[int, IssueRecords] = {}

    def issue(number: int) -> IssueRecords:
        return issues.setdefault(number, IssueRecords(number))

    with store.transaction() as cursor:
        cursor.execute(
            """
            select distinct on (issue_number, agent, action_type) issue_number, agent, action_type, created_at
            from public.agent_actions
            where repository = %s and issue_number is not null and action_type = any(%s)
            order by issue_number, agent, action_type, created_at desc
            """,
            (repository, list(STAGE_ACTION_TYPES)),
        )
        for row in cursor.fetchall():
            issue(row["issue_number"]).actions.append(row)
        cursor.execute(
            """
            select distinct on (issue_number, kind, status)
              id, issue_number, kind, status, created_at, updated_at, finished_at, last_error, workflow_run_id
            from public.jobs
            where repository = %s
            order by issue_number, kind, status, created_at desc
            """,
            (repository,),
        )
        for row in cursor.fetchall():
            issue(row["issue_number"]).jobs.append(row)
        cursor.execute(
            """
            select distinct on (issue_number, status, proposal_status)
              issue_number, status, proposal_status, created_at, pull_request_number, pull_request_url
            from public.code_generations
            where repository = %s
            order by issue_number, status, proposal_status, created_at desc
            """,
            (repository,),
        )
        for row in cursor.fetchall():
            issue(row["issue_number"]).generations.append(row)
        cursor.execute("select * from public.pull_request_states where repository = %s", (repository,))
        for row in cursor.fetchall():
            issue(row["issue_number"]).pull_state = row
        titles = _titles(cursor, repository, list(issues))
    for number, title in titles.items():
        if number in issues:
            issues[number].title = title
    return sorted(issues.values(), key=lambda records: records.number, reverse=True)


def _titles(cursor: Any, repository: str, numbers: list[int]) -> dict[int, str]:
    """Each issue's title from the newest delivery about it that carries one."""
    if not numbers:
        return {}
    cursor.execute(
        """
        select distinct on (issue_number) issue_number, payload -> 'issue' ->> 'title' as title
        from public.webhook_events
        where repository = %s and issue_number = any(%s) and payload -> 'issue' ->> 'title' is not null
        order by issue_number, id desc
        """,
        (repository, numbers),
    )
    return {row["issue_number"]: row["title"] for row in cursor.fetchall()}


# -- one issue -------------------------------------------------------------------------------------
@dataclass
class IssueDetail:
    number: int
    title: str | None
    actions: list[dict[str, Any]]
    actions_total: int
    conversation: list[dict[str, Any]]
    jobs: list[dict[str, Any]]
    generations: list[dict[str, Any]]
    pull_state: dict[str, Any] | None


def issue_detail(store: Store, repository: str, number: int) -> IssueDetail | None:
    """Everything recorded about one issue; None when nothing is."""
    key = (repository, number)
    with store.transaction() as cursor:
        cursor.execute(
            """
            select * from (
              select id, job_id, agent, action_type, payload, created_at from public.agent_actions
              where repository = %s and issue_number = %s order by created_at desc, id desc limit %s
            ) newest order by created_at, id
            """,
            (*key, TIMELINE_LIMIT),
        )
        actions = cursor.fetchall()
        cursor.execute("select count(*) as n from public.agent_actions where repository = %s and issue_number = %s", key)
        total = (cursor.fetchone() or {"n": 0})["n"]
        cursor.execute(
            """
            select role, author_login, content, created_at from public.conversations
            where repository = %s and issue_number = %s order by created_at, id
            """,
            key,
        )
        conversation = cursor.fetchall()
        cursor.execute("select * from public.jobs where repository = %s and issue_number = %s order by created_at", key)
        jobs = cursor.fetchall()
        cursor.execute(
            "select * from public.code_generations where repository = %s and issue_number = %s order by created_at, id", key
        )
        generations = cursor.fetchall()
        cursor.execute("select * from public.pull_request_states where repository = %s and issue_number = %s", key)
        pull_state = cursor.fetchone()
        title = _titles(cursor, repository, [number]).get(number)
    if not (actions or conversation or jobs or generations or pull_state):
        return None
    return IssueDetail(number, title, actions, total, conversation, jobs, generations, pull_state)


# -- costs -----------------------------------------------------------------------------------------
def cost_rows(store: Store, repository: str, since: date) -> list[CostRow]:
    """Spending per UTC day, agent, model and issue since `since`: Product Owner calls and Developer runs."""
    with store.transaction() as cursor:
        cursor.execute(
            """
            select day, agent, model, issue_number, sum(input_tokens)::bigint as input_tokens,
                   sum(output_tokens)::bigint as output_tokens, sum(cost_usd) as cost_usd
            from (
              select (created_at at time zone 'UTC')::date as day, agent, coalesce(payload ->> 'model', '') as model,
                     issue_number,
                     case when jsonb_typeof(payload -> 'input_tokens') = 'number'
                          then (payload ->> 'input_tokens')::numeric else 0 end as input_tokens,
                     case when jsonb_typeof(payload -> 'output_tokens') = 'number'
                          then (payload ->> 'output_tokens')::numeric else 0 end as output_tokens,
                     case when jsonb_typeof(payload -> 'cost_usd') = 'number'
                          then (payload ->> 'cost_usd')::numeric else 0 end as cost_usd
              from public.agent_actions
              where repository = %(repository)s and action_type = 'llm_call' and created_at >= %(since)s
              offset 0  -- keeps the subquery whole: the grouping then hashes small rows, not payloads
            ) as calls
            group by 1, 2, 3, 4
            union all
            select (created_at at time zone 'UTC')::date as day, 'developer' as agent, coalesce(model, '') as model,
                   issue_number, sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost_usd)
            from public.code_generations
            where repository = %(repository)s and created_at >= %(since)s
            group by 1, 2, 3, 4
            """,
            {"repository": repository, "since": since},
        )
        return [
            CostRow(
                day=row["day"],
                agent=row["agent"],
                model=row["model"],
                issue_number=row["issue_number"],
                input_tokens=int(row["input_tokens"] or 0),
                output_tokens=int(row["output_tokens"] or 0),
                cost_usd=Decimal(row["cost_usd"] or 0),
            )
            for row in cursor.fetchall()
        ]


# -- health ----------------------------------------------------------------------------------------
@dataclass
class HealthRecords:
    deliveries: list[dict[str, Any]]
    delivery_counts: list[dict[str, Any]]  # outcome, reason, count over the last 24 h
    stuck_jobs: list[dict[str, Any]]
    failed_jobs: list[dict[str, Any]]
    paused_jobs: list[dict[str, Any]]
    sweeps: list[dict[str, Any]]
    interventions: list[dict[str, Any]]  # what people did from the console, newest first


def _running_timeouts_sql() -> str:
    cases = " ".join(f"when '{kind}' then {minutes}" for kind, minutes in RUNNING_TIMEOUT_MINUTES.items())
    return f"(case kind {cases} else {DEFAULT_RUNNING_TIMEOUT_MINUTES} end + {RUNNING_TIMEOUT_MARGIN_MINUTES})"


def health_records(store: Store, now: datetime) -> HealthRecords:
    """Deliveries of the last 24 h, jobs stuck, failed (last 7 days) or paused, and the latest sweeps."""
    with store.transaction() as cursor:
        cursor.execute(
            """
            select id, delivery_id, event, action, issue_number, sender_login, outcome, outcome_detail, received_at
            from public.webhook_events
            where received_at >= %s - interval '24 hours'
            order by received_at desc, id desc limit %s
            """,
            (now, DELIVERIES_SHOWN),
        )
        deliveries = cursor.fetchall()
        cursor.execute(
            """
            select outcome, coalesce(outcome_detail, '') as reason, count(*) as n
            from public.webhook_events where received_at >= %s - interval '24 hours'
            group by 1, 2 order by n desc, outcome, reason limit 50
            """,
            (now,),
        )
        counts = cursor.fetchall()
        cursor.execute(
            f"""
            select * from public.jobs
            where (status in ('pending', 'dispatched')
                   and coalesce(dispatched_at, created_at) < %(now)s - pg_catalog.make_interval(mins => %(waiting)s))
               or (status = 'running'
                   and coalesce(started_at, dispatched_at, created_at)
                       < %(now)s - pg_catalog.make_interval(mins => {_running_timeouts_sql()}))
            order by created_at limit %(limit)s
            """,  # noqa: S608 - the interpolated SQL is built from the runtime's constant timeout table
            {"now": now, "waiting": STUCK_WAITING_MINUTES, "limit": JOBS_SHOWN},
        )
        stuck = cursor.fetchall()
        cursor.execute(
            """
            select * from public.jobs where status = 'failed' and coalesce(finished_at, updated_at) >= %s - interval '7 days'
            order by coalesce(finished_at, updated_at) desc limit %s
            """,
            (now, JOBS_SHOWN),
        )
        failed = cursor.fetchall()
        cursor.execute("select * from public.jobs where status = 'paused' order by updated_at desc limit %s", (JOBS_SHOWN,))
        paused = cursor.fetchall()
        cursor.execute(
            """
            select id, action_type, payload, created_at from public.agent_actions
            where agent = %s order by id desc limit %s
            """,
            (SWEEPER_AGENT, SWEEPS_SHOWN),
        )
        sweeps = cursor.fetchall()
        cursor.execute(
            """
            select id, agent, action_type, issue_number, job_id, payload, created_at from public.agent_actions
            where payload ->> 'actor_kind' = 'person' order by id desc limit %s
            """,
            (INTERVENTIONS_SHOWN,),
        )
        interventions = cursor.fetchall()
    return HealthRecords(deliveries, counts, stuck, failed, paused, sweeps, interventions)


def job_by_id(store: Store, job_id: Any) -> dict[str, Any] | None:
    with store.transaction() as cursor:
        cursor.execute("select * from public.jobs where id = %s", (job_id,))
        return cursor.fetchone()


def group_by_job(rows: Iterable[dict[str, Any]]) -> dict[Any, list[dict[str, Any]]]:
    grouped: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[row.get("job_id")].append(row)
    return grouped
