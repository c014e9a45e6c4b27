"""Job hand-off: one `repository_dispatch` call per job, and the sweeper that retries.

The webhook writes the job row first, then dispatches; when GitHub is down or no token is
set, the job stays `pending` and `python -m osorganicai sweep` (a scheduled workflow, or the
Vercel cron) dispatches it later.
"""

from __future__ import annotations

import uuid

from .db import Job, Store, SweepReport
from .github import GitHubClient

EVENT_TYPES = {"product_owner": "agent-product-owner", "developer": "agent-developer"}


def dispatch_payload(job_id: uuid.UUID, issue_number: int) -> dict[str, object]:
    return {"job_id": str(job_id), "issue": issue_number}


def dispatch(github: GitHubClient, *, kind: str, repository: str, job_id: uuid.UUID, issue_number: int) -> None:
    github.dispatch(repository, EVENT_TYPES[kind], dispatch_payload(job_id, issue_number))


def dispatch_job(github: GitHubClient, job: Job) -> None:
    dispatch(github, kind=job.kind, repository=job.repository, job_id=job.id, issue_number=job.issue_number)


def permission_refusal(github: GitHubClient, job: Job) -> str | None:
    """Why the job must not run, when the webhook left its sender's permission to the agent; None to go on.

    A lookup that fails here raises: the job fails rather than acting for someone unchecked.
    """
    from .github import WRITE_PERMISSIONS

    login = job.verify_permission_of
    if login is None:
        return None
    permission = github.collaborator_permission(job.repository, login)
    if permission in WRITE_PERMISSIONS:
        return None
    return f"{login} has no write or triage access ({permission or 'none'}): not run"


def sweep(store: Store, github: GitHubClient, *, limit: int = 20) -> SweepReport:
    return store.sweep(lambda job: dispatch_job(github, job), limit=limit)
