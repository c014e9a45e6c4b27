"""Each issue's pull request state in `public.pull_request_states`: open, done (merged) or abandoned.

The row also counts fix rounds and remembers the head commit last marked ready and the last one
sent to a fix run, so a head reported by several check suites is acted on once. Every change is a
single conditional UPDATE, so two lifecycle jobs running at once cannot both start a fix round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..db import Store

OPEN, DONE, ABANDONED = "open", "done", "abandoned"
UNFINISHED_JOB_STATUSES = ("pending", "dispatched", "running")


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
