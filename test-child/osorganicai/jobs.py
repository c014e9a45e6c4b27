"""The job-kind registry and the job hand-off: one `repository_dispatch` call per job, and the sweeper.

`JOB_KINDS` is the one table from a job kind to the workflow that runs it (its `repository_dispatch`
event type) and to what the job does; routing, the webhook, the sweeper and the CLI read it. The
webhook writes the job row first, then dispatches; when GitHub is down or no token is set, the job
stays `pending` and `python -m osorganicai sweep` (a scheduled workflow, or the Vercel cron)
dispatches it later. Every sweeper run is recorded as a `sweep` action of the `sweeper` agent (what it
dispatched, failed to dispatch, gave up on and timed out, and where it ran), which the console's
Health page lists.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from .db import Engagement, Job, Store, StoreError, SweepReport
from .github import GitHubClient


@dataclass(frozen=True)
class JobKind:
    name: str  # the `jobs.kind` value
    event_type: str  # the `repository_dispatch` event type of the workflow that runs it
    agent: str  # who acts: product_owner, developer or lifecycle
    summary: str


SWEEPER_AGENT = "sweeper"
SWEEP_ACTION = "sweep"
SWEEP_IDS_RECORDED = 20  # job ids kept per list in a sweep's record; the counts are always whole
log = logging.getLogger("osorganicai.jobs")

PRODUCT_OWNER = "product_owner"
DEVELOPER = "developer"
FIX = "fix"
REVISE = "revise"
LIFECYCLE = "lifecycle"

JOB_KINDS: dict[str, JobKind] = {
    kind.name: kind
    for kind in (
        JobKind(PRODUCT_OWNER, "agent-product-owner", "product_owner", "refine an issue: ask questions or mark it ready-for-dev"),
        JobKind(DEVELOPER, "agent-developer", "developer", "implement a ready-for-dev issue as a draft pull request"),
        JobKind(FIX, "agent-developer", "developer", "fix the runtime's pull request after its checks failed"),
        JobKind(REVISE, "agent-developer", "developer", "revise the runtime's pull request after a review"),
        JobKind(LIFECYCLE, "agent-lifecycle", "lifecycle", "act on the runtime's pull request: checks, reviews, merge, deploys"),
    )
}
DEVELOPER_MODES = (DEVELOPER, FIX, REVISE)  # the kinds the Developer workflow runs, as `developer --mode`


def job_kind(name: str) -> JobKind:
    try:
        return JOB_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown job kind {name!r}: expected one of {', '.join(JOB_KINDS)}") from None


def dispatch_payload(job_id: uuid.UUID, issue_number: int) -> dict[str, object]:
    """What the workflow receives; it reads the job's kind from the job row when it claims it."""
    return {"job_id": str(job_id), "issue": issue_number}


def dispatch(github: GitHubClient, *, kind: str, repository: str, job_id: uuid.UUID, issue_number: int) -> None:
    github.dispatch(repository, job_kind(kind).event_type, dispatch_payload(job_id, issue_number))


def dispatch_job(github: GitHubClient, job: Job) -> None:
    dispatch(github, kind=job.kind, repository=job.repository, job_id=job.id, issue_number=job.issue_number)


def permission_refusal(github: GitHubClient, job: Job, store: Store | None = None) -> str | None:
    """Why the job must not run, when the webhook left its sender's permission to the agent; None to go on.

    A lookup that fails here raises: the job fails rather than acting for someone unchecked. A sender
    found to have write access has engaged with the issue, which `store` (when given) records.
    """
    from .steering import STEERING_ROLES_TEXT, steers

    login = job.verify_permission_of
    if login is None:
        return None
    permission = github.collaborator_permission(job.repository, login)
    if not steers(permission):
        return f"{login} has no {STEERING_ROLES_TEXT} access ({permission or 'none'}): not run"
    if store is not None and permission is not None:
        how = f"started a {job.kind} job (checked when it started)"
        store.record_engagement(Engagement(job.repository, job.issue_number, login, how, permission), job.id)
    return None


def sweep(store: Store, github: GitHubClient, *, limit: int = 20, source: str | None = None) -> SweepReport:
    """Dispatch what is pending and fail what is stuck (`Store.sweep`). A sweeper run names its `source`
    (the scheduled workflow, the Vercel cron) and is recorded; a sweep done on the way (resuming the
    agents) is not."""
    report = store.sweep(lambda job: dispatch_job(github, job), limit=limit)
    if source is not None:
        record_sweep(store, report, source)
    return report


def record_sweep(store: Store, report: SweepReport, source: str) -> None:
    """The sweep as an `agent_actions` row; a database that refuses it does not undo the sweep."""
    payload: dict[str, object] = {"source": source}
    for name in ("dispatched", "failed_dispatch", "abandoned", "timed_out"):
        jobs = getattr(report, name)
        payload[name] = len(jobs)
        payload[f"{name}_jobs"] = [str(job) for job in jobs[:SWEEP_IDS_RECORDED]]
    try:
        store.log_action(agent=SWEEPER_AGENT, action_type=SWEEP_ACTION, payload=payload)
    except StoreError as error:
        log.warning("sweep from %s done but not recorded: %s", source, error)
