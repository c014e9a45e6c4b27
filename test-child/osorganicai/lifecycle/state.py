"""Each issue's pull request state in `public.pull_request_states`: open, done (merged), deployed
(merged, then deployed from the default branch) or abandoned.

The row also counts fix rounds and remembers the head commit last marked ready and the last one
sent to a fix run, so a head reported by several check suites is acted on once. Every change is a
single conditional UPDATE, so two lifecycle jobs running at once cannot both start a fix round.

A merged pull request's merge commit is kept (`merge_commit_sha`): a deployment of the default
branch names only a commit, and `merged_pull_of` finds the issue it belongs to, falling back on the
stored `pull_request` closed delivery when the lifecycle job has not recorded the merge yet (GitHub
sends that delivery at once; a deployment comes after a build). `claim_deployment` makes each
deployment commented once, however often its status is delivered or its job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from ..db import Store
from ..routing import issue_of_branch

OPEN, DONE, DEPLOYED, ABANDONED = "open", "done", "deployed", "abandoned"
UNFINISHED_JOB_STATUSES = ("pending", "dispatched", "running")
MERGED_DELIVERY_DAYS = 7  # how far back a stored `pull_request` closed delivery is searched for a merge commit
DEPLOYMENT_CLAIMED = "deployment_claimed"  # the agent_actions row that makes a deployment commented once


@dataclass(frozen=True)
class PullState:
    repository: str
    issue_number: int
    pull_number: int
    branch: str
    state: str
    fix_rounds: int
    last_fix_sha: str | None
    ready_sha: str | None
    merge_commit_sha: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PullState:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


class PullStates:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, repository: str, issue_number: int) -> PullState | None:
        with self.store.transaction() as cursor:
            cursor.execute(
                "select * from public.pull_request_states where repository = %s and issue_number = %s",
                (repository, issue_number),
            )
            row = cursor.fetchone()
        return PullState.from_row(row) if row else None

    def track(self, repository: str, issue_number: int, pull_number: int, branch: str) -> PullState:
        """The issue's state, created open for this pull request when new."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                insert into public.pull_request_states (repository, issue_number, pull_number, branch)
                values (%s, %s, %s, %s)
                on conflict (repository, issue_number) do update
                  set pull_number = excluded.pull_number, branch = excluded.branch
                  where public.pull_request_states.state = 'open'
                returning *
                """,
                (repository, issue_number, pull_number, branch),
            )
            row = cursor.fetchone()
        return PullState.from_row(row) if row else self._require(repository, issue_number)

    def claim_ready(self, repository: str, issue_number: int, head_sha: str) -> bool:
        """True once per head commit: the caller marks the pull request ready for it."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                update public.pull_request_states set ready_sha = %s
                where repository = %s and issue_number = %s and state = 'open' and ready_sha is distinct from %s
                returning id
                """,
                (head_sha, repository, issue_number, head_sha),
            )
            return cursor.fetchone() is not None

    def claim_fix_round(self, repository: str, issue_number: int, head_sha: str, max_rounds: int) -> tuple[str, int]:
        """("started", round) when a fix round is taken for this head; ("already", n) when this head
        already has one; ("exhausted", n) past `max_rounds`; ("closed", n) when the conversation ended."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                update public.pull_request_states set fix_rounds = fix_rounds + 1, last_fix_sha = %s
                where repository = %s and issue_number = %s and state = 'open'
                  and last_fix_sha is distinct from %s and fix_rounds < %s
                returning fix_rounds
                """,
                (head_sha, repository, issue_number, head_sha, max_rounds),
            )
            row = cursor.fetchone()
        if row is not None:
            return "started", int(row["fix_rounds"])
        current = self._require(repository, issue_number)
        if current.state != OPEN:
            return "closed", current.fix_rounds
        if current.last_fix_sha == head_sha:
            return "already", current.fix_rounds
        return "exhausted", current.fix_rounds

    def finish(self, repository: str, issue_number: int, state: str) -> bool:
        """Move an open conversation to done or abandoned; False when it had already ended."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                update public.pull_request_states set state = %s
                where repository = %s and issue_number = %s and state = 'open'
                returning id
                """,
                (state, repository, issue_number),
            )
            return cursor.fetchone() is not None

    def record_merge(self, repository: str, issue_number: int, merge_commit_sha: str) -> None:
        """Keep the merged pull request's merge commit: deployments of it belong to this issue."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                update public.pull_request_states set merge_commit_sha = %s
                where repository = %s and issue_number = %s and merge_commit_sha is distinct from %s
                """,
                (merge_commit_sha, repository, issue_number, merge_commit_sha),
            )

    def merged_pull_of(self, repository: str, sha: str) -> tuple[int, int] | None:
        """(issue, pull request number) of the runtime's merged pull request whose merge commit is `sha`."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                select issue_number, pull_number from public.pull_request_states
                where repository = %s and merge_commit_sha = %s
                order by updated_at desc
                limit 1
                """,
                (repository, sha),
            )
            row = cursor.fetchone()
            if row is not None:
                return int(row["issue_number"]), int(row["pull_number"])
            cursor.execute(
                """
                select payload #>> '{pull_request,head,ref}' as branch, payload #>> '{pull_request,number}' as number
                from public.webhook_events
                where received_at > pg_catalog.now() - pg_catalog.make_interval(days => %s)
                  and event = 'pull_request' and action = 'closed' and repository = %s
                  and payload #>> '{pull_request,merged}' = 'true'
                  and payload #>> '{pull_request,merge_commit_sha}' = %s
                order by id desc
                limit 1
                """,
                (MERGED_DELIVERY_DAYS, repository, sha),
            )
            row = cursor.fetchone()
        issue = issue_of_branch(row["branch"]) if row else None
        if row is None or issue is None or not str(row["number"] or "").isdigit():
            return None
        return issue, int(row["number"])

    def mark_deployed(self, repository: str, issue_number: int, merge_commit_sha: str) -> bool:
        """The merged conversation is deployed; False when it was abandoned (or is unknown)."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                update public.pull_request_states
                set state = 'deployed', merge_commit_sha = coalesce(merge_commit_sha, %s)
                where repository = %s and issue_number = %s and state in ('open', 'done', 'deployed')
                returning id
                """,
                (merge_commit_sha, repository, issue_number),
            )
            return cursor.fetchone() is not None

    def claim_deployment(self, repository: str, issue_number: int, deployment_id: int, details: dict[str, Any]) -> bool:
        """True once per deployment: the caller comments on it. Two jobs claiming at once are serialised
        by a transaction-scoped advisory lock on the deployment."""
        with self.store.transaction() as cursor:
            cursor.execute(
                "select pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended(%s, 0))",
                (f"osorganic deployment {repository} {deployment_id}",),
            )
            cursor.execute(
                """
                select 1 from public.agent_actions
                where repository = %s and issue_number = %s and action_type = %s and payload ->> 'deployment' = %s
                limit 1
                """,
                (repository, issue_number, DEPLOYMENT_CLAIMED, str(deployment_id)),
            )
            if cursor.fetchone() is not None:
                return False
            cursor.execute(
                """
                insert into public.agent_actions (agent, action_type, repository, issue_number, payload)
                values ('lifecycle', %s, %s, %s, %s)
                """,
                (DEPLOYMENT_CLAIMED, repository, issue_number, Jsonb({**details, "deployment": str(deployment_id)})),
            )
            return True

    def release_deployment(self, repository: str, issue_number: int, deployment_id: int) -> None:
        """Undo a claim whose comment could not be posted, so that a later run comments."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                delete from public.agent_actions
                where repository = %s and issue_number = %s and action_type = %s and payload ->> 'deployment' = %s
                """,
                (repository, issue_number, DEPLOYMENT_CLAIMED, str(deployment_id)),
            )

    def unfinished_job(self, repository: str, issue_number: int, kind: str) -> bool:
        """Whether a job of `kind` for the issue is still pending, dispatched or running."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                select 1 from public.jobs
                where repository = %s and issue_number = %s and kind = %s and status = any(%s)
                limit 1
                """,
                (repository, issue_number, kind, list(UNFINISHED_JOB_STATUSES)),
            )
            return cursor.fetchone() is not None

    def delivery_of(self, job_id: Any) -> tuple[str, dict[str, Any]] | None:
        """(event, payload) of the webhook delivery that created the job, None when it has none."""
        with self.store.transaction() as cursor:
            cursor.execute(
                """
                select e.event, e.payload from public.jobs j
                join public.webhook_events e on e.id = j.webhook_event_id
                where j.id = %s
                """,
                (job_id,),
            )
            row = cursor.fetchone()
        return (row["event"], row["payload"]) if row else None

    def _require(self, repository: str, issue_number: int) -> PullState:
        state = self.get(repository, issue_number)
        if state is None:
            raise LookupError(f"no pull request state for {repository}#{issue_number}")
        return state
