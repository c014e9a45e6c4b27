"""What a person with write access does to the agents from the console: pause and resume them all,
cancel a job (and its workflow run), retry a job that did not succeed, raise a Developer job's budget once.

Each action is checked, done, then written to `agent_actions` with the person's login as `agent` (and
`{"actor": login, "actor_kind": "person"}` in its payload, so a timeline tells people from agents). A
check that fails raises `InterventionRefused`, whose message tells the person what is wrong and what to
do. The pause switch lives in the database (`agent_controls`); who honours it: the webhook's hand-off
and the sweeper (nothing is dispatched while paused), every job's claim (a paused system ends the job
before it acts, holding it as pending) and the Developer loop between its steps (it stops as
`budget_exhausted: paused`, its work kept, and the job becomes `paused` until the agents resume).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .db import AgentSwitch, Job, Store
    from .service import Service

ACTOR_KIND = "person"
MAX_LOGIN_CHARS = 100
# On resume, this many held jobs go out at once; the sweeper dispatches any left.
RESUME_DISPATCH_LIMIT = 100


class InterventionRefused(Exception):
    """The action was not done; `str(error)` says why and what to do, for the person who asked."""


@dataclass(frozen=True)
class PauseState:
    paused: bool
    changed_by: str | None
    changed_at: datetime | None


def pause_state(store: Store) -> PauseState:
    return _pause_state(store.agent_switch())


def pause_agents(service: Service, login: str) -> PauseState:
    """Pause every agent: nothing is dispatched, jobs that start end at once, running Developer runs
    stop between two steps and keep their work. Pausing paused agents changes nothing."""
    login = _checked_login(login)
    store = service.store()
    switch, changed = store.set_agents_paused(True, login)
    if changed:
        _record(store, login, "agents_paused", {})
    return _pause_state(switch)


def resume_agents(service: Service, login: str) -> PauseState:
    """Resume every agent: the jobs the pause stopped are queued again, and every held job is dispatched."""
    from .jobs import sweep

    login = _checked_login(login)
    store = service.store()
    switch, changed = store.set_agents_paused(False, login)
    if not changed:
        return _pause_state(switch)
    requeued = store.requeue_paused_jobs()
    github = service.github()
    payload: dict[str, Any] = {"requeued": [str(job) for job in requeued]}
    if github is None:
        payload["detail"] = "no GitHub credentials here: the sweeper dispatches the held jobs"
    else:
        report = sweep(store, github, limit=RESUME_DISPATCH_LIMIT)
        payload["dispatched"] = [str(job) for job in report.dispatched]
        payload["failed_dispatch"] = [str(job) for job in report.failed_dispatch]
    _record(store, login, "agents_resumed", payload)
    return _pause_state(switch)


def cancel_job(service: Service, job_id: uuid.UUID, login: str) -> None:
    """Cancel a job that has not finished: in the database (it is never dispatched again and its claim
    refuses it) and, when a workflow run has claimed it, that run through GitHub's API."""
    from .db import FINAL_STATUSES
    from .github import GitHubError

    login = _checked_login(login)
    store = service.store()
    job = _existing_job(store, job_id)
    if job.status in FINAL_STATUSES:
        advice = " Retry it to run it again." if job.status in ("failed", "cancelled") else ""
        raise InterventionRefused(f"Job {job_id} has already {_finished(job.status)}: there is nothing to cancel.{advice}")
    run_cancelled: bool | None = None
    if job.status == "running" and job.workflow_run_id is not None:
        github = service.github()
        if github is None:
            raise InterventionRefused(
                f"Job {job_id} runs in workflow run {job.workflow_run_id}, and no GitHub credentials are set here to "
                "cancel it: set GITHUB_TOKEN (or the GitHub App settings) and try again. Nothing was changed."
            )
        try:
            run_cancelled = github.cancel_workflow_run(job.repository, job.workflow_run_id)
        except GitHubError as error:
            raise InterventionRefused(
                f"GitHub did not cancel workflow run {job.workflow_run_id} ({error.status}: {error.message}). The token "
                "needs the Actions write permission; try again. Nothing was changed."
            ) from error
        except Exception as error:  # GitHub unreachable (GitHubUnavailableError, a timeout): the person tries again
            raise InterventionRefused(
                f"GitHub could not be reached to cancel workflow run {job.workflow_run_id} ({error.__class__.__name__}): "
                "try again in a moment. Nothing was changed."
            ) from error
    if not store.cancel_job(job_id, f"cancelled by {login}"):
        raise InterventionRefused(f"Job {job_id} finished while it was being cancelled: reload the page to see how it ended.")
    _record(
        store,
        login,
        "job_cancelled",
        {"previous_status": job.status, "workflow_run_id": job.workflow_run_id, "run_cancelled": run_cancelled},
        job,
    )


def retry_job(service: Service, job_id: uuid.UUID, login: str) -> uuid.UUID:
    """A new job for the same work as a failed, abandoned or cancelled one, dispatched like the webhook
    does (held while the agents are paused); the new job's id."""
    from .db import RETRYABLE_STATUSES

    login = _checked_login(login)
    store = service.store()
    job = _existing_job(store, job_id)
    if job.status not in RETRYABLE_STATUSES:
        advice = " Cancel it first if it is stuck." if job.status in ("pending", "dispatched", "running") else ""
        raise InterventionRefused(
            f"Job {job_id} is {job.status}: only a failed, abandoned or cancelled job can be retried.{advice}"
        )
    retry = store.retry_job(job_id)
    if retry.unfinished_job is not None:
        raise InterventionRefused(
            f"Job {retry.unfinished_job} already does this {job.kind} work on issue #{job.issue_number} and has not "
            "finished: follow that one, or cancel it first."
        )
    new_id = retry.new_job
    if new_id is None:
        raise InterventionRefused(f"Job {job_id} changed while it was being retried: reload the page and try again.")
    dispatched, detail = _hand_off(service, store, new_id)
    _record(store, login, "job_retried", {"new_job": str(new_id), "dispatched": dispatched, "detail": detail}, job)
    return new_id


def raise_job_budget(service: Service, job_id: uuid.UUID, login: str) -> None:
    """Multiply a Developer job's `[developer]` budgets (steps, tokens, dollars, minutes) by
    `db.RAISED_BUDGET_FACTOR`, once. A running job picks the raise up at its next control read."""
    from .db import FINAL_STATUSES, RAISED_BUDGET_FACTOR
    from .jobs import DEVELOPER_MODES

    login = _checked_login(login)
    store = service.store()
    job = _existing_job(store, job_id)
    if job.kind not in DEVELOPER_MODES:
        raise InterventionRefused(
            f"Job {job_id} is a {job.kind} job: only Developer jobs ({', '.join(DEVELOPER_MODES)}) have budgets to raise."
        )
    if job.budget_raised_at is not None:
        raise InterventionRefused(
            f"The budget of job {job_id} was already raised (by {job.budget_raised_by} at "
            f"{job.budget_raised_at:%Y-%m-%d %H:%M} UTC): a job's budget is raised only once."
        )
    if job.status in FINAL_STATUSES:
        raise InterventionRefused(f"Job {job_id} has already {_finished(job.status)}: retry it, then raise the new job's budget.")
    if store.raise_job_budget(job_id, login, DEVELOPER_MODES) is None:
        raise InterventionRefused(f"Job {job_id} changed while its budget was being raised: reload the page and try again.")
    _record(store, login, "job_budget_raised", {"factor": RAISED_BUDGET_FACTOR}, job)


# -- the steps ---------------------------------------------------------------------------------------------
def _pause_state(switch: AgentSwitch) -> PauseState:
    return PauseState(paused=switch.paused, changed_by=switch.changed_by, changed_at=switch.changed_at)


def _checked_login(login: str) -> str:
    cleaned = login.strip() if isinstance(login, str) else ""
    if not cleaned or len(cleaned) > MAX_LOGIN_CHARS:
        raise InterventionRefused("No signed-in GitHub login came with this action: sign in again.")
    return cleaned


def _existing_job(store: Store, job_id: uuid.UUID) -> Job:
    job = store.get_job(job_id)
    if job is None:
        raise InterventionRefused(f"There is no job {job_id}: reload the page.")
    return job


def _finished(status: str) -> str:
    return {"succeeded": "succeeded", "failed": "failed"}.get(status, f"been {status}")


def _hand_off(service: Service, store: Store, job_id: uuid.UUID) -> tuple[bool, str]:
    """Dispatch a new job as the webhook does: held while the agents are paused, left to the sweeper
    when GitHub cannot take it now."""
    from .db import held_reason
    from .jobs import dispatch_job

    switch = store.hold_if_paused(job_id)
    if switch is not None:
        return False, held_reason(switch)
    github = service.github()
    job = store.get_job(job_id)
    if github is None or job is None:
        reason = "no GitHub credentials here (GITHUB_TOKEN or the GitHub App): the sweeper dispatches it"
        store.mark_dispatch_failed(job_id, reason)
        return False, reason
    try:
        dispatch_job(github, job)
    except Exception as error:  # noqa: BLE001 - the job stays pending for the sweeper
        store.mark_dispatch_failed(job_id, f"{error.__class__.__name__}: {error}")
        return False, f"dispatch failed ({error.__class__.__name__}): the sweeper will retry"
    store.mark_dispatched(job_id)
    return True, "dispatched to the agent workflow"


def _record(store: Store, login: str, action_type: str, payload: dict[str, Any], job: Job | None = None) -> None:
    store.log_action(
        agent=login,
        action_type=action_type,
        payload={"actor": login, "actor_kind": ACTOR_KIND, **payload},
        repository=job.repository if job else None,
        issue_number=job.issue_number if job else None,
        job_id=job.id if job else None,
    )
